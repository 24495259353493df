// Where mirror-pcap takes each frame's direction from (pcapng epb_flags or MAC addresses), and
// how the summary accounts for every frame, as the printed JSON shows.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/mirror_inputs.h"
#include "cli/mirror_traffic.h"
#include "cli/tmirror_process.h"
#include "pcap/pcapng_builder.h"
#include "pcap/scratch_dir.h"

namespace tmirror::cli::testing {
namespace {

using pcap::testing::ByteOrder;
using pcap::testing::PcapngBuilder;
using pcap::testing::PcapngOption;
using pcap::testing::ScratchDir;

constexpr uint32_t kEpbInbound = 1;
constexpr uint32_t kEpbOutbound = 2;

Frame tcpFrame(bool mac_says_inbound, std::size_t payload) {
  return trafficFrame("tcp", 1, mac_says_inbound, false, true, kPeerIp, 40001, 80, -1, payload)
      .bytes;
}

// Frames whose epb_flags contradict their MAC addresses, plus one without flags; payload sizes
// differ so that byte counters tell which frames were counted where.
class MirrorPcapDirection : public ::testing::Test {
 protected:
  void SetUp() override {
    PcapngBuilder builder(ByteOrder::Little);
    builder.sectionHeader().interfaceDescription(kLinkTypeEthernet, 65535, 9);
    auto add = [&](const Frame& frame, std::vector<PcapngOption> options) {
      builder.enhancedPacket(0, 1'700'000'000'000'000'000 + frames_.size(), frame,
                             static_cast<uint32_t>(frame.size()), options);
      frames_.push_back(frame);
    };
    add(tcpFrame(false, 10), {PcapngBuilder::epbFlags(kEpbInbound, ByteOrder::Little)});
    add(tcpFrame(false, 20), {PcapngBuilder::epbFlags(kEpbInbound, ByteOrder::Little)});
    add(tcpFrame(true, 30), {PcapngBuilder::epbFlags(kEpbOutbound, ByteOrder::Little)});
    add(tcpFrame(true, 40), {});                                               // MAC only
    add(tcpFrame(true, 50), {PcapngBuilder::epbFlags(0, ByteOrder::Little)});  // "not known"
    dir_.write("in.pcapng", builder.bytes());
    writeJson(dir_.file("cfg.json"), hostConfig({SessionSpec{}}));
  }

  Json runWithDirection(const std::string& direction) {
    const ProcessResult run = runTmirror(
        {"mirror-pcap", "-r", dir_.file("in.pcapng").string(), "-c", dir_.file("cfg.json").string(),
         "-w", dir_.file("out.pcap").string(), "--direction", direction});
    EXPECT_EQ(run.exit_code, 0) << describe(run);
    return parseSummary(run.out);
  }

  uint64_t bytesOf(std::initializer_list<std::size_t> indexes) const {
    uint64_t sum = 0;
    for (std::size_t i : indexes) {
      sum += frames_[i].size();
    }
    return sum;
  }

  ScratchDir dir_;
  std::vector<Frame> frames_;
};

TEST_F(MirrorPcapDirection, FlagsModeTrustsEpbFlagsAndCountsTheRestUnknown) {
  const Json summary = runWithDirection("flags");
  ASSERT_TRUE(summary.contains("Counters")) << summary.dump();
  EXPECT_EQ(summary["Frames"], 5);
  EXPECT_EQ(sumOfFates(summary), 5u);
  EXPECT_EQ(summary["Fates"]["mirrored"], 3);
  EXPECT_EQ(summary["Fates"]["unknown_direction"], 2) << "no flags, or flags saying 'unknown'";
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorIn"], 2);
  EXPECT_EQ(summary["Counters"]["NetworkMirrorIn"], bytesOf({0, 1}));
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorOut"], 1);
  EXPECT_EQ(summary["Counters"]["NetworkMirrorOut"], bytesOf({2}));
}

TEST_F(MirrorPcapDirection, AutoModeTrustsEpbFlagsAndFallsBackToMac) {
  const Json summary = runWithDirection("auto");
  ASSERT_TRUE(summary.contains("Counters")) << summary.dump();
  EXPECT_EQ(summary["Frames"], 5);
  EXPECT_EQ(sumOfFates(summary), 5u);
  EXPECT_EQ(summary["Fates"]["mirrored"], 5);
  EXPECT_EQ(summary["Fates"]["unknown_direction"], 0);
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorIn"], 4);
  EXPECT_EQ(summary["Counters"]["NetworkMirrorIn"], bytesOf({0, 1, 3, 4}));
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorOut"], 1);
  EXPECT_EQ(summary["Counters"]["NetworkMirrorOut"], bytesOf({2}));
}

TEST_F(MirrorPcapDirection, AutoIsTheDefault) {
  const ProcessResult run =
      runTmirror({"mirror-pcap", "-r", dir_.file("in.pcapng").string(), "-c",
                  dir_.file("cfg.json").string(), "-w", dir_.file("out.pcap").string()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(parseSummary(run.out)["Counters"], runWithDirection("auto")["Counters"]);
}

TEST_F(MirrorPcapDirection, MacModeIgnoresEpbFlags) {
  const Json summary = runWithDirection("mac");
  ASSERT_TRUE(summary.contains("Counters")) << summary.dump();
  EXPECT_EQ(summary["Frames"], 5);
  EXPECT_EQ(sumOfFates(summary), 5u);
  EXPECT_EQ(summary["Fates"]["mirrored"], 5);
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorIn"], 3);
  EXPECT_EQ(summary["Counters"]["NetworkMirrorIn"], bytesOf({2, 3, 4}));
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorOut"], 2);
  EXPECT_EQ(summary["Counters"]["NetworkMirrorOut"], bytesOf({0, 1}));
}

TEST(MirrorPcapDirectionClassic, FlagsModeOnClassicPcapKnowsNoDirection) {
  ScratchDir dir;
  const auto frames = bytesOf(bothDirectionsTraffic());
  writePcap(dir.file("in.pcap"), frames);
  writeJson(dir.file("cfg.json"), hostConfig({SessionSpec{}}));
  const ProcessResult run = runTmirror({"mirror-pcap", "-r", dir.file("in.pcap").string(), "-c",
                                        dir.file("cfg.json").string(), "-w",
                                        dir.file("out.pcap").string(), "--direction", "flags"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const Json summary = parseSummary(run.out);
  EXPECT_EQ(summary["Frames"], frames.size());
  EXPECT_EQ(summary["Fates"]["unknown_direction"], frames.size());
  EXPECT_EQ(summary["CopiesWritten"], 0);
  EXPECT_TRUE(readPcap(dir.file("out.pcap")).empty()) << "an empty but valid pcap";
}

// Every fate the engine knows, each earned by one kind of frame, over two sessions.
TEST(MirrorPcapSummary, EveryFrameIsAccountedOnceWithItsReason) {
  ScratchDir dir;
  const char* kControlIp = "203.0.113.5";
  auto tcp = [](bool inbound, const char* peer, uint16_t peer_port, uint16_t local_port) {
    return trafficFrame("", 0, inbound, false, true, peer, peer_port, local_port).bytes;
  };
  Frame truncated_ip = tcp(true, kPeerIp, 40001, 80);
  truncated_ip.resize(14 + 10);
  const std::vector<Frame> frames = {
      tcp(true, kPeerIp, 40001, 80),                                                  // session 1
      tcp(true, kPeerIp, 40002, 443),                                                 // session 2
      tcp(false, kPeerIp, 40002, 443),                                                // session 2
      trafficFrame("", 0, true, true, true, kPeerIp6, 40003, 80).bytes,               // session 2
      trafficFrame("", 0, true, false, false, kPeerIp, 5000, 6000).bytes,             // not_matched
      PacketBuilder().macs("ff:ff:ff:ff:ff:ff", kPeerMac).etherType(0x0806).build(),  // not_ip
      trafficFrame("", 0, false, false, false, kResolverIp, 53, 53000).bytes,  // resolver_dns
      trafficFrame("", 0, true, false, false, kResolverIp, 53, 53000).bytes,   // resolver_dns
      PacketBuilder()
          .macs("ff:ff:ff:ff:ff:ff", kInterfaceMac)
          .ipv4("0.0.0.0", "255.255.255.255")
          .udp(68, 67)
          .build(),                                                            // dhcp
      trafficFrame("", 0, false, false, false, kTargetIp, 4789, 50000).bytes,  // own_vxlan
      tcp(false, kControlIp, 8443, 41000),                                     // control_channel
      truncated_ip,                                                            // malformed
      PacketBuilder().macs(kOtherMac, kPeerMac).ipv4(kPeerIp, "192.0.2.99").tcp(1, 2).build(),
  };
  writePcap(dir.file("in.pcap"), frames);

  SessionSpec web{.number = 1, .vni = 101};
  web.ingress_rules =
      Json::array({filterRule(10, "accept", 6, "0.0.0.0/0", "0.0.0.0/0", std::pair{80, 80})});
  web.egress_rules = Json::array();
  SessionSpec tcp_all{.number = 2, .vni = 102};
  tcp_all.ingress_rules = Json::array({filterRule(10, "accept", 6, "0.0.0.0/0", "0.0.0.0/0"),
                                       filterRule(20, "accept", 6, "::/0", "::/0")});
  tcp_all.egress_rules = tcp_all.ingress_rules;
  Json config = hostConfig({tcp_all, web});  // listed out of order: evaluation is by number
  config["ControlEndpoints"] = Json::array({{{"Address", kControlIp}, {"Port", 8443}}});
  writeJson(dir.file("cfg.json"), config);

  const ProcessResult run =
      runTmirror({"mirror-pcap", "-r", dir.file("in.pcap").string(), "-c",
                  dir.file("cfg.json").string(), "-w", dir.file("out.pcap").string()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const Json summary = parseSummary(run.out);
  ASSERT_TRUE(summary.contains("Fates")) << run.out;

  EXPECT_EQ(summary["Frames"], frames.size());
  EXPECT_EQ(sumOfFates(summary), frames.size());
  const Json expected_fates = {{"mirrored", 4},         {"not_matched", 1},  {"not_ip", 1},
                               {"malformed", 1},        {"dhcp", 1},         {"own_vxlan", 1},
                               {"control_channel", 1},  {"resolver_dns", 2}, {"skipped", 0},
                               {"unknown_direction", 1}};
  EXPECT_EQ(summary["Fates"], expected_fates) << summary["Fates"].dump(2);
  EXPECT_EQ(summary["Malformed"], Json({{"truncated_ipv4_header", 1}}));
  EXPECT_EQ(summary["CopiesWritten"], 4);

  ASSERT_EQ(summary["Sessions"].size(), 2u);
  const Json& first = summary["Sessions"][0];
  const Json& second = summary["Sessions"][1];
  EXPECT_EQ(first["SessionNumber"], 1);
  EXPECT_EQ(first["VirtualNetworkId"], 101);
  EXPECT_EQ(first["Counters"]["NetworkPacketsMirrorIn"], 1);
  EXPECT_EQ(first["Counters"]["NetworkMirrorIn"], frames[0].size());
  EXPECT_EQ(first["Counters"]["NetworkPacketsMirrorOut"], 0);
  EXPECT_EQ(second["SessionNumber"], 2);
  EXPECT_EQ(second["VirtualNetworkId"], 102);
  EXPECT_EQ(second["Counters"]["NetworkPacketsMirrorIn"], 2);
  EXPECT_EQ(second["Counters"]["NetworkMirrorIn"], frames[1].size() + frames[3].size());
  EXPECT_EQ(second["Counters"]["NetworkPacketsMirrorOut"], 1);
  EXPECT_EQ(second["Counters"]["NetworkMirrorOut"], frames[2].size());
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorIn"], 3);
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorOut"], 1);
  for (const char* name : {"NetworkPacketsSkipMirrorIn", "NetworkPacketsSkipMirrorOut",
                           "TruncatedPacketsIn", "TruncatedPacketsOut"}) {
    EXPECT_EQ(summary["Counters"][name], 0) << name;
  }
}

}  // namespace
}  // namespace tmirror::cli::testing
