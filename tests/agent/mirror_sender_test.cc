// MirrorSender for real, on a veth pair in namespaces of its own: which copies go as one UDP
// GSO buffer, and what arrives on the other side, read off the wire with a packet socket
// (every outer header) and a UDP socket (every VXLAN payload, in order).
#include "agent/mirror_sender.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <vector>

#include <gtest/gtest.h>

#include "agent/device_segmentation.h"
#include "netns_fixture.h"
#include "packet/byte_reader.h"
#include "packet/checksum.h"
#include "testing/packet_builder.h"

namespace tmirror::agent {
namespace {

using Frame = std::vector<std::byte>;

// One copy to send: the inner frame's source port (its flow) and payload size.
struct Copy {
  uint16_t flow = 0;
  std::size_t payload = 0;
};

class MirrorSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!lab_.create(why)) {
      GTEST_SKIP() << why;
    }
    mac_a_ = lab_.mac("a", "tm0");
    mac_b_ = lab_.mac("b", "tm1");
    ASSERT_TRUE(lab_.enter("b"));
    udp_ = testing::NetnsPair::udpReceiver(0xC6336402, 4789);  // 198.51.100.2
    ASSERT_TRUE(udp_.valid());
    wire_ = UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP)));
    sockaddr_ll link{};
    link.sll_family = AF_PACKET;
    link.sll_protocol = htons(ETH_P_IP);
    link.sll_ifindex = static_cast<int>(::if_nametoindex("tm1"));
    ASSERT_EQ(::bind(wire_.get(), reinterpret_cast<sockaddr*>(&link), sizeof link), 0);
    ASSERT_TRUE(lab_.enter("a"));
    ifindex_ = static_cast<int>(::if_nametoindex("tm0"));
  }

  void TearDown() override { lab_.destroy(); }

  void udpSegmentation(bool on) {
    ASSERT_EQ(lab_.run("ip netns exec " + lab_.name("a") + " ethtool -K tm0 tx-udp-segmentation " +
                       (on ? "on" : "off")),
              0);
  }

  Frame innerFrame(const Copy& c) const {
    return testing::PacketBuilder()
        .macs("02:00:00:00:00:02", "02:00:00:00:00:01")
        .ipv4("10.0.0.1", "10.0.0.2")
        .udp(c.flow, 80)
        .payload(c.payload)
        .build();
  }

  NextHop hop(bool segments_gso) const {
    NextHop h;
    h.resolved = true;
    h.ifindex = ifindex_;
    h.src_mac = mac_a_;
    h.dst_mac = mac_b_;
    h.segments_gso = segments_gso;
    return h;
  }

  // Sends `copies` in one batch (source port = the flow) and returns the statistics.
  SendStatistics send(MirrorSender& sender, const std::vector<Copy>& copies, bool segments_gso) {
    packet::OuterPath path;
    path.src_mac = mac_a_;
    path.dst_mac = mac_b_;
    path.src_ipv4 = 0xC6336401;
    path.dst_ipv4 = 0xC6336402;
    const packet::VxlanEncapsulator encapsulator(path, 4242, 0);
    frames_.clear();
    for (const Copy& c : copies) {
      frames_.push_back(innerFrame(c));
    }
    std::vector<packet::EncapSlot> slots(copies.size());
    std::vector<packet::MirrorCopy> encapsulated(copies.size());
    const NextHop h = hop(segments_gso);
    for (std::size_t i = 0; i < copies.size(); ++i) {
      encapsulator.encapsulate(packet::Bytes(frames_[i]), packet::VlanTag{},
                               static_cast<uint16_t>(40000 + copies[i].flow), slots[i],
                               encapsulated[i]);
      sender.queue(encapsulated[i], slots[i], h, path.dst_ipv4);
    }
    std::array<bool, kSendBatch> sent{};
    sender.flush(sent);
    for (std::size_t i = 0; i < copies.size(); ++i) {
      EXPECT_TRUE(sent[i]) << "copy " << i;
    }
    return sender.statistics();
  }

  // Frames read from `fd` until `count` arrived or a quiet half second passed.
  static std::vector<Frame> read(const UniqueFd& fd, std::size_t count) {
    return testing::NetnsPair::readDatagrams(fd, count, 500);
  }

  // Checks what arrived against frames_: one datagram per copy, in order, each the copy's
  // VXLAN header and frame; every outer header a wire packet's. Returns the outer frames.
  std::vector<Frame> expectArrived() {
    EXPECT_TRUE(lab_.enter("b"));
    const std::vector<Frame> payloads = read(udp_, frames_.size() + 1);
    const std::vector<Frame> wire = read(wire_, frames_.size() + 1);
    EXPECT_TRUE(lab_.enter("a"));
    EXPECT_EQ(payloads.size(), frames_.size());
    EXPECT_EQ(wire.size(), frames_.size());
    for (std::size_t i = 0; i < payloads.size() && i < frames_.size(); ++i) {
      EXPECT_EQ(payloads[i].size(), 8 + frames_[i].size()) << "copy " << i;
      if (payloads[i].size() != 8 + frames_[i].size()) {
        continue;
      }
      EXPECT_EQ(packet::loadU32(packet::Bytes(payloads[i]), 4) >> 8, 4242u);
      EXPECT_TRUE(std::equal(frames_[i].begin(), frames_[i].end(), payloads[i].begin() + 8))
          << "copy " << i;
    }
    for (const Frame& f : wire) {
      const packet::Bytes b(f);
      EXPECT_LE(f.size(), 1514u) << "a buffer left whole";
      const uint16_t ip_length = packet::loadU16(b, 16);
      EXPECT_EQ(ip_length, f.size() - 14);
      EXPECT_EQ(packet::loadU16(b, 38), ip_length - 20) << "UDP length";
      EXPECT_EQ(packet::checksumFinish(packet::checksumAdd(b.subspan(14, 20))), 0)
          << "IPv4 header checksum";
      EXPECT_EQ(packet::loadU8(b, 22), 255) << "TTL";
      EXPECT_EQ(packet::loadU16(b, 20) & 0x4000, 0) << "DF";
    }
    return wire;
  }

  static uint16_t ipId(const Frame& f) { return packet::loadU16(packet::Bytes(f), 18); }

  static uint16_t udpChecksum(const Frame& f) { return packet::loadU16(packet::Bytes(f), 40); }

  testing::NetnsPair lab_;
  packet::MacAddress mac_a_{}, mac_b_{};
  int ifindex_ = 0;
  UniqueFd udp_, wire_;
  std::vector<Frame> frames_;
};

TEST_F(MirrorSenderTest, RunsOfOneFlowGoAsOneBufferThatArrivesAsTheCopies) {
  udpSegmentation(false);
  auto sender = MirrorSender::open(GsoSend::Auto);
  ASSERT_TRUE(sender) << sender.error().message;
  // A run of four (the shorter fourth ends it), one alone, a run of two, one alone.
  const auto stats =
      send(*sender,
           {{1, 500}, {1, 500}, {1, 500}, {1, 300}, {1, 500}, {2, 200}, {2, 200}, {3, 200}}, true);
  EXPECT_EQ(stats.gso_buffers, 2u);
  EXPECT_EQ(stats.gso_copies, 6u);
  EXPECT_EQ(stats.raw_frames, 8u);
  EXPECT_EQ(stats.gso_refused, 0u);
  const auto wire = expectArrived();
  ASSERT_EQ(wire.size(), 8u);
  // Cut by the kernel: IDs count up within a buffer, each packet has a UDP checksum.
  const std::vector<uint16_t> ids = {0, 1, 2, 3, 0, 0, 1, 0};
  const std::vector<bool> in_buffer = {true, true, true, true, false, true, true, false};
  for (std::size_t i = 0; i < wire.size(); ++i) {
    EXPECT_EQ(ipId(wire[i]), ids[i]) << "copy " << i;
    EXPECT_EQ(udpChecksum(wire[i]) != 0, in_buffer[i]) << "copy " << i;
  }
}

TEST_F(MirrorSenderTest, ABufferStaysUnderTheLargestDatagram) {
  udpSegmentation(false);
  auto sender = MirrorSender::open(GsoSend::Auto);
  ASSERT_TRUE(sender) << sender.error().message;
  // 60 copies of 1,400-byte frames, 1,408 bytes each with VXLAN: 46 fit in 65,507 bytes.
  const std::vector<Copy> copies(60, Copy{7, 1400 - 42});
  const auto stats = send(*sender, copies, true);
  EXPECT_EQ(stats.gso_buffers, 2u);
  EXPECT_EQ(stats.gso_copies, 60u);
  EXPECT_EQ(expectArrived().size(), 60u);
}

TEST_F(MirrorSenderTest, OffSendsEveryCopyAloneWithChecksumZero) {
  udpSegmentation(false);
  auto sender = MirrorSender::open(GsoSend::Off);
  ASSERT_TRUE(sender) << sender.error().message;
  const auto stats = send(*sender, {{1, 500}, {1, 500}, {1, 500}}, true);
  EXPECT_EQ(stats.gso_buffers, 0u);
  EXPECT_EQ(stats.raw_frames, 3u);
  for (const Frame& f : expectArrived()) {
    EXPECT_EQ(ipId(f), 0);
    EXPECT_EQ(udpChecksum(f), 0);
  }
}

TEST_F(MirrorSenderTest, AutoSendsAloneWhereTheHopWouldCarryTheBufferWhole) {
  auto sender = MirrorSender::open(GsoSend::Auto);
  ASSERT_TRUE(sender) << sender.error().message;
  const auto stats = send(*sender, {{1, 500}, {1, 500}}, false);
  EXPECT_EQ(stats.gso_buffers, 0u);
  EXPECT_EQ(expectArrived().size(), 2u);
}

TEST_F(MirrorSenderTest, AVethCarriesABufferWholeUnlessItsUdpSegmentationIsOff) {
  // veth offers UDP segmentation: a buffer would reach the peer namespace as one packet.
  udpSegmentation(true);
  DeviceSegmentation on = probeDeviceSegmentation(ifindex_);
  ASSERT_TRUE(on.udp_segmentation.has_value());
  EXPECT_TRUE(*on.udp_segmentation);
  EXPECT_FALSE(on.hardware);
  EXPECT_FALSE(on.segmentsBeforeWire());
  udpSegmentation(false);
  DeviceSegmentation off = probeDeviceSegmentation(ifindex_);
  ASSERT_TRUE(off.udp_segmentation.has_value());
  EXPECT_FALSE(*off.udp_segmentation);
  EXPECT_TRUE(off.segmentsBeforeWire());
}

}  // namespace
}  // namespace tmirror::agent
