#include "channel/agent_channel.h"

#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "channel/channel_metrics.h"
#include "engine/mirror_engine.h"
#include "metrics/registry.h"
#include "model/agent_protocol.h"
#include "model/mirror_config_json.h"
#include "testing/store_backends.h"
#include "testing/xml_fields.h"

namespace tmirror::channel {
namespace {

using nlohmann::json;

class AgentChannelTest : public testing::StoreBackendTest {
 protected:
  void SetUp() override {
    makeLocation("tmirror-channel-test");
    auto store = store::SharedStore::open(location_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
    auto token = store_->write([](store::MirrorStore& s) { return createAgentToken(s); });
    ASSERT_TRUE(token.has_value());
    token_ = *token;
    api_ = std::make_unique<api::TrafficMirrorApi>(
        *store_, api::ApiLimits{},
        [](const api::HttpRequestView&, const api::SecretLookup&) -> api::ApiResult<std::string> {
          return "test";
        });
    channel_ = std::make_unique<AgentChannel>(
        *api_, AgentChannelOptions{.poll_interval = std::chrono::milliseconds(10),
                                   .member_health_window = std::chrono::milliseconds(300),
                                   .health_check_interval = std::chrono::milliseconds(20)});
  }

  void TearDown() override {
    channel_.reset();
    api_.reset();
    store_.reset();
    removeLocation();
  }

  api::HttpResponse agent(std::string method, std::string path, std::string body = "",
                          std::string query = "", bool authenticated = true) {
    // The request's views point into these members for the call's duration.
    method_ = std::move(method);
    path_ = std::move(path);
    query_ = std::move(query);
    body_ = std::move(body);
    api::HttpRequestView r;
    r.method = method_;
    r.path = path_;
    r.query = query_;
    r.body = body_;
    if (authenticated) {
      r.headers["authorization"] = "Bearer " + token_;
    }
    // Long-polls are answered later, from the channel's ticker thread.
    auto answer = std::make_shared<std::promise<api::HttpResponse>>();
    auto answered = answer->get_future();
    channel_->handle(r, [answer](api::HttpResponse response) { answer->set_value(response); });
    if (answered.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      ADD_FAILURE() << "no answer to " << method_ << " " << path_ << "?" << query_;
      return api::HttpResponse{.status = 0};
    }
    return answered.get();
  }

  std::string apiCall(const std::string& body, const std::string& id_field) {
    api::HttpRequestView r;
    r.method = "POST";
    r.path = "/";
    const std::string versioned = body + "&Version=2016-11-15";
    r.body = versioned;
    const api::HttpResponse response = api_->handle(r);
    EXPECT_EQ(response.status, 200) << response.body;
    return testing::xmlField(response.body, id_field);
  }

  json registerHost(const std::string& host_key, const json& interfaces) {
    const json body = {{"HostKey", host_key},
                       {"Hostname", "web-1"},
                       {"DnsResolvers", {"198.51.100.53"}},
                       {"Interfaces", interfaces}};
    const auto r = agent("POST", "/agent/v1/register", body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // The host's revision now, as a poll that does not wait reads it.
  int64_t revisionOf(const std::string& instance) {
    const auto r = agent("GET", "/agent/v1/desired-state", "", "instance-id=" + instance);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("Revision", int64_t{-1});
  }

  // A long-poll left waiting; its answer comes through the future.
  std::future<api::HttpResponse> park(const std::string& instance, int64_t revision) {
    const std::string query =
        "instance-id=" + instance + "&revision=" + std::to_string(revision) + "&wait=20";
    api::HttpRequestView r;
    r.method = "GET";
    r.path = "/agent/v1/desired-state";
    r.query = query;
    r.headers["authorization"] = "Bearer " + token_;
    auto answer = std::make_shared<std::promise<api::HttpResponse>>();
    auto future = answer->get_future();
    channel_->handle(r, [answer](api::HttpResponse response) { answer->set_value(response); });
    return future;
  }

  bool eventuallyParked(std::size_t count) {
    for (int i = 0; i < 500 && channel_->parkedLongPolls() < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return channel_->parkedLongPolls() == count;
  }

  std::string createFilter() {
    return apiCall("Action=CreateTrafficMirrorFilter", "trafficMirrorFilterId");
  }

  // A session from source to a fresh interface target, with filter.
  std::string createSession(const std::string& source, const std::string& filter, int number) {
    const std::string appliance = apiCall(
        "Action=CreateNetworkInterface&SubnetId=subnet-0123abcd&PrivateIpAddress=198.51.100." +
            std::to_string(100 + ++appliances_),
        "networkInterfaceId");
    const std::string target =
        apiCall("Action=CreateTrafficMirrorTarget&NetworkInterfaceId=" + appliance,
                "trafficMirrorTargetId");
    return apiCall("Action=CreateTrafficMirrorSession&NetworkInterfaceId=" + source +
                       "&TrafficMirrorTargetId=" + target + "&TrafficMirrorFilterId=" + filter +
                       "&SessionNumber=" + std::to_string(number) + "&VirtualNetworkId=7",
                   "trafficMirrorSessionId");
  }

  int appliances_ = 0;
  std::unique_ptr<store::SharedStore> store_;
  std::unique_ptr<api::TrafficMirrorApi> api_;
  std::unique_ptr<AgentChannel> channel_;
  std::string token_;
  std::string method_;
  std::string path_;
  std::string query_;
  std::string body_;
};

const json kEth0 = {{"Name", "eth0"},
                    {"MacAddress", "02:00:00:00:00:0a"},
                    {"PrivateIpAddress", "198.51.100.10"},
                    {"Mtu", 1500}};

TEST_P(AgentChannelTest, RequestsWithoutAValidTokenAreRefused) {
  EXPECT_EQ(agent("POST", "/agent/v1/register", "{}", "", false).status, 401);
  token_ = "tma-not-a-real-token";
  EXPECT_EQ(agent("POST", "/agent/v1/register", "{}").status, 401);
}

TEST_P(AgentChannelTest, RegistrationIdsAreStableAcrossRestartsKeyedByHostAndMac) {
  const json first = registerHost("machine-1", json::array({kEth0}));
  const std::string instance = first["InstanceId"];
  const std::string eni = first["NetworkInterfaces"][0]["NetworkInterfaceId"];
  EXPECT_TRUE(testing::isLongId(instance, "i"));
  EXPECT_TRUE(testing::isLongId(eni, "eni"));
  json eth1 = kEth0;
  eth1["Name"] = "eth1";
  eth1["MacAddress"] = "02:00:00:00:00:0b";
  eth1.erase("PrivateIpAddress");
  const json again = registerHost("machine-1", json::array({kEth0, eth1}));
  EXPECT_EQ(again["InstanceId"], instance);
  EXPECT_EQ(again["NetworkInterfaces"][0]["NetworkInterfaceId"], eni);
  EXPECT_NE(again["NetworkInterfaces"][1]["NetworkInterfaceId"], eni);
  const json other = registerHost("machine-2", json::array({kEth0}));
  EXPECT_NE(other["InstanceId"], instance);
}

TEST_P(AgentChannelTest, ACollectorsInterfaceSaysSoInItsDescription) {
  registerHost("machine-1", json::array({kEth0}));
  const json body = {{"HostKey", "machine-1-collector"},
                     {"Hostname", "web-1"},
                     {"Role", "collector"},
                     {"Interfaces", json::array({kEth0})}};
  const auto r = agent("POST", "/agent/v1/register", body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string collector = json::parse(r.body)["NetworkInterfaces"][0]["NetworkInterfaceId"];
  api::HttpRequestView describe;
  describe.method = "POST";
  describe.path = "/";
  describe.body = "Action=DescribeNetworkInterfaces&Version=2016-11-15";
  const api::HttpResponse all = api_->handle(describe);
  ASSERT_EQ(all.status, 200) << all.body;
  // The same NIC twice: the agent's source and the collector's would-be target, told apart.
  EXPECT_NE(all.body.find("<description>eth0 on web-1</description>"), std::string::npos)
      << all.body;
  EXPECT_NE(all.body.find("<description>eth0 on web-1 (tmirror collector: receives VXLAN, a "
                          "target)</description>"),
            std::string::npos)
      << all.body;
  EXPECT_NE(all.body.find(collector), std::string::npos);
  json bad = body;
  bad["Role"] = "router";
  EXPECT_EQ(agent("POST", "/agent/v1/register", bad.dump()).status, 400);
}

TEST_P(AgentChannelTest, BadRegistrationsAreRefusedNamingTheField) {
  EXPECT_EQ(agent("POST", "/agent/v1/register", "not json").status, 400);
  EXPECT_EQ(agent("POST", "/agent/v1/register", json{{"Hostname", "x"}}.dump()).status, 400);
  json bad_mac = {{"HostKey", "m"}, {"Interfaces", {{{"Name", "eth0"}, {"MacAddress", "zz"}}}}};
  const auto r = agent("POST", "/agent/v1/register", bad_mac.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("MacAddress"), std::string::npos);
}

TEST_P(AgentChannelTest, DesiredStateCarriesTheHostsSessionsAndDrivesTheEngine) {
  const json reg = registerHost("machine-1", json::array({kEth0}));
  const std::string instance = reg["InstanceId"];
  const std::string source = reg["NetworkInterfaces"][0]["NetworkInterfaceId"];
  const std::string collector = apiCall(
      "Action=CreateNetworkInterface&SubnetId=subnet-0123abcd&PrivateIpAddress=198.51.100.20",
      "networkInterfaceId");
  const std::string target = apiCall(
      "Action=CreateTrafficMirrorTarget&NetworkInterfaceId=" + collector, "trafficMirrorTargetId");
  const std::string filter = apiCall("Action=CreateTrafficMirrorFilter", "trafficMirrorFilterId");
  apiCall("Action=CreateTrafficMirrorFilterRule&TrafficMirrorFilterId=" + filter +
              "&TrafficDirection=ingress&RuleNumber=10&RuleAction=accept&Protocol=6"
              "&SourceCidrBlock=0.0.0.0%2F0&DestinationCidrBlock=0.0.0.0%2F0",
          "trafficMirrorFilterRuleId");
  apiCall("Action=CreateTrafficMirrorSession&NetworkInterfaceId=" + source +
              "&TrafficMirrorTargetId=" + target + "&TrafficMirrorFilterId=" + filter +
              "&SessionNumber=1&VirtualNetworkId=4242&PacketLength=128",
          "trafficMirrorSessionId");

  const auto r = agent("GET", "/agent/v1/desired-state", "", "instance-id=" + instance);
  ASSERT_EQ(r.status, 200) << r.body;
  auto config = model::parseHostMirrorConfig(r.body);
  ASSERT_TRUE(config.has_value()) << config.error().message << "\n" << r.body;
  ASSERT_EQ(config->interfaces.size(), 1u);
  const auto& iface = config->interfaces[0];
  EXPECT_EQ(iface.interface.id, source);
  ASSERT_EQ(iface.sessions.size(), 1u);
  EXPECT_EQ(iface.sessions[0].virtual_network_id, 4242u);
  EXPECT_EQ(iface.sessions[0].packet_length, 128u);
  EXPECT_EQ(packet::formatIpAddress(iface.sessions[0].target.addresses.at(0)), "198.51.100.20");
  EXPECT_EQ(iface.sessions[0].filter.ingress_rules.size(), 1u);
  EXPECT_EQ(config->dns_resolvers.size(), 1u);
  // The document is exactly what the agent's engine takes.
  auto engine = engine::MirrorEngine::create(*config, iface);
  EXPECT_TRUE(engine.has_value()) << (engine ? "" : engine.error().message);
}

// What `tmirror explain` reads: the host's desired state, by one of its interfaces, with the
// control endpoints the agent registered and the problems it reported.
TEST_P(AgentChannelTest, TheDesiredStateViewOfAnInterfaceAddsWhatTheAgentRegisteredAndReported) {
  json body = {
      {"HostKey", "machine-1"},
      {"Hostname", "web-1"},
      {"DnsResolvers", {"192.0.2.53"}},
      {"ControlEndpoints",
       {{{"Address", "192.0.2.1"}, {"Port", 8900}}, {{"Address", "2001:db8::1"}, {"Port", 8900}}}},
      {"Interfaces", json::array({kEth0})}};
  const auto reg = agent("POST", "/agent/v1/register", body.dump());
  ASSERT_EQ(reg.status, 200) << reg.body;
  const json registered = json::parse(reg.body);
  const std::string instance = registered["InstanceId"];
  const std::string source = registered["NetworkInterfaces"][0]["NetworkInterfaceId"];
  json report = {{"InstanceId", instance},
                 {"Problems", {{{"ResourceId", source}, {"Reason", "no such device"}}}}};
  ASSERT_EQ(agent("POST", "/agent/v1/counters", report.dump()).status, 200);

  auto view = [&](const std::string& query) {
    api::HttpRequestView r;
    r.method = "GET";
    r.path = "/desired-state";
    r.query = query;
    return channel_->interfaceDesiredState(r);
  };
  const auto answer = view("NetworkInterfaceId=" + source);
  ASSERT_EQ(answer.status, 200) << answer.body;
  const json doc = json::parse(answer.body);
  EXPECT_EQ(doc["InstanceId"], instance);
  EXPECT_EQ(doc["Hostname"], "web-1");
  EXPECT_EQ(doc["Attached"], true);
  EXPECT_EQ(doc["Problems"],
            json::parse(R"([{"ResourceId":")" + source + R"(","Reason":"no such device"}])"));
  auto config = model::parseHostMirrorConfig(doc["DesiredState"].dump());
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->control_endpoints.size(), 2u);
  EXPECT_EQ(packet::formatIpAddress(config->control_endpoints[1].address), "2001:db8::1");
  EXPECT_EQ(config->control_endpoints[1].port, 8900);
  EXPECT_EQ(config->interfaces.at(0).interface.id, source);

  // The agent's own answer is unchanged: it adds its endpoints itself.
  const auto own = agent("GET", "/agent/v1/desired-state", "", "instance-id=" + instance);
  ASSERT_EQ(own.status, 200);
  EXPECT_TRUE(model::parseHostMirrorConfig(own.body)->control_endpoints.empty());

  const std::string unregistered = apiCall(
      "Action=CreateNetworkInterface&SubnetId=subnet-0123abcd&PrivateIpAddress=198.51.100.20",
      "networkInterfaceId");
  const auto no_agent = view("NetworkInterfaceId=" + unregistered);
  EXPECT_EQ(no_agent.status, 400);
  EXPECT_NE(no_agent.body.find("IncorrectState"), std::string::npos) << no_agent.body;
  const auto unknown = view("NetworkInterfaceId=eni-0123456789abcdef0");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("InvalidNetworkInterfaceID.NotFound"), std::string::npos);
  EXPECT_EQ(view("").status, 400);
}

TEST_P(AgentChannelTest, LongPollReturnsTheNewRevisionAfterAChangeToItsHost) {
  const json reg = registerHost("machine-1", json::array({kEth0}));
  const std::string instance = reg["InstanceId"];
  const std::string source = reg["NetworkInterfaces"][0]["NetworkInterfaceId"];
  const int64_t revision = revisionOf(instance);
  // Nothing changes: after the wait, "no content", with no body to parse.
  auto same =
      agent("GET", "/agent/v1/desired-state", "",
            "instance-id=" + instance + "&revision=" + std::to_string(revision) + "&wait=1");
  EXPECT_EQ(same.status, 204);
  EXPECT_TRUE(same.body.empty()) << same.body;
  // A change to this host made while the agent waits ends the wait with a newer revision.
  auto waiting = park(instance, revision);
  ASSERT_TRUE(eventuallyParked(1));
  createSession(source, createFilter(), 1);
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const api::HttpResponse newer = waiting.get();
  ASSERT_EQ(newer.status, 200);
  EXPECT_GT(json::parse(newer.body)["Revision"].get<int64_t>(), revision);
}

// A change wakes the agents whose desired state it changes, and no other: a session wakes its
// source's host; a rule of a filter both hosts' sessions use wakes both; an unused filter, none.
TEST_P(AgentChannelTest, AChangeWakesOnlyTheHostsItConcerns) {
  json eth_b = kEth0;
  eth_b["MacAddress"] = "02:00:00:00:00:0b";
  eth_b["PrivateIpAddress"] = "198.51.100.11";
  const json a = registerHost("machine-a", json::array({kEth0}));
  const json b = registerHost("machine-b", json::array({eth_b}));
  const std::string host_a = a["InstanceId"], host_b = b["InstanceId"];
  const std::string eni_a = a["NetworkInterfaces"][0]["NetworkInterfaceId"];
  const std::string eni_b = b["NetworkInterfaces"][0]["NetworkInterfaceId"];
  const std::string filter = createFilter();

  auto wait_a = park(host_a, revisionOf(host_a));
  auto wait_b = park(host_b, revisionOf(host_b));
  ASSERT_TRUE(eventuallyParked(2));
  createSession(eni_a, filter, 1);
  ASSERT_EQ(wait_a.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(wait_b.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  EXPECT_EQ(channel_->parkedLongPolls(), 1u);
  createSession(eni_b, filter, 1);
  ASSERT_EQ(wait_b.wait_for(std::chrono::seconds(10)), std::future_status::ready);

  wait_a = park(host_a, revisionOf(host_a));
  wait_b = park(host_b, revisionOf(host_b));
  ASSERT_TRUE(eventuallyParked(2));
  createFilter();  // used by no session
  EXPECT_EQ(wait_a.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  EXPECT_EQ(channel_->parkedLongPolls(), 2u);
  apiCall("Action=CreateTrafficMirrorFilterRule&TrafficMirrorFilterId=" + filter +
              "&TrafficDirection=egress&RuleNumber=20&RuleAction=accept&Protocol=17"
              "&SourceCidrBlock=0.0.0.0%2F0&DestinationCidrBlock=0.0.0.0%2F0",
          "trafficMirrorFilterRuleId");
  ASSERT_EQ(wait_a.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_EQ(wait_b.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  for (auto* answered : {&wait_a, &wait_b}) {
    const auto config = model::parseHostMirrorConfig(answered->get().body);
    ASSERT_TRUE(config);
    ASSERT_EQ(config->interfaces.at(0).sessions.size(), 1u);
    EXPECT_EQ(config->interfaces[0].sessions[0].filter.egress_rules.size(), 1u);
  }
}

// What a change no longer touches counts too: deleting a session wakes the host it was on.
TEST_P(AgentChannelTest, DeletingASessionWakesItsHost) {
  const json reg = registerHost("machine-1", json::array({kEth0}));
  const std::string instance = reg["InstanceId"];
  const std::string session =
      createSession(reg["NetworkInterfaces"][0]["NetworkInterfaceId"], createFilter(), 1);
  auto waiting = park(instance, revisionOf(instance));
  ASSERT_TRUE(eventuallyParked(1));
  apiCall("Action=DeleteTrafficMirrorSession&TrafficMirrorSessionId=" + session,
          "trafficMirrorSessionId");
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto config = model::parseHostMirrorConfig(waiting.get().body);
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->interfaces.at(0).sessions.empty());
}

TEST_P(AgentChannelTest, UnknownInstanceIsNotFound) {
  EXPECT_EQ(agent("GET", "/agent/v1/desired-state", "", "instance-id=i-00000000000000000").status,
            404);
  EXPECT_EQ(agent("GET", "/agent/v1/desired-state").status, 400);
}

TEST_P(AgentChannelTest, PushedCountersAreKeptForMetrics) {
  const json body = {
      {"InstanceId", "i-0"},
      {"Interfaces", {{{"NetworkInterfaceId", "eni-1"}, {"NetworkPacketsMirrorIn", 42}}}}};
  ASSERT_EQ(agent("POST", "/agent/v1/counters", body.dump()).status, 200);
  const auto snapshot = channel_->counterSnapshot();
  EXPECT_EQ(snapshot.at({"eni-1", "NetworkPacketsMirrorIn"}), 42.0);
}

// A large fleet's report rides its long-poll (POST desired-state): the counters are taken, the
// poll waits as a GET would, and every answer says how often the server wants the report.
TEST_P(AgentChannelTest, AReportRidesThePollAndEveryAnswerSaysTheInterval) {
  const json reg = registerHost("machine-1", json::array({kEth0}));
  EXPECT_EQ(reg.value("ReportIntervalMs", 0), 1000) << "a small fleet: every second";
  const std::string instance = reg["InstanceId"];
  const std::string eni = reg["NetworkInterfaces"][0]["NetworkInterfaceId"];
  const int64_t revision = revisionOf(instance);
  const json report = {
      {"InstanceId", instance},
      {"Interfaces", {{{"NetworkInterfaceId", eni}, {"NetworkPacketsMirrorIn", 7}}}}};
  const std::string query =
      "instance-id=" + instance + "&revision=" + std::to_string(revision) + "&wait=1";
  const auto header = [](const api::HttpResponse& r) {
    for (const auto& [name, value] : r.headers) {
      if (name == model::kReportIntervalHeader) {
        return value;
      }
    }
    return std::string();
  };
  const auto same = agent("POST", "/agent/v1/desired-state", report.dump(), query);
  EXPECT_EQ(same.status, 204) << same.body;
  EXPECT_EQ(header(same), "1000");
  EXPECT_EQ(channel_->counterSnapshot().at({eni, "NetworkPacketsMirrorIn"}), 7.0);
  // A newer state comes with the header too.
  const auto newer = agent("POST", "/agent/v1/desired-state", report.dump(),
                           "instance-id=" + instance + "&revision=0&wait=1");
  EXPECT_EQ(newer.status, 200) << newer.body;
  EXPECT_EQ(header(newer), "1000");
  // A report that does not parse is refused with its reason, and nothing waits.
  const auto bad = agent("POST", "/agent/v1/desired-state", "{\"Interfaces\": 5}", query);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("InvalidParameterValue"), std::string::npos) << bad.body;
  EXPECT_EQ(channel_->parkedLongPolls(), 0u);
  // Counted by the way they came (the refused one is not counted).
  agent("POST", "/agent/v1/counters", report.dump());
  EXPECT_EQ(channel_->reportsReceived().on_poll, 2u);
  EXPECT_EQ(channel_->reportsReceived().pushed, 1u);
}

// What the server's I/O threads answer themselves: a poll from a known token for a host whose
// current revision the channel knows parks with no store read and no worker, and a change still
// wakes it; anything else is left for the worker.
TEST_P(AgentChannelTest, PollsAndReportsFromKnownHostsAreAnsweredInline) {
  const json reg = registerHost("machine-1", json::array({kEth0}));
  const std::string instance = reg["InstanceId"];
  const std::string source = reg["NetworkInterfaces"][0]["NetworkInterfaceId"];
  const int64_t revision = revisionOf(instance);  // the token and the revision are known now
  std::string query, path, method, body;
  auto inlineCall = [&](bool authenticated, std::promise<api::HttpResponse>& answer) {
    api::HttpRequestView r;
    r.method = method;
    r.path = path;
    r.query = query;
    r.body = body;
    r.headers["authorization"] = "Bearer " + (authenticated ? token_ : std::string("tma-nope"));
    server::Respond respond = [&answer](api::HttpResponse a) { answer.set_value(std::move(a)); };
    const bool taken = channel_->handleInline(r, respond);
    EXPECT_EQ(taken, respond == nullptr) << "respond is taken exactly when the call is";
    return taken;
  };
  method = "GET";
  path = "/agent/v1/desired-state";
  query = "instance-id=" + instance + "&revision=" + std::to_string(revision) + "&wait=20";
  std::promise<api::HttpResponse> refused;
  EXPECT_FALSE(inlineCall(false, refused)) << "an unknown token goes to the worker";
  std::promise<api::HttpResponse> behind;
  query = "instance-id=" + instance + "&revision=0&wait=20";
  EXPECT_FALSE(inlineCall(true, behind)) << "a host behind needs its state from the store";
  std::promise<api::HttpResponse> unknown;
  query = "instance-id=i-00000000000000000&revision=0&wait=20";
  EXPECT_FALSE(inlineCall(true, unknown)) << "a host this server has not seen";

  query = "instance-id=" + instance + "&revision=" + std::to_string(revision) + "&wait=20";
  std::promise<api::HttpResponse> parked;
  auto woken = parked.get_future();
  ASSERT_TRUE(inlineCall(true, parked));
  ASSERT_TRUE(eventuallyParked(1));
  createSession(source, createFilter(), 1);
  ASSERT_EQ(woken.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const api::HttpResponse newer = woken.get();
  ASSERT_EQ(newer.status, 200) << newer.body;
  EXPECT_GT(json::parse(newer.body)["Revision"].get<int64_t>(), revision);

  method = "POST";
  path = "/agent/v1/counters";
  query.clear();
  body = R"({"InstanceId":")" + instance + R"(","Interfaces":[{"NetworkInterfaceId":")" + source +
         R"(","NetworkMirrorIn":1500}]})";
  std::promise<api::HttpResponse> pushed;
  auto taken = pushed.get_future();
  ASSERT_TRUE(inlineCall(true, pushed));
  EXPECT_EQ(taken.get().status, 200);
  EXPECT_EQ(channel_->counterSnapshot().at({source, "NetworkMirrorIn"}), 1500.0);
}

TEST_P(AgentChannelTest, SessionCountersAreKeptUnderTheSessionNotItsInterface) {
  // As the agent sends them: a session's item also names its source interface.
  const json body = {{"InstanceId", "i-0"},
                     {"Interfaces", {{{"NetworkInterfaceId", "eni-1"}, {"NetworkMirrorIn", 1000}}}},
                     {"Sessions",
                      {{{"TrafficMirrorSessionId", "tms-1"},
                        {"NetworkInterfaceId", "eni-1"},
                        {"NetworkMirrorIn", 600}}}}};
  ASSERT_EQ(agent("POST", "/agent/v1/counters", body.dump()).status, 200);
  const auto snapshot = channel_->counterSnapshot();
  EXPECT_EQ(snapshot.at({"eni-1", "NetworkMirrorIn"}), 1000.0);
  EXPECT_EQ(snapshot.at({"tms-1", "NetworkMirrorIn"}), 600.0);
}

// A collector's report (no instance id) names the sessions it receives: what arrived is kept
// per collector, beside what the session's agent sent, and replaces neither.
TEST_P(AgentChannelTest, CollectorsReceiptsOfASessionAreKeptApartFromTheAgentsAndEachOther) {
  const json agent_report = {{"InstanceId", "i-0"},
                             {"Sessions",
                              {{{"TrafficMirrorSessionId", "tms-1"},
                                {"NetworkInterfaceId", "eni-src"},
                                {"NetworkPacketsMirrorOut", 10}}}}};
  auto collector_report = [](const std::string& eni, uint64_t datagrams) {
    return json{
        {"Interfaces",
         {{{"NetworkInterfaceId", eni}, {"CollectorHealthy", 1}, {"CollectorDatagrams", 9.0}}}},
        {"Sessions",
         {{{"TrafficMirrorSessionId", "tms-1"},
           {"CollectorDatagrams", datagrams},
           {"CollectorBytes", datagrams * 100}}}}};
  };
  ASSERT_EQ(agent("POST", "/agent/v1/counters", agent_report.dump()).status, 200);
  ASSERT_EQ(agent("POST", "/agent/v1/counters", collector_report("eni-a", 8).dump()).status, 200);
  ASSERT_EQ(agent("POST", "/agent/v1/counters", collector_report("eni-b", 2).dump()).status, 200);
  const auto counters = channel_->counterSnapshot();
  EXPECT_EQ(counters.at({"tms-1", "NetworkPacketsMirrorOut"}), 10.0) << "the agent's, intact";
  EXPECT_FALSE(counters.contains({"tms-1", "CollectorDatagrams"}));
  EXPECT_EQ(counters.at({"eni-a", "CollectorHealthy"}), 1.0) << "the interface item as before";
  EXPECT_EQ(counters.at({"eni-a", "CollectorDatagrams"}), 9.0);
  auto received = channel_->collectorSessionSnapshot();
  EXPECT_EQ(received.at({"tms-1", "eni-a", "CollectorDatagrams"}), 8.0);
  EXPECT_EQ(received.at({"tms-1", "eni-a", "CollectorBytes"}), 800.0);
  EXPECT_EQ(received.at({"tms-1", "eni-b", "CollectorDatagrams"}), 2.0);

  // The agent's next report leaves the collectors' alone; a collector's replaces its own set.
  ASSERT_EQ(agent("POST", "/agent/v1/counters", agent_report.dump()).status, 200);
  json without = collector_report("eni-a", 0);
  without["Sessions"] = json::array();
  ASSERT_EQ(agent("POST", "/agent/v1/counters", without.dump()).status, 200);
  received = channel_->collectorSessionSnapshot();
  EXPECT_FALSE(received.contains({"tms-1", "eni-a", "CollectorDatagrams"}));
  EXPECT_EQ(received.at({"tms-1", "eni-b", "CollectorDatagrams"}), 2.0);
  EXPECT_EQ(channel_->counterSnapshot().at({"tms-1", "NetworkPacketsMirrorOut"}), 10.0);

  // In /metrics, the session's sent and received series side by side.
  metrics::Registry registry;
  ASSERT_TRUE(addAgentChannelMetrics(registry, *channel_));
  const std::string text = registry.render();
  EXPECT_NE(
      text.find(
          "tmirror_agent_counter{resource_id=\"tms-1\",name=\"NetworkPacketsMirrorOut\"} 10\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("tmirror_collector_session_counter{session_id=\"tms-1\",network_interface_id="
                      "\"eni-b\",name=\"CollectorDatagrams\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tmirror_collector_session_counter{session_id=\"tms-1\",network_interface_id="
                      "\"eni-b\",name=\"CollectorBytes\"} 200\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("network_interface_id=\"eni-a\""), std::string::npos) << text;
}

TEST_P(AgentChannelTest, ProblemsAreKeptPerInstanceAndReplacedByTheNextPush) {
  json body = {{"InstanceId", "i-0"},
               {"Problems", {{{"ResourceId", "tms-1"}, {"Reason", "target MTU 50 too small"}}}}};
  ASSERT_EQ(agent("POST", "/agent/v1/counters", body.dump()).status, 200);
  auto problems = channel_->problemSnapshot();
  ASSERT_EQ(problems.at("i-0").size(), 1u);
  EXPECT_EQ(problems.at("i-0")[0].first, "tms-1");
  body["Problems"] = json::array();
  ASSERT_EQ(agent("POST", "/agent/v1/counters", body.dump()).status, 200);
  EXPECT_TRUE(channel_->problemSnapshot().at("i-0").empty());
  body["Problems"] = {{{"ResourceId", 5}}};
  EXPECT_EQ(agent("POST", "/agent/v1/counters", body.dump()).status, 400);
}

// The server spreads the fleet's counter reports: with a budget of one report a second, three
// hosts are each asked to report every three seconds; a lone host every second.
TEST_P(AgentChannelTest, TheCountersAnswerSpreadsTheFleetsReports) {
  channel_ = std::make_unique<AgentChannel>(
      *api_, AgentChannelOptions{.health_check_interval = std::chrono::milliseconds(20),
                                 .fleet_reports_per_second = 1});
  const auto interval = [&] {
    const auto r = agent("POST", "/agent/v1/counters", R"({"Interfaces":[]})");
    EXPECT_EQ(r.status, 200) << r.body;
    auto answer = model::parseCountersAnswer(r.body);
    EXPECT_TRUE(answer.has_value());
    return answer ? answer->report_interval : std::chrono::milliseconds(0);
  };
  registerHost("machine-1", json::array({kEth0}));
  for (int i = 0; i < 200 && channel_->reportInterval() != std::chrono::seconds(1); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(interval(), std::chrono::seconds(1));
  registerHost("machine-2", json::array({kEth0}));
  registerHost("machine-3", json::array({kEth0}));
  for (int i = 0; i < 200 && channel_->reportInterval() != std::chrono::seconds(3); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(interval(), std::chrono::seconds(3));
}

TEST_P(AgentChannelTest, AnInterfaceTheHostNoLongerReportsIsDetachedNotForgotten) {
  json eth1 = kEth0;
  eth1["Name"] = "eth1";
  eth1["MacAddress"] = "02:00:00:00:00:0b";
  eth1["PrivateIpAddress"] = "198.51.100.11";
  const json first = registerHost("machine-1", json::array({kEth0, eth1}));
  const std::string eth1_id = first["NetworkInterfaces"][1]["NetworkInterfaceId"];
  auto status = [&] {
    auto r = store_->write([&](store::MirrorStore& s) { return s.networkInterface(eth1_id); });
    EXPECT_TRUE(r && *r);
    return (*r)->attached;
  };
  EXPECT_TRUE(status());
  registerHost("machine-1", json::array({kEth0}));  // eth1 vanished
  EXPECT_FALSE(status());
  const json back = registerHost("machine-1", json::array({kEth0, eth1}));
  EXPECT_EQ(back["NetworkInterfaces"][1]["NetworkInterfaceId"], eth1_id);
  EXPECT_TRUE(status());
}

// A host key is one host: a second live host registering with it (a copied state directory,
// a cloned VM) is refused, naming the host that has it; the host itself, restarted, is not.
TEST_P(AgentChannelTest, ASecondLiveHostWithTheSameKeyIsRefused) {
  const json first = registerHost("copied-key", json::array({kEth0}));
  const std::string eth0_id = first["NetworkInterfaces"][0]["NetworkInterfaceId"];
  json other_nic = kEth0;
  other_nic["MacAddress"] = "02:00:00:00:00:0c";
  other_nic["PrivateIpAddress"] = "198.51.100.12";
  const json body = {{"HostKey", "copied-key"}, {"Hostname", "web-1"}, {"Interfaces", {other_nic}}};
  const auto refused = agent("POST", "/agent/v1/register", body.dump());
  EXPECT_EQ(refused.status, 409) << refused.body;
  const json error = json::parse(refused.body, nullptr, false);
  EXPECT_EQ(error["Error"]["Code"], "DuplicateHostKey") << refused.body;
  const std::string message = error["Error"]["Message"];
  EXPECT_NE(message.find(eth0_id), std::string::npos) << message;
  EXPECT_NE(message.find("--state-dir"), std::string::npos) << message;
  // Nothing of the refused host was written: the instance still has its one interface.
  const auto after = registerHost("copied-key", json::array({kEth0}));  // the owner, restarted
  EXPECT_EQ(after["InstanceId"], first["InstanceId"]);
  ASSERT_EQ(after["NetworkInterfaces"].size(), 1u);
  EXPECT_EQ(after["NetworkInterfaces"][0]["NetworkInterfaceId"], eth0_id);
  // A host that keeps one of its interfaces and gains another is the same host.
  const auto grown = agent(
      "POST", "/agent/v1/register",
      json{{"HostKey", "copied-key"}, {"Hostname", "web-1"}, {"Interfaces", {kEth0, other_nic}}}
          .dump());
  EXPECT_EQ(grown.status, 200) << grown.body;
}

TEST_P(AgentChannelTest, LoadBalancerTargetsSpreadOverHealthyRegisteredCollectors) {
  const std::string arn =
      "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/collectors/0123";
  const json reg = registerHost("machine-1", json::array({kEth0}));
  const std::string instance = reg["InstanceId"];
  const std::string source = reg["NetworkInterfaces"][0]["NetworkInterfaceId"];
  auto registerCollector = [&](const std::string& key, const std::string& mac,
                               const std::string& ip, int mtu) {
    const json body = {
        {"HostKey", key},
        {"Hostname", key},
        {"LoadBalancerArn", arn},
        {"Interfaces",
         {{{"Name", "eth0"}, {"MacAddress", mac}, {"PrivateIpAddress", ip}, {"Mtu", mtu}}}}};
    const auto r = agent("POST", "/agent/v1/register", body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["NetworkInterfaces"][0]["NetworkInterfaceId"].get<std::string>();
  };
  const std::string target = apiCall(
      "Action=CreateTrafficMirrorTarget&NetworkLoadBalancerArn=" + arn, "trafficMirrorTargetId");
  const std::string filter = apiCall("Action=CreateTrafficMirrorFilter", "trafficMirrorFilterId");
  apiCall("Action=CreateTrafficMirrorSession&NetworkInterfaceId=" + source +
              "&TrafficMirrorTargetId=" + target + "&TrafficMirrorFilterId=" + filter +
              "&SessionNumber=1&VirtualNetworkId=7",
          "trafficMirrorSessionId");
  uint32_t mtu = 0;
  auto addresses = [&]() {
    const auto r = agent("GET", "/agent/v1/desired-state", "", "instance-id=" + instance);
    EXPECT_EQ(r.status, 200) << r.body;
    auto config = model::parseHostMirrorConfig(r.body);
    EXPECT_TRUE(config.has_value());
    std::vector<std::string> out;
    for (const auto& session : config->interfaces.at(0).sessions) {
      for (const auto& a : session.target.addresses) {
        out.push_back(packet::formatIpAddress(a));
      }
      mtu = session.target.mtu;
    }
    return out;
  };
  // No member yet: the session has nowhere to go.
  EXPECT_TRUE(addresses().empty());
  const std::string a =
      registerCollector("collector-a", "02:00:00:00:01:0a", "198.51.100.30", 9001);
  const std::string b =
      registerCollector("collector-b", "02:00:00:00:01:0b", "198.51.100.31", 1500);
  auto both = addresses();
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, (std::vector<std::string>{"198.51.100.30", "198.51.100.31"}));
  EXPECT_EQ(mtu, 1500u) << "every member must take every copy: the smallest MTU";
  // Only a reports health; once b's window passes it is left out, and the revision moved
  // (agents' long-polls wake up).
  const int64_t before = store_->write([&](store::MirrorStore& s) { return s.revision(); }).value();
  for (int i = 0; i < 25; ++i) {
    const json health = {{"Interfaces", {{{"NetworkInterfaceId", a}, {"CollectorHealthy", 1}}}}};
    ASSERT_EQ(agent("POST", "/agent/v1/counters", health.dump()).status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(addresses(), (std::vector<std::string>{"198.51.100.30"}));
  EXPECT_GT(store_->write([&](store::MirrorStore& s) { return s.revision(); }).value(), before);
  // b comes back.
  const json health = {{"Interfaces", {{{"NetworkInterfaceId", b}, {"CollectorHealthy", 1}}}}};
  ASSERT_EQ(agent("POST", "/agent/v1/counters", health.dump()).status, 200);
  EXPECT_EQ(addresses().size(), 2u);
  // A bad ARN is refused.
  json bad = {
      {"HostKey", "collector-c"}, {"LoadBalancerArn", "not-an-arn"}, {"Interfaces", json::array()}};
  EXPECT_EQ(agent("POST", "/agent/v1/register", bad.dump()).status, 400);
}

TEST_P(AgentChannelTest, ACollectorLearnsTheSessionsItReceivesWithTheirSourceMacs) {
  const json reg = registerHost("machine-1", json::array({kEth0}));
  const std::string source = reg["NetworkInterfaces"][0]["NetworkInterfaceId"];
  const json collector_body = {{"HostKey", "collector-1"},
                               {"Interfaces",
                                {{{"Name", "eth0"},
                                  {"MacAddress", "02:00:00:00:02:0a"},
                                  {"PrivateIpAddress", "198.51.100.30"}}}}};
  const auto r = agent("POST", "/agent/v1/register", collector_body.dump());
  ASSERT_EQ(r.status, 200);
  const std::string collector =
      json::parse(r.body)["NetworkInterfaces"][0]["NetworkInterfaceId"].get<std::string>();
  const std::string target = apiCall(
      "Action=CreateTrafficMirrorTarget&NetworkInterfaceId=" + collector, "trafficMirrorTargetId");
  const std::string filter = apiCall("Action=CreateTrafficMirrorFilter", "trafficMirrorFilterId");
  const std::string session =
      apiCall("Action=CreateTrafficMirrorSession&NetworkInterfaceId=" + source +
                  "&TrafficMirrorTargetId=" + target + "&TrafficMirrorFilterId=" + filter +
                  "&SessionNumber=1&VirtualNetworkId=77",
              "trafficMirrorSessionId");
  const auto answer =
      agent("GET", "/agent/v1/collector-sessions", "", "network-interface-id=" + collector);
  ASSERT_EQ(answer.status, 200) << answer.body;
  const json sessions = json::parse(answer.body)["Sessions"];
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0]["TrafficMirrorSessionId"], session);
  EXPECT_EQ(sessions[0]["VirtualNetworkId"], 77);
  EXPECT_EQ(sessions[0]["NetworkInterfaceId"], source);
  EXPECT_EQ(sessions[0]["MacAddress"], "02:00:00:00:00:0a");
  // Another interface receives nothing; the parameter is required.
  const auto other =
      agent("GET", "/agent/v1/collector-sessions", "", "network-interface-id=" + source);
  EXPECT_TRUE(json::parse(other.body)["Sessions"].empty());
  EXPECT_EQ(agent("GET", "/agent/v1/collector-sessions").status, 400);
}

INSTANTIATE_TEST_SUITE_P(Stores, AgentChannelTest, testing::kStoreBackends,
                         testing::storeBackendName);

}  // namespace
}  // namespace tmirror::channel
