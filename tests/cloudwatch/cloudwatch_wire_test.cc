// The CloudWatch API's wire forms: Query (aws CLI v2), JSON 1.0 (boto3), RPC v2 CBOR (Smithy
// SDKs), decoded to one input and answered in the request's own form.
#include "cloudwatch/cloudwatch_wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tmirror::cloudwatch {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

api::HttpRequestView post(std::string path, std::string body,
                          std::map<std::string, std::string> headers = {}) {
  api::HttpRequestView r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(CloudWatchWire, TellsCloudWatchRequestsFromEc2Ones) {
  EXPECT_EQ(cloudWatchProtocolOf(post("/", "Action=ListMetrics&Version=2010-08-01")),
            WireProtocol::Query);
  EXPECT_EQ(
      cloudWatchProtocolOf(post("/", "Action=ListMetrics",
                                {{"authorization",
                                  "AWS4-HMAC-SHA256 Credential=AKIA/20261207/us-east-1/"
                                  "monitoring/aws4_request, SignedHeaders=host, Signature=x"}})),
      WireProtocol::Query);
  EXPECT_EQ(cloudWatchProtocolOf(
                post("/", "{}", {{"x-amz-target", "GraniteServiceVersion20100801.ListMetrics"}})),
            WireProtocol::Json);
  EXPECT_EQ(cloudWatchProtocolOf(
                post("/service/GraniteServiceVersion20100801/operation/ListMetrics", "")),
            WireProtocol::Cbor);
  EXPECT_FALSE(
      cloudWatchProtocolOf(post("/", "Action=DescribeTrafficMirrorSessions&Version=2016-11-15")));
  EXPECT_FALSE(cloudWatchProtocolOf(post("/agent/v1/register", "{}")));
}

TEST(CloudWatchWire, AQueryRequestsFlattenedMembersBecomeListsAndObjects) {
  auto decoded = decodeRequest(
      WireProtocol::Query,
      post(
          "/",
          "Action=GetMetricData&Version=2010-08-01&StartTime=2026-12-07T10%3A00%3A00Z"
          "&MetricDataQueries.member.1.Id=m1"
          "&MetricDataQueries.member.1.MetricStat.Metric.Namespace=AWS%2FEC2"
          "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=InstanceId"
          "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=i-1"
          "&MetricDataQueries.member.2.Id=m2&Statistics.member.1=Sum&Statistics.member.2=Maximum"));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->operation, "GetMetricData");
  const Json& in = decoded->input;
  EXPECT_EQ(in["StartTime"], "2026-12-07T10:00:00Z");
  EXPECT_EQ(in["Statistics"], Json::parse(R"(["Sum","Maximum"])"));
  ASSERT_EQ(in["MetricDataQueries"].size(), 2u);
  EXPECT_EQ(in["MetricDataQueries"][0]["MetricStat"]["Metric"]["Dimensions"][0]["Value"], "i-1");
  EXPECT_EQ(in["MetricDataQueries"][1]["Id"], "m2");
  EXPECT_FALSE(in.contains("Version"));

  auto bad = decodeRequest(WireProtocol::Query, post("/", "Action=X&Statistics.member.0=Sum"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "MalformedQueryString");
  auto no_action = decodeRequest(WireProtocol::Query, post("/", "Version=2010-08-01"));
  ASSERT_FALSE(no_action);
  EXPECT_EQ(no_action.error().code, "MissingAction");
}

TEST(CloudWatchWire, JsonAndCborBodiesDecodeToTheSameInput) {
  const Json input = {{"Namespace", "AWS/EC2"}, {"StartTime", 1796637600}, {"Period", 60}};
  auto json =
      decodeRequest(WireProtocol::Json,
                    post("/", input.dump(),
                         {{"x-amz-target", "GraniteServiceVersion20100801.GetMetricStatistics"}}));
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ(json->operation, "GetMetricStatistics");
  EXPECT_EQ(json->input, input);
  // CBOR as Smithy SDKs send it: the timestamp under tag 1.
  const std::string cbor = toCbor(input);
  EXPECT_NE(cbor.find(std::string("\xC1\xFB", 2)), std::string::npos) << "tag 1, a double";
  auto decoded = decodeRequest(
      WireProtocol::Cbor,
      post("/service/GraniteServiceVersion20100801/operation/GetMetricStatistics", cbor));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->operation, "GetMetricStatistics");
  EXPECT_EQ(decoded->input["Namespace"], "AWS/EC2");
  EXPECT_EQ(decoded->input["StartTime"].get<double>(), 1796637600.0);
  EXPECT_EQ(decoded->input["Period"], 60);
  auto broken = decodeRequest(WireProtocol::Json, post("/", "[1,2"));
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, "SerializationException");
}

TEST(CloudWatchWire, AnswersAndErrorsInTheRequestsForm) {
  const Json output = {{"Label", "NetworkPacketsMirrorIn"},
                       {"Datapoints", {{{"Timestamp", 1796637600}, {"Sum", 120.0}}}}};
  const auto xml = encodeResponse(WireProtocol::Query, "GetMetricStatistics", output, "r-1");
  EXPECT_EQ(xml.content_type, "text/xml");
  EXPECT_THAT(xml.body, HasSubstr("<GetMetricStatisticsResponse xmlns=\"http://monitoring."
                                  "amazonaws.com/doc/2010-08-01/\"><GetMetricStatisticsResult>"));
  EXPECT_THAT(xml.body, HasSubstr("<Label>NetworkPacketsMirrorIn</Label>"));
  EXPECT_THAT(xml.body, HasSubstr("<Datapoints><member>"));
  EXPECT_THAT(xml.body, HasSubstr("<Timestamp>2026-12-07T10:00:00Z</Timestamp>"));
  EXPECT_THAT(xml.body, HasSubstr("<Sum>120.0</Sum>"));
  EXPECT_THAT(xml.body, HasSubstr("<ResponseMetadata><RequestId>r-1</RequestId>"));
  const auto json = encodeResponse(WireProtocol::Json, "GetMetricStatistics", output, "r-1");
  EXPECT_EQ(Json::parse(json.body), output);
  const auto cbor = encodeResponse(WireProtocol::Cbor, "GetMetricStatistics", output, "r-1");
  EXPECT_EQ(cbor.content_type, "application/cbor");
  // Read back as a request body (tags and all).
  auto back = decodeRequest(
      WireProtocol::Cbor,
      post("/service/GraniteServiceVersion20100801/operation/GetMetricStatistics", cbor.body));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->input["Label"], "NetworkPacketsMirrorIn");
  EXPECT_EQ(back->input["Datapoints"][0]["Timestamp"].get<double>(), 1796637600.0);
  auto truncated =
      decodeRequest(WireProtocol::Cbor, post("/service/GraniteServiceVersion20100801/operation/X",
                                             cbor.body.substr(0, cbor.body.size() - 3)));
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, "SerializationException");
  bool smithy = false;
  for (const auto& [name, value] : cbor.headers) {
    smithy = smithy || (name == "smithy-protocol" && value == "rpc-v2-cbor");
  }
  EXPECT_TRUE(smithy);

  const api::ApiError error{"InvalidParameterValue",
                            "The parameter Period must be a multiple "
                            "of 60."};
  const auto xml_error = encodeError(WireProtocol::Query, error, "r-2");
  EXPECT_EQ(xml_error.status, 400);
  EXPECT_THAT(xml_error.body, HasSubstr("<Error><Type>Sender</Type><Code>InvalidParameterValue"
                                        "</Code><Message>The parameter Period must be a "
                                        "multiple of 60.</Message></Error>"));
  const auto json_error = encodeError(WireProtocol::Json, error, "r-2");
  EXPECT_EQ(Json::parse(json_error.body)["__type"], "InvalidParameterValueException");
  bool query_code = false;
  for (const auto& [name, value] : json_error.headers) {
    query_code =
        query_code || (name == "x-amzn-query-error" && value == "InvalidParameterValue;Sender");
  }
  EXPECT_TRUE(query_code) << "awsQueryCompatible: clients report the Query code";
}

TEST(CloudWatchWire, Iso8601ReadsWhatBotocoreSends) {
  EXPECT_EQ(parseIso8601("2026-12-07T10:00:00Z"), 1796637600.0);
  EXPECT_EQ(parseIso8601("2026-12-07T10:00:00.500Z"), 1796637600.5);
  EXPECT_EQ(parseIso8601("2026-12-07T11:00:00+01:00"), 1796637600.0);
  EXPECT_FALSE(parseIso8601("2026-12-07"));
  EXPECT_FALSE(parseIso8601("2026-13-07T10:00:00Z"));
  EXPECT_EQ(formatIso8601(1796637600), "2026-12-07T10:00:00Z");
}

}  // namespace
}  // namespace tmirror::cloudwatch
