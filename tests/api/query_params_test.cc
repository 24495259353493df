#include "api/query_params.h"

#include <gtest/gtest.h>

#include "api/xml_writer.h"

namespace tmirror::api {
namespace {

TEST(QueryParams, DecodesPlusAndPercentEscapes) {
  auto p = QueryParams::parse("Action=X&Description=my+session%2Fone&Empty=&Flag");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->get("Description"), "my session/one");
  EXPECT_EQ(p->get("Empty"), "");
  EXPECT_EQ(p->get("Flag"), "");
}

TEST(QueryParams, MalformedEscapesAndRepeatsAreMalformedQueryString) {
  for (const char* text : {"A=%", "A=%4", "A=%zz", "%=1", "A=1&A=2", "=1"}) {
    auto p = QueryParams::parse(text);
    ASSERT_FALSE(p.has_value()) << text;
    EXPECT_EQ(p.error().code, "MalformedQueryString") << text;
  }
}

TEST(QueryParams, ListsAreSortedNumericallyAndTolerateGaps) {
  auto p = QueryParams::parse("Id.10=c&Id.2=b&Id.1=a&Id.7=x");
  ASSERT_TRUE(p.has_value());
  auto list = p->list("Id");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(*list, (std::vector<std::string>{"a", "b", "x", "c"}));
}

TEST(QueryParams, BadListIndexIsInvalidParameterValue) {
  for (const char* text : {"Id.0=a", "Id.x=a", "Id.=a", "Id.-1=a"}) {
    auto p = QueryParams::parse(text);
    ASSERT_TRUE(p.has_value()) << text;
    auto list = p->list("Id");
    ASSERT_FALSE(list.has_value()) << text;
    EXPECT_EQ(list.error().code, "InvalidParameterValue") << text;
  }
}

TEST(QueryParams, IntegersAreRangeCheckedNamingTheParameter) {
  auto p = QueryParams::parse("SessionNumber=40000&Vni=12a&Ok=7");
  ASSERT_TRUE(p.has_value());
  auto big = p->requiredInt("SessionNumber", 1, 32766);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, "InvalidParameterValue");
  EXPECT_NE(big.error().message.find("SessionNumber"), std::string::npos);
  EXPECT_FALSE(p->optionalInt("Vni", 0, 10).has_value());
  EXPECT_EQ(**p->optionalInt("Ok", 0, 10), 7);
  auto missing = p->requiredInt("Nope", 0, 1);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, "MissingParameter");
}

TEST(QueryParams, UnusedNamesListWhatNoReaderAskedFor) {
  auto p = QueryParams::parse("Action=X&A=1&B=2");
  ASSERT_TRUE(p.has_value());
  (void)p->get("A");
  EXPECT_EQ(p->unusedNames(), (std::vector<std::string>{"Action", "B"}));
}

TEST(QueryParams, TooManyParametersIsRefused) {
  std::string text;
  for (int i = 0; i <= 2000; ++i) {
    text += "P" + std::to_string(i) + "=1&";
  }
  auto p = QueryParams::parse(text);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code, "MalformedQueryString");
}

TEST(XmlWriter, EscapesTextAndClosesEverything) {
  XmlWriter xml("DescribeTags", "req-1");
  xml.open("tagSet");
  xml.open("item");
  xml.text("value", "<a&b \"c\">");
  std::string doc = xml.finish();
  EXPECT_NE(doc.find("<DescribeTagsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                     "<requestId>req-1</requestId>"),
            std::string::npos);
  EXPECT_NE(doc.find("<value>&lt;a&amp;b &quot;c&quot;&gt;</value></item></tagSet>"
                     "</DescribeTagsResponse>"),
            std::string::npos);
}

TEST(XmlWriter, ErrorCodesHaveTheirHttpStatus) {
  EXPECT_EQ(httpStatusOf("DryRunOperation"), 412);
  EXPECT_EQ(httpStatusOf("AuthFailure"), 401);
  EXPECT_EQ(httpStatusOf("InvalidParameterValue"), 400);
}

}  // namespace
}  // namespace tmirror::api
