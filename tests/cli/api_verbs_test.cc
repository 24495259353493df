// tmirror's API verbs against aws-cli v2 itself: the shorthand parser and the XML->JSON
// converter on cases whose expected output awscli computed, the verb parser without a process,
// and a full lifecycle where every step runs both `tmirror <verb>` and `/usr/bin/aws ec2 <verb>`
// against one `tmirror server` on 127.0.0.1 and compares what they print.
#include "cli/aws/api_verbs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/aws/aws_shorthand.h"
#include "cli/aws/ec2_xml_to_json.h"
#include "cli/command_line.h"
#include "cli/tmirror_process.h"
#include "common/random.h"

namespace tmirror::cli {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;
using testing::ProcessResult;

// --- Shorthand -----------------------------------------------------------------------------

struct ShorthandCase {
  const char* input;
  bool ok;
  const char* expected;  // JSON when ok, else the error message
};

// Inputs and what awscli.shorthand.ShorthandParser (aws-cli 2.9.19) returns or raises.
const ShorthandCase kShorthandCases[] = {
    {R"sh(Key=a,Value=b)sh", true, R"sh({"Key": "a", "Value": "b"})sh"},
    {R"sh(Name=network-interface-id,Values=eni-1,eni-2)sh", true,
     R"sh({"Name": "network-interface-id", "Values": ["eni-1", "eni-2"]})sh"},
    {R"sh(ResourceType=traffic-mirror-session,Tags=[{Key=k,Value=v},{Key=k2,Value=v2}])sh", true,
     R"sh({"ResourceType": "traffic-mirror-session", "Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": "v2"}]})sh"},
    {R"sh(FromPort=80,ToPort=80)sh", true, R"sh({"FromPort": "80", "ToPort": "80"})sh"},
    {R"sh(a=b,c,d=e)sh", true, R"sh({"a": ["b", "c"], "d": "e"})sh"},
    {R"sh(a=b,c=d)sh", true, R"sh({"a": "b", "c": "d"})sh"},
    {R"sh(Key='a,b',Value="x=y")sh", true, R"sh({"Key": "a,b", "Value": "x=y"})sh"},
    {R"sh(Key=a\,b,Value=c)sh", true, R"sh({"Key": "a,b", "Value": "c"})sh"},
    {R"sh(Key= spaced ,Value=v )sh", true, R"sh({"Key": "spaced", "Value": "v"})sh"},
    {R"sh(Values=[a, b ,c])sh", true, R"sh({"Values": ["a", "b", "c"]})sh"},
    {R"sh(A=)sh", true, R"sh({"A": ""})sh"},
    {R"sh(A=[])sh", true, R"sh({"A": []})sh"},
    {R"sh(A={})sh", true, R"sh({"A": {}})sh"},
    {R"sh(A={B=1,C=[x,y]})sh", true, R"sh({"A": {"B": "1", "C": ["x", "y"]}})sh"},
    {R"sh(Key='it\'s',Value="say \"hi\"")sh", true,
     R"sh({"Key": "it's", "Value": "say \"hi\""})sh"},
    {R"sh(Key='unterminated)sh", false,
     R"sh(Expected: '<singled quoted>', received: '<none>' for input:
Key='unterminated
    ^)sh"},
    {R"sh(ResourceType=x,Tags=[{Key=a,Value=b})sh", false,
     R"sh(Expected: ',', received: 'EOF' for input:
ResourceType=x,Tags=[{Key=a,Value=b}
                                    ^)sh"},
    {R"sh(FromPort==80)sh", false, R"sh(Expected: ',', received: '=' for input:
FromPort==80
         ^)sh"},
    {R"sh(c)sh", false, R"sh(Expected: '=', received: 'EOF' for input:
c
 ^)sh"},
    {R"sh(a=b,a=c)sh", false, R"sh(Second instance of key "a" encountered for input:
a=b,a=c
    ^
This is often because there is a preceding "," instead of a space.)sh"},
    {R"sh(a=b,
b=c,
b=d)sh",
     false, R"sh(Second instance of key "b" encountered for input:
a=b,
b=c,
    ^
b=d
This is often because there is a preceding "," instead of a space.)sh"},
    {R"sh(Key=ключ,Value=значение)sh", true, R"sh({"Key": "ключ", "Value": "значение"})sh"},
    {R"sh(a=b,)sh", false, R"sh(Expected: '<second>', received: '<none>' for input:
a=b,
    ^)sh"},
    {R"sh(Key=a b c)sh", true, R"sh({"Key": "a b c"})sh"},
    {R"sh(Key='a\\',Value=b)sh", true, R"sh({"Key": "a\\", "Value": "b"})sh"},
    {R"sh(k=[a,[b,c],{d=e}])sh", true, R"sh({"k": ["a", ["b", "c"], {"d": "e"}]})sh"},
};

TEST(CliShorthand, ParsesAsAwscliDoes) {
  for (const auto& c : kShorthandCases) {
    SCOPED_TRACE(c.input);
    auto parsed = parseShorthand(c.input);
    if (c.ok) {
      ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
      EXPECT_EQ(*parsed, Json::parse(c.expected));
    } else {
      ASSERT_FALSE(parsed.has_value()) << parsed->dump();
      EXPECT_EQ(parsed.error().message, c.expected);
    }
  }
}

TEST(CliShorthand, KeepsKeyOrderAndNestedListsOfTags) {
  auto parsed =
      parseShorthand("ResourceType=traffic-mirror-session,Tags=[{Key=z,Value=1},{Key=a}]");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(
      parsed->dump(),
      R"({"ResourceType":"traffic-mirror-session","Tags":[{"Key":"z","Value":"1"},{"Key":"a"}]})");
}

TEST(CliShorthand, BackslashInsideUnterminatedQuoteBacktracksLikeTheRegex) {
  // '(?:\\\\|\\'|[^'])*' on 'a\' matches with \ as a plain character.
  auto parsed = parseShorthand(R"(Key='a\',Value=b)");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ((*parsed)["Key"], "a\\");
}

// --- XML -> JSON ---------------------------------------------------------------------------

struct XmlCase {
  const char* operation;
  const char* xml;
  const char* expected;
};

// Recorded responses and what aws-cli 2.9.19's parser prints for them with the current
// model (made by running awscli's EC2QueryParser and JSON formatter on the same bytes).
const XmlCase kXmlCases[] = {
    {"DeleteTags",
     R"xml(<?xml version="1.0" encoding="UTF-8"?>
<DeleteTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>x</requestId><return>true</return></DeleteTagsResponse>
)xml",
     R"json()json"},
    {"DescribeNetworkInterfaces",
     R"xml(<?xml version="1.0" encoding="UTF-8"?>
<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>fc45294c-006b-457b-bab9-012f5b3b0e40</requestId>
    <networkInterfaceSet>
        <item>
            <networkInterfaceId>eni-0f7db31c0bEXAMPLE</networkInterfaceId>
            <subnetId>subnet-0a4bf7b2EXAMPLE</subnetId>
            <vpcId>vpc-0a1b2c3dEXAMPLE</vpcId>
            <availabilityZone>us-east-1d</availabilityZone>
            <description>my network interface</description>
            <ownerId>123456789012</ownerId>
            <requesterManaged>false</requesterManaged>
            <status>in-use</status>
            <macAddress>02:a3:f1:cd:ea:1f</macAddress>
            <privateIpAddress>10.0.1.17</privateIpAddress>
            <privateDnsName>ip-10-0-1-17.ec2.internal</privateDnsName>
            <sourceDestCheck>true</sourceDestCheck>
            <groupSet>
                <item>
                    <groupId>sg-0b12f4cdEXAMPLE</groupId>
                    <groupName>default</groupName>
                </item>
            </groupSet>
            <attachment>
                <attachmentId>eni-attach-0b0a4f14EXAMPLE</attachmentId>
                <instanceId>i-0123456789EXAMPLE</instanceId>
                <instanceOwnerId>123456789012</instanceOwnerId>
                <deviceIndex> 0 </deviceIndex>
                <status>attached</status>
                <attachTime>2019-06-27T10:48:15.000Z</attachTime>
                <deleteOnTermination>true</deleteOnTermination>
                <networkCardIndex>0</networkCardIndex>
            </attachment>
            <tagSet/>
            <privateIpAddressesSet>
                <item>
                    <privateIpAddress>10.0.1.17</privateIpAddress>
                    <privateDnsName>ip-10-0-1-17.ec2.internal</privateDnsName>
                    <primary>true</primary>
                </item>
            </privateIpAddressesSet>
            <ipv6AddressesSet/>
            <interfaceType>interface</interfaceType>
            <!-- not in the model: skipped -->
            <unknownFutureMember><nested>x</nested></unknownFutureMember>
        </item>
    </networkInterfaceSet>
    <nextToken>page-2</nextToken>
</DescribeNetworkInterfacesResponse>
)xml",
     R"json({
    "NetworkInterfaces": [
        {
            "Attachment": {
                "AttachTime": "2019-06-27T10:48:15+00:00",
                "AttachmentId": "eni-attach-0b0a4f14EXAMPLE",
                "DeleteOnTermination": true,
                "DeviceIndex": 0,
                "NetworkCardIndex": 0,
                "InstanceId": "i-0123456789EXAMPLE",
                "InstanceOwnerId": "123456789012",
                "Status": "attached"
            },
            "AvailabilityZone": "us-east-1d",
            "Description": "my network interface",
            "Groups": [
                {
                    "GroupId": "sg-0b12f4cdEXAMPLE",
                    "GroupName": "default"
                }
            ],
            "InterfaceType": "interface",
            "Ipv6Addresses": [],
            "MacAddress": "02:a3:f1:cd:ea:1f",
            "NetworkInterfaceId": "eni-0f7db31c0bEXAMPLE",
            "OwnerId": "123456789012",
            "PrivateDnsName": "ip-10-0-1-17.ec2.internal",
            "PrivateIpAddress": "10.0.1.17",
            "PrivateIpAddresses": [
                {
                    "Primary": true,
                    "PrivateDnsName": "ip-10-0-1-17.ec2.internal",
                    "PrivateIpAddress": "10.0.1.17"
                }
            ],
            "RequesterManaged": false,
            "SourceDestCheck": true,
            "Status": "in-use",
            "SubnetId": "subnet-0a4bf7b2EXAMPLE",
            "TagSet": [],
            "VpcId": "vpc-0a1b2c3dEXAMPLE"
        }
    ],
    "NextToken": "page-2"
}
)json"},
    {"DescribeTrafficMirrorFilters",
     R"xml(<?xml version="1.0" encoding="UTF-8"?>
<DescribeTrafficMirrorFiltersResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>2baef121-9ef9-4851-8756-9e3351236d65</requestId><trafficMirrorFilterSet><item><trafficMirrorFilterId>tmf-f7d5825eedfc17f1f</trafficMirrorFilterId><ingressFilterRuleSet><item><trafficMirrorFilterRuleId>tmfr-de463cfc6a2957ec2</trafficMirrorFilterRuleId><trafficMirrorFilterId>tmf-f7d5825eedfc17f1f</trafficMirrorFilterId><trafficDirection>ingress</trafficDirection><ruleNumber>10</ruleNumber><ruleAction>accept</ruleAction><protocol>6</protocol><destinationPortRange><fromPort>80</fromPort><toPort>443</toPort></destinationPortRange><destinationCidrBlock>10.0.0.0/8</destinationCidrBlock><sourceCidrBlock>0.0.0.0/0</sourceCidrBlock><description>web &amp; &lt;more&gt;</description><tagSet><item><key>Name</key><value>r1</value></item></tagSet></item></ingressFilterRuleSet><egressFilterRuleSet></egressFilterRuleSet><networkServiceSet><item>amazon-dns</item></networkServiceSet><description>f</description><tagSet></tagSet></item></trafficMirrorFilterSet></DescribeTrafficMirrorFiltersResponse>
)xml",
     R"json({
    "TrafficMirrorFilters": [
        {
            "TrafficMirrorFilterId": "tmf-f7d5825eedfc17f1f",
            "IngressFilterRules": [
                {
                    "TrafficMirrorFilterRuleId": "tmfr-de463cfc6a2957ec2",
                    "TrafficMirrorFilterId": "tmf-f7d5825eedfc17f1f",
                    "TrafficDirection": "ingress",
                    "RuleNumber": 10,
                    "RuleAction": "accept",
                    "Protocol": 6,
                    "DestinationPortRange": {
                        "FromPort": 80,
                        "ToPort": 443
                    },
                    "DestinationCidrBlock": "10.0.0.0/8",
                    "SourceCidrBlock": "0.0.0.0/0",
                    "Description": "web & <more>",
                    "Tags": [
                        {
                            "Key": "Name",
                            "Value": "r1"
                        }
                    ]
                }
            ],
            "EgressFilterRules": [],
            "NetworkServices": [
                "amazon-dns"
            ],
            "Description": "f",
            "Tags": []
        }
    ]
}
)json"},
    {"DescribeTags",
     R"xml(<?xml version="1.0" encoding="UTF-8"?>
<DescribeTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
   <tagSet>
      <item>
         <resourceId>tms-0af3141ce5EXAMPLE</resourceId>
         <resourceType>traffic-mirror-session</resourceType>
         <key>env</key>
         <value><![CDATA[a <b> & c]]></value>
      </item>
      <item>
         <resourceId>tmt-07f75d8feeEXAMPLE</resourceId>
         <resourceType>traffic-mirror-target</resourceType>
         <key>empty</key>
         <value/>
      </item>
   </tagSet>
</DescribeTagsResponse>
)xml",
     R"json({
    "Tags": [
        {
            "Key": "env",
            "ResourceId": "tms-0af3141ce5EXAMPLE",
            "ResourceType": "traffic-mirror-session",
            "Value": "a <b> & c"
        },
        {
            "Key": "empty",
            "ResourceId": "tmt-07f75d8feeEXAMPLE",
            "ResourceType": "traffic-mirror-target",
            "Value": ""
        }
    ]
}
)json"},
    {"ModifyTrafficMirrorSession",
     R"xml(<?xml version="1.0" encoding="UTF-8"?>
<ec2:ModifyTrafficMirrorSessionResponse xmlns:ec2="http://ec2.amazonaws.com/doc/2016-11-15/"><ec2:requestId>1</ec2:requestId><ec2:trafficMirrorSession><ec2:trafficMirrorSessionId>tms-0af3141ce5EXAMPLE</ec2:trafficMirrorSessionId><ec2:trafficMirrorTargetId>tmt-07f75d8feeEXAMPLE</ec2:trafficMirrorTargetId><ec2:trafficMirrorFilterId>tmf-04812ff784EXAMPLE</ec2:trafficMirrorFilterId><ec2:networkInterfaceId>eni-070203f901EXAMPLE</ec2:networkInterfaceId><ec2:ownerId>111122223333</ec2:ownerId><ec2:sessionNumber>2</ec2:sessionNumber><ec2:virtualNetworkId>16777215</ec2:virtualNetworkId><ec2:description></ec2:description><ec2:tagSet><ec2:item><ec2:key>caf&#233;</ec2:key><ec2:value>&#x2603; "snow" &apos;man&apos;</ec2:value></ec2:item></ec2:tagSet></ec2:trafficMirrorSession></ec2:ModifyTrafficMirrorSessionResponse>
)xml",
     R"json({
    "TrafficMirrorSession": {
        "TrafficMirrorSessionId": "tms-0af3141ce5EXAMPLE",
        "TrafficMirrorTargetId": "tmt-07f75d8feeEXAMPLE",
        "TrafficMirrorFilterId": "tmf-04812ff784EXAMPLE",
        "NetworkInterfaceId": "eni-070203f901EXAMPLE",
        "OwnerId": "111122223333",
        "SessionNumber": 2,
        "VirtualNetworkId": 16777215,
        "Description": "",
        "Tags": [
            {
                "Key": "café",
                "Value": "☃ \"snow\" 'man'"
            }
        ]
    }
}
)json"},
};

TEST(CliEc2XmlToJson, PrintsWhatAwsPrintsForRecordedResponses) {
  for (const auto& c : kXmlCases) {
    SCOPED_TRACE(c.operation);
    auto shape = ec2OutputShape(c.operation);
    ASSERT_TRUE(shape.has_value());
    auto json = ec2XmlToJson(c.xml, *shape);
    ASSERT_TRUE(json.has_value()) << json.error().message;
    EXPECT_EQ(formatAwsJson(*json), c.expected);
  }
}

TEST(CliEc2XmlToJson, EveryVerbHasAnOutputShape) {
  for (const auto& verb : apiVerbs()) {
    EXPECT_TRUE(ec2OutputShape(verb.operation).has_value()) << verb.operation;
  }
  EXPECT_FALSE(ec2OutputShape("RunInstances").has_value());
}

TEST(CliEc2XmlToJson, RejectsMalformedXmlAndNonIntegers) {
  const Shape* shape = *ec2OutputShape("DeleteTrafficMirrorSession");
  EXPECT_FALSE(ec2XmlToJson("<a><b></a>", shape).has_value());
  EXPECT_FALSE(ec2XmlToJson("<a>&bogus;</a>", shape).has_value());
  EXPECT_FALSE(ec2XmlToJson("<a></a><b/>", shape).has_value());
  EXPECT_FALSE(ec2XmlToJson("", shape).has_value());
  std::string deep;
  for (int i = 0; i < 100; ++i) {
    deep += "<a>";
  }
  EXPECT_FALSE(ec2XmlToJson(deep, shape).has_value());
  const Shape* session = *ec2OutputShape("CreateTrafficMirrorSession");
  EXPECT_FALSE(ec2XmlToJson("<r><trafficMirrorSession><sessionNumber>one</sessionNumber>"
                            "</trafficMirrorSession></r>",
                            session)
                   .has_value());
}

TEST(CliEc2XmlToJson, ParsesTheEc2ErrorEnvelope) {
  auto error = parseEc2Error(
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      "<Response><Errors><Error><Code>DryRunOperation</Code><Message>Request would have "
      "succeeded, but DryRun flag is set.</Message></Error></Errors><RequestID>r</RequestID>"
      "</Response>");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "DryRunOperation");
  EXPECT_EQ(error->message, "Request would have succeeded, but DryRun flag is set.");
  EXPECT_FALSE(parseEc2Error("<html><body>Not Found</body></html>").has_value());
  EXPECT_FALSE(parseEc2Error("not xml").has_value());
}

TEST(CliEc2XmlToJson, EmptyObjectPrintsNothing) {
  EXPECT_EQ(formatAwsJson(Json::object()), "");
  EXPECT_EQ(formatAwsJson(Json::parse(R"({"A": []})")), "{\n    \"A\": []\n}\n");
}

// --- Parsing verbs -------------------------------------------------------------------------

std::expected<ApiCall, VerbUsage> parseVerb(std::vector<std::string> args) {
  return parseApiVerbCommand(args);
}

ApiCall callOf(std::vector<std::string> args) {
  auto call = parseVerb(std::move(args));
  if (!call) {
    ADD_FAILURE() << "usage error (" << call.error().exit_code << "):" << call.error().text;
    return {};
  }
  return *call;
}

VerbUsage usageOf(std::vector<std::string> args) {
  auto call = parseVerb(std::move(args));
  if (call) {
    ADD_FAILURE() << "expected a usage error, got " << call->input.dump();
    return {};
  }
  return call.error();
}

TEST(ApiVerbParse, SessionEncodesExactlyAsTheAwsCliCapture) {
  // The body aws-cli sent for this command line (captured from aws-cli against a listener).
  const ApiCall call =
      callOf({"create-traffic-mirror-session",
              "--network-interface-id",
              "eni-0123456789abcdef0",
              "--traffic-mirror-target-id",
              "tmt-07f75d8feeEXAMPLE",
              "--traffic-mirror-filter-id",
              "tmf-04812ff784EXAMPLE",
              "--packet-length",
              "100",
              "--session-number",
              "1",
              "--virtual-network-id",
              "123",
              "--description",
              "my session",
              "--tag-specifications",
              "ResourceType=traffic-mirror-session,Tags=[{Key=Name,Value=s1},{Key=env,Value=dev}]",
              "--dry-run",
              "--client-token",
              "abc-123"});
  ASSERT_NE(call.verb, nullptr);
  EXPECT_EQ(formEncode(ec2QueryParameters(*call.verb, call.input)),
            "Action=CreateTrafficMirrorSession&Version=2016-11-15&NetworkInterfaceId=eni-"
            "0123456789abcdef0&TrafficMirrorTargetId=tmt-07f75d8feeEXAMPLE&TrafficMirrorFilterId="
            "tmf-04812ff784EXAMPLE&PacketLength=100&SessionNumber=1&VirtualNetworkId=123&"
            "Description=my+session&TagSpecification.1.ResourceType=traffic-mirror-session&"
            "TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=s1&"
            "TagSpecification.1.Tag.2.Key=env&TagSpecification.1.Tag.2.Value=dev&DryRun=true&"
            "ClientToken=abc-123");
  EXPECT_FALSE(call.paginate);
}

TEST(ApiVerbParse, FiltersRepeatAndListsTakeSeveralValues) {
  const ApiCall call =
      callOf({"describe-traffic-mirror-sessions", "--traffic-mirror-session-ids",
              "tms-0af3141ce5EXAMPLE", "--filters", "Name=network-interface-id,Values=eni-1,eni-2",
              "Name=session-number,Values=1", "--max-results", "5", "--next-token", "tok"});
  EXPECT_EQ(formEncode(ec2QueryParameters(*call.verb, call.input)),
            "Action=DescribeTrafficMirrorSessions&Version=2016-11-15&TrafficMirrorSessionId.1=tms-"
            "0af3141ce5EXAMPLE&Filter.1.Name=network-interface-id&Filter.1.Value.1=eni-1&Filter.1."
            "Value.2=eni-2&Filter.2.Name=session-number&Filter.2.Value.1=1&MaxResults=5&"
            "NextToken=tok");
  EXPECT_FALSE(call.paginate) << "--max-results/--next-token turn pagination off, as in aws";
}

TEST(ApiVerbParse, JsonFormsEqualShorthand) {
  const ApiCall shorthand =
      callOf({"create-traffic-mirror-filter-rule", "--traffic-mirror-filter-id", "tmf-1",
              "--traffic-direction", "ingress", "--rule-number", "100", "--rule-action", "accept",
              "--destination-port-range", "FromPort=22,ToPort=22", "--source-cidr-block",
              "0.0.0.0/0", "--destination-cidr-block", "10.0.0.0/16", "--tag-specifications",
              "ResourceType=traffic-mirror-filter-rule,Tags=[{Key=a,Value=b}]"});
  const ApiCall json = callOf(
      {"create-traffic-mirror-filter-rule", "--traffic-mirror-filter-id", "tmf-1",
       "--traffic-direction", "ingress", "--rule-number", "100", "--rule-action", "accept",
       "--destination-port-range", R"( {"FromPort": 22, "ToPort": 22})", "--source-cidr-block",
       "0.0.0.0/0", "--destination-cidr-block", "10.0.0.0/16", "--tag-specifications",
       R"([{"ResourceType": "traffic-mirror-filter-rule", "Tags": [{"Key": "a", "Value": "b"}]}])"});
  EXPECT_EQ(shorthand.input, json.input);
  EXPECT_EQ(shorthand.input["DestinationPortRange"], Json::parse(R"({"FromPort":22,"ToPort":22})"));
  EXPECT_EQ(formEncode(ec2QueryParameters(*json.verb, json.input)),
            "Action=CreateTrafficMirrorFilterRule&Version=2016-11-15&TrafficMirrorFilterId=tmf-1&"
            "TrafficDirection=ingress&RuleNumber=100&RuleAction=accept&DestinationPortRange."
            "FromPort=22&DestinationPortRange.ToPort=22&DestinationCidrBlock=10.0.0.0%2F16&"
            "SourceCidrBlock=0.0.0.0%2F0&TagSpecification.1.ResourceType=traffic-mirror-filter-"
            "rule&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=b");

  const ApiCall ids_json =
      callOf({"describe-traffic-mirror-targets", "--traffic-mirror-target-ids",
              R"(["tmt-1", "tmt-2"])", "--filters", R"({"Name": "description", "Values": ["a"]})",
              R"({"Name": "owner-id", "Values": ["1"]})"});
  const ApiCall ids_words =
      callOf({"describe-traffic-mirror-targets", "--traffic-mirror-target-ids", "tmt-1", "tmt-2",
              "--filters", "Name=description,Values=a", "Name=owner-id,Values=1"});
  EXPECT_EQ(ids_json.input, ids_words.input);
}

TEST(ApiVerbParse, TagsResourcesRemoveFieldsAndNetworkServices) {
  const ApiCall tags =
      callOf({"delete-tags", "--resources", "tms-1", "tmt-2", "--tags", "Key=a", "Key=b,Value=c"});
  EXPECT_EQ(
      formEncode(ec2QueryParameters(*tags.verb, tags.input)),
      "Action=DeleteTags&Version=2016-11-15&ResourceId.1=tms-1&ResourceId.2=tmt-2&Tag.1.Key=a&"
      "Tag.2.Key=b&Tag.2.Value=c");
  const ApiCall modify =
      callOf({"modify-traffic-mirror-session", "--traffic-mirror-session-id", "tms-1",
              "--remove-fields", "packet-length", "description", "--no-dry-run"});
  EXPECT_EQ(formEncode(ec2QueryParameters(*modify.verb, modify.input)),
            "Action=ModifyTrafficMirrorSession&Version=2016-11-15&TrafficMirrorSessionId=tms-1&"
            "RemoveField.1=packet-length&RemoveField.2=description&DryRun=false");
  const ApiCall services =
      callOf({"modify-traffic-mirror-filter-network-services", "--traffic-mirror-filter-id=tmf-1",
              "--add-network-services", "amazon-dns"});
  EXPECT_EQ(formEncode(ec2QueryParameters(*services.verb, services.input)),
            "Action=ModifyTrafficMirrorFilterNetworkServices&Version=2016-11-15&"
            "TrafficMirrorFilterId=tmf-1&AddNetworkService.1=amazon-dns");
  // Empty lists are not sent at all (EC2Serializer).
  const ApiCall empty = callOf({"describe-traffic-mirror-filters", "--traffic-mirror-filter-ids"});
  EXPECT_EQ(formEncode(ec2QueryParameters(*empty.verb, empty.input)),
            "Action=DescribeTrafficMirrorFilters&Version=2016-11-15");
}

TEST(ApiVerbParse, NetworkInterfaceStructureListsAndQueryNames) {
  const ApiCall call =
      callOf({"create-network-interface", "--subnet-id", "subnet-1", "--groups", "sg-1", "sg-2",
              "--private-ip-addresses", "Primary=true,PrivateIpAddress=10.0.0.5",
              "PrivateIpAddress=10.0.0.6", "--ipv6-address-count", "0"});
  EXPECT_EQ(formEncode(ec2QueryParameters(*call.verb, call.input)),
            "Action=CreateNetworkInterface&Version=2016-11-15&SubnetId=subnet-1&SecurityGroupId."
            "1=sg-1&SecurityGroupId.2=sg-2&PrivateIpAddresses.1.Primary=true&PrivateIpAddresses."
            "1.PrivateIpAddress=10.0.0.5&PrivateIpAddresses.2.PrivateIpAddress=10.0.0.6&"
            "Ipv6AddressCount=0");
}

TEST(ApiVerbParse, GlobalOptionsGoAnywhereAndPagingIsAutomatic) {
  const ApiCall call =
      callOf({"--region", "eu-west-1", "describe-traffic-mirror-targets", "--endpoint-url",
              "http://127.0.0.1:9999", "--no-sign-request", "--page-size", "5", "--output", "json",
              "--profile", "lab", "--debug"});
  EXPECT_EQ(call.globals.region, "eu-west-1");
  EXPECT_EQ(call.globals.endpoint_url, "http://127.0.0.1:9999");
  EXPECT_EQ(call.globals.profile, "lab");
  EXPECT_FALSE(call.globals.sign_request);
  EXPECT_TRUE(call.globals.debug);
  EXPECT_TRUE(call.paginate);
  EXPECT_EQ(call.input, Json::parse(R"({"MaxResults": 5})"));
  EXPECT_FALSE(callOf({"describe-tags", "--no-paginate"}).paginate);
  EXPECT_TRUE(callOf({"describe-network-interfaces"}).paginate);
  EXPECT_FALSE(callOf({"describe-traffic-mirror-filter-rules"}).paginate)
      << "no paginator in the model";
}

TEST(ApiVerbParse, RoutedByTheTopLevelParserWithoutDisturbingSubcommands) {
  const char* verb_args[] = {"tmirror",
                             "--endpoint-url",
                             "http://127.0.0.1:1",
                             "delete-traffic-mirror-target",
                             "--traffic-mirror-target-id",
                             "tmt-1"};
  const Command verb = parseCommandLine(verb_args);
  ASSERT_TRUE(std::holds_alternative<ApiCall>(verb));
  EXPECT_EQ(std::get<ApiCall>(verb).verb->operation, "DeleteTrafficMirrorTarget");

  const char* missing[] = {"tmirror", "delete-traffic-mirror-target"};
  const Command usage = parseCommandLine(missing);
  ASSERT_TRUE(std::holds_alternative<HelpText>(usage));
  EXPECT_TRUE(std::get<HelpText>(usage).is_error);
  EXPECT_EQ(std::get<HelpText>(usage).exit_code, 252);

  const char* server[] = {"tmirror", "server", "--listen", "127.0.0.1:0"};
  EXPECT_TRUE(std::holds_alternative<ServerOptions>(parseCommandLine(server)));
  const char* help[] = {"tmirror", "--help"};
  const Command top_help = parseCommandLine(help);
  ASSERT_TRUE(std::holds_alternative<HelpText>(top_help));
  EXPECT_THAT(std::get<HelpText>(top_help).text, HasSubstr("create-traffic-mirror-session"));
}

TEST(ApiVerbParse, UsageErrorsUseAwsTextsAndExitCodes) {
  auto missing = usageOf({"create-traffic-mirror-session", "--session-number", "1"});
  EXPECT_EQ(missing.exit_code, 252);
  EXPECT_THAT(missing.text, HasSubstr("tmirror: error: the following arguments are required: "
                                      "--network-interface-id, --traffic-mirror-target-id, "
                                      "--traffic-mirror-filter-id\n"));

  auto unknown = usageOf(
      {"delete-traffic-mirror-session", "--traffic-mirror-session-id", "x", "--bogus", "1"});
  EXPECT_EQ(unknown.exit_code, 252);
  EXPECT_THAT(unknown.text, HasSubstr("\nUnknown options: --bogus, 1\n"));

  auto no_value = usageOf({"delete-traffic-mirror-session", "--traffic-mirror-session-id"});
  EXPECT_THAT(no_value.text,
              HasSubstr("argument --traffic-mirror-session-id: expected one argument"));

  auto bad_int = usageOf({"describe-traffic-mirror-sessions", "--max-results", "x"});
  EXPECT_EQ(bad_int.exit_code, 255);
  EXPECT_EQ(bad_int.text, "\ninvalid literal for int() with base 10: 'x'\n");

  auto shorthand =
      usageOf({"describe-traffic-mirror-sessions", "--filters", "Name=a,Values=b", "c"});
  EXPECT_EQ(shorthand.exit_code, 252);
  EXPECT_EQ(shorthand.text,
            "\nError parsing parameter '--filters': Expected: '=', received: 'EOF' for input:\n"
            "c\n ^\n");

  auto validation2 = usageOf({"describe-traffic-mirror-sessions", "--max-results", "1", "--filters",
                              "Name=a,Values=b,Foo=c"});
  EXPECT_EQ(validation2.text,
            "\nParameter validation failed:\n"
            "Unknown parameter in Filters[0]: \"Foo\", must be one of: Name, Values\n"
            "Invalid value for parameter MaxResults, value: 1, valid min value: 5\n");
  auto types = usageOf({"describe-traffic-mirror-sessions", "--filters", R"({"Name": 1})"});
  EXPECT_EQ(types.text,
            "\nParameter validation failed:\nInvalid type for parameter Filters[0].Name, value: 1, "
            "type: <class 'int'>, valid types: <class 'str'>\n");

  auto output = usageOf({"describe-tags", "--output", "text"});
  EXPECT_EQ(output.exit_code, 252);
  auto port_range = usageOf({"modify-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id",
                             "tmfr-1", "--source-port-range", "FromPort=x"});
  EXPECT_EQ(port_range.exit_code, 255);
  EXPECT_EQ(port_range.text, "\ninvalid literal for int() with base 10: 'x'\n");
}

TEST(ApiVerbParse, HelpListsEveryOption) {
  for (const auto& verb : apiVerbs()) {
    auto help = usageOf({std::string(verb.verb), "help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const auto& option : verb.options) {
      EXPECT_THAT(help.text, HasSubstr("--" + std::string(option.option))) << verb.verb;
    }
  }
}

TEST(ApiVerbParse, ReadsFileValuesLikeAws) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("tmirror-verbs-" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(path);
    out << R"([{"ResourceType": "traffic-mirror-filter", "Tags": [{"Key": "k", "Value": "v"}]}])";
  }
  const ApiCall call =
      callOf({"create-traffic-mirror-filter", "--tag-specifications", "file://" + path.string()});
  std::filesystem::remove(path);
  EXPECT_EQ(call.input["TagSpecifications"][0]["Tags"][0]["Value"], "v");
  auto missing = usageOf({"create-traffic-mirror-filter", "--description", "file:///nonexistent"});
  EXPECT_EQ(missing.exit_code, 252);
  EXPECT_THAT(missing.text, HasSubstr("Unable to load paramfile file:///nonexistent"));
}

// --- Settings ------------------------------------------------------------------------------

TEST(ApiVerbSettings, EnvironmentFilesAndDefaults) {
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;
  const EnvLookup lookup = [&](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    return it == env.end() ? std::nullopt : std::optional(it->second);
  };
  const FileReader read = [&](const std::filesystem::path& p) -> std::optional<std::string> {
    auto it = files.find(p.string());
    return it == files.end() ? std::nullopt : std::optional(it->second);
  };

  auto defaults = resolveClientSettings({}, lookup, read);
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->endpointText(), "http://127.0.0.1:8900/");
  EXPECT_EQ(defaults->host_header, "127.0.0.1:8900");
  EXPECT_EQ(defaults->region, "us-east-1");
  EXPECT_FALSE(defaults->credentials.has_value());

  env = {{"HOME", "/home/u"},
         {"AWS_ENDPOINT_URL", "http://127.0.0.1:1000"},
         {"AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:2000"},
         {"AWS_REGION", "eu-west-3"}};
  files["/home/u/.aws/credentials"] =
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=s3cr:et\n"
      "[lab]\nAWS_ACCESS_KEY_ID: AKIDLAB\naws_secret_access_key = lab\n";
  files["/home/u/.aws/config"] = "[profile lab]\nregion = ap-south-1\n";
  auto from_files = resolveClientSettings({}, lookup, read);
  ASSERT_TRUE(from_files.has_value());
  EXPECT_EQ(from_files->port, 2000) << "AWS_ENDPOINT_URL_EC2 wins over AWS_ENDPOINT_URL";
  EXPECT_EQ(from_files->region, "eu-west-3");
  ASSERT_TRUE(from_files->credentials.has_value());
  EXPECT_EQ(from_files->credentials->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(from_files->credentials->secret_access_key, "s3cr:et");

  env["TMIRROR_ENDPOINT"] = "https://[::1]/prefix";
  env["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env["AWS_SECRET_ACCESS_KEY"] = "env";
  env.erase("AWS_REGION");
  auto from_env = resolveClientSettings({}, lookup, read);
  ASSERT_TRUE(from_env.has_value());
  EXPECT_EQ(from_env->endpointText(), "https://[::1]/prefix");
  EXPECT_EQ(from_env->host_header, "[::1]");
  EXPECT_EQ(from_env->port, 443);
  EXPECT_EQ(from_env->credentials->access_key_id, "AKIDENV");

  ApiGlobalOptions lab;
  lab.profile = "lab";
  auto profile = resolveClientSettings(lab, lookup, read);
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(profile->credentials->access_key_id, "AKIDLAB") << "a named profile skips the env";
  EXPECT_EQ(profile->region, "ap-south-1");

  ApiGlobalOptions bad;
  bad.endpoint_url = "127.0.0.1:8900";
  auto no_scheme = resolveClientSettings(bad, lookup, read);
  ASSERT_FALSE(no_scheme.has_value());
  EXPECT_THAT(no_scheme.error().message, HasSubstr("scheme is missing"));
}

// 8-4-4-4-12 lower-case hex digits, version 4, RFC 4122 variant.
bool isUuid4(std::string_view text) {
  if (text.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return text[14] == '4' && std::string_view("89ab").find(text[19]) != std::string_view::npos;
}

TEST(ApiVerbSettings, ClientTokensAreVersion4Uuids) {
  const std::string a = newUuid4();
  EXPECT_TRUE(isUuid4(a)) << a;
  EXPECT_NE(a, newUuid4());
}

// --- Against aws-cli v2 --------------------------------------------------------------------

constexpr const char* kAwsCli = "/usr/bin/aws";  // Debian's v2; `aws` on PATH may be v1

// Runs `argv` (argv[0] a path) with the test's environment; waits for it.
ProcessResult runProgram(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  ProcessResult result;
  const int out_fd = ::memfd_create("verb-stdout", MFD_CLOEXEC);
  const int err_fd = ::memfd_create("verb-stderr", MFD_CLOEXEC);
  if (out_fd < 0 || err_fd < 0) {
    ADD_FAILURE() << "memfd_create failed";
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    ADD_FAILURE() << "cannot run " << args[0] << ": " << std::strerror(spawned);
    ::close(out_fd);
    ::close(err_fd);
    return result;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = testing::detail::drain(out_fd);
  result.err = testing::detail::drain(err_fd);
  return result;
}

// `tmirror server` on 127.0.0.1:0 with a fresh data directory and one access key.
class TmirrorServer {
 public:
  bool start(const std::filesystem::path& dir) {
    data_dir_ = dir / "data";
    const auto key =
        testing::runTmirror({"server", "--data-dir", data_dir_.string(), "--create-access-key"});
    const auto parsed = Json::parse(key.out, nullptr, false);
    if (key.exit_code != 0 || !parsed.is_object()) {
      ADD_FAILURE() << "--create-access-key: " << testing::describe(key);
      return false;
    }
    access_key_id_ = parsed["AccessKeyId"].get<std::string>();
    secret_ = parsed["SecretAccessKey"].get<std::string>();

    const auto out_path = dir / "server.out";
    const std::string binary = testing::tmirrorBinary().string();
    const std::string data = data_dir_.string();
    std::vector<char*> argv{const_cast<char*>(binary.c_str()),
                            const_cast<char*>("server"),
                            const_cast<char*>("--listen"),
                            const_cast<char*>("127.0.0.1:0"),
                            const_cast<char*>("--data-dir"),
                            const_cast<char*>(data.c_str()),
                            nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // The server logs its start-up lines (the address too) to stderr.
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int spawned =
        ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      ADD_FAILURE() << "cannot start the server: " << std::strerror(spawned);
      pid_ = -1;
      return false;
    }
    // "listening on http://127.0.0.1:PORT\n"
    constexpr std::string_view kListening = "listening on ";
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(out_path);
      const std::string text((std::istreambuf_iterator<char>(in)), {});
      const auto at = text.find("listening on http://127.0.0.1:");
      const auto end = at == std::string::npos ? at : text.find('\n', at);
      if (end != std::string::npos) {
        endpoint_ = text.substr(at + kListening.size(), end - at - kListening.size());
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the server did not say where it listens";
    return false;
  }

  ~TmirrorServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  const std::string& endpoint() const { return endpoint_; }

  const std::string& accessKeyId() const { return access_key_id_; }

  const std::string& secret() const { return secret_; }

 private:
  std::filesystem::path data_dir_;
  pid_t pid_ = -1;
  std::string endpoint_;
  std::string access_key_id_;
  std::string secret_;
};

// Drops filter rules' Tags: aws-cli 2.9.19's model predates them, so it does not print them.
void dropRuleTags(Json& value) {
  if (value.is_object()) {
    if (value.contains("TrafficMirrorFilterRuleId")) {
      value.erase("Tags");
    }
    for (auto& [key, member] : value.items()) {
      dropRuleTags(member);
    }
  } else if (value.is_array()) {
    for (auto& element : value) {
      dropRuleTags(element);
    }
  }
}

// Same keys in the same order everywhere; same values except under `differing` keys, whose
// values need only have the same JSON type (the IDs of two different creates).
void expectSameShape(const Json& ours, const Json& theirs, const std::set<std::string>& differing,
                     const std::string& path = "$") {
  ASSERT_EQ(ours.type(), theirs.type()) << path;
  if (ours.is_object()) {
    std::vector<std::string> our_keys;
    std::vector<std::string> their_keys;
    for (const auto& [k, v] : ours.items()) {
      our_keys.push_back(k);
    }
    for (const auto& [k, v] : theirs.items()) {
      their_keys.push_back(k);
    }
    ASSERT_EQ(our_keys, their_keys) << path;
    for (const auto& key : our_keys) {
      if (differing.contains(key) && !ours[key].is_structured()) {
        EXPECT_EQ(ours[key].type(), theirs[key].type()) << path << "." << key;
        continue;
      }
      expectSameShape(ours[key], theirs[key], differing, path + "." + key);
    }
  } else if (ours.is_array()) {
    ASSERT_EQ(ours.size(), theirs.size()) << path;
    for (std::size_t i = 0; i < ours.size(); ++i) {
      expectSameShape(ours[i], theirs[i], differing, path + "[" + std::to_string(i) + "]");
    }
  } else {
    EXPECT_EQ(ours, theirs) << path;
  }
}

struct BothRuns {
  ProcessResult ours;
  ProcessResult aws;
  Json ours_json;
  Json aws_json;
};

class ApiVerbVersusAwsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kAwsCli, X_OK) != 0) {
      GTEST_SKIP() << kAwsCli << " (Debian's awscli, aws-cli v2) is not installed";
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("tmirror-verbs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(server_.start(dir_));
    // Both CLIs see the same, isolated configuration: this key, this region, no files.
    for (const char* name :
         {"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "TMIRROR_ENDPOINT",
          "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_DEFAULT_OUTPUT", "AWS_CA_BUNDLE"}) {
      ::unsetenv(name);
    }
    ::setenv("AWS_ACCESS_KEY_ID", server_.accessKeyId().c_str(), 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", server_.secret().c_str(), 1);
    ::setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
    ::setenv("AWS_CONFIG_FILE", "/dev/null", 1);
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    ::setenv("AWS_PAGER", "", 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  }

  void TearDown() override {
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  ProcessResult ours(std::vector<std::string> args) {
    args.insert(args.begin(), testing::tmirrorBinary().string());
    args.insert(args.end(), {"--endpoint-url", server_.endpoint()});
    return runProgram(args);
  }

  ProcessResult aws(std::vector<std::string> args) {
    args.insert(args.begin(), {kAwsCli, "ec2"});
    args.insert(args.end(), {"--endpoint-url", server_.endpoint()});
    return runProgram(args);
  }

  static Json jsonOf(const ProcessResult& run) {
    if (run.out.empty()) {
      return Json();
    }
    Json json = Json::parse(run.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << "not JSON:\n" << run.out;
    dropRuleTags(json);
    return json;
  }

  // Runs `ours_args` with tmirror and `aws_args` with aws; both must succeed.
  BothRuns both(const std::vector<std::string>& ours_args,
                const std::vector<std::string>& aws_args) {
    BothRuns runs{ours(ours_args), aws(aws_args), {}, {}};
    EXPECT_EQ(runs.ours.exit_code, 0)
        << "tmirror " << ours_args.front() << ": " << testing::describe(runs.ours);
    EXPECT_EQ(runs.aws.exit_code, 0)
        << "aws ec2 " << aws_args.front() << ": " << testing::describe(runs.aws);
    runs.ours_json = jsonOf(runs.ours);
    runs.aws_json = jsonOf(runs.aws);
    return runs;
  }

  // The same command line for both; the outputs must be equal, key order included.
  Json same(const std::vector<std::string>& args) {
    auto runs = both(args, args);
    EXPECT_EQ(runs.ours_json.dump(2), runs.aws_json.dump(2)) << args.front();
    return runs.ours_json;
  }

  // Both fail; stderr and the exit code must be equal.
  void sameFailure(const std::vector<std::string>& args, int exit_code) {
    const auto o = ours(args);
    const auto a = aws(args);
    EXPECT_EQ(o.exit_code, exit_code) << testing::describe(o);
    EXPECT_EQ(a.exit_code, exit_code) << testing::describe(a);
    EXPECT_EQ(o.err, a.err) << args.front();
    EXPECT_EQ(o.out, "");
  }

  std::filesystem::path dir_;
  TmirrorServer server_;
};

std::string idOf(const Json& json, const char* object, const char* key) {
  return json.contains(object) && json[object].contains(key) ? json[object][key].get<std::string>()
                                                             : std::string();
}

TEST_F(ApiVerbVersusAwsCli, FullLifecyclePrintsWhatAwsPrints) {
  // Network interfaces: the source of one CLI's session is the other's target.
  const std::vector<std::string> eni = {
      "create-network-interface",
      "--subnet-id",
      "subnet-0a1b2c3d",
      "--description",
      "eni test",
      "--tag-specifications",
      "ResourceType=network-interface,Tags=[{Key=Name,Value=lab}]"};
  auto enis = both(eni, eni);
  expectSameShape(enis.ours_json, enis.aws_json,
                  {"NetworkInterfaceId", "MacAddress", "ClientToken"});
  const std::string eni_a = idOf(enis.ours_json, "NetworkInterface", "NetworkInterfaceId");
  const std::string eni_b = idOf(enis.aws_json, "NetworkInterface", "NetworkInterfaceId");
  ASSERT_FALSE(eni_a.empty());
  ASSERT_FALSE(eni_b.empty());
  // Session sources: an interface cannot be both a source and a target.
  const std::vector<std::string> source_eni = {"create-network-interface", "--subnet-id",
                                               "subnet-0a1b2c3d", "--description", "source"};
  auto sources = both(source_eni, source_eni);
  expectSameShape(sources.ours_json, sources.aws_json,
                  {"NetworkInterfaceId", "MacAddress", "ClientToken"});
  const std::string src_a = idOf(sources.ours_json, "NetworkInterface", "NetworkInterfaceId");
  const std::string src_b = idOf(sources.aws_json, "NetworkInterface", "NetworkInterfaceId");
  ASSERT_FALSE(src_a.empty());
  ASSERT_FALSE(src_b.empty());
  same({"describe-network-interfaces", "--network-interface-ids", eni_a, eni_b, src_a, src_b});
  EXPECT_EQ(same({"describe-network-interfaces", "--filters",
                  "Name=description,Values=eni test"})["NetworkInterfaces"]
                .size(),
            2u);

  // Targets.
  const std::string target_tags = "ResourceType=traffic-mirror-target,Tags=[{Key=Name,Value=t}]";
  auto targets = both({"create-traffic-mirror-target", "--network-interface-id", eni_a,
                       "--description", "collector", "--tag-specifications", target_tags},
                      {"create-traffic-mirror-target", "--network-interface-id", eni_b,
                       "--description", "collector", "--tag-specifications", target_tags});
  expectSameShape(targets.ours_json, targets.aws_json,
                  {"TrafficMirrorTargetId", "NetworkInterfaceId", "ClientToken"});
  const std::string tmt_a = idOf(targets.ours_json, "TrafficMirrorTarget", "TrafficMirrorTargetId");
  const std::string tmt_b = idOf(targets.aws_json, "TrafficMirrorTarget", "TrafficMirrorTargetId");
  ASSERT_FALSE(tmt_a.empty());
  ASSERT_FALSE(tmt_b.empty());
  const std::string nlb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/";
  auto nlbs = both(
      {"create-traffic-mirror-target", "--network-load-balancer-arn", nlb + "a/1",
       "--tag-specifications",
       R"([{"ResourceType": "traffic-mirror-target", "Tags": [{"Key": "Name", "Value": "nlb"}]}])"},
      {"create-traffic-mirror-target", "--network-load-balancer-arn", nlb + "b/2",
       "--tag-specifications", "ResourceType=traffic-mirror-target,Tags=[{Key=Name,Value=nlb}]"});
  expectSameShape(nlbs.ours_json, nlbs.aws_json,
                  {"TrafficMirrorTargetId", "NetworkLoadBalancerArn", "ClientToken"});
  EXPECT_EQ(same({"describe-traffic-mirror-targets"})["TrafficMirrorTargets"].size(), 4u);

  // Filters, network services, rules.
  const std::string filter_tags =
      "ResourceType=traffic-mirror-filter,Tags=[{Key=Name,Value=web},{Key=team,Value=net}]";
  const std::vector<std::string> filter = {"create-traffic-mirror-filter", "--description",
                                           "web only", "--tag-specifications", filter_tags};
  auto filters = both(filter, filter);
  expectSameShape(filters.ours_json, filters.aws_json, {"TrafficMirrorFilterId", "ClientToken"});
  const std::string tmf_a = idOf(filters.ours_json, "TrafficMirrorFilter", "TrafficMirrorFilterId");
  const std::string tmf_b = idOf(filters.aws_json, "TrafficMirrorFilter", "TrafficMirrorFilterId");
  ASSERT_FALSE(tmf_a.empty());
  ASSERT_FALSE(tmf_b.empty());
  auto dns = both({"modify-traffic-mirror-filter-network-services", "--traffic-mirror-filter-id",
                   tmf_a, "--add-network-services", "amazon-dns"},
                  {"modify-traffic-mirror-filter-network-services", "--traffic-mirror-filter-id",
                   tmf_b, "--add-network-services", "amazon-dns"});
  expectSameShape(dns.ours_json, dns.aws_json, {"TrafficMirrorFilterId"});

  auto ruleArgs = [](const std::string& filter_id, const std::string& source_ports) {
    return std::vector<std::string>{"create-traffic-mirror-filter-rule",
                                    "--traffic-mirror-filter-id",
                                    filter_id,
                                    "--traffic-direction",
                                    "ingress",
                                    "--rule-number",
                                    "100",
                                    "--rule-action",
                                    "accept",
                                    "--protocol",
                                    "6",
                                    "--destination-port-range",
                                    "FromPort=80,ToPort=80",
                                    "--source-port-range",
                                    source_ports,
                                    "--destination-cidr-block",
                                    "10.0.0.0/16",
                                    "--source-cidr-block",
                                    "0.0.0.0/0",
                                    "--description",
                                    "web"};
  };
  auto rules = both(ruleArgs(tmf_a, R"({"FromPort": 1024, "ToPort": 65535})"),
                    ruleArgs(tmf_b, "FromPort=1024,ToPort=65535"));
  const std::set<std::string> rule_ids = {"TrafficMirrorFilterRuleId", "TrafficMirrorFilterId",
                                          "ClientToken"};
  expectSameShape(rules.ours_json, rules.aws_json, rule_ids);
  const std::string tmfr_a =
      idOf(rules.ours_json, "TrafficMirrorFilterRule", "TrafficMirrorFilterRuleId");
  const std::string tmfr_b =
      idOf(rules.aws_json, "TrafficMirrorFilterRule", "TrafficMirrorFilterRuleId");
  ASSERT_FALSE(tmfr_a.empty());
  ASSERT_FALSE(tmfr_b.empty());
  auto egress = [](const std::string& filter_id) {
    return std::vector<std::string>{"create-traffic-mirror-filter-rule",
                                    "--traffic-mirror-filter-id",
                                    filter_id,
                                    "--traffic-direction",
                                    "egress",
                                    "--rule-number",
                                    "200",
                                    "--rule-action",
                                    "reject",
                                    "--destination-cidr-block",
                                    "::/0",
                                    "--source-cidr-block",
                                    "::/0"};
  };
  auto egress_rules = both(egress(tmf_a), egress(tmf_b));
  expectSameShape(egress_rules.ours_json, egress_rules.aws_json, rule_ids);
  auto modified_rules =
      both({"modify-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id", tmfr_a,
            "--rule-action", "reject", "--remove-fields", "description", "source-port-range"},
           {"modify-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id", tmfr_b,
            "--rule-action", "reject", "--remove-fields", "description", "source-port-range"});
  expectSameShape(modified_rules.ours_json, modified_rules.aws_json, rule_ids);
  const Json described_filters =
      same({"describe-traffic-mirror-filters", "--traffic-mirror-filter-ids", tmf_a, tmf_b});
  ASSERT_EQ(described_filters["TrafficMirrorFilters"].size(), 2u);

  // DescribeTrafficMirrorFilterRules is newer than aws-cli 2.9.19: check it against the rules
  // describe-traffic-mirror-filters printed.
  const auto rule_run =
      ours({"describe-traffic-mirror-filter-rules", "--traffic-mirror-filter-id", tmf_a});
  ASSERT_EQ(rule_run.exit_code, 0) << testing::describe(rule_run);
  Json listed = jsonOf(rule_run)["TrafficMirrorFilterRules"];
  Json expected = Json::array();
  for (const auto& f : described_filters["TrafficMirrorFilters"]) {
    if (f["TrafficMirrorFilterId"] == tmf_a) {
      for (const char* set : {"IngressFilterRules", "EgressFilterRules"}) {
        for (const auto& r : f[set]) {
          expected.push_back(r);
        }
      }
    }
  }
  auto byId = [](const Json& a, const Json& b) {
    return a["TrafficMirrorFilterRuleId"] < b["TrafficMirrorFilterRuleId"];
  };
  std::sort(listed.begin(), listed.end(), byId);
  std::sort(expected.begin(), expected.end(), byId);
  EXPECT_EQ(listed, expected);

  // Sessions.
  auto session = [](const std::string& source, const std::string& target,
                    const std::string& filter_id, const std::string& vni) {
    return std::vector<std::string>{
        "create-traffic-mirror-session",
        "--network-interface-id",
        source,
        "--traffic-mirror-target-id",
        target,
        "--traffic-mirror-filter-id",
        filter_id,
        "--session-number",
        "1",
        "--packet-length",
        "100",
        "--virtual-network-id",
        vni,
        "--description",
        "s",
        "--tag-specifications",
        "ResourceType=traffic-mirror-session,Tags=[{Key=Name,Value=s}]"};
  };
  auto sessions = both(session(src_a, tmt_a, tmf_a, "4242"), session(src_b, tmt_b, tmf_b, "4243"));
  const std::set<std::string> session_ids = {"TrafficMirrorSessionId", "TrafficMirrorTargetId",
                                             "TrafficMirrorFilterId",  "NetworkInterfaceId",
                                             "VirtualNetworkId",       "ClientToken"};
  expectSameShape(sessions.ours_json, sessions.aws_json, session_ids);
  const std::string tms_a =
      idOf(sessions.ours_json, "TrafficMirrorSession", "TrafficMirrorSessionId");
  const std::string tms_b =
      idOf(sessions.aws_json, "TrafficMirrorSession", "TrafficMirrorSessionId");
  ASSERT_FALSE(tms_a.empty());
  ASSERT_FALSE(tms_b.empty());
  EXPECT_EQ(same({"describe-traffic-mirror-sessions", "--filters", "Name=session-number,Values=1",
                  "Name=description,Values=s"})["TrafficMirrorSessions"]
                .size(),
            2u);
  auto modified =
      both({"modify-traffic-mirror-session", "--traffic-mirror-session-id", tms_a,
            "--session-number", "2", "--remove-fields", "packet-length", "description"},
           {"modify-traffic-mirror-session", "--traffic-mirror-session-id", tms_b,
            "--session-number", "2", "--remove-fields", "packet-length", "description"});
  expectSameShape(modified.ours_json, modified.aws_json, session_ids);
  same({"describe-traffic-mirror-sessions", "--traffic-mirror-session-ids", tms_a, tms_b});

  // Tags.
  auto created_tags = both({"create-tags", "--resources", tms_a, tmt_a, "--tags",
                            "Key=env,Value=dev", "Key=owner,Value=ours"},
                           {"create-tags", "--resources", tms_b, tmt_b, "--tags",
                            "Key=env,Value=dev", "Key=owner,Value=aws"});
  EXPECT_EQ(created_tags.ours.out, "");
  EXPECT_EQ(created_tags.aws.out, "");
  EXPECT_EQ(same({"describe-tags", "--filters", "Name=key,Values=env,owner"})["Tags"].size(), 8u);
  auto deleted_tags = both({"delete-tags", "--resources", tms_a, "--tags", "Key=owner"},
                           {"delete-tags", "--resources", tms_b, "--tags", "Key=owner"});
  EXPECT_EQ(deleted_tags.ours.out, "");
  same({"describe-tags", "--filters", "Name=resource-id,Values=" + tms_a + "," + tms_b});

  // Errors print the same line and exit 254.
  sameFailure({"delete-traffic-mirror-session", "--traffic-mirror-session-id", tms_a, "--dry-run"},
              254);
  sameFailure(
      {"describe-traffic-mirror-sessions", "--traffic-mirror-session-ids", "tms-0fedcba9876543210"},
      254);

  // Deletes, then everything is gone for both.
  auto deleted = both({"delete-traffic-mirror-session", "--traffic-mirror-session-id", tms_a},
                      {"delete-traffic-mirror-session", "--traffic-mirror-session-id", tms_b});
  EXPECT_EQ(deleted.ours_json, Json::parse(R"({"TrafficMirrorSessionId": ")" + tms_a + "\"}"));
  EXPECT_EQ(deleted.aws_json, Json::parse(R"({"TrafficMirrorSessionId": ")" + tms_b + "\"}"));
  auto deleted_rules =
      both({"delete-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id", tmfr_a},
           {"delete-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id", tmfr_b});
  expectSameShape(deleted_rules.ours_json, deleted_rules.aws_json, rule_ids);
  auto deleted_filters =
      both({"delete-traffic-mirror-filter", "--traffic-mirror-filter-id", tmf_a},
           {"delete-traffic-mirror-filter", "--traffic-mirror-filter-id", tmf_b});
  expectSameShape(deleted_filters.ours_json, deleted_filters.aws_json, {"TrafficMirrorFilterId"});
  const std::string nlb_a = idOf(nlbs.ours_json, "TrafficMirrorTarget", "TrafficMirrorTargetId");
  const std::string nlb_b = idOf(nlbs.aws_json, "TrafficMirrorTarget", "TrafficMirrorTargetId");
  for (const auto& [a, b] : {std::pair{tmt_a, tmt_b}, std::pair{nlb_a, nlb_b}}) {
    auto deleted_targets = both({"delete-traffic-mirror-target", "--traffic-mirror-target-id", a},
                                {"delete-traffic-mirror-target", "--traffic-mirror-target-id", b});
    EXPECT_EQ(deleted_targets.ours_json, Json::parse(R"({"TrafficMirrorTargetId": ")" + a + "\"}"));
    EXPECT_EQ(deleted_targets.aws_json, Json::parse(R"({"TrafficMirrorTargetId": ")" + b + "\"}"));
  }
  for (const auto& [a, b] : {std::pair{eni_a, eni_b}, std::pair{src_a, src_b}}) {
    auto deleted_enis = both({"delete-network-interface", "--network-interface-id", a},
                             {"delete-network-interface", "--network-interface-id", b});
    EXPECT_EQ(deleted_enis.ours.out, "");
    EXPECT_EQ(deleted_enis.aws.out, "");
  }
  EXPECT_EQ(same({"describe-traffic-mirror-sessions"}),
            Json::parse(R"({"TrafficMirrorSessions": []})"));
  EXPECT_EQ(same({"describe-traffic-mirror-filters"}),
            Json::parse(R"({"TrafficMirrorFilters": []})"));
  EXPECT_EQ(same({"describe-traffic-mirror-targets"}),
            Json::parse(R"({"TrafficMirrorTargets": []})"));
  EXPECT_EQ(same({"describe-network-interfaces"}), Json::parse(R"({"NetworkInterfaces": []})"));
}

TEST_F(ApiVerbVersusAwsCli, PaginationMergesPagesLikeAws) {
  for (int i = 0; i < 7; ++i) {
    const auto run =
        ours({"create-traffic-mirror-filter", "--description", "f" + std::to_string(i),
              "--tag-specifications",
              "ResourceType=traffic-mirror-filter,Tags=[{Key=n,Value=" + std::to_string(i) + "}]"});
    ASSERT_EQ(run.exit_code, 0) << testing::describe(run);
  }
  EXPECT_EQ(same({"describe-traffic-mirror-filters"})["TrafficMirrorFilters"].size(), 7u);
  EXPECT_EQ(
      same({"describe-traffic-mirror-filters", "--page-size", "5"})["TrafficMirrorFilters"].size(),
      7u);
  // It took two requests, and the merged output has no NextToken.
  const auto debug = ours({"describe-traffic-mirror-filters", "--page-size", "5", "--debug"});
  std::size_t posts = 0;
  for (auto at = debug.err.find("tmirror: POST"); at != std::string::npos;
       at = debug.err.find("tmirror: POST", at + 1)) {
    ++posts;
  }
  EXPECT_EQ(posts, 2u) << debug.err;
  EXPECT_EQ(debug.out.find("NextToken"), std::string::npos);

  // --max-results turns pagination off: one page and its NextToken, as aws prints them.
  const Json first = same({"describe-traffic-mirror-filters", "--max-results", "5"});
  ASSERT_EQ(first["TrafficMirrorFilters"].size(), 5u);
  ASSERT_TRUE(first.contains("NextToken"));
  const Json second = same({"describe-traffic-mirror-filters", "--max-results", "5", "--next-token",
                            first["NextToken"].get<std::string>()});
  EXPECT_EQ(second["TrafficMirrorFilters"].size(), 2u);
  EXPECT_FALSE(second.contains("NextToken"));
  same({"describe-traffic-mirror-filters", "--no-paginate"});
  EXPECT_EQ(same({"describe-tags", "--page-size", "5"})["Tags"].size(), 7u);
  same({"describe-tags", "--max-results", "5"});
}

TEST_F(ApiVerbVersusAwsCli, UsageAndServiceErrorsMatchAws) {
  // The last line of a usage error is the same, but for the program's name.
  auto lastLine = [](std::string text, std::string_view program) {
    while (!text.empty() && text.back() == '\n') {
      text.pop_back();
    }
    text = text.substr(text.rfind('\n') + 1);
    const std::string prefix = std::string(program) + ": ";
    return text.starts_with(prefix) ? text.substr(prefix.size()) : text;
  };
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"create-traffic-mirror-session", "--session-number", "1"},
           {"delete-traffic-mirror-session", "--traffic-mirror-session-id", "tms-1", "--bogus",
            "1"},
           {"delete-traffic-mirror-session", "--traffic-mirror-session-id"}}) {
    const auto o = ours(args);
    const auto a = aws(args);
    EXPECT_EQ(o.exit_code, 252) << testing::describe(o);
    EXPECT_EQ(a.exit_code, 252) << testing::describe(a);
    EXPECT_EQ(lastLine(o.err, "tmirror"), lastLine(a.err, "aws"));
  }
  // Parameter errors: identical text.
  sameFailure({"describe-traffic-mirror-sessions", "--filters", "Name=a,Values=b", "c"}, 252);
  sameFailure({"create-traffic-mirror-filter", "--tag-specifications",
               "ResourceType=x,Tags=[{Key=a,Value=b}"},
              252);
  sameFailure({"describe-traffic-mirror-sessions", "--max-results", "1", "--filters",
               "Name=a,Values=b,Foo=c"},
              252);
  sameFailure({"describe-traffic-mirror-sessions", "--filters", R"({"Name": 1})"}, 252);
  sameFailure({"create-traffic-mirror-filter-rule", "--traffic-mirror-filter-id", "tmf-1",
               "--traffic-direction", "ingress", "--rule-number", "one", "--rule-action", "accept",
               "--source-cidr-block", "0.0.0.0/0", "--destination-cidr-block", "0.0.0.0/0"},
              255);
  const auto bad_json_ours = ours({"create-traffic-mirror-filter", "--tag-specifications", "[{"});
  const auto bad_json_aws = aws({"create-traffic-mirror-filter", "--tag-specifications", "[{"});
  EXPECT_EQ(bad_json_ours.exit_code, 252);
  EXPECT_EQ(bad_json_aws.exit_code, 252);
  EXPECT_THAT(bad_json_ours.err,
              HasSubstr("Error parsing parameter '--tag-specifications': Invalid JSON: "));
  EXPECT_THAT(bad_json_aws.err,
              HasSubstr("Error parsing parameter '--tag-specifications': Invalid JSON: "));

  // Service errors: identical text, exit 254.
  sameFailure({"create-traffic-mirror-filter", "--description", "d", "--dry-run"}, 254);
  sameFailure(
      {"delete-traffic-mirror-target", "--traffic-mirror-target-id", "tmt-0fedcba9876543210"}, 254);
  sameFailure({"create-traffic-mirror-session", "--network-interface-id", "eni-0fedcba9876543210",
               "--traffic-mirror-target-id", "tmt-0fedcba9876543210", "--traffic-mirror-filter-id",
               "tmf-0fedcba9876543210", "--session-number", "40000"},
              254);
}

TEST_F(ApiVerbVersusAwsCli, UnreachableEndpointAndMissingCredentialsMatchAws) {
  // Port 1 on loopback: nothing listens there. Both retry, then give up with one message.
  const std::vector<std::string> args = {"describe-traffic-mirror-targets", "--endpoint-url",
                                         "http://127.0.0.1:1"};
  const auto o = runProgram({testing::tmirrorBinary().string(), args[0], args[1], args[2]});
  const auto a = runProgram({kAwsCli, "ec2", args[0], args[1], args[2]});
  EXPECT_EQ(o.exit_code, 255) << testing::describe(o);
  EXPECT_EQ(a.exit_code, 255) << testing::describe(a);
  EXPECT_EQ(o.err, a.err);

  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  const auto no_keys_ours = ours({"describe-traffic-mirror-targets"});
  const auto no_keys_aws = aws({"describe-traffic-mirror-targets"});
  EXPECT_EQ(no_keys_ours.exit_code, 253) << testing::describe(no_keys_ours);
  EXPECT_EQ(no_keys_aws.exit_code, 253) << testing::describe(no_keys_aws);
  EXPECT_THAT(no_keys_ours.err, HasSubstr("Unable to locate credentials."));

  // The same keys from a shared credentials file.
  const auto credentials = dir_ / "credentials";
  {
    std::ofstream out(credentials);
    out << "[lab]\naws_access_key_id = " << server_.accessKeyId()
        << "\naws_secret_access_key = " << server_.secret() << "\n";
  }
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", credentials.c_str(), 1);
  same({"describe-traffic-mirror-targets", "--profile", "lab"});
  // Unsigned requests are refused by a sigv4 server, with the same message.
  sameFailure({"describe-traffic-mirror-targets", "--no-sign-request"}, 254);
}

TEST_F(ApiVerbVersusAwsCli, ClientTokenMakesCreatesIdempotent) {
  const std::vector<std::string> args = {"create-traffic-mirror-filter", "--description", "once",
                                         "--client-token", "token-1"};
  const auto first = ours(args);
  const auto again = aws(args);
  ASSERT_EQ(first.exit_code, 0) << testing::describe(first);
  ASSERT_EQ(again.exit_code, 0) << testing::describe(again);
  EXPECT_EQ(jsonOf(first), jsonOf(again));
  EXPECT_EQ(jsonOf(first)["ClientToken"], "token-1");

  // Without --client-token each call gets a fresh UUID, so two calls make two filters.
  const auto one = ours({"create-traffic-mirror-filter"});
  const auto two = ours({"create-traffic-mirror-filter"});
  EXPECT_NE(jsonOf(one)["TrafficMirrorFilter"]["TrafficMirrorFilterId"],
            jsonOf(two)["TrafficMirrorFilter"]["TrafficMirrorFilterId"]);
  EXPECT_TRUE(isUuid4(jsonOf(one)["ClientToken"].get<std::string>())) << one.out;
}

}  // namespace
}  // namespace tmirror::cli
