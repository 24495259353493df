#include "model/agent_protocol.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace tmirror::model {
namespace {

packet::IpAddress ip(const char* text) {
  return *packet::parseIpAddress(text);
}

packet::MacAddress mac(const char* text) {
  return *packet::parseMacAddress(text);
}

RegisterRequest aRequest() {
  RegisterRequest r;
  r.host_key = "host-key-1";
  r.hostname = "web-1";
  r.dns_resolvers = {ip("192.0.2.53"), ip("2001:db8::53")};
  r.control_endpoints = {{ip("192.0.2.1"), 8900}, {ip("2001:db8::1"), 443}};
  r.interfaces = {{"eth0", mac("02:00:00:00:00:01"), ip("192.0.2.10"), ip("2001:db8::10"), 9001},
                  {"eth1", mac("02:00:00:00:00:02"), std::nullopt, std::nullopt, 1500}};
  return r;
}

TEST(AgentProtocol, ARegisterRequestReadsBackAsWritten) {
  RegisterRequest agent = aRequest();
  EXPECT_EQ(parseRegisterRequest(registerRequestToJson(agent)).value(), agent);
  RegisterRequest collector = aRequest();
  collector.role = HostRole::Collector;
  collector.load_balancer_arn =
      "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/ids/0123456789abcdef";
  EXPECT_EQ(parseRegisterRequest(registerRequestToJson(collector)).value(), collector);
}

TEST(AgentProtocol, ARegisterRequestWithoutRoleOrMtuTakesTheDefaults) {
  auto r = parseRegisterRequest(
      R"({"HostKey":"k","Interfaces":[{"Name":"eth0","MacAddress":"02:00:00:00:00:01"}]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->role, HostRole::Agent);
  ASSERT_EQ(r->interfaces.size(), 1u);
  EXPECT_EQ(r->interfaces[0].mtu, 1500u);
  EXPECT_FALSE(r->interfaces[0].ipv4);
}

TEST(AgentProtocol, ARegisterRequestTheServerMustNotTrustIsRefusedWithTheReason) {
  const std::string eth0 = R"({"Name":"eth0","MacAddress":"02:00:00:00:00:01"})";
  const std::pair<std::string, std::string> cases[] = {
      {"[]", "the body is not a JSON object"},
      {"{", "the body is not a JSON object"},
      {R"({"Hostname":"h"})", "HostKey (1-128 chars) is required"},
      {R"({"HostKey":"k","Hostname":7})", "Hostname must be a string"},
      {R"({"HostKey":")" + std::string(129, 'k') + R"("})", "HostKey (1-128 chars) is required"},
      {R"({"HostKey":"k","Role":"spy"})", "Role must be agent or collector"},
      {R"({"HostKey":"k","DnsResolvers":["not-an-ip"]})", "DnsResolvers: not an IP address"},
      {R"({"HostKey":"k","LoadBalancerArn":"nlb-1"})", "LoadBalancerArn must be an ARN"},
      {R"({"HostKey":"k","ControlEndpoints":{}})", "ControlEndpoints must be a list of at most 64"},
      {R"({"HostKey":"k","ControlEndpoints":[{"Address":"192.0.2.1","Port":0}]})",
       "ControlEndpoints: each needs an Address and a Port (1-65535)"},
      {R"({"HostKey":"k","ControlEndpoints":[{"Address":"host","Port":80}]})",
       "ControlEndpoints: each needs an Address and a Port (1-65535)"},
      {R"({"HostKey":"k","Interfaces":{}})", "Interfaces must be a list of at most 256"},
      {R"({"HostKey":"k","Interfaces":[1]})", "Interfaces: each must be an object"},
      {R"({"HostKey":"k","Interfaces":[{"Name":"eth0"}]})",
       "Interfaces: Name and MacAddress required"},
      {R"({"HostKey":"k","Interfaces":[{"Name":"eth0","MacAddress":"02:00:00:00:00:01",)"
       R"("PrivateIpAddress":"2001:db8::1"}]})",
       "Interfaces: bad PrivateIpAddress"},
      {R"({"HostKey":"k","Interfaces":[{"Name":"eth0","MacAddress":"02:00:00:00:00:01",)"
       R"("Mtu":67}]})",
       "Interfaces: Mtu must be 68-65535"},
  };
  for (const auto& [body, message] : cases) {
    auto r = parseRegisterRequest(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
    EXPECT_EQ(r.error().message, message) << body;
  }
  std::string many = R"({"HostKey":"k","Interfaces":[)";
  for (int i = 0; i < 257; ++i) {
    many += (i ? "," : "") + eth0;
  }
  EXPECT_FALSE(parseRegisterRequest(many + "]}"));
}

TEST(AgentProtocol, HostTextThatIsNotUtf8BecomesAReplacementCharacterNotAnException) {
  RegisterRequest r = aRequest();
  r.hostname = "web\xFF";
  r.interfaces[0].name = "eth\xC0";
  auto back = parseRegisterRequest(registerRequestToJson(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->hostname, "web\xEF\xBF\xBD");
  EXPECT_EQ(back->interfaces[0].name, "eth\xEF\xBF\xBD");
  CountersReport report;
  report.instance_id = "i-1";
  report.problems = std::vector<Problem>{{"eni-1", "capture on eth\xC0 stopped"}};
  auto counters = parseCountersReport(countersReportToJson(report));
  ASSERT_TRUE(counters) << counters.error().message;
  EXPECT_EQ(counters->problems->at(0).reason, "capture on eth\xEF\xBF\xBD stopped");
}

TEST(AgentProtocol, ARegisterResponseReadsBackAsWritten) {
  RegisterResponse r{
      "i-0123456789abcdef0", {{"eth0", mac("02:00:00:00:00:01"), "eni-0123456789abcdef0"}}, 42};
  EXPECT_EQ(parseRegisterResponse(registerResponseToJson(r)).value(), r);
  r.report_interval = std::chrono::milliseconds(30000);
  EXPECT_EQ(parseRegisterResponse(registerResponseToJson(r)).value(), r);
  // An older server says nothing of the interval: one second, as a counters answer reads.
  EXPECT_EQ(parseRegisterResponse(R"({"InstanceId":"i-0"})")->report_interval,
            std::chrono::milliseconds(1000));
  EXPECT_FALSE(parseRegisterResponse(R"({"Revision":1})")) << "an answer without an instance id";
}

TEST(AgentProtocol, ACountersReportKeepsEveryKindOfValue) {
  CountersReport report;
  report.instance_id = "i-1";
  report.revision = 7;
  ResourceCounters eth0;
  eth0.id = "eni-1";
  eth0.name = "eth0";
  eth0.counts = {{"Frames", 18446744073709551615ull}, {"NetworkPacketsMirrorIn", 3}};
  eth0.by_reason = {{"MalformedReasons", {{"TruncatedIpv4", 2}}}, {"OffloadCopiedAsCaptured", {}}};
  eth0.flags = {{"OffloadMetadata", true}};
  eth0.notes = {{"LastSendError", "No buffer space available"}};
  ResourceCounters session;
  session.id = "tms-1";
  session.network_interface_id = "eni-1";
  session.counts = {{"NetworkMirrorIn", 1234}};
  report.interfaces = {eth0};
  report.sessions = {session};
  report.problems = std::vector<Problem>{{"tms-1", "target MTU too small"}};
  auto back = parseCountersReport(countersReportToJson(report));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->instance_id, "i-1");
  EXPECT_EQ(back->revision, 7u);
  ASSERT_EQ(back->interfaces.size(), 1u);
  // Keys come back sorted by name; compare as sets of (name, value).
  auto sorted = [](auto v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(back->interfaces[0].counts), sorted(eth0.counts));
  EXPECT_EQ(sorted(back->interfaces[0].by_reason), sorted(eth0.by_reason));
  EXPECT_EQ(back->interfaces[0].flags, eth0.flags);
  EXPECT_EQ(back->interfaces[0].notes, eth0.notes);
  EXPECT_EQ(back->interfaces[0].name, "eth0");
  EXPECT_EQ(back->sessions, report.sessions);
  EXPECT_EQ(back->problems, report.problems);
}

TEST(AgentProtocol, ACollectorsReportHasFractionalValuesAndNoProblems) {
  CountersReport report;
  ResourceCounters item;
  item.id = "eni-9";
  item.counts = {{"CollectorHealthy", 1}};
  item.values = {{"BytesPerSecond", 12.5}};
  report.interfaces = {item};
  auto back = parseCountersReport(countersReportToJson(report));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->interfaces, report.interfaces);
  EXPECT_FALSE(back->problems) << "a report without problems replaces none";
  EXPECT_FALSE(back->revision);
}

TEST(AgentProtocol, ACountersReportIsCheckedAndCut) {
  EXPECT_EQ(parseCountersReport(R"({"Interfaces":{}})").error().message,
            "Interfaces must be a list");
  EXPECT_EQ(parseCountersReport(R"({"Sessions":[1]})").error().message, "Sessions: objects only");
  EXPECT_EQ(parseCountersReport(R"({"Interfaces":[{"Frames":1}]})").error().message,
            "each item needs its resource id");
  EXPECT_EQ(parseCountersReport(R"({"Problems":[{"ResourceId":1}]})").error().message,
            "Problems: ResourceId and Reason strings");
  const std::string long_name(65, 'x');
  auto r = parseCountersReport(R"({"Interfaces":[{"NetworkInterfaceId":"eni-1",")" + long_name +
                               R"(":1,"Frames":2}],"Problems":[{"ResourceId":"tms-1","Reason":")" +
                               std::string(600, 'r') + R"("}]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->interfaces[0].counts,
            (std::vector<std::pair<std::string, uint64_t>>{{"Frames", 2}}));
  EXPECT_EQ(r->problems->at(0).reason.size(), 512u);
}

TEST(AgentProtocol, CollectorSessionsReadBackAndOddItemsAreSkipped) {
  std::vector<CollectorSession> sessions = {
      {"tms-1", 100, "eni-1", mac("02:00:00:00:00:01"), ip("192.0.2.10")},
      {"tms-2", 200, "eni-2", std::nullopt, std::nullopt}};
  EXPECT_EQ(parseCollectorSessions(collectorSessionsToJson(sessions)).value(), sessions);
  auto odd = parseCollectorSessions(
      R"({"Sessions":[{"TrafficMirrorSessionId":"tms-3"},{"VirtualNetworkId":16777216},)"
      R"({"TrafficMirrorSessionId":"tms-4","VirtualNetworkId":4}]})");
  ASSERT_TRUE(odd);
  ASSERT_EQ(odd->size(), 1u);
  EXPECT_EQ(odd->at(0).session_id, "tms-4");
  EXPECT_FALSE(parseCollectorSessions("[]"));
}

TEST(AgentProtocol, ErrorsReadBackAndOtherDocumentsAreNotErrors) {
  auto e = parseProtocolError(protocolErrorToJson({"AuthFailure", "the agent token is not valid"}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "AuthFailure");
  EXPECT_EQ(e->message, "the agent token is not valid");
  EXPECT_FALSE(parseProtocolError(R"({"Accepted":3})"));
  EXPECT_FALSE(parseProtocolError("<html>"));
}

}  // namespace
}  // namespace tmirror::model
