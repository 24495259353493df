#include "model/mirror_config_json.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tmirror::model {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kSession = "NetworkInterfaces[0].TrafficMirrorSessions[0]";
constexpr const char* kTarget = "NetworkInterfaces[0].TrafficMirrorSessions[0].TrafficMirrorTarget";
constexpr const char* kFilter = "NetworkInterfaces[0].TrafficMirrorSessions[0].TrafficMirrorFilter";
constexpr const char* kRule =
    "NetworkInterfaces[0].TrafficMirrorSessions[0].TrafficMirrorFilter.IngressFilterRules[0]";

// Every field of the format appears at least once.
json fullDocument() {
  return json::parse(R"({
    "Revision": 7,
    "DnsResolvers": ["198.51.100.53", "2001:db8::53"],
    "ControlEndpoints": [{"Address": "127.0.0.1", "Port": 8900}],
    "NetworkInterfaces": [
      {
        "NetworkInterfaceId": "eni-0123456789abcdef0",
        "InterfaceName": "eth0",
        "MacAddress": "02:00:00:00:00:01",
        "PrivateIpAddress": "198.51.100.10",
        "Ipv6Address": "2001:db8::10",
        "Mtu": 9001,
        "TrafficMirrorSessions": [
          {
            "TrafficMirrorSessionId": "tms-0123456789abcdef1",
            "SessionNumber": 1,
            "VirtualNetworkId": 42,
            "PacketLength": 128,
            "Description": "ssh from the office",
            "Tags": [{"Key": "Name", "Value": "s1"}, {"Key": "bare"}],
            "NetworkInterfaceId": "eni-0123456789abcdef0",
            "TrafficMirrorTarget": {
              "TrafficMirrorTargetId": "tmt-0123456789abcdef2",
              "Type": "network-interface",
              "Addresses": ["198.51.100.2"],
              "Port": 4790,
              "Mtu": 9001,
              "Description": "sensor",
              "Tags": []
            },
            "TrafficMirrorFilter": {
              "TrafficMirrorFilterId": "tmf-0123456789abcdef3",
              "Description": "ssh",
              "Tags": [{"Key": "env", "Value": "dev"}],
              "IngressFilterRules": [
                {
                  "TrafficMirrorFilterRuleId": "tmfr-0123456789abcdef4",
                  "TrafficMirrorFilterId": "tmf-0123456789abcdef3",
                  "TrafficDirection": "ingress",
                  "RuleNumber": 100,
                  "RuleAction": "accept",
                  "Protocol": 6,
                  "SourceCidrBlock": "0.0.0.0/0",
                  "DestinationCidrBlock": "10.0.0.0/16",
                  "SourcePortRange": {"FromPort": 1024, "ToPort": 65535},
                  "DestinationPortRange": {"FromPort": 22, "ToPort": 22},
                  "Description": "ssh",
                  "Tags": [{"Key": "k", "Value": "v"}]
                },
                {
                  "RuleNumber": 10,
                  "RuleAction": "reject",
                  "SourceCidrBlock": "2001:db8::/32",
                  "DestinationCidrBlock": "::/0"
                }
              ],
              "EgressFilterRules": [
                {
                  "TrafficDirection": "egress",
                  "RuleNumber": 100,
                  "RuleAction": "accept",
                  "Protocol": 17,
                  "SourceCidrBlock": "10.0.0.0/16",
                  "DestinationCidrBlock": "0.0.0.0/0",
                  "SourcePortRange": {"FromPort": 0, "ToPort": 0}
                }
              ]
            }
          },
          {
            "TrafficMirrorSessionId": "tms-0123456789abcdef5",
            "SessionNumber": 2,
            "VirtualNetworkId": 0,
            "TrafficMirrorTarget": {
              "TrafficMirrorTargetId": "tmt-0123456789abcdef6",
              "Type": "network-load-balancer",
              "Addresses": ["198.51.100.3", "198.51.100.4"]
            },
            "TrafficMirrorFilter": {
              "TrafficMirrorFilterId": "tmf-0123456789abcdef7",
              "NetworkServices": ["amazon-dns"]
            }
          }
        ]
      },
      {"NetworkInterfaceId": "eni-0123456789abcdef8"}
    ]
  })");
}

json& session0(json& document) {
  return document["NetworkInterfaces"][0]["TrafficMirrorSessions"][0];
}

json& target0(json& document) {
  return session0(document)["TrafficMirrorTarget"];
}

json& filter0(json& document) {
  return session0(document)["TrafficMirrorFilter"];
}

json& ingressRule0(json& document) {
  return filter0(document)["IngressFilterRules"][0];
}

// The message of the InvalidArgument error that parsing `text` must give.
std::string textParseError(const std::string& text) {
  auto result = parseHostMirrorConfig(text);
  if (result) {
    ADD_FAILURE() << "parsed without error:\n" << text;
    return "";
  }
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
  return result.error().message;
}

std::string parseError(const json& document) {
  return textParseError(document.dump());
}

// A document with one change applied to the full one.
json fullDocumentWith(const std::function<void(json&)>& change) {
  json document = fullDocument();
  change(document);
  return document;
}

std::string exampleText(std::string_view rules) {
  return R"({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "PrivateIpAddress": "10.0.0.5",
    "TrafficMirrorSessions": [{"TrafficMirrorSessionId": "tms-1", "SessionNumber": 1,
      "VirtualNetworkId": 1, "TrafficMirrorTarget": {"TrafficMirrorTargetId": "tmt-1",
        "Type": "network-interface", "Addresses": ["10.0.0.9"]},
      "TrafficMirrorFilter": {"TrafficMirrorFilterId": "tmf-1", "IngressFilterRules": )" +
         std::string(rules) + "}}]}]}";
}

// --- Valid documents ---------------------------------------------------------------------

TEST(MirrorConfigJson, ParsesEveryFieldOfFullDocument) {
  auto config = parseHostMirrorConfig(fullDocument().dump());
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->revision, 7u);
  ASSERT_EQ(config->dns_resolvers.size(), 2u);
  EXPECT_EQ(config->dns_resolvers[1], *packet::parseIpAddress("2001:db8::53"));
  ASSERT_EQ(config->control_endpoints.size(), 1u);
  EXPECT_EQ(config->control_endpoints[0].port, 8900);
  ASSERT_EQ(config->interfaces.size(), 2u);

  const InterfaceMirrorConfig& eni = config->interfaces[0];
  EXPECT_EQ(eni.interface.id, "eni-0123456789abcdef0");
  EXPECT_EQ(eni.interface.name, "eth0");
  EXPECT_EQ(eni.interface.mac, packet::parseMacAddress("02:00:00:00:00:01"));
  EXPECT_EQ(eni.interface.ipv4, packet::parseIpAddress("198.51.100.10"));
  EXPECT_EQ(eni.interface.ipv6, packet::parseIpAddress("2001:db8::10"));
  EXPECT_EQ(eni.interface.mtu, 9001u);
  ASSERT_EQ(eni.sessions.size(), 2u);

  const Session& first = eni.sessions[0];
  EXPECT_EQ(first.id, "tms-0123456789abcdef1");
  EXPECT_EQ(first.session_number, 1u);
  EXPECT_EQ(first.virtual_network_id, 42u);
  EXPECT_EQ(first.packet_length, 128u);
  EXPECT_EQ(first.description, "ssh from the office");
  EXPECT_EQ(first.target.id, "tmt-0123456789abcdef2");
  EXPECT_EQ(first.target.type, TargetType::NetworkInterface);
  EXPECT_EQ(first.target.port, 4790);
  EXPECT_EQ(first.target.mtu, 9001u);
  EXPECT_EQ(first.target.description, "sensor");
  EXPECT_EQ(first.filter.id, "tmf-0123456789abcdef3");
  EXPECT_FALSE(first.filter.amazon_dns);

  ASSERT_EQ(first.filter.ingress_rules.size(), 2u);
  const FilterRule& ssh = first.filter.ingress_rules[0];
  EXPECT_EQ(ssh.id, "tmfr-0123456789abcdef4");
  EXPECT_EQ(ssh.direction, TrafficDirection::Ingress);
  EXPECT_EQ(ssh.rule_number, 100u);
  EXPECT_EQ(ssh.action, RuleAction::Accept);
  EXPECT_EQ(ssh.protocol, 6);
  EXPECT_EQ(ssh.source_cidr, *packet::parseCidr("0.0.0.0/0"));
  EXPECT_EQ(ssh.destination_cidr, *packet::parseCidr("10.0.0.0/16"));
  EXPECT_EQ(ssh.source_port_range, (PortRange{1024, 65535}));
  EXPECT_EQ(ssh.destination_port_range, (PortRange{22, 22}));
  EXPECT_EQ(ssh.description, "ssh");
  EXPECT_FALSE(first.filter.ingress_rules[1].protocol);
  ASSERT_EQ(first.filter.egress_rules.size(), 1u);
  EXPECT_EQ(first.filter.egress_rules[0].direction, TrafficDirection::Egress);

  const Session& second = eni.sessions[1];
  EXPECT_EQ(second.virtual_network_id, 0u);
  EXPECT_FALSE(second.packet_length);
  EXPECT_EQ(second.target.type, TargetType::NetworkLoadBalancer);
  EXPECT_EQ(second.target.addresses.size(), 2u);
  EXPECT_TRUE(second.filter.amazon_dns);
  EXPECT_TRUE(config->interfaces[1].sessions.empty());
}

TEST(MirrorConfigJson, FullDocumentRoundTripsThroughWriter) {
  auto config = parseHostMirrorConfig(fullDocument().dump());
  ASSERT_TRUE(config) << config.error().message;
  const std::string written = hostMirrorConfigToJson(*config);
  auto reread = parseHostMirrorConfig(written);
  ASSERT_TRUE(reread) << reread.error().message << "\n" << written;
  EXPECT_EQ(hostMirrorConfigToJson(*reread), written);
  EXPECT_EQ(reread->interfaces[0].sessions[0].filter.ingress_rules[0].source_port_range,
            (PortRange{1024, 65535}));
  EXPECT_EQ(reread->interfaces[0].sessions[0].target.addresses,
            config->interfaces[0].sessions[0].target.addresses);
}

TEST(MirrorConfigJson, WriterUsesEc2FieldNamesAndIndents) {
  auto config = parseHostMirrorConfig(fullDocument().dump());
  ASSERT_TRUE(config) << config.error().message;
  const std::string written = hostMirrorConfigToJson(*config);
  EXPECT_THAT(written, HasSubstr("\n  \"NetworkInterfaces\": ["));
  EXPECT_THAT(written, HasSubstr("\"SourceCidrBlock\": \"0.0.0.0/0\""));
  EXPECT_THAT(written, HasSubstr("\"NetworkServices\": [\n"));
  EXPECT_THAT(written, HasSubstr("\"PacketLength\": 128"));
}

TEST(MirrorConfigJson, AppliesDefaultsForOptionalFields) {
  auto config = parseHostMirrorConfig(exampleText("[]"));
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->revision, 0u);
  EXPECT_TRUE(config->dns_resolvers.empty());
  const InterfaceMirrorConfig& eni = config->interfaces[0];
  EXPECT_EQ(eni.interface.mtu, 1500u);
  EXPECT_FALSE(eni.interface.mac);
  const Session& session = eni.sessions[0];
  EXPECT_FALSE(session.packet_length);
  EXPECT_EQ(session.target.port, 4789);
  EXPECT_EQ(session.target.mtu, 1500u);
  EXPECT_TRUE(session.filter.egress_rules.empty());
  EXPECT_FALSE(session.filter.amazon_dns);
}

TEST(MirrorConfigJson, AcceptsEmptyInterfaceList) {
  auto config = parseHostMirrorConfig(R"({"NetworkInterfaces": []})");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->interfaces.empty());
}

// Traffic Mirroring guide, filter example 1: all inbound TCP except SSH from my network.
TEST(MirrorConfigJson, ParsesGuideExampleAllTcpExceptSshFromMyNetwork) {
  auto config = parseHostMirrorConfig(exampleText(R"([
      {"RuleNumber": 10, "RuleAction": "reject", "Protocol": 6,
       "DestinationPortRange": {"FromPort": 22, "ToPort": 22},
       "SourceCidrBlock": "203.0.113.0/24", "DestinationCidrBlock": "10.0.0.0/16"},
      {"RuleNumber": 20, "RuleAction": "accept", "Protocol": 6,
       "SourceCidrBlock": "0.0.0.0/0", "DestinationCidrBlock": "0.0.0.0/0"}])"));
  ASSERT_TRUE(config) << config.error().message;
  const auto& rules = config->interfaces[0].sessions[0].filter.ingress_rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].action, RuleAction::Reject);
  EXPECT_EQ(rules[0].destination_port_range, (PortRange{22, 22}));
  EXPECT_EQ(rules[0].source_cidr, *packet::parseCidr("203.0.113.0/24"));
  EXPECT_EQ(rules[1].action, RuleAction::Accept);
  EXPECT_FALSE(rules[1].destination_port_range);
}

// Traffic Mirroring guide, filter example 2: inbound HTTPS over IPv4 and IPv6.
TEST(MirrorConfigJson, ParsesGuideExampleHttpsOverIpv4AndIpv6) {
  auto config = parseHostMirrorConfig(exampleText(R"([
      {"RuleNumber": 10, "RuleAction": "accept", "Protocol": 6,
       "DestinationPortRange": {"FromPort": 443, "ToPort": 443},
       "SourceCidrBlock": "0.0.0.0/0", "DestinationCidrBlock": "0.0.0.0/0"},
      {"RuleNumber": 20, "RuleAction": "accept", "Protocol": 6,
       "DestinationPortRange": {"FromPort": 443, "ToPort": 443},
       "SourceCidrBlock": "::/0", "DestinationCidrBlock": "::/0"}])"));
  ASSERT_TRUE(config) << config.error().message;
  const auto& rules = config->interfaces[0].sessions[0].filter.ingress_rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].source_cidr.family(), packet::IpFamily::V4);
  EXPECT_EQ(rules[1].source_cidr.family(), packet::IpFamily::V6);
  EXPECT_EQ(rules[1].destination_port_range, (PortRange{443, 443}));
}

TEST(MirrorConfigJson, KeepsRulesInDocumentOrder) {
  auto config = parseHostMirrorConfig(exampleText(R"([
      {"RuleNumber": 30, "RuleAction": "accept", "SourceCidrBlock": "0.0.0.0/0", "DestinationCidrBlock": "0.0.0.0/0"},
      {"RuleNumber": 10, "RuleAction": "accept", "SourceCidrBlock": "0.0.0.0/0", "DestinationCidrBlock": "0.0.0.0/0"},
      {"RuleNumber": 20, "RuleAction": "accept", "SourceCidrBlock": "0.0.0.0/0", "DestinationCidrBlock": "0.0.0.0/0"}])"));
  ASSERT_TRUE(config) << config.error().message;
  const auto& rules = config->interfaces[0].sessions[0].filter.ingress_rules;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].rule_number, 30u);
  EXPECT_EQ(rules[1].rule_number, 10u);
  EXPECT_EQ(rules[2].rule_number, 20u);
}

TEST(MirrorConfigJson, AcceptsSameRuleNumberInIngressAndEgress) {
  json document = fullDocument();
  filter0(document)["EgressFilterRules"][0]["RuleNumber"] = 100;  // ingress rule 0 is 100 too
  EXPECT_TRUE(parseHostMirrorConfig(document.dump()));
}

TEST(MirrorConfigJson, AcceptsSameSessionNumberOnDifferentInterfaces) {
  json document = fullDocument();
  document["NetworkInterfaces"][1] = document["NetworkInterfaces"][0];
  document["NetworkInterfaces"][1]["NetworkInterfaceId"] = "eni-1";
  document["NetworkInterfaces"][1]["TrafficMirrorSessions"][0].erase("NetworkInterfaceId");
  auto config = parseHostMirrorConfig(document.dump());
  EXPECT_TRUE(config) << config.error().message;
}

// --- Strict fields -----------------------------------------------------------------------

struct FieldCase {
  const char* name;
  std::function<void(json&)> change;
  std::string expected_message;
};

void PrintTo(const FieldCase& field_case, std::ostream* out) {
  *out << field_case.name;
}

class MirrorConfigJsonFieldTest : public ::testing::TestWithParam<FieldCase> {};

TEST_P(MirrorConfigJsonFieldTest, NamesThePathInTheError) {
  EXPECT_EQ(parseError(fullDocumentWith(GetParam().change)), GetParam().expected_message);
}

std::string at(std::string_view path, std::string_view problem) {
  return std::string(path) + ": " + std::string(problem);
}

INSTANTIATE_TEST_SUITE_P(
    RejectsUnknownFieldAtEachLevel, MirrorConfigJsonFieldTest,
    ::testing::Values(
        FieldCase{"Document", [](json& d) { d["Foo"] = 1; }, "Foo: unknown field"},
        FieldCase{"ControlEndpoint", [](json& d) { d["ControlEndpoints"][0]["Host"] = "x"; },
                  "ControlEndpoints[0].Host: unknown field"},
        FieldCase{"Interface", [](json& d) { d["NetworkInterfaces"][0]["Foo"] = 1; },
                  "NetworkInterfaces[0].Foo: unknown field"},
        FieldCase{"Session", [](json& d) { session0(d)["OwnerId"] = "1"; },
                  at(std::string(kSession) + ".OwnerId", "unknown field")},
        FieldCase{"Target", [](json& d) { target0(d)["NetworkLoadBalancerArn"] = "arn"; },
                  at(std::string(kTarget) + ".NetworkLoadBalancerArn", "unknown field")},
        FieldCase{"Filter", [](json& d) { filter0(d)["Rules"] = json::array(); },
                  at(std::string(kFilter) + ".Rules", "unknown field")},
        FieldCase{"Rule", [](json& d) { ingressRule0(d)["Action"] = "accept"; },
                  at(std::string(kRule) + ".Action", "unknown field")},
        FieldCase{"PortRange", [](json& d) { ingressRule0(d)["SourcePortRange"]["Port"] = 1; },
                  at(std::string(kRule) + ".SourcePortRange.Port", "unknown field")},
        FieldCase{"Tag", [](json& d) { session0(d)["Tags"][0]["ResourceType"] = "x"; },
                  at(std::string(kSession) + ".Tags[0].ResourceType", "unknown field")},
        FieldCase{"MisspeltRequiredFieldIsReportedAsUnknown",
                  [](json& d) {
                    session0(d).erase("SessionNumber");
                    session0(d)["SesionNumber"] = 1;
                  },
                  at(std::string(kSession) + ".SesionNumber", "unknown field")}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    RejectsMissingRequiredField, MirrorConfigJsonFieldTest,
    ::testing::Values(
        FieldCase{"NetworkInterfaces", [](json& d) { d.erase("NetworkInterfaces"); },
                  "NetworkInterfaces: missing required field"},
        FieldCase{"NetworkInterfaceId",
                  [](json& d) { d["NetworkInterfaces"][0].erase("NetworkInterfaceId"); },
                  "NetworkInterfaces[0].NetworkInterfaceId: missing required field"},
        FieldCase{"ControlEndpointPort", [](json& d) { d["ControlEndpoints"][0].erase("Port"); },
                  "ControlEndpoints[0].Port: missing required field"},
        FieldCase{"SessionId", [](json& d) { session0(d).erase("TrafficMirrorSessionId"); },
                  at(std::string(kSession) + ".TrafficMirrorSessionId", "missing required field")},
        FieldCase{"SessionNumber", [](json& d) { session0(d).erase("SessionNumber"); },
                  at(std::string(kSession) + ".SessionNumber", "missing required field")},
        FieldCase{"VirtualNetworkId", [](json& d) { session0(d).erase("VirtualNetworkId"); },
                  at(std::string(kSession) + ".VirtualNetworkId", "missing required field")},
        FieldCase{"Target", [](json& d) { session0(d).erase("TrafficMirrorTarget"); },
                  at(std::string(kSession) + ".TrafficMirrorTarget", "missing required field")},
        FieldCase{"Filter", [](json& d) { session0(d).erase("TrafficMirrorFilter"); },
                  at(std::string(kSession) + ".TrafficMirrorFilter", "missing required field")},
        FieldCase{"TargetType", [](json& d) { target0(d).erase("Type"); },
                  at(std::string(kTarget) + ".Type", "missing required field")},
        FieldCase{"TargetAddresses", [](json& d) { target0(d).erase("Addresses"); },
                  at(std::string(kTarget) + ".Addresses", "missing required field")},
        FieldCase{"FilterId", [](json& d) { filter0(d).erase("TrafficMirrorFilterId"); },
                  at(std::string(kFilter) + ".TrafficMirrorFilterId", "missing required field")},
        FieldCase{"RuleNumber", [](json& d) { ingressRule0(d).erase("RuleNumber"); },
                  at(std::string(kRule) + ".RuleNumber", "missing required field")},
        FieldCase{"RuleAction", [](json& d) { ingressRule0(d).erase("RuleAction"); },
                  at(std::string(kRule) + ".RuleAction", "missing required field")},
        FieldCase{"SourceCidrBlock", [](json& d) { ingressRule0(d).erase("SourceCidrBlock"); },
                  at(std::string(kRule) + ".SourceCidrBlock", "missing required field")},
        FieldCase{
            "ToPort", [](json& d) { ingressRule0(d)["DestinationPortRange"].erase("ToPort"); },
            at(std::string(kRule) + ".DestinationPortRange.ToPort", "missing required field")}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    RejectsOutOfRangeNumber, MirrorConfigJsonFieldTest,
    ::testing::Values(
        FieldCase{"SessionNumberAboveMax", [](json& d) { session0(d)["SessionNumber"] = 40000; },
                  "NetworkInterfaces[0].TrafficMirrorSessions[0].SessionNumber: 40000 is out of "
                  "range 1-32766"},
        FieldCase{"SessionNumberZero", [](json& d) { session0(d)["SessionNumber"] = 0; },
                  at(std::string(kSession) + ".SessionNumber", "0 is out of range 1-32766")},
        FieldCase{
            "VirtualNetworkIdAbove24Bits",
            [](json& d) { session0(d)["VirtualNetworkId"] = 16777216; },
            at(std::string(kSession) + ".VirtualNetworkId", "16777216 is out of range 0-16777215")},
        FieldCase{"PacketLengthZero", [](json& d) { session0(d)["PacketLength"] = 0; },
                  at(std::string(kSession) + ".PacketLength", "0 is out of range 1-8500")},
        FieldCase{"PacketLengthAboveMax", [](json& d) { session0(d)["PacketLength"] = 8501; },
                  at(std::string(kSession) + ".PacketLength", "8501 is out of range 1-8500")},
        FieldCase{"RuleNumberAboveMax", [](json& d) { ingressRule0(d)["RuleNumber"] = 32767; },
                  at(std::string(kRule) + ".RuleNumber", "32767 is out of range 1-32766")},
        FieldCase{"ProtocolAbove255", [](json& d) { ingressRule0(d)["Protocol"] = 256; },
                  at(std::string(kRule) + ".Protocol", "256 is out of range 0-255")},
        FieldCase{
            "PortAbove65535", [](json& d) { ingressRule0(d)["SourcePortRange"]["ToPort"] = 65536; },
            at(std::string(kRule) + ".SourcePortRange.ToPort", "65536 is out of range 0-65535")},
        FieldCase{"InterfaceMtuBelow68", [](json& d) { d["NetworkInterfaces"][0]["Mtu"] = 67; },
                  "NetworkInterfaces[0].Mtu: 67 is out of range 68-65535"},
        FieldCase{"TargetMtuAboveMax", [](json& d) { target0(d)["Mtu"] = 65536; },
                  at(std::string(kTarget) + ".Mtu", "65536 is out of range 68-65535")},
        FieldCase{"TargetPortZero", [](json& d) { target0(d)["Port"] = 0; },
                  at(std::string(kTarget) + ".Port", "0 is out of range 1-65535")},
        FieldCase{"ControlEndpointPortZero", [](json& d) { d["ControlEndpoints"][0]["Port"] = 0; },
                  "ControlEndpoints[0].Port: 0 is out of range 1-65535"},
        FieldCase{"NegativeVirtualNetworkId", [](json& d) { session0(d)["VirtualNetworkId"] = -1; },
                  at(std::string(kSession) + ".VirtualNetworkId", "-1 is out of range 0-16777215")},
        FieldCase{"NegativeRevision", [](json& d) { d["Revision"] = -7; },
                  "Revision: -7 is out of range 0-18446744073709551615"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    RejectsWrongType, MirrorConfigJsonFieldTest,
    ::testing::Values(
        FieldCase{"FloatForInteger", [](json& d) { session0(d)["VirtualNetworkId"] = 42.0; },
                  "NetworkInterfaces[0].TrafficMirrorSessions[0].VirtualNetworkId: expected an "
                  "integer"},
        FieldCase{"StringForInteger", [](json& d) { session0(d)["VirtualNetworkId"] = "42"; },
                  at(std::string(kSession) + ".VirtualNetworkId", "expected an integer")},
        FieldCase{"BoolForInteger", [](json& d) { ingressRule0(d)["Protocol"] = true; },
                  at(std::string(kRule) + ".Protocol", "expected an integer")},
        FieldCase{"ObjectForArray", [](json& d) { d["NetworkInterfaces"] = json::object(); },
                  "NetworkInterfaces: expected an array"},
        FieldCase{"ArrayForObject",
                  [](json& d) { session0(d)["TrafficMirrorTarget"] = json::array(); },
                  at(std::string(kTarget), "expected an object")},
        FieldCase{"NumberForString", [](json& d) { session0(d)["Description"] = 5; },
                  at(std::string(kSession) + ".Description", "expected a string")},
        FieldCase{"NullForString",
                  [](json& d) { d["NetworkInterfaces"][0]["InterfaceName"] = nullptr; },
                  "NetworkInterfaces[0].InterfaceName: expected a string"},
        FieldCase{"StringForTags", [](json& d) { filter0(d)["Tags"] = "env=dev"; },
                  at(std::string(kFilter) + ".Tags", "expected an array")},
        FieldCase{"UnknownRuleAction", [](json& d) { ingressRule0(d)["RuleAction"] = "drop"; },
                  at(std::string(kRule) + ".RuleAction",
                     "expected \"accept\" or \"reject\", got \"drop\"")},
        FieldCase{"UnknownTargetType",
                  [](json& d) { target0(d)["Type"] = "gateway-load-balancer-endpoint"; },
                  at(std::string(kTarget) + ".Type",
                     "expected \"network-interface\" or \"network-load-balancer\", got "
                     "\"gateway-load-balancer-endpoint\"")}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    RejectsBadIdPrefix, MirrorConfigJsonFieldTest,
    ::testing::Values(
        FieldCase{"Interface",
                  [](json& d) { d["NetworkInterfaces"][0]["NetworkInterfaceId"] = "i-0123"; },
                  "NetworkInterfaces[0].NetworkInterfaceId: expected an id starting with "
                  "\"eni-\", got \"i-0123\""},
        FieldCase{"Session", [](json& d) { session0(d)["TrafficMirrorSessionId"] = "tmt-1"; },
                  at(std::string(kSession) + ".TrafficMirrorSessionId",
                     "expected an id starting with \"tms-\", got \"tmt-1\"")},
        FieldCase{"Target", [](json& d) { target0(d)["TrafficMirrorTargetId"] = "tmt-"; },
                  at(std::string(kTarget) + ".TrafficMirrorTargetId",
                     "expected an id starting with \"tmt-\", got \"tmt-\"")},
        FieldCase{"Filter", [](json& d) { filter0(d)["TrafficMirrorFilterId"] = "tms-1"; },
                  at(std::string(kFilter) + ".TrafficMirrorFilterId",
                     "expected an id starting with \"tmf-\", got \"tms-1\"")},
        FieldCase{"Rule", [](json& d) { ingressRule0(d)["TrafficMirrorFilterRuleId"] = "tmf-1"; },
                  at(std::string(kRule) + ".TrafficMirrorFilterRuleId",
                     "expected an id starting with \"tmfr-\", got \"tmf-1\"")}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// --- Rules across fields -------------------------------------------------------------------

TEST(MirrorConfigJson, RejectsDuplicateRuleNumberWithinDirection) {
  json document = fullDocument();
  json& rules = filter0(document)["IngressFilterRules"];
  json third = rules[1];
  third["RuleNumber"] = 10;
  rules.push_back(third);
  EXPECT_EQ(parseError(document), std::string(kFilter) +
                                      ".IngressFilterRules[2].RuleNumber: 10 is used twice in "
                                      "ingress rules of tmf-0123456789abcdef3");
}

TEST(MirrorConfigJson, RejectsDuplicateSessionNumberOnInterface) {
  json document = fullDocument();
  document["NetworkInterfaces"][0]["TrafficMirrorSessions"][1]["SessionNumber"] = 1;
  EXPECT_EQ(parseError(document),
            "NetworkInterfaces[0].TrafficMirrorSessions[1].SessionNumber: 1 is used twice on "
            "eni-0123456789abcdef0");
}

TEST(MirrorConfigJson, RejectsFromPortGreaterThanToPort) {
  json document = fullDocument();
  ingressRule0(document)["DestinationPortRange"] = {{"FromPort", 443}, {"ToPort", 80}};
  EXPECT_EQ(parseError(document), at(std::string(kRule) + ".DestinationPortRange",
                                     "FromPort 443 is greater than ToPort 80"));
}

TEST(MirrorConfigJson, RejectsPortRangeWithIcmpProtocol) {
  json document = fullDocument();
  ingressRule0(document)["Protocol"] = 1;
  EXPECT_EQ(parseError(document), at(std::string(kRule) + ".SourcePortRange",
                                     "port ranges need Protocol 6 (TCP) or 17 (UDP)"));
}

TEST(MirrorConfigJson, RejectsPortRangeWithoutProtocol) {
  json document = fullDocument();
  ingressRule0(document).erase("Protocol");
  ingressRule0(document).erase("SourcePortRange");
  EXPECT_EQ(parseError(document), at(std::string(kRule) + ".DestinationPortRange",
                                     "port ranges need Protocol 6 (TCP) or 17 (UDP)"));
}

TEST(MirrorConfigJson, RejectsCidrFamilyMismatch) {
  json document = fullDocument();
  ingressRule0(document)["DestinationCidrBlock"] = "::/0";
  EXPECT_EQ(parseError(document), at(std::string(kRule) + ".DestinationCidrBlock",
                                     "\"::/0\" is IPv6 but SourceCidrBlock is IPv4"));
}

TEST(MirrorConfigJson, RejectsCidrWithHostBitsSet) {
  json document = fullDocument();
  ingressRule0(document)["DestinationCidrBlock"] = "10.0.0.1/16";
  EXPECT_EQ(parseError(document),
            at(std::string(kRule) + ".DestinationCidrBlock", "\"10.0.0.1/16\" has host bits set"));
}

TEST(MirrorConfigJson, RejectsMalformedCidr) {
  json document = fullDocument();
  ingressRule0(document)["SourceCidrBlock"] = "10.0.0.0/33";
  EXPECT_THAT(parseError(document), StartsWith(std::string(kRule) + ".SourceCidrBlock: "));
  ingressRule0(document)["SourceCidrBlock"] = "everywhere";
  EXPECT_EQ(parseError(document), at(std::string(kRule) + ".SourceCidrBlock",
                                     "expected a CIDR block, got \"everywhere\""));
}

TEST(MirrorConfigJson, RejectsRuleDirectionThatDisagreesWithItsList) {
  json document = fullDocument();
  ingressRule0(document)["TrafficDirection"] = "egress";
  EXPECT_EQ(parseError(document),
            at(std::string(kRule) + ".TrafficDirection", "\"egress\" rule in IngressFilterRules"));
}

TEST(MirrorConfigJson, RejectsRuleOfAnotherFilter) {
  json document = fullDocument();
  ingressRule0(document)["TrafficMirrorFilterId"] = "tmf-other";
  EXPECT_THAT(parseError(document),
              StartsWith(std::string(kRule) + ".TrafficMirrorFilterId: \"tmf-other\" is not"));
}

TEST(MirrorConfigJson, RejectsSessionOfAnotherInterface) {
  json document = fullDocument();
  session0(document)["NetworkInterfaceId"] = "eni-other";
  EXPECT_THAT(parseError(document),
              StartsWith(std::string(kSession) + ".NetworkInterfaceId: \"eni-other\" is not"));
}

TEST(MirrorConfigJson, RejectsIpv6TargetAddress) {
  json document = fullDocument();
  target0(document)["Addresses"] = {"2001:db8::2"};
  const std::string message = parseError(document);
  EXPECT_THAT(message, StartsWith(std::string(kTarget) + ".Addresses[0]: "));
  EXPECT_THAT(message, HasSubstr("IPv6 outer transport is not supported yet"));
}

TEST(MirrorConfigJson, RejectsNetworkInterfaceTargetWithTwoAddresses) {
  json document = fullDocument();
  target0(document)["Addresses"] = {"198.51.100.2", "198.51.100.3"};
  EXPECT_THAT(parseError(document), StartsWith(std::string(kTarget) + ".Addresses: "));
}

TEST(MirrorConfigJson, RejectsTargetWithoutAddresses) {
  json document = fullDocument();
  target0(document)["Type"] = "network-load-balancer";
  target0(document)["Addresses"] = json::array();
  EXPECT_EQ(parseError(document),
            at(std::string(kTarget) + ".Addresses", "needs at least one address"));
}

TEST(MirrorConfigJson, RejectsSessionsOnInterfaceWithoutPrivateIpAddress) {
  json document = fullDocument();
  document["NetworkInterfaces"][0].erase("PrivateIpAddress");
  EXPECT_THAT(parseError(document), StartsWith("NetworkInterfaces[0].PrivateIpAddress: required "
                                               "when the interface has traffic mirror sessions"));
}

TEST(MirrorConfigJson, RejectsWrongAddressFamilyForInterfaceAddresses) {
  json document = fullDocument();
  document["NetworkInterfaces"][0]["PrivateIpAddress"] = "2001:db8::10";
  EXPECT_EQ(parseError(document),
            "NetworkInterfaces[0].PrivateIpAddress: \"2001:db8::10\" is not an IPv4 address");
  document = fullDocument();
  document["NetworkInterfaces"][0]["Ipv6Address"] = "198.51.100.10";
  EXPECT_EQ(parseError(document),
            "NetworkInterfaces[0].Ipv6Address: \"198.51.100.10\" is not an IPv6 address");
}

TEST(MirrorConfigJson, RejectsMalformedAddresses) {
  json document = fullDocument();
  document["DnsResolvers"][1] = "resolver.local";
  EXPECT_EQ(parseError(document),
            "DnsResolvers[1]: expected an IP address, got \"resolver.local\"");
  document = fullDocument();
  document["NetworkInterfaces"][0]["MacAddress"] = "02:00:00:00:01";
  EXPECT_EQ(parseError(document),
            "NetworkInterfaces[0].MacAddress: expected a MAC address, got \"02:00:00:00:01\"");
}

TEST(MirrorConfigJson, RejectsNetworkServiceOtherThanAmazonDns) {
  json document = fullDocument();
  filter0(document)["NetworkServices"] = {"amazon-dns", "amazon-ntp"};
  EXPECT_EQ(parseError(document), at(std::string(kFilter) + ".NetworkServices[1]",
                                     "expected \"amazon-dns\", got \"amazon-ntp\""));
}

TEST(MirrorConfigJson, RejectsDuplicateField) {
  const std::string text = R"({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1",
      "Mtu": 1500, "Mtu": 9001}]})";
  EXPECT_EQ(textParseError(text), "NetworkInterfaces[0].Mtu: duplicate field");
}

TEST(MirrorConfigJson, RejectsInvalidJsonWithBytePosition) {
  const std::string message = textParseError(R"({"NetworkInterfaces": [}")");
  EXPECT_THAT(message, StartsWith("invalid JSON at byte 24: "));
  EXPECT_THAT(message, HasSubstr("syntax error"));
}

TEST(MirrorConfigJson, RejectsDocumentThatIsNotAnObject) {
  EXPECT_EQ(textParseError("[]"), "(document): expected an object");
  EXPECT_THAT(textParseError(""), StartsWith("invalid JSON at byte"));
}

TEST(MirrorConfigJson, RejectsJsonComments) {
  EXPECT_THAT(textParseError("{\"NetworkInterfaces\": [] // none\n}"), StartsWith("invalid JSON"));
}

// --- Files ---------------------------------------------------------------------------------

class TemporaryFile {
 public:
  explicit TemporaryFile(const std::string& contents)
      : path_(std::filesystem::temp_directory_path() /
              ("mirror_config_json_test_" + std::to_string(::getpid()) + ".json")) {
    std::ofstream(path_) << contents;
  }

  ~TemporaryFile() { std::filesystem::remove(path_); }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(MirrorConfigJson, LoadReportsMissingFileAsNotFound) {
  const std::filesystem::path path = "/nonexistent/tmirror/host.json";
  auto result = loadHostMirrorConfig(path);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::NotFound);
  EXPECT_THAT(result.error().message, StartsWith(path.string() + ": "));
}

TEST(MirrorConfigJson, LoadReportsDirectoryAsIoError) {
  auto result = loadHostMirrorConfig(std::filesystem::temp_directory_path());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Io);
}

TEST(MirrorConfigJson, LoadPutsFileNameBeforeJsonPath) {
  TemporaryFile file(R"({"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "Foo": 1}]})");
  auto result = loadHostMirrorConfig(file.path());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(result.error().message,
            file.path().string() + ": NetworkInterfaces[0].Foo: unknown field");
}

TEST(MirrorConfigJson, LoadsWrittenConfigBack) {
  auto config = parseHostMirrorConfig(fullDocument().dump());
  ASSERT_TRUE(config) << config.error().message;
  TemporaryFile file(hostMirrorConfigToJson(*config));
  auto loaded = loadHostMirrorConfig(file.path());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(hostMirrorConfigToJson(*loaded), hostMirrorConfigToJson(*config));
}

TEST(MirrorConfigJson, LoadsWebNotSshExample) {
  const char* source_dir = std::getenv("TMIRROR_SOURCE_DIR");
  if (source_dir == nullptr) {
    GTEST_SKIP() << "TMIRROR_SOURCE_DIR is not set (ctest sets it)";
  }
  auto config =
      loadHostMirrorConfig(std::filesystem::path(source_dir) / "examples" / "web-not-ssh.json");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->interfaces.size(), 1u);
  const InterfaceMirrorConfig& eni = config->interfaces[0];
  EXPECT_EQ(eni.interface.id, "eni-0a1b2c3d4e5f60718");
  EXPECT_EQ(eni.interface.mac, packet::parseMacAddress("02:00:00:00:00:0a"));
  ASSERT_EQ(eni.sessions.size(), 1u);
  const Session& session = eni.sessions[0];
  EXPECT_EQ(session.virtual_network_id, 4242u);
  EXPECT_FALSE(session.packet_length);
  EXPECT_EQ(session.target.addresses, std::vector{*packet::parseIpAddress("198.51.100.20")});
  ASSERT_EQ(session.filter.ingress_rules.size(), 6u);
  ASSERT_EQ(session.filter.egress_rules.size(), 6u);
  const FilterRule& ssh_in = session.filter.ingress_rules[0];
  EXPECT_EQ(ssh_in.rule_number, 10u);
  EXPECT_EQ(ssh_in.action, RuleAction::Reject);
  EXPECT_EQ(ssh_in.destination_port_range, (PortRange{22, 22}));
  const FilterRule& https_out_v6 = session.filter.egress_rules[5];
  EXPECT_EQ(https_out_v6.rule_number, 130u);
  EXPECT_EQ(https_out_v6.source_cidr, *packet::parseCidr("::/0"));
  EXPECT_EQ(https_out_v6.source_port_range, (PortRange{443, 443}));
}

}  // namespace
}  // namespace tmirror::model
