// VXLAN header encode/decode and whole-frame decapsulation, including the real AWS frame.
#include "packet/vxlan.h"

#include <algorithm>
#include <array>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "packet/frame.h"
#include "testing/packet_builder.h"

namespace tmirror::packet {
namespace {

using testing::Frame;
using testing::fromHex;
using testing::ip;
using testing::PacketBuilder;

std::array<std::byte, kVxlanHeaderSize> header(uint32_t vni) {
  std::array<std::byte, kVxlanHeaderSize> h{};
  writeVxlanHeader(h, vni);
  return h;
}

Frame bytesOf(std::initializer_list<int> values) {
  Frame f;
  for (int v : values) {
    f.push_back(static_cast<std::byte>(v));
  }
  return f;
}

Frame headerFrame(uint32_t vni) {
  const auto h = header(vni);
  return Frame(h.begin(), h.end());
}

// VXLAN header + `inner` as the UDP payload of `outer` (which sets addresses, tags, fragments).
Frame encapsulated(PacketBuilder outer, uint16_t sport, uint16_t dport, uint32_t vni,
                   const Frame& inner, bool tcp = false) {
  Frame payload = headerFrame(vni);
  payload.insert(payload.end(), inner.begin(), inner.end());
  if (tcp) {
    outer.tcp(sport, dport);
  } else {
    outer.udp(sport, dport);
  }
  Frame f = outer.payload(payload.size()).build();
  std::copy(payload.begin(), payload.end(), f.end() - static_cast<std::ptrdiff_t>(payload.size()));
  return f;
}

Frame innerFrame() {
  return PacketBuilder().ipv4("10.0.0.5", "10.0.0.6").tcp(33000, 443).payload(10).build();
}

bool sameBytes(Bytes a, const Frame& b) {
  return std::ranges::equal(a, b);
}

// ---- Header encoding ----------------------------------------------------------------------

TEST(Vxlan, HeaderBytesAreFlags08ThenVniShiftedLeftByEight) {
  EXPECT_EQ(headerFrame(0), bytesOf({0x08, 0, 0, 0, 0x00, 0x00, 0x00, 0}));
  EXPECT_EQ(headerFrame(1), bytesOf({0x08, 0, 0, 0, 0x00, 0x00, 0x01, 0}));
  EXPECT_EQ(headerFrame(42), bytesOf({0x08, 0, 0, 0, 0x00, 0x00, 0x2A, 0}));
  EXPECT_EQ(headerFrame(5569041), bytesOf({0x08, 0, 0, 0, 0x54, 0xFA, 0x11, 0}));
  EXPECT_EQ(headerFrame(16777215), bytesOf({0x08, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0}));
}

TEST(Vxlan, HeaderKeepsOnlyTheLow24BitsOfTheVni) {
  EXPECT_EQ(headerFrame(0x0100002A), bytesOf({0x08, 0, 0, 0, 0x00, 0x00, 0x2A, 0}));
  EXPECT_EQ(headerFrame(0xFFFFFFFF), bytesOf({0x08, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0}));
}

// ---- decodeVxlan --------------------------------------------------------------------------

TEST(Vxlan, DecodeReturnsVniAndInnerFrameView) {
  for (uint32_t vni : {0u, 1u, 42u, 5569041u, kMaxVni}) {
    Frame payload = headerFrame(vni);
    const Frame inner = innerFrame();
    payload.insert(payload.end(), inner.begin(), inner.end());
    const VxlanPayload v = decodeVxlan(Bytes(payload));
    EXPECT_EQ(v.status, DecapStatus::Ok);
    EXPECT_EQ(v.vni, vni);
    EXPECT_EQ(v.inner.data(), payload.data() + 8);  // a view, not a copy
    EXPECT_TRUE(sameBytes(v.inner, inner));
  }
}

TEST(Vxlan, StrictDecodeRejectsFlagsOtherThan08) {
  for (int flags : {0x00, 0x0C, 0x88, 0x48, 0x09, 0xFF, 0x80}) {
    Frame payload = headerFrame(7);
    payload[0] = static_cast<std::byte>(flags);
    payload.push_back(std::byte{1});
    EXPECT_EQ(decodeVxlan(Bytes(payload)).status, DecapStatus::BadVxlanFlags) << flags;
  }
}

TEST(Vxlan, StrictDecodeRejectsReservedBits) {
  for (std::size_t byte : {1u, 2u, 3u, 7u}) {
    for (int value : {0x01, 0x80}) {
      Frame payload = headerFrame(7);
      payload[byte] = static_cast<std::byte>(value);
      payload.push_back(std::byte{1});
      EXPECT_EQ(decodeVxlan(Bytes(payload)).status, DecapStatus::ReservedBitsSet)
          << "byte " << byte << " value " << value;
    }
  }
}

TEST(Vxlan, LenientDecodeAcceptsOtherFlagsAndReservedBitsButReadsTheVni) {
  Frame payload = bytesOf({0x0C, 0xAA, 0xBB, 0xCC, 0x12, 0x34, 0x56, 0xFF, 0xDE, 0xAD});
  const VxlanPayload v = decodeVxlan(Bytes(payload), /*lenient_reserved=*/true);
  EXPECT_EQ(v.status, DecapStatus::Ok);
  EXPECT_EQ(v.vni, 0x123456u);
  EXPECT_EQ(v.inner.size(), 2u);
  EXPECT_EQ(v.inner[0], std::byte{0xDE});
  EXPECT_EQ(decodeVxlan(Bytes(payload)).status, DecapStatus::BadVxlanFlags);  // strict
}

TEST(Vxlan, LenientDecodeStillRequiresTheIFlag) {
  for (int flags : {0x00, 0xF7, 0x80, 0x04}) {
    Frame payload = headerFrame(9);
    payload[0] = static_cast<std::byte>(flags);
    payload.push_back(std::byte{1});
    EXPECT_EQ(decodeVxlan(Bytes(payload), true).status, DecapStatus::BadVxlanFlags) << flags;
  }
}

TEST(Vxlan, PayloadShorterThanHeaderIsTruncatedVxlan) {
  const Frame full = headerFrame(3);
  for (std::size_t n = 0; n < kVxlanHeaderSize; ++n) {
    const Frame f(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(decodeVxlan(Bytes(f)).status, DecapStatus::TruncatedVxlan) << n;
    EXPECT_EQ(decodeVxlan(Bytes(f), true).status, DecapStatus::TruncatedVxlan) << n;
  }
}

TEST(Vxlan, HeaderWithoutInnerFrameIsEmptyInnerFrame) {
  const Frame f = headerFrame(3);
  const VxlanPayload v = decodeVxlan(Bytes(f));
  EXPECT_EQ(v.status, DecapStatus::EmptyInnerFrame);
  EXPECT_TRUE(v.inner.empty());
}

// ---- decapsulateFrame on the real AWS frame ------------------------------------------------

TEST(Vxlan, DecapsulatesTheRealAwsMirrorFrame) {
  const Frame aws = fromHex(testing::kAwsMirrorFrameHex);
  ASSERT_EQ(aws.size(), 140u);
  const DecapsulatedFrame d = decapsulateFrame(Bytes(aws));
  ASSERT_EQ(d.status, DecapStatus::Ok) << decapStatusName(d.status);
  EXPECT_EQ(d.vni, 5569041u);
  EXPECT_EQ(d.outer_src, ip("172.31.0.238"));
  EXPECT_EQ(d.outer_dst, ip("172.31.17.188"));
  EXPECT_EQ(d.outer_src_port, 65445);
  EXPECT_EQ(d.outer_dst_port, 4789);
  ASSERT_EQ(d.inner.size(), 90u);  // 14 + inner IPv4 total length 76
  EXPECT_EQ(d.inner.data(), aws.data() + 50);
  EXPECT_EQ(testing::toHex(d.inner.first(14)), "02292374c77d028569c2ab020800");

  ParsedFrame inner;
  parseFrame(d.inner, inner);
  EXPECT_EQ(inner.status, FrameStatus::Ok);
  EXPECT_EQ(inner.src, ip("172.31.0.238"));
  EXPECT_EQ(inner.dst, ip("78.46.93.39"));
  EXPECT_EQ(inner.protocol, 17);
  EXPECT_EQ(inner.src_port, 60631);
  EXPECT_EQ(inner.dst_port, 123);
}

TEST(Vxlan, EveryPrefixOfTheAwsFrameDecapsulatesToANamedStatus) {
  const Frame aws = fromHex(testing::kAwsMirrorFrameHex);
  for (std::size_t n = 0; n <= aws.size(); ++n) {
    const Frame f(aws.begin(), aws.begin() + static_cast<std::ptrdiff_t>(n));
    const DecapsulatedFrame d = decapsulateFrame(Bytes(f));
    SCOPED_TRACE("prefix length " + std::to_string(n));
    EXPECT_STRNE(decapStatusName(d.status), "unknown");
    if (n < 14) {
      EXPECT_EQ(d.status, DecapStatus::TruncatedOuterEthernet);
    } else if (n < 34) {
      EXPECT_EQ(d.status, DecapStatus::TruncatedOuterIp);
    } else if (n < 42) {
      EXPECT_EQ(d.status, DecapStatus::TruncatedOuterUdp);
    } else if (n < 50) {
      EXPECT_EQ(d.status, DecapStatus::TruncatedVxlan);
    } else if (n == 50) {
      EXPECT_EQ(d.status, DecapStatus::EmptyInnerFrame);
    } else {
      EXPECT_EQ(d.status, DecapStatus::Ok);
      EXPECT_EQ(d.vni, 5569041u);
      EXPECT_EQ(d.inner.size(), n - 50);
      EXPECT_TRUE(std::ranges::equal(d.inner, Bytes(f).subspan(50)));
    }
  }
}

// ---- decapsulateFrame on built frames ------------------------------------------------------

TEST(Vxlan, DecapsulatesVlanTaggedOuterFrames) {
  const Frame inner = innerFrame();
  for (int tags = 1; tags <= 2; ++tags) {
    PacketBuilder outer;
    if (tags == 2) {
      outer.vlan(10, kEtherTypeQinQ);
    }
    outer.vlan(20).ipv4("192.0.2.1", "192.0.2.2");
    const Frame f = encapsulated(outer, 50000, 4789, 77, inner);
    const DecapsulatedFrame d = decapsulateFrame(Bytes(f));
    SCOPED_TRACE(std::to_string(tags) + " tags");
    ASSERT_EQ(d.status, DecapStatus::Ok);
    EXPECT_EQ(d.vni, 77u);
    EXPECT_EQ(d.outer_src, ip("192.0.2.1"));
    EXPECT_EQ(d.outer_dst, ip("192.0.2.2"));
    EXPECT_EQ(d.outer_src_port, 50000);
    EXPECT_TRUE(sameBytes(d.inner, inner));
  }
}

TEST(Vxlan, DecapsulatesIpv6OuterFrames) {
  const Frame inner = innerFrame();
  PacketBuilder outer;
  outer.ipv6("2001:db8::10", "2001:db8::20").ipv6Extension(60);
  const Frame f = encapsulated(outer, 61000, 4789, kMaxVni, inner);
  const DecapsulatedFrame d = decapsulateFrame(Bytes(f));
  ASSERT_EQ(d.status, DecapStatus::Ok);
  EXPECT_EQ(d.vni, kMaxVni);
  EXPECT_EQ(d.outer_src, ip("2001:db8::10"));
  EXPECT_EQ(d.outer_dst, ip("2001:db8::20"));
  EXPECT_EQ(d.outer_src_port, 61000);
  EXPECT_TRUE(sameBytes(d.inner, inner));
}

TEST(Vxlan, OtherDestinationPortIsNotVxlanPortUnlessConfigured) {
  const Frame inner = innerFrame();
  PacketBuilder outer;
  outer.ipv4("192.0.2.1", "192.0.2.2");
  const Frame f = encapsulated(outer, 50000, 8472, 5, inner);
  const DecapsulatedFrame d = decapsulateFrame(Bytes(f));
  EXPECT_EQ(d.status, DecapStatus::NotVxlanPort);
  EXPECT_EQ(d.outer_dst_port, 8472);
  EXPECT_TRUE(d.inner.empty());

  const DecapsulatedFrame custom = decapsulateFrame(Bytes(f), 8472);
  EXPECT_EQ(custom.status, DecapStatus::Ok);
  EXPECT_EQ(custom.vni, 5u);
  EXPECT_TRUE(sameBytes(custom.inner, inner));

  const Frame standard = encapsulated(outer, 50000, 4789, 5, inner);
  EXPECT_EQ(decapsulateFrame(Bytes(standard), 8472).status, DecapStatus::NotVxlanPort);
}

TEST(Vxlan, OuterFragmentsAreRejected) {
  const Frame inner = innerFrame();
  {
    PacketBuilder first;
    first.ipv4("192.0.2.1", "192.0.2.2").ipv4Fragment(0, true);
    const DecapsulatedFrame d = decapsulateFrame(Bytes(encapsulated(first, 1, 4789, 5, inner)));
    EXPECT_EQ(d.status, DecapStatus::OuterFragment);
    EXPECT_EQ(d.outer_src, ip("192.0.2.1"));
  }
  {
    PacketBuilder later;
    later.ipv4("192.0.2.1", "192.0.2.2").ipv4Fragment(100, false);
    EXPECT_EQ(decapsulateFrame(Bytes(encapsulated(later, 1, 4789, 5, inner))).status,
              DecapStatus::OuterFragment);
  }
  {
    PacketBuilder v6;
    v6.ipv6("2001:db8::1", "2001:db8::2").ipv6Fragment(0, true);
    EXPECT_EQ(decapsulateFrame(Bytes(encapsulated(v6, 1, 4789, 5, inner))).status,
              DecapStatus::OuterFragment);
  }
}

TEST(Vxlan, OuterTcpIsOuterNotUdp) {
  PacketBuilder outer;
  outer.ipv4("192.0.2.1", "192.0.2.2");
  const Frame f = encapsulated(outer, 1, 4789, 5, innerFrame(), /*tcp=*/true);
  EXPECT_EQ(decapsulateFrame(Bytes(f)).status, DecapStatus::OuterNotUdp);
}

TEST(Vxlan, OuterNonIpAndBadIpAreNamed) {
  const Frame arp = PacketBuilder().etherType(0x0806).build();
  EXPECT_EQ(decapsulateFrame(Bytes(arp)).status, DecapStatus::OuterNotIp);

  const Frame three_tags =
      PacketBuilder().vlan(1).vlan(2).vlan(3).ipv4("192.0.2.1", "192.0.2.2").udp(1, 4789).build();
  EXPECT_EQ(decapsulateFrame(Bytes(three_tags)).status, DecapStatus::OuterNotIp);

  PacketBuilder outer;
  outer.ipv4("192.0.2.1", "192.0.2.2");
  Frame bad = encapsulated(outer, 1, 4789, 5, innerFrame());
  bad[14] = std::byte{0x55};  // version 5
  EXPECT_EQ(decapsulateFrame(Bytes(bad)).status, DecapStatus::BadOuterIp);
}

TEST(Vxlan, PayloadEndsWhereTheOuterIpPacketEnds) {
  // A hostile outer packet whose UDP length runs past its IP total length: the bytes after
  // the IP packet (padding, a trailer) must not become part of the inner frame.
  const Frame inner = innerFrame();
  Frame f = encapsulated(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2"), 50000, 4789, 42, inner);
  for (int i = 0; i < 10; ++i) {
    f.push_back(std::byte{0xEE});  // trailer after the IP packet
  }
  const std::size_t udp_len_off = 14 + 20 + 4;
  const uint16_t udp_len = static_cast<uint16_t>(8 + 8 + inner.size() + 10);  // claims the trailer
  f[udp_len_off] = static_cast<std::byte>(udp_len >> 8);
  f[udp_len_off + 1] = static_cast<std::byte>(udp_len);
  const auto decap = decapsulateFrame(f);
  ASSERT_EQ(decap.status, DecapStatus::Ok);
  EXPECT_TRUE(sameBytes(decap.inner, inner));
}

TEST(Vxlan, UdpLengthBelowEightIsTruncatedOuterUdp) {
  PacketBuilder outer;
  outer.ipv4("192.0.2.1", "192.0.2.2");
  Frame f = encapsulated(outer, 1, 4789, 5, innerFrame());
  f[34 + 4] = std::byte{0};
  f[34 + 5] = std::byte{7};
  EXPECT_EQ(decapsulateFrame(Bytes(f)).status, DecapStatus::TruncatedOuterUdp);
}

TEST(Vxlan, EthernetPaddingAfterTheUdpPayloadIsNotPartOfTheInnerFrame) {
  PacketBuilder outer;
  outer.ipv4("192.0.2.1", "192.0.2.2");
  const Frame inner = bytesOf({0xAA, 0xBB, 0xCC, 0xDD});
  Frame f = encapsulated(outer, 1, 4789, 5, inner);
  ASSERT_EQ(f.size(), 54u);
  f.resize(60, std::byte{0xEE});
  const DecapsulatedFrame d = decapsulateFrame(Bytes(f));
  ASSERT_EQ(d.status, DecapStatus::Ok);
  EXPECT_TRUE(sameBytes(d.inner, inner));
}

TEST(Vxlan, BadVxlanHeaderInAFrameIsReported) {
  PacketBuilder outer;
  outer.ipv4("192.0.2.1", "192.0.2.2");
  Frame f = encapsulated(outer, 1, 4789, 5, innerFrame());
  f[42] = std::byte{0x00};
  EXPECT_EQ(decapsulateFrame(Bytes(f)).status, DecapStatus::BadVxlanFlags);
  f[42] = std::byte{0x08};
  f[49] = std::byte{0x01};
  EXPECT_EQ(decapsulateFrame(Bytes(f)).status, DecapStatus::ReservedBitsSet);
}

TEST(Vxlan, EveryPrefixOfVlanTaggedIpv6OuterFrameNeverCrashes) {
  PacketBuilder outer;
  outer.vlan(1, kEtherTypeQinQ).vlan(2).ipv6("2001:db8::1", "2001:db8::2").ipv6Extension(0);
  const Frame full = encapsulated(outer, 1, 4789, 5, innerFrame());
  const std::size_t vxlan_at = 22 + 40 + 16 + 8;
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const Frame f(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const DecapsulatedFrame d = decapsulateFrame(Bytes(f));
    EXPECT_STRNE(decapStatusName(d.status), "unknown") << n;
    EXPECT_EQ(d.status == DecapStatus::Ok, n > vxlan_at + kVxlanHeaderSize) << n;
  }
}

TEST(Vxlan, DecapStatusNameIsDistinctForEveryValue) {
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(DecapStatus::kCount); ++i) {
    const std::string name = decapStatusName(static_cast<DecapStatus>(i));
    EXPECT_NE(name, "unknown") << i;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(DecapStatus::kCount));
  EXPECT_STREQ(decapStatusName(DecapStatus::NotVxlanPort), "not_vxlan_port");
}

}  // namespace
}  // namespace tmirror::packet
