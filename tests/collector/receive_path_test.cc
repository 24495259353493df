// Decap + admission + demux, with datagrams from the agent's VxlanEncapsulator and hostile ones.
#include "collector/receive_path.h"

#include <array>
#include <random>

#include <gtest/gtest.h>

#include "collector_test_util.h"
#include "packet/encapsulation.h"

namespace tmirror::collector {
namespace {

using testing::makeFrame;

struct Captured {
  uint32_t session_index;
  uint32_t vni;
  std::vector<std::byte> inner;
};

class CapturingSink : public FrameSink {
 public:
  void write(ReceivedSession& session, const ReceivedFrame& frame) override {
    frames.push_back({session.index, session.key.vni,
                      std::vector<std::byte>(frame.inner.begin(), frame.inner.end())});
  }

  void endBatch() override { ++batches; }

  std::vector<Captured> frames;
  int batches = 0;
};

// The UDP payload (VXLAN header + inner frame) of the agent's copy of `frame`.
std::vector<std::byte> agentPayload(const std::vector<std::byte>& frame, uint32_t vni,
                                    uint32_t packet_length = 0) {
  packet::OuterPath path;
  path.src_ipv4 = 0x7F000001;
  path.dst_ipv4 = 0x7F000001;
  path.mtu = 9000;
  const packet::VxlanEncapsulator encapsulator(path, vni, packet_length);
  packet::EncapSlot slot;
  packet::MirrorCopy copy;
  encapsulator.encapsulate(frame, packet::VlanTag{}, 4242, slot, copy);
  std::vector<std::byte> outer(copy.outerLength());
  EXPECT_EQ(copy.copyTo(outer), outer.size());
  // Strip outer Ethernet, IPv4 and UDP: the socket gives us the UDP payload.
  return {outer.begin() + 42, outer.end()};
}

class ReceivePathTest : public ::testing::Test {
 protected:
  Datagram datagram(const std::vector<std::byte>& payload, uint32_t sender = 0x0A000001) {
    return Datagram{packet::IpAddress::v4(sender), 1, payload, false};
  }

  AdmissionPolicy admission;
  SessionTable sessions{8};
  CollectorCounters counters;
  CapturingSink sink;
  std::array<FrameSink*, 1> sinks{&sink};
  ReceivePath path{admission, sessions, counters, sinks};
};

TEST_F(ReceivePathTest, EncapsulatorCopiesComeOutAsTheOriginalFrames) {
  const auto a = makeFrame(60, 1);
  const auto b = makeFrame(1514, 2);
  path.process(datagram(agentPayload(a, 42)));
  path.process(datagram(agentPayload(b, 42)));
  path.endBatch();
  ASSERT_EQ(sink.frames.size(), 2u);
  EXPECT_EQ(sink.frames[0].inner, a);
  EXPECT_EQ(sink.frames[1].inner, b);
  EXPECT_EQ(sink.frames[0].vni, 42u);
  EXPECT_EQ(sink.batches, 1);
}

TEST_F(ReceivePathTest, SessionTruncatedCopyIsThePrefixOfTheOriginal) {
  const auto frame = makeFrame(1000, 3);
  path.process(datagram(agentPayload(frame, 7, 128)));
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0].inner, std::vector<std::byte>(frame.begin(), frame.begin() + 128));
}

TEST_F(ReceivePathTest, SessionsAreSenderAndVniPairs) {
  const auto f = makeFrame(60, 1);
  path.process(datagram(agentPayload(f, 1), 0x0A000001));
  path.process(datagram(agentPayload(f, 2), 0x0A000001));
  path.process(datagram(agentPayload(f, 1), 0x0A000002));
  path.process(datagram(agentPayload(f, 1), 0x0A000001));
  ASSERT_EQ(sink.frames.size(), 4u);
  EXPECT_EQ(sessions.size(), 3u);
  EXPECT_EQ(sink.frames[0].session_index, sink.frames[3].session_index);
  EXPECT_NE(sink.frames[0].session_index, sink.frames[1].session_index);
  EXPECT_NE(sink.frames[0].session_index, sink.frames[2].session_index);
}

TEST_F(ReceivePathTest, MalformedDatagramsAreCountedByReason) {
  auto good = agentPayload(makeFrame(60, 1), 5);
  auto bad_flags = good;
  bad_flags[0] = std::byte{0x0C};
  auto no_i_flag = good;
  no_i_flag[0] = std::byte{0};
  auto reserved = good;
  reserved[7] = std::byte{1};
  const std::vector<std::byte> header_only(good.begin(), good.begin() + 8);
  const std::vector<std::byte> short_one(good.begin(), good.begin() + 5);
  path.process(datagram(bad_flags));
  path.process(datagram(no_i_flag));
  path.process(datagram(reserved));
  path.process(datagram(header_only));
  path.process(datagram(short_one));
  path.process(datagram({}));
  Datagram oversized = datagram(good);
  oversized.truncated = true;
  path.process(oversized);
  EXPECT_TRUE(sink.frames.empty());
  EXPECT_EQ(counters.drops(DropReason::BadVxlanFlags), 2u);
  EXPECT_EQ(counters.drops(DropReason::ReservedBitsSet), 1u);
  EXPECT_EQ(counters.drops(DropReason::EmptyInnerFrame), 1u);
  EXPECT_EQ(counters.drops(DropReason::ShortPacket), 2u);
  EXPECT_EQ(counters.drops(DropReason::OversizedDatagram), 1u);
  EXPECT_EQ(counters.datagrams(), 7u);
  EXPECT_EQ(sessions.size(), 0u);
}

TEST_F(ReceivePathTest, SendersOutsideTheAllowListAndDeniedVnisAreDropped) {
  admission.allowed_senders = {*packet::parseCidr("10.0.0.0/24")};
  admission.denied_vnis = {9};
  admission.allowed_vnis = {1, 9};
  const auto f = makeFrame(60, 1);
  path.process(datagram(agentPayload(f, 1), 0x0A000105));  // 10.0.1.5: outside
  path.process(datagram(agentPayload(f, 9), 0x0A000005));
  path.process(datagram(agentPayload(f, 3), 0x0A000005));
  path.process(datagram(agentPayload(f, 1), 0x0A000005));
  EXPECT_EQ(counters.drops(DropReason::SenderNotAllowed), 1u);
  EXPECT_EQ(counters.drops(DropReason::VniDenied), 1u);
  EXPECT_EQ(counters.drops(DropReason::VniNotAllowed), 1u);
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0].vni, 1u);
}

TEST_F(ReceivePathTest, ManySendersCannotGrowTheTableBeyondItsCap) {
  const auto f = makeFrame(60, 1);
  for (uint32_t vni = 0; vni < 100; ++vni) {
    path.process(datagram(agentPayload(f, vni)));
  }
  EXPECT_EQ(sessions.size(), 8u);
  EXPECT_EQ(counters.drops(DropReason::SessionTableFull), 92u);
  EXPECT_EQ(sink.frames.size(), 8u);
}

TEST_F(ReceivePathTest, RandomBytesNeverCrashAndEveryDatagramIsAccountedFor) {
  std::mt19937 rng(7);
  uint64_t delivered_before = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> bytes(rng() % 64);
    for (auto& b : bytes) {
      b = std::byte(static_cast<uint8_t>(rng()));
    }
    if (i % 3 == 0 && bytes.size() > 8) {
      bytes[0] = std::byte{0x08};  // get past the flags check now and then
      bytes[1] = bytes[2] = bytes[3] = bytes[7] = std::byte{0};
    }
    path.process(datagram(bytes, static_cast<uint32_t>(rng() % 4)));
    delivered_before = sink.frames.size();
  }
  uint64_t dropped = 0;
  for (std::size_t r = 0; r < static_cast<std::size_t>(DropReason::kCount); ++r) {
    dropped += counters.drops(static_cast<DropReason>(r));
  }
  EXPECT_EQ(dropped + delivered_before, counters.datagrams());
}

TEST(SessionDirection, InferredFromTheSourceInterfaceMac) {
  ReceivedSession s;
  s.metadata.source_mac = packet::parseMacAddress("02:00:00:00:00:01");
  EXPECT_EQ(s.directionOf(makeFrame(60, 1, 0x01, 0x02)), packet::PacketDirection::Outbound);
  EXPECT_EQ(s.directionOf(makeFrame(60, 1, 0x02, 0x01)), packet::PacketDirection::Inbound);
  EXPECT_EQ(s.directionOf(makeFrame(60, 1, 0x03, 0x04)), packet::PacketDirection::Unknown);
  ReceivedSession unknown;
  EXPECT_EQ(unknown.directionOf(makeFrame(60, 1)), packet::PacketDirection::Unknown);
}

}  // namespace
}  // namespace tmirror::collector

namespace tmirror::collector {
namespace {

TEST(SessionTableServerMetadataTest, NewSessionsTakeWhatTheServerSaysOptionsFirst) {
  SessionMetadata from_options;
  from_options.session_id = "tms-from-options";
  SessionTable table(16, {{42, from_options}});
  SessionMetadata server_42, server_7;
  server_42.session_id = "tms-from-server-42";
  server_7.session_id = "tms-0123456789abcdef0";
  server_7.interface_id = "eni-0123456789abcdef0";
  server_7.source_mac = packet::parseMacAddress("02:00:00:00:00:0a");
  const SessionKey before{*packet::parseIpAddress("198.51.100.20"), 7};
  ReceivedSession* early = table.findOrCreate(before);
  ASSERT_NE(early, nullptr);
  EXPECT_TRUE(early->metadata.session_id.empty());
  table.setServerMetadata({{42, server_42}, {7, server_7}});
  ReceivedSession* s7 = table.findOrCreate({*packet::parseIpAddress("198.51.100.21"), 7});
  ASSERT_NE(s7, nullptr);
  EXPECT_EQ(s7->metadata.session_id, "tms-0123456789abcdef0");
  EXPECT_NE(s7->interfaceDescription().description.find("tms-0123456789abcdef0"),
            std::string::npos);
  // The source MAC tells the direction: from it is outbound (egress), to it inbound.
  std::vector<std::byte> frame(14);
  for (int i = 0; i < 6; ++i) {
    frame[6 + i] = std::byte{s7->metadata.source_mac->octets[i]};
  }
  EXPECT_EQ(s7->directionOf(frame), packet::PacketDirection::Outbound);
  ReceivedSession* s42 = table.findOrCreate({*packet::parseIpAddress("198.51.100.21"), 42});
  EXPECT_EQ(s42->metadata.session_id, "tms-from-options");
  EXPECT_EQ(table.sessionIdOf(42), "tms-from-options");
}

// A report names sessions by the metadata at report time: a session created before the
// server's metadata arrived is counted under the id the server gives its VNI later.
TEST(SessionTableServerMetadataTest, TotalsGoToTheSessionTheMetadataNamesNow) {
  SessionMetadata only_mac;  // --source-mac: no session id, so the server's applies
  only_mac.source_mac = packet::parseMacAddress("02:00:00:00:00:0b");
  SessionTable table(16, {{8, only_mac}});
  ReceivedSession* early = table.findOrCreate({*packet::parseIpAddress("198.51.100.20"), 7});
  ReceivedSession* other = table.findOrCreate({*packet::parseIpAddress("198.51.100.21"), 7});
  ReceivedSession* eight = table.findOrCreate({*packet::parseIpAddress("198.51.100.20"), 8});
  ASSERT_TRUE(early && other && eight);
  early->packets = 2;
  early->bytes = 200;
  other->packets = 3;
  other->bytes = 330;
  eight->packets = 1;
  EXPECT_EQ(table.sessionIdOf(7), "");
  EXPECT_TRUE(table.totalsBySessionId(10).empty()) << "no session named yet";

  SessionMetadata server_7, server_8, server_9;
  server_7.session_id = "tms-7";
  server_8.session_id = "tms-8";
  server_9.session_id = "tms-9";
  table.setServerMetadata({{7, server_7}, {8, server_8}, {9, server_9}});
  EXPECT_TRUE(early->metadata.session_id.empty()) << "created before: keeps what it had";
  EXPECT_EQ(table.sessionIdOf(7), "tms-7");
  EXPECT_EQ(table.sessionIdOf(8), "tms-8");
  EXPECT_EQ(table.sessionIdOf(10), "");
  const auto totals = table.totalsBySessionId(10);
  EXPECT_EQ(totals, (std::map<std::string, SessionTotals>{
                        {"tms-7", {5, 530}}, {"tms-8", {1, 0}}, {"tms-9", {0, 0}}}));
  // Bounded: the first ids.
  EXPECT_EQ(table.totalsBySessionId(2),
            (std::map<std::string, SessionTotals>{{"tms-7", {5, 530}}, {"tms-8", {1, 0}}}));
}

}  // namespace
}  // namespace tmirror::collector
