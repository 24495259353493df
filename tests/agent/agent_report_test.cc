#include "agent/agent_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/control_client.h"

namespace tmirror::agent {
namespace {

AgentSnapshot sample() {
  AgentSnapshot s;
  s.instance_id = "i-0123456789abcdef0";
  s.revision = 9;
  InterfaceReport r;
  r.name = "eth0";
  r.network_interface_id = "eni-0123456789abcdef0";
  r.counters.frames = 100;
  r.counters.fate(rules::PacketFate::Mirrored) = 60;
  r.counters.fate(rules::PacketFate::NotIp) = 30;
  r.counters.skipped = 10;
  r.counters.mirror.in = {.mirror_bytes = 6000,
                          .mirror_packets = 40,
                          .skip_bytes = 500,
                          .skip_packets = 5,
                          .truncated_packets = 2};
  r.counters.mirror.out = {.mirror_bytes = 2000,
                           .mirror_packets = 20,
                           .skip_bytes = 400,
                           .skip_packets = 5,
                           .truncated_packets = 0};
  r.skipped_rate_limit = 7;
  r.skipped_send_failed = 3;
  r.kernel_drops = 4;
  r.sessions["tms-0123456789abcdef0"] = r.counters.mirror;
  s.interfaces.push_back(r);
  s.problems.push_back({"tms-0123456789abcdef1", "target MTU 50 is too small"});
  return s;
}

TEST(AgentReportTest, JsonCarriesCloudWatchNamesFatesAndProblems) {
  const auto j = nlohmann::json::parse(snapshotToJson(sample()));
  EXPECT_EQ(j["InstanceId"], "i-0123456789abcdef0");
  EXPECT_EQ(j["Revision"], 9);
  const auto& i = j["Interfaces"][0];
  EXPECT_EQ(i["NetworkInterfaceId"], "eni-0123456789abcdef0");
  EXPECT_EQ(i["NetworkMirrorIn"], 6000);
  EXPECT_EQ(i["NetworkPacketsMirrorOut"], 20);
  EXPECT_EQ(i["NetworkSkipMirrorIn"], 500);
  EXPECT_EQ(i["NetworkPacketsSkipMirrorOut"], 5);
  EXPECT_EQ(i["Frames"], 100);
  EXPECT_EQ(i["Mirrored"], 60);
  EXPECT_EQ(i["NotIp"], 30);
  EXPECT_EQ(i["SkippedRateLimit"], 7);
  EXPECT_EQ(i["SkippedSendFailed"], 3);
  EXPECT_EQ(i["KernelDrops"], 4);
  const auto& session = j["Sessions"][0];
  EXPECT_EQ(session["TrafficMirrorSessionId"], "tms-0123456789abcdef0");
  EXPECT_EQ(session["NetworkMirrorIn"], 6000);
  EXPECT_EQ(j["Problems"][0]["ResourceId"], "tms-0123456789abcdef1");
}

TEST(AgentReportTest, PrometheusTextHasTypedFamiliesAndLabelledSamples) {
  const std::string text = snapshotToPrometheus(sample());
  EXPECT_NE(text.find("# TYPE tmirror_NetworkMirrorIn counter\n"), std::string::npos);
  EXPECT_NE(text.find("tmirror_NetworkMirrorIn{interface=\"eth0\",network_interface_id=\"eni-"
                      "0123456789abcdef0\"} 6000\n"),
            std::string::npos);
  EXPECT_NE(text.find("tmirror_NetworkMirrorIn{traffic_mirror_session_id=\"tms-0123456789abcdef0\"}"
                      " 6000\n"),
            std::string::npos);
  EXPECT_NE(text.find("tmirror_agent_skipped_total{interface=\"eth0\",network_interface_id=\"eni-"
                      "0123456789abcdef0\",reason=\"rate_limit\"} 7\n"),
            std::string::npos);
  EXPECT_NE(text.find("tmirror_agent_kernel_drops_total{interface=\"eth0\",network_interface_id="
                      "\"eni-0123456789abcdef0\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("tmirror_agent_problems 1\n"), std::string::npos);
}

}  // namespace
}  // namespace tmirror::agent
