#include "common/aws_xml.h"

#include <gtest/gtest.h>

namespace tmirror {
namespace {

TEST(AwsXml, ErrorEnvelopeIsTheAwsShape) {
  EXPECT_EQ(awsErrorDocument("InvalidParameterValue", "bad <x>", "r-1"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>"
            "InvalidParameterValue</Code><Message>bad &lt;x&gt;</Message></Error></Errors>"
            "<RequestID>r-1</RequestID></Response>");
  // What XML 1.0 cannot carry, even escaped, becomes U+FFFD.
  EXPECT_EQ(awsErrorDocument("RequestEntityTooLarge", "body > 1 MiB & <more>\x01'", "r-2"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>"
            "RequestEntityTooLarge</Code><Message>body &gt; 1 MiB &amp; &lt;more&gt;&#xFFFD;&apos;"
            "</Message></Error></Errors><RequestID>r-2</RequestID></Response>");
}

TEST(AwsXml, TabsAndNewlinesStayAndACarriageReturnSurvivesTheRoundTrip) {
  std::string out = "x";
  appendXmlEscaped(out, "a\tb\nc\r\"d\"");
  // A carriage return is escaped: XML readers turn a raw one into a newline.
  EXPECT_EQ(out, "xa\tb\nc&#xD;&quot;d&quot;");
}

}  // namespace
}  // namespace tmirror
