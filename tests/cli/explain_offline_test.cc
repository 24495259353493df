// `tmirror explain --desired-state FILE`: the binary explains the example capture against the
// example sessions without a server, in text and JSON, and refuses bad requests clearly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/tmirror_process.h"

namespace tmirror::cli::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kEni = "eni-0a1b2c3d4e5f60718";

std::vector<std::string> explainArgs(std::vector<std::string> more) {
  std::vector<std::string> args{"explain", "--desired-state",
                                (sourceDir() / "examples/web-not-ssh.json").string(),
                                "--network-interface-id", kEni};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(ExplainOffline, EveryFrameOfTheExampleCaptureGetsAVerdictWithItsReasons) {
  const std::string pcap = (sourceDir() / "examples/sample.pcapng").string();
  const auto result = runTmirror(explainArgs({"--pcap", pcap, "--output", "json"}));
  ASSERT_EQ(result.exit_code, 0) << describe(result);
  const auto reports = nlohmann::json::parse(result.out);
  ASSERT_TRUE(reports.is_array());
  ASSERT_GE(reports.size(), 9u);
  // Frame 3: web, accepted by rule 20 after rule 10 (SSH) missed on its port.
  const auto& web = reports[2];
  EXPECT_EQ(web["Packet"]["Frame"], 3);
  EXPECT_EQ(web["Direction"], "ingress");
  EXPECT_EQ(web["Verdict"]["Mirrored"], true);
  EXPECT_EQ(web["Verdict"]["VirtualNetworkId"], 4242);
  EXPECT_EQ(web["Verdict"]["TargetAddress"], "198.51.100.20");
  EXPECT_EQ(web["Sessions"][0]["Rules"][0]["Reason"], "destination port 80 is outside 22");
  // Frame 7: SSH, rejected by rule 10.
  const auto& ssh = reports[6];
  EXPECT_EQ(ssh["Verdict"]["Mirrored"], false);
  EXPECT_EQ(ssh["Verdict"]["Fate"], "not_matched");
  EXPECT_EQ(ssh["Sessions"][0]["Outcome"], "rejected");

  const auto one = runTmirror(explainArgs({"--pcap", pcap, "--frame", "7"}));
  ASSERT_EQ(one.exit_code, 0) << describe(one);
  EXPECT_THAT(one.out, HasSubstr("frame 7: tcp 192.0.2.33:40003 > 198.51.100.10:22"));
  EXPECT_THAT(one.out, HasSubstr("rule 10 reject tcp 0.0.0.0/0 > 0.0.0.0/0 port 22: MATCHES"));
  EXPECT_THAT(one.out,
              HasSubstr("NOT MIRRORED: no session accepted it (session 1: rejected by rule 10)"));
}

TEST(ExplainOffline, ExclusionsAreNamed) {
  const auto dhcp =
      runTmirror(explainArgs({"--packet", "udp 198.51.100.10:68 > 255.255.255.255:67"}));
  ASSERT_EQ(dhcp.exit_code, 0) << describe(dhcp);
  EXPECT_THAT(dhcp.out, HasSubstr("egress"));
  EXPECT_THAT(dhcp.out, HasSubstr("NOT MIRRORED: DHCP (UDP ports 67 and 68) is never mirrored"));
  EXPECT_THAT(dhcp.out, HasSubstr("not tried: an exclusion decided"));
  const auto own =
      runTmirror(explainArgs({"--packet", "udp 198.51.100.10:50000 > 198.51.100.20:4789"}));
  ASSERT_EQ(own.exit_code, 0) << describe(own);
  EXPECT_THAT(own.out, HasSubstr("it is a mirror copy this host sends to a target"));
}

TEST(ExplainOffline, BadRequestsAreRefusedWithTheReason) {
  const auto unknown = runTmirror(
      {"explain", "--desired-state", (sourceDir() / "examples/web-not-ssh.json").string(),
       "--network-interface-id", "eni-0000000000000000f", "--packet", "icmp 1.1.1.1 > 2.2.2.2"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("eni-0000000000000000f is not in"));
  const auto no_direction = runTmirror(explainArgs({"--packet", "icmp 192.0.2.1 > 192.0.2.2"}));
  EXPECT_EQ(no_direction.exit_code, 1);
  EXPECT_THAT(no_direction.err, HasSubstr("--direction ingress|egress is needed"));
  const auto bad = runTmirror(explainArgs({"--packet", "tcp 192.0.2.1 > 192.0.2.2"}));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("TCP and UDP need a port"));
  const auto no_frame = runTmirror(explainArgs(
      {"--pcap", (sourceDir() / "examples/sample.pcapng").string(), "--frame", "9999"}));
  EXPECT_EQ(no_frame.exit_code, 1);
  EXPECT_THAT(no_frame.err, HasSubstr("has no frame 9999"));
}

}  // namespace
}  // namespace tmirror::cli::testing
