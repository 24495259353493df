// `tmirror mirror-pcap -w`: the VXLAN packets it writes, as tshark decodes them and as our own
// decapsulation reads them back, and the summary it prints.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/mirror_inputs.h"
#include "cli/mirror_traffic.h"
#include "cli/tmirror_process.h"
#include "cli/tshark_fields.h"
#include "packet/frame.h"
#include "packet/ip_address.h"
#include "packet/vxlan.h"
#include "pcap/scratch_dir.h"

namespace tmirror::cli::testing {
namespace {

using pcap::testing::ScratchDir;
using tmirror::testing::toHex;

constexpr std::size_t kOuterHeaderSize = 50;  // Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8

struct VxlanCase {
  const char* name;
  uint32_t vni;
  std::optional<uint32_t> packet_length;
  const char* outer_dst_mac;  // nullptr: the default, all zeros
};

void PrintTo(const VxlanCase& c, std::ostream* os) {
  *os << c.name;
}

// One run over bothDirectionsTraffic() with a single accept-all session.
class MirrorPcap : public ::testing::TestWithParam<VxlanCase> {
 protected:
  void SetUp() override {
    frames_ = bothDirectionsTraffic();
    writePcap(dir_.file("in.pcap"), bytesOf(frames_));
    SessionSpec session{.number = 1, .vni = GetParam().vni};
    session.packet_length = GetParam().packet_length;
    writeJson(dir_.file("cfg.json"), hostConfig({session}));
    std::vector<std::string> args = {"mirror-pcap",
                                     "-r",
                                     dir_.file("in.pcap").string(),
                                     "-c",
                                     dir_.file("cfg.json").string(),
                                     "-w",
                                     out().string()};
    if (GetParam().outer_dst_mac != nullptr) {
      args.insert(args.end(), {"--outer-dst-mac", GetParam().outer_dst_mac});
    }
    run_ = runTmirror(args);
    ASSERT_EQ(run_.exit_code, 0) << describe(run_);
  }

  std::filesystem::path out() const { return dir_.file("out.pcap"); }

  // Bytes of `frame` a copy carries.
  std::size_t innerSize(const TrafficFrame& frame) const {
    return std::min<std::size_t>(frame.bytes.size(),
                                 GetParam().packet_length.value_or(frame.bytes.size()));
  }

  ScratchDir dir_;
  std::vector<TrafficFrame> frames_;
  ProcessResult run_;
};

// First occurrence of a field (the outer header), or "" when absent.
std::string outer(const TsharkPacket& packet, const std::string& field) {
  const auto& values = packet.at(field);
  return values.empty() ? "" : values.front();
}

// The occurrence after the outer one (the inner frame's), or "" when absent.
std::string inner(const TsharkPacket& packet, const std::string& field) {
  const auto& values = packet.at(field);
  return values.size() < 2 ? "" : values[1];
}

TEST_P(MirrorPcap, WritesVxlanThatTsharkDecodesWithSessionVni) {
  if (!haveTshark()) {
    GTEST_SKIP() << "tshark is not installed at " << kTshark << "; apt-get install tshark";
  }
  const std::vector<std::string> fields = {
      "vxlan.vni", "vxlan.flags", "eth.src",     "eth.dst",     "ip.src",       "ip.dst",
      "ip.ttl",    "ip.flags.df", "udp.srcport", "udp.dstport", "udp.checksum", "ipv6.src",
      "ipv6.dst",  "tcp.srcport", "tcp.dstport", "vlan.id"};
  const auto packets = tsharkDecode(out(), fields);
  ASSERT_TRUE(packets.has_value()) << "tshark could not read " << out();
  ASSERT_EQ(packets->size(), frames_.size()) << "every frame is accepted, so every one is copied";

  const std::string outer_dst_mac =
      GetParam().outer_dst_mac != nullptr ? GetParam().outer_dst_mac : "00:00:00:00:00:00";
  for (std::size_t i = 0; i < frames_.size(); ++i) {
    const TrafficFrame& frame = frames_[i];
    const TsharkPacket& p = (*packets)[i];
    SCOPED_TRACE("packet " + std::to_string(i) + " (" + frame.name + ")");

    // Outer headers, AWS-style.
    ASSERT_EQ(p.at("vxlan.vni").size(), 1u) << "decoded as exactly one VXLAN packet";
    EXPECT_EQ(outer(p, "vxlan.vni"), std::to_string(GetParam().vni));
    EXPECT_EQ(outer(p, "vxlan.flags"), "0x0800") << "only the I flag";
    EXPECT_EQ(outer(p, "eth.src"), kInterfaceMac);
    EXPECT_EQ(outer(p, "eth.dst"), outer_dst_mac);
    EXPECT_EQ(outer(p, "ip.src"), kInterfaceIp);
    EXPECT_EQ(outer(p, "ip.dst"), kTargetIp);
    EXPECT_EQ(outer(p, "ip.ttl"), "255");
    EXPECT_EQ(outer(p, "ip.flags.df"), "0");
    EXPECT_EQ(outer(p, "udp.dstport"), "4789");
    EXPECT_EQ(outer(p, "udp.checksum"), "0x0000");

    // The inner frame, as captured.
    ASSERT_EQ(p.at("eth.src").size(), 2u) << "one inner Ethernet frame";
    EXPECT_EQ(inner(p, "eth.src"), frame.src_mac);
    EXPECT_EQ(inner(p, "eth.dst"), frame.dst_mac);
    if (frame.ipv6) {
      EXPECT_EQ(outer(p, "ipv6.src"), frame.src_ip);
      EXPECT_EQ(outer(p, "ipv6.dst"), frame.dst_ip);
      EXPECT_EQ(inner(p, "ip.src"), "") << "no inner IPv4 header";
    } else {
      EXPECT_EQ(inner(p, "ip.src"), frame.src_ip);
      EXPECT_EQ(inner(p, "ip.dst"), frame.dst_ip);
      EXPECT_EQ(inner(p, "ip.ttl"), "64") << "the inner TTL is the captured one";
    }
    if (frame.tcp) {
      EXPECT_EQ(outer(p, "tcp.srcport"), std::to_string(frame.src_port));
      EXPECT_EQ(outer(p, "tcp.dstport"), std::to_string(frame.dst_port));
    } else {
      EXPECT_EQ(inner(p, "udp.srcport"), std::to_string(frame.src_port));
      EXPECT_EQ(inner(p, "udp.dstport"), std::to_string(frame.dst_port));
    }
    if (frame.vlan_id >= 0) {
      EXPECT_EQ(outer(p, "vlan.id"), std::to_string(frame.vlan_id));
    } else {
      EXPECT_TRUE(p.at("vlan.id").empty());
    }
  }

  // Both directions of a flow hash to the same outer source port.
  for (std::size_t i = 0; i < frames_.size(); ++i) {
    for (std::size_t j = i + 1; j < frames_.size(); ++j) {
      if (frames_[i].flow == frames_[j].flow) {
        EXPECT_EQ(outer((*packets)[i], "udp.srcport"), outer((*packets)[j], "udp.srcport"))
            << frames_[i].name << " and " << frames_[j].name;
      }
    }
  }
}

TEST_P(MirrorPcap, InnerFrameIsTheOriginalBytesOrTheirPrefix) {
  const std::vector<PcapRecord> records = readPcap(out());
  ASSERT_EQ(records.size(), frames_.size());
  for (std::size_t i = 0; i < frames_.size(); ++i) {
    const TrafficFrame& frame = frames_[i];
    const PcapRecord& record = records[i];
    SCOPED_TRACE("record " + std::to_string(i) + " (" + frame.name + ")");
    const packet::DecapsulatedFrame decap = packet::decapsulateFrame(record.bytes);
    ASSERT_EQ(decap.status, packet::DecapStatus::Ok) << packet::decapStatusName(decap.status);
    EXPECT_EQ(decap.vni, GetParam().vni);
    EXPECT_EQ(decap.outer_dst_port, packet::kVxlanPort);
    EXPECT_EQ(packet::formatIpAddress(decap.outer_src), kInterfaceIp);
    EXPECT_EQ(packet::formatIpAddress(decap.outer_dst), kTargetIp);
    const std::size_t expected_size = innerSize(frame);
    EXPECT_EQ(toHex(decap.inner), toHex(std::span(frame.bytes).first(expected_size)));
    // The copy is what would go on the wire: the record is complete, and its length agrees
    // with the outer IPv4 total length.
    EXPECT_EQ(record.bytes.size(), kOuterHeaderSize + expected_size);
    EXPECT_EQ(record.original_length, kOuterHeaderSize + expected_size);
    const auto ip_total_length = static_cast<std::size_t>(
        (static_cast<unsigned>(record.bytes[16]) << 8) | static_cast<unsigned>(record.bytes[17]));
    EXPECT_EQ(ip_total_length + 14, record.original_length);
  }
}

TEST_P(MirrorPcap, BothDirectionsOfAFlowShareOuterSourcePort) {
  const std::vector<PcapRecord> records = readPcap(out());
  ASSERT_EQ(records.size(), frames_.size());
  for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
    if (frames_[i].flow != frames_[i + 1].flow) {
      continue;
    }
    const auto a = packet::decapsulateFrame(records[i].bytes);
    const auto b = packet::decapsulateFrame(records[i + 1].bytes);
    EXPECT_EQ(a.outer_src_port, b.outer_src_port)
        << frames_[i].name << " / " << frames_[i + 1].name;
  }
}

TEST_P(MirrorPcap, SummaryCountsEveryFrameByDirectionAndSession) {
  const Json summary = parseSummary(run_.out);
  ASSERT_TRUE(summary.contains("Frames")) << run_.out;
  EXPECT_EQ(summary["NetworkInterfaceId"], kInterfaceId);
  EXPECT_EQ(summary["Frames"], frames_.size());
  EXPECT_EQ(sumOfFates(summary), frames_.size());
  EXPECT_EQ(summary["Fates"]["mirrored"], frames_.size());
  EXPECT_EQ(summary["CopiesWritten"], frames_.size());
  EXPECT_EQ(summary["CopiesSent"], 0);

  uint64_t in_packets = 0;
  uint64_t in_bytes = 0;
  uint64_t out_packets = 0;
  uint64_t out_bytes = 0;
  uint64_t truncated_in = 0;
  for (const auto& frame : frames_) {
    const bool inbound = frame.dst_mac == kInterfaceMac;
    (inbound ? in_packets : out_packets) += 1;
    (inbound ? in_bytes : out_bytes) += frame.bytes.size();
    if (inbound && innerSize(frame) < frame.bytes.size()) {
      ++truncated_in;
    }
  }
  ASSERT_EQ(summary["Sessions"].size(), 1u);
  const Json& session = summary["Sessions"][0];
  EXPECT_EQ(session["VirtualNetworkId"], GetParam().vni);
  EXPECT_EQ(session["SessionNumber"], 1);
  for (const Json* counters : {&summary["Counters"], &session["Counters"]}) {
    EXPECT_EQ((*counters)["NetworkPacketsMirrorIn"], in_packets);
    EXPECT_EQ((*counters)["NetworkPacketsMirrorOut"], out_packets);
    EXPECT_EQ((*counters)["NetworkMirrorIn"], in_bytes) << "bytes of the frames, not the copies";
    EXPECT_EQ((*counters)["NetworkMirrorOut"], out_bytes);
    EXPECT_EQ((*counters)["TruncatedPacketsIn"], truncated_in);
    EXPECT_EQ((*counters)["TruncatedPacketsOut"], 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Vni, MirrorPcap,
    ::testing::Values(VxlanCase{"MaxVniWholeFrames", 16777215, std::nullopt, nullptr},
                      VxlanCase{"VniZeroPacketLength200", 0, 200, "02:00:00:00:00:fe"}),
    [](const ::testing::TestParamInfo<VxlanCase>& case_info) {
      return std::string(case_info.param.name);
    });

TEST(MirrorPcapQuiet, QuietPrintsNothingButStillWrites) {
  ScratchDir dir;
  writePcap(dir.file("in.pcap"), bytesOf(bothDirectionsTraffic()));
  writeJson(dir.file("cfg.json"), hostConfig({SessionSpec{}}));
  const ProcessResult run =
      runTmirror({"mirror-pcap", "-q", "-r", dir.file("in.pcap").string(), "-c",
                  dir.file("cfg.json").string(), "-w", dir.file("out.pcap").string()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(readPcap(dir.file("out.pcap")).size(), bothDirectionsTraffic().size());
}

// Frames the capture cut short (snaplen): a live agent would have seen, and copied, the whole
// frame, so the record's original length is that of the copy the agent would have sent.
struct SnaplenCase {
  const char* name;
  std::optional<uint32_t> packet_length;
  uint32_t captured;
  uint32_t expected_captured_inner;
  uint32_t expected_original_inner;
};

void PrintTo(const SnaplenCase& c, std::ostream* os) {
  *os << c.name;
}

class MirrorPcapSnaplen : public ::testing::TestWithParam<SnaplenCase> {};

TEST_P(MirrorPcapSnaplen, RecordOriginalLengthIsThatOfTheCopyTheAgentWouldSend) {
  const SnaplenCase& c = GetParam();
  ScratchDir dir;
  const Frame frame =
      trafficFrame("long-in", 1, true, false, true, kPeerIp, 40030, 80, -1, 1400).bytes;
  ASSERT_EQ(frame.size(), kLongFrameSize);
  writePcap(dir.file("in.pcap"),
            std::vector<CapturedFrame>{
                {Frame(frame.begin(), frame.begin() + c.captured), kLongFrameSize}});
  SessionSpec session;
  session.packet_length = c.packet_length;
  writeJson(dir.file("cfg.json"), hostConfig({session}));
  const ProcessResult run =
      runTmirror({"mirror-pcap", "-r", dir.file("in.pcap").string(), "-c",
                  dir.file("cfg.json").string(), "-w", dir.file("out.pcap").string()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const std::vector<PcapRecord> records = readPcap(dir.file("out.pcap"));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].bytes.size(), kOuterHeaderSize + c.expected_captured_inner);
  const auto decap = packet::decapsulateFrame(records[0].bytes);
  ASSERT_EQ(decap.status, packet::DecapStatus::Ok);
  EXPECT_EQ(toHex(decap.inner), toHex(std::span(frame).first(c.expected_captured_inner)));
  const uint32_t expected_original = kOuterHeaderSize + c.expected_original_inner;
  // The record says how long the agent's copy of the whole frame would be:
  // 50 + min(frame length on the wire, PacketLength, MTU - 36).
  EXPECT_EQ(records[0].original_length, expected_original);
}

INSTANTIATE_TEST_SUITE_P(Capture, MirrorPcapSnaplen,
                         ::testing::Values(SnaplenCase{"WholeFrameSession", std::nullopt, 100, 100,
                                                       kLongFrameSize},
                                           SnaplenCase{"CutBelowPacketLength", 200, 100, 100, 200},
                                           SnaplenCase{"CutAbovePacketLength", 200, 300, 200, 200}),
                         [](const ::testing::TestParamInfo<SnaplenCase>& case_info) {
                           return std::string(case_info.param.name);
                         });

// `make run`: the sample capture through the sample config.
TEST(MirrorPcapExample, SampleMirrorsWebBothWaysButNotSshArpOrResolverDns) {
  ScratchDir dir;
  const auto out = dir.file("out.pcap");
  const ProcessResult run =
      runTmirror({"mirror-pcap", "-r", (sourceDir() / "examples/sample.pcapng").string(), "-c",
                  (sourceDir() / "examples/web-not-ssh.json").string(), "-w", out.string()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);

  const Json summary = parseSummary(run.out);
  ASSERT_TRUE(summary.contains("Frames")) << run.out;
  EXPECT_EQ(summary["Frames"], sumOfFates(summary));
  EXPECT_EQ(summary["Fates"]["resolver_dns"], 1);
  EXPECT_EQ(summary["Fates"]["not_ip"], 1) << "the ARP request";
  EXPECT_EQ(summary["Fates"]["unknown_direction"], 0) << "epb_flags give every direction";

  const std::vector<PcapRecord> records = readPcap(out);
  EXPECT_EQ(summary["CopiesWritten"], records.size());
  int web_in = 0;
  int web_out = 0;
  for (const auto& record : records) {
    const auto decap = packet::decapsulateFrame(record.bytes);
    ASSERT_EQ(decap.status, packet::DecapStatus::Ok);
    EXPECT_EQ(decap.vni, 4242u);
    packet::ParsedFrame parsed;
    packet::parseFrame(decap.inner, parsed);
    SCOPED_TRACE(toHex(decap.inner));
    ASSERT_EQ(parsed.status, packet::FrameStatus::Ok) << "no ARP or other non-IP frame";
    ASSERT_EQ(parsed.protocol, packet::kProtoTcp) << "no DNS, no ICMP";
    EXPECT_NE(parsed.src_port, 22);
    EXPECT_NE(parsed.dst_port, 22);
    const bool inbound = parsed.dst_port == 80 || parsed.dst_port == 443;
    const bool outbound = parsed.src_port == 80 || parsed.src_port == 443;
    EXPECT_TRUE(inbound || outbound) << parsed.src_port << " -> " << parsed.dst_port;
    web_in += inbound ? 1 : 0;
    web_out += outbound ? 1 : 0;
  }
  EXPECT_GT(web_in, 0);
  EXPECT_GT(web_out, 0);
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorIn"], web_in);
  EXPECT_EQ(summary["Counters"]["NetworkPacketsMirrorOut"], web_out);

  if (haveTshark()) {
    const auto packets = tsharkDecode(out, {"vxlan.vni", "tcp.port", "arp.opcode", "dns.id"});
    ASSERT_TRUE(packets.has_value());
    ASSERT_EQ(packets->size(), records.size());
    for (const auto& p : *packets) {
      EXPECT_EQ(p.at("vxlan.vni"), std::vector<std::string>{"4242"});
      EXPECT_TRUE(std::find(p.at("tcp.port").begin(), p.at("tcp.port").end(), "22") ==
                  p.at("tcp.port").end());
      EXPECT_TRUE(p.at("arp.opcode").empty());
      EXPECT_TRUE(p.at("dns.id").empty());
    }
  }
}

}  // namespace
}  // namespace tmirror::cli::testing
