// parseFrame against frames built byte by byte (PacketBuilder), hand-poked malformed headers,
// every truncation prefix, and (when available) frames built by scapy.
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "packet/frame.h"
#include "testing/packet_builder.h"

namespace tmirror::packet {
namespace {

using testing::Frame;
using testing::ip;
using testing::PacketBuilder;

ParsedFrame parse(const Frame& frame) {
  ParsedFrame parsed;
  parseFrame(Bytes(frame), parsed);
  return parsed;
}

void set8(Frame& f, std::size_t off, uint8_t v) {
  f.at(off) = static_cast<std::byte>(v);
}

void set16(Frame& f, std::size_t off, uint16_t v) {
  f.at(off) = static_cast<std::byte>(v >> 8);
  f.at(off + 1) = static_cast<std::byte>(v);
}

// Offsets of the frames PacketBuilder makes.
constexpr std::size_t kEth = 14;
constexpr std::size_t kIpv4L4 = kEth + 20;             // 34
constexpr std::size_t kIpv6L4 = kEth + 40;             // 54
constexpr std::size_t kBuilderOptionsHeaderSize = 16;  // hop-by-hop, routing, dest options
constexpr std::size_t kBuilderAhSize = 24;
constexpr std::size_t kFragmentHeaderSize = 8;

// ---- IPv4 -------------------------------------------------------------------------------

TEST(FrameParser, Ipv4TcpYieldsAddressesPortsProtocolAndOffsets) {
  const Frame f = PacketBuilder().ipv4("10.0.0.1", "192.168.7.9").tcp(40000, 443).build();
  ASSERT_EQ(f.size(), 54u);
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.l4_status, L4Status::Ok);
  EXPECT_EQ(p.family, IpFamily::V4);
  EXPECT_EQ(p.ether_type, kEtherTypeIpv4);
  EXPECT_EQ(p.vlan_count, 0);
  EXPECT_EQ(p.fragment, Fragment::None);
  EXPECT_EQ(p.protocol, 6);
  EXPECT_EQ(p.src, IpAddress::v4(0x0A000001));
  EXPECT_EQ(p.dst, IpAddress::v4(0xC0A80709));
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 40000);
  EXPECT_EQ(p.dst_port, 443);
  EXPECT_EQ(p.l3_offset, 14u);
  EXPECT_EQ(p.l4_offset, 34u);
  EXPECT_FALSE(p.is_icmp_echo);
}

TEST(FrameParser, Ipv4UdpYieldsAddressesPortsProtocolAndOffsets) {
  const Frame f =
      PacketBuilder().ipv4("172.31.0.238", "172.31.0.2").udp(53124, 53).payload(30).build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.l4_status, L4Status::Ok);
  EXPECT_EQ(p.protocol, 17);
  EXPECT_EQ(p.src, ip("172.31.0.238"));
  EXPECT_EQ(p.dst, ip("172.31.0.2"));
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 53124);
  EXPECT_EQ(p.dst_port, 53);
  EXPECT_EQ(p.l3_offset, 14u);
  EXPECT_EQ(p.l4_offset, 34u);
}

TEST(FrameParser, Ipv4IcmpEchoRequestAndReplyYieldIdentifierWithoutPorts) {
  for (bool reply : {false, true}) {
    const Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").icmpEcho(0xBEEF, reply).build();
    const ParsedFrame p = parse(f);
    EXPECT_EQ(p.status, FrameStatus::Ok);
    EXPECT_EQ(p.l4_status, L4Status::Ok);
    EXPECT_EQ(p.protocol, kProtoIcmp);
    EXPECT_TRUE(p.is_icmp_echo) << "reply=" << reply;
    EXPECT_EQ(p.icmp_echo_id, 0xBEEF);
    EXPECT_FALSE(p.has_ports);
    EXPECT_EQ(p.l4_offset, 34u);
  }
}

TEST(FrameParser, Ipv4IcmpNonEchoHasNoEchoIdentifier) {
  Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").icmpEcho(0xBEEF).build();
  set8(f, kIpv4L4, 3);  // destination unreachable
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.l4_status, L4Status::Ok);
  EXPECT_FALSE(p.is_icmp_echo);
  EXPECT_EQ(p.icmp_echo_id, 0);
}

TEST(FrameParser, Ipv6IcmpEchoYieldsIdentifier) {
  for (bool reply : {false, true}) {
    const Frame f = PacketBuilder().ipv6("fe80::1", "fe80::2").icmpEcho(4321, reply).build();
    const ParsedFrame p = parse(f);
    EXPECT_EQ(p.status, FrameStatus::Ok);
    EXPECT_EQ(p.l4_status, L4Status::Ok);
    EXPECT_EQ(p.family, IpFamily::V6);
    EXPECT_EQ(p.protocol, kProtoIcmpv6);
    EXPECT_TRUE(p.is_icmp_echo) << "reply=" << reply;
    EXPECT_EQ(p.icmp_echo_id, 4321);
    EXPECT_FALSE(p.has_ports);
    EXPECT_EQ(p.l4_offset, 54u);
  }
}

TEST(FrameParser, Ipv4OptionsWithIhl6To15ThenTcpYieldPortsAfterOptions) {
  for (std::size_t words = 1; words <= 10; ++words) {
    const Frame f =
        PacketBuilder().ipv4("10.1.1.1", "10.2.2.2").ipv4Options(words).tcp(1111, 2222).build();
    ASSERT_EQ(static_cast<uint8_t>(f[kEth]), 0x40 | (5 + words));
    const ParsedFrame p = parse(f);
    SCOPED_TRACE("ihl=" + std::to_string(5 + words));
    EXPECT_EQ(p.status, FrameStatus::Ok);
    EXPECT_EQ(p.l4_status, L4Status::Ok);
    EXPECT_EQ(p.protocol, 6);
    EXPECT_EQ(p.l4_offset, kIpv4L4 + 4 * words);
    EXPECT_TRUE(p.has_ports);
    EXPECT_EQ(p.src_port, 1111);
    EXPECT_EQ(p.dst_port, 2222);
    EXPECT_EQ(p.src, ip("10.1.1.1"));
    EXPECT_EQ(p.dst, ip("10.2.2.2"));
  }
}

TEST(FrameParser, Ipv4FirstFragmentIsFirstAndHasPorts) {
  const Frame f = PacketBuilder()
                      .ipv4("10.0.0.1", "10.0.0.2")
                      .ipv4Fragment(0, /*more_fragments=*/true)
                      .udp(5000, 6000)
                      .payload(100)
                      .build();
  ASSERT_EQ(static_cast<uint8_t>(f[kEth + 6]), 0x20);  // MF
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.fragment, Fragment::First);
  EXPECT_EQ(p.protocol, 17);
  EXPECT_EQ(p.l4_status, L4Status::Ok);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 5000);
  EXPECT_EQ(p.dst_port, 6000);
}

TEST(FrameParser, Ipv4LaterFragmentHasNoPortsButKeepsProtocol) {
  for (bool more : {true, false}) {
    // The builder still writes a TCP-looking header after the IP header: it must not be read.
    const Frame f = PacketBuilder()
                        .ipv4("10.0.0.1", "10.0.0.2")
                        .ipv4Fragment(185, more)
                        .tcp(5000, 6000)
                        .payload(64)
                        .build();
    const ParsedFrame p = parse(f);
    SCOPED_TRACE(more ? "middle fragment" : "last fragment");
    EXPECT_EQ(p.status, FrameStatus::Ok);
    EXPECT_EQ(p.fragment, Fragment::Later);
    EXPECT_EQ(p.protocol, 6);
    EXPECT_EQ(p.l4_status, L4Status::NoL4);
    EXPECT_FALSE(p.has_ports);
    EXPECT_EQ(p.src_port, 0);
    EXPECT_EQ(p.dst_port, 0);
    EXPECT_EQ(p.l4_offset, 34u);
    EXPECT_EQ(p.src, ip("10.0.0.1"));
  }
}

TEST(FrameParser, Ipv4DontFragmentBitAloneIsNotAFragment) {
  Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).build();
  set16(f, kEth + 6, 0x4000);  // DF
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.fragment, Fragment::None);
  EXPECT_TRUE(p.has_ports);
}

// ---- IPv6 -------------------------------------------------------------------------------

TEST(FrameParser, Ipv6TcpYieldsAddressesPortsAndOffsets) {
  const Frame f = PacketBuilder().ipv6("2001:db8::1", "2001:db8:ffff::2").tcp(51000, 22).build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.l4_status, L4Status::Ok);
  EXPECT_EQ(p.family, IpFamily::V6);
  EXPECT_EQ(p.ether_type, kEtherTypeIpv6);
  EXPECT_EQ(p.protocol, 6);
  EXPECT_EQ(p.src, ip("2001:db8::1"));
  EXPECT_EQ(p.dst, ip("2001:db8:ffff::2"));
  EXPECT_EQ(p.src.value >> 96, Uint128{0x20010db8});
  EXPECT_EQ(p.l3_offset, 14u);
  EXPECT_EQ(p.l4_offset, 54u);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 51000);
  EXPECT_EQ(p.dst_port, 22);
}

TEST(FrameParser, Ipv6EachExtensionHeaderAloneBeforeTcpYieldsPorts) {
  struct Case {
    uint8_t type;
    std::size_t size;
  };

  for (const Case c : {Case{0, kBuilderOptionsHeaderSize}, Case{43, kBuilderOptionsHeaderSize},
                       Case{60, kBuilderOptionsHeaderSize}, Case{51, kBuilderAhSize}}) {
    const Frame f = PacketBuilder()
                        .ipv6("2001:db8::1", "2001:db8::2")
                        .ipv6Extension(c.type)
                        .tcp(1234, 443)
                        .build();
    ASSERT_EQ(static_cast<uint8_t>(f[kEth + 6]), c.type);
    const ParsedFrame p = parse(f);
    SCOPED_TRACE("extension header " + std::to_string(c.type));
    EXPECT_EQ(p.status, FrameStatus::Ok);
    EXPECT_EQ(p.l4_status, L4Status::Ok);
    EXPECT_EQ(p.protocol, 6);
    EXPECT_EQ(p.fragment, Fragment::None);
    EXPECT_EQ(p.l4_offset, kIpv6L4 + c.size);
    EXPECT_TRUE(p.has_ports);
    EXPECT_EQ(p.src_port, 1234);
    EXPECT_EQ(p.dst_port, 443);
  }
}

TEST(FrameParser, Ipv6HopByHopRoutingDestOptsAhBeforeTcpYieldsPorts) {
  const Frame f = PacketBuilder()
                      .ipv6("2001:db8::1", "2001:db8::2")
                      .ipv6Extension(0)
                      .ipv6Extension(43)
                      .ipv6Extension(60)
                      .ipv6Extension(51)
                      .tcp(1234, 443)
                      .build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.l4_status, L4Status::Ok);
  EXPECT_EQ(p.protocol, 6);
  EXPECT_EQ(p.l4_offset, kIpv6L4 + 3 * kBuilderOptionsHeaderSize + kBuilderAhSize);  // 126
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 1234);
  EXPECT_EQ(p.dst_port, 443);
}

TEST(FrameParser, Ipv6ExactlyEightExtensionHeadersAreWalked) {
  PacketBuilder b;
  b.ipv6("2001:db8::1", "2001:db8::2");
  for (int i = 0; i < 8; ++i) {
    b.ipv6Extension(60);
  }
  const ParsedFrame p = parse(b.udp(7, 9).build());
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.protocol, 17);
  EXPECT_EQ(p.l4_offset, kIpv6L4 + 8 * kBuilderOptionsHeaderSize);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.dst_port, 9);
}

TEST(FrameParser, Ipv6SixteenExtensionHeadersStillParse) {
  PacketBuilder b;
  b.ipv6("2001:db8::1", "2001:db8::2");
  for (int i = 0; i < 16; ++i) {
    b.ipv6Extension(60);
  }
  const ParsedFrame p = parse(b.tcp(1, 2).build());
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.protocol, 6);
  EXPECT_TRUE(p.has_ports);
}

TEST(FrameParser, Ipv6OverlongExtensionChainStaysEvaluableWithoutPorts) {
  // Hosts accept such chains, so stopping the walk must not hide the packet from the rules.
  PacketBuilder b;
  b.ipv6("2001:db8::1", "2001:db8::2");
  for (int i = 0; i < 17; ++i) {
    b.ipv6Extension(i % 2 == 0 ? 60 : 43);
  }
  const ParsedFrame p = parse(b.tcp(1, 2).build());
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.l4_status, L4Status::Ipv6ExtensionChainTooLong);
  EXPECT_EQ(p.protocol, 60);  // the 17th header, where the walk stopped
  EXPECT_FALSE(p.has_ports);
  EXPECT_EQ(p.src, ip("2001:db8::1"));
}

TEST(FrameParser, Ipv6ExtensionHeaderLongerThanPacketIsTruncatedExtensionHeader) {
  Frame f = PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").ipv6Extension(0).tcp(1, 2).build();
  set8(f, kIpv6L4 + 1, 200);  // (200 + 1) * 8 bytes
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::TruncatedIpv6ExtensionHeader);
  EXPECT_FALSE(p.has_ports);
}

TEST(FrameParser, Ipv6FirstFragmentIsFirstAndHasPorts) {
  const Frame f = PacketBuilder()
                      .ipv6("2001:db8::1", "2001:db8::2")
                      .ipv6Fragment(0, /*more_fragments=*/true)
                      .tcp(1234, 443)
                      .payload(200)
                      .build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.fragment, Fragment::First);
  EXPECT_EQ(p.protocol, 6);
  EXPECT_EQ(p.l4_offset, kIpv6L4 + kFragmentHeaderSize);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 1234);
  EXPECT_EQ(p.dst_port, 443);
}

TEST(FrameParser, Ipv6AtomicFragmentIsNotAFragment) {
  const Frame f =
      PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").ipv6Fragment(0, false).udp(1, 2).build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.fragment, Fragment::None);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.protocol, 17);
}

TEST(FrameParser, Ipv6LaterFragmentTakesProtocolFromFragmentHeaderWithoutPorts) {
  for (bool more : {true, false}) {
    const Frame f = PacketBuilder()
                        .ipv6("2001:db8::1", "2001:db8::2")
                        .ipv6Fragment(181, more)
                        .udp(1234, 53)
                        .payload(40)
                        .build();
    const ParsedFrame p = parse(f);
    SCOPED_TRACE(more ? "middle fragment" : "last fragment");
    EXPECT_EQ(p.status, FrameStatus::Ok);
    EXPECT_EQ(p.fragment, Fragment::Later);
    EXPECT_EQ(p.protocol, 17);
    EXPECT_EQ(p.l4_status, L4Status::NoL4);
    EXPECT_FALSE(p.has_ports);
    EXPECT_EQ(p.src_port, 0);
    EXPECT_EQ(p.l4_offset, kIpv6L4 + kFragmentHeaderSize);
  }
}

TEST(FrameParser, Ipv6LaterFragmentAfterHopByHopAndRoutingKeepsProtocol) {
  const Frame f = PacketBuilder()
                      .ipv6("2001:db8::1", "2001:db8::2")
                      .ipv6Extension(0)
                      .ipv6Extension(43)
                      .ipv6Fragment(10, true)
                      .tcp(1, 2)
                      .build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.fragment, Fragment::Later);
  EXPECT_EQ(p.protocol, 6);
  EXPECT_FALSE(p.has_ports);
  EXPECT_EQ(p.l4_offset, kIpv6L4 + 2 * kBuilderOptionsHeaderSize + kFragmentHeaderSize);
}

TEST(FrameParser, Ipv6NoNextHeaderIsNoL4) {
  const Frame f = PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").build();  // next header 59
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.protocol, 59);
  EXPECT_EQ(p.l4_status, L4Status::NoL4);
  EXPECT_FALSE(p.has_ports);
}

TEST(FrameParser, Ipv6JumbogramPayloadLengthZeroIsBoundedByFrame) {
  Frame f =
      PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").ipv6Extension(0).tcp(80, 8080).build();
  set16(f, kEth + 4, 0);
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 80);
  EXPECT_EQ(p.dst_port, 8080);
}

// ---- VLAN tags and non-IP frames ---------------------------------------------------------

TEST(FrameParser, Single8021QTagIsSkipped) {
  const Frame f = PacketBuilder().vlan(0x2064).ipv4("10.0.0.1", "10.0.0.2").tcp(1000, 80).build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.vlan_count, 1);
  EXPECT_EQ(p.ether_type, kEtherTypeIpv4);
  EXPECT_EQ(p.l3_offset, 18u);
  EXPECT_EQ(p.l4_offset, 38u);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 1000);
  EXPECT_EQ(p.dst_port, 80);
}

TEST(FrameParser, QinQ88a8Then8100TagsAreSkipped) {
  const Frame f = PacketBuilder()
                      .vlan(100, kEtherTypeQinQ)
                      .vlan(200, kEtherTypeVlan)
                      .ipv6("2001:db8::1", "2001:db8::2")
                      .udp(3000, 4000)
                      .build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.vlan_count, 2);
  EXPECT_EQ(p.ether_type, kEtherTypeIpv6);
  EXPECT_EQ(p.l3_offset, 22u);
  EXPECT_EQ(p.l4_offset, 62u);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 3000);
  EXPECT_EQ(p.dst_port, 4000);
}

TEST(FrameParser, PreStandard9100TagIsSkipped) {
  const Frame f =
      PacketBuilder().vlan(7, kEtherTypeQinQOld).ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.vlan_count, 1);
  EXPECT_EQ(p.l3_offset, 18u);
  EXPECT_TRUE(p.has_ports);
}

TEST(FrameParser, ThreeVlanTagsAreTooManyVlanTags) {
  const Frame f = PacketBuilder()
                      .vlan(1, kEtherTypeQinQ)
                      .vlan(2, kEtherTypeVlan)
                      .vlan(3, kEtherTypeVlan)
                      .ipv4("10.0.0.1", "10.0.0.2")
                      .tcp(1, 2)
                      .build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::TooManyVlanTags);
  EXPECT_FALSE(p.has_ports);
  EXPECT_EQ(p.family, IpFamily::None);
}

TEST(FrameParser, VlanTagCutShortIsTruncatedVlanTag) {
  const Frame full = PacketBuilder().vlan(5).ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).build();
  for (std::size_t n = 14; n < 18; ++n) {
    const Frame f(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(parse(f).status, FrameStatus::TruncatedVlanTag) << "length " << n;
  }
  const Frame f18(full.begin(), full.begin() + 18);
  EXPECT_EQ(parse(f18).status, FrameStatus::TruncatedIpv4Header);
}

TEST(FrameParser, ArpIsNotIp) {
  const Frame f = PacketBuilder().etherType(0x0806).build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::NotIp);
  EXPECT_EQ(p.ether_type, 0x0806);
  EXPECT_EQ(p.family, IpFamily::None);
  EXPECT_FALSE(p.has_ports);
}

TEST(FrameParser, Ieee8023LengthFieldFrameIsNotIp) {
  // 802.3 + LLC: the type field is a length (46 bytes of LLC/SNAP and data).
  Frame f = PacketBuilder().etherType(46).build();
  set8(f, 14, 0xAA);  // SNAP DSAP
  set8(f, 15, 0xAA);
  EXPECT_EQ(parse(f).status, FrameStatus::NotIp);
}

TEST(FrameParser, VlanTaggedLldpIsNotIp) {
  const Frame f = PacketBuilder().vlan(10).etherType(0x88CC).build();
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::NotIp);
  EXPECT_EQ(p.vlan_count, 1);
  EXPECT_EQ(p.ether_type, 0x88CC);
}

// ---- Truncation at every length ------------------------------------------------------------

TEST(FrameParser, EveryPrefixOfIpv4TcpFrameFailsWithNamedReason) {
  const Frame full = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1234, 80).build();
  ASSERT_EQ(full.size(), 54u);
  for (std::size_t n = 0; n <= full.size(); ++n) {
    // A heap copy of exactly n bytes, so a sanitizer build catches any read past the end.
    const Frame f(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const ParsedFrame p = parse(f);
    SCOPED_TRACE("prefix length " + std::to_string(n));
    EXPECT_STRNE(frameStatusName(p.status), "unknown");
    if (n < 14) {
      EXPECT_EQ(p.status, FrameStatus::TruncatedEthernet);
    } else if (n < 34) {
      EXPECT_EQ(p.status, FrameStatus::TruncatedIpv4Header);
    } else if (n < 54) {
      EXPECT_EQ(p.status, FrameStatus::Ok);
      EXPECT_EQ(p.protocol, 6);
      EXPECT_EQ(p.l4_status, L4Status::TruncatedTcp);
      EXPECT_EQ(p.src, ip("10.0.0.1"));
    } else {
      EXPECT_EQ(p.status, FrameStatus::Ok);
      EXPECT_EQ(p.l4_status, L4Status::Ok);
    }
    EXPECT_EQ(p.has_ports, n == 54);
    if (!p.has_ports) {
      EXPECT_EQ(p.src_port, 0);
      EXPECT_EQ(p.dst_port, 0);
    }
  }
}

TEST(FrameParser, EveryPrefixOfIpv6ExtensionHeadersTcpFrameFailsWithNamedReason) {
  const Frame full = PacketBuilder()
                         .vlan(42)
                         .ipv6("2001:db8::1", "2001:db8::2")
                         .ipv6Extension(0)
                         .ipv6Extension(43)
                         .ipv6Extension(60)
                         .ipv6Extension(51)
                         .tcp(1234, 443)
                         .build();
  constexpr std::size_t kL3 = 18;
  constexpr std::size_t kL4 = kL3 + 40 + 3 * 16 + 24;  // 130
  ASSERT_EQ(full.size(), kL4 + 20);
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const Frame f(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const ParsedFrame p = parse(f);
    SCOPED_TRACE("prefix length " + std::to_string(n));
    EXPECT_STRNE(frameStatusName(p.status), "unknown");
    if (n < 14) {
      EXPECT_EQ(p.status, FrameStatus::TruncatedEthernet);
    } else if (n < kL3) {
      EXPECT_EQ(p.status, FrameStatus::TruncatedVlanTag);
    } else if (n < kL3 + 40) {
      EXPECT_EQ(p.status, FrameStatus::TruncatedIpv6Header);
    } else if (n < kL4) {
      EXPECT_EQ(p.status, FrameStatus::TruncatedIpv6ExtensionHeader);
    } else if (n < kL4 + 20) {
      EXPECT_EQ(p.status, FrameStatus::Ok);
      EXPECT_EQ(p.protocol, 6);
      EXPECT_EQ(p.l4_status, L4Status::TruncatedTcp);
    } else {
      EXPECT_EQ(p.status, FrameStatus::Ok);
      EXPECT_EQ(p.l4_status, L4Status::Ok);
      EXPECT_EQ(p.src_port, 1234);
    }
    EXPECT_EQ(p.has_ports, n == full.size());
  }
}

TEST(FrameParser, EveryPrefixOfUdpAndIcmpFramesNeverYieldsPartialL4) {
  const Frame udp = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).build();
  const Frame icmp = PacketBuilder().ipv6("::1", "::2").icmpEcho(9).build();
  for (std::size_t n = 0; n <= udp.size(); ++n) {
    const Frame f(udp.begin(), udp.begin() + static_cast<std::ptrdiff_t>(n));
    const ParsedFrame p = parse(f);
    EXPECT_EQ(p.has_ports, n == udp.size()) << n;
    if (n >= 34 && n < 42) {
      EXPECT_EQ(p.l4_status, L4Status::TruncatedUdp) << n;
    }
  }
  for (std::size_t n = 0; n <= icmp.size(); ++n) {
    const Frame f(icmp.begin(), icmp.begin() + static_cast<std::ptrdiff_t>(n));
    const ParsedFrame p = parse(f);
    EXPECT_EQ(p.is_icmp_echo, n == icmp.size()) << n;
    if (n >= 54 && n < 62) {
      EXPECT_EQ(p.l4_status, L4Status::TruncatedIcmp) << n;
    }
  }
}

// ---- Malformed IP headers ----------------------------------------------------------------

TEST(FrameParser, Ipv4EthertypeWithOtherVersionIsBadIpv4Version) {
  for (uint8_t version : {0, 5, 6, 15}) {
    Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).build();
    set8(f, kEth, static_cast<uint8_t>((version << 4) | 5));
    const ParsedFrame p = parse(f);
    EXPECT_EQ(p.status, FrameStatus::BadIpv4Version) << int{version};
    EXPECT_FALSE(p.has_ports);
    EXPECT_EQ(p.family, IpFamily::None);
  }
}

TEST(FrameParser, Ipv4HeaderLengthBelowFiveWordsIsBadIpv4HeaderLength) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).build();
    set8(f, kEth, static_cast<uint8_t>(0x40 | ihl));
    const ParsedFrame p = parse(f);
    EXPECT_EQ(p.status, FrameStatus::BadIpv4HeaderLength) << int{ihl};
    EXPECT_FALSE(p.has_ports);
  }
}

TEST(FrameParser, Ipv4HeaderLengthBeyondFrameIsTruncatedIpv4Header) {
  Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").build();  // 20-byte header, no L4
  set8(f, kEth, 0x4F);                                             // claims 60 bytes
  EXPECT_EQ(parse(f).status, FrameStatus::TruncatedIpv4Header);
}

TEST(FrameParser, Ipv4TotalLengthBelowHeaderLengthIsBadIpv4TotalLength) {
  Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).build();
  for (uint16_t total : {1, 19}) {
    set16(f, kEth + 2, total);
    EXPECT_EQ(parse(f).status, FrameStatus::BadIpv4TotalLength) << total;
  }
  set16(f, kEth + 2, 20);  // header only: valid, TCP header outside the packet
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.l4_status, L4Status::TruncatedTcp);
  EXPECT_FALSE(p.has_ports);

  Frame with_options =
      PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").ipv4Options(2).tcp(1, 2).build();
  set16(with_options, kEth + 2, 24);  // IHL 7 = 28 bytes > 24
  EXPECT_EQ(parse(with_options).status, FrameStatus::BadIpv4TotalLength);
}

TEST(FrameParser, Ipv4TotalLengthZeroTakesTheFrameLengthLikeBigTcp) {
  Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1234, 443).payload(100).build();
  set16(f, kEth + 2, 0);  // what IPv4 BIG TCP GSO packets carry on AF_PACKET
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 1234);
  EXPECT_EQ(p.dst_port, 443);
}

TEST(FrameParser, Ipv6EthertypeWithOtherVersionIsBadIpv6Version) {
  for (uint8_t version : {0, 4, 7}) {
    Frame f = PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").tcp(1, 2).build();
    set8(f, kEth, static_cast<uint8_t>(version << 4));
    const ParsedFrame p = parse(f);
    EXPECT_EQ(p.status, FrameStatus::BadIpv6Version) << int{version};
    EXPECT_FALSE(p.has_ports);
  }
}

TEST(FrameParser, EthernetPaddingAfterShortIpv4PacketDoesNotChangePorts) {
  Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").udp(68, 67).build();
  ASSERT_EQ(f.size(), 42u);
  f.resize(60, std::byte{0xFF});  // minimum Ethernet frame, padded with junk
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 68);
  EXPECT_EQ(p.dst_port, 67);
  EXPECT_EQ(p.l4_offset, 34u);
}

TEST(FrameParser, EthernetPaddingIsNotReadAsTheRestOfATcpHeader) {
  Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1234, 80).build();
  set16(f, kEth + 2, 20 + 10);  // the IP packet ends 10 bytes into the TCP header
  const ParsedFrame p = parse(f);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.l4_status, L4Status::TruncatedTcp);
  EXPECT_FALSE(p.has_ports);

  Frame v6 = PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").tcp(1234, 80).build();
  set16(v6, kEth + 4, 10);  // payload length: half a TCP header; the rest is padding
  const ParsedFrame p6 = parse(v6);
  EXPECT_EQ(p6.status, FrameStatus::Ok);
  EXPECT_EQ(p6.l4_status, L4Status::TruncatedTcp);
  EXPECT_FALSE(p6.has_ports);
}

TEST(FrameParser, Ipv4TotalLengthLargerThanCapturedFrameStillYieldsPorts) {
  const Frame full =
      PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(2000, 3000).payload(1400).build();
  ASSERT_EQ(full.size(), 54u + 1400u);
  const Frame cut(full.begin(), full.begin() + 96);  // a 96-byte snap length
  const ParsedFrame p = parse(cut);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.l4_status, L4Status::Ok);
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src_port, 2000);
  EXPECT_EQ(p.dst_port, 3000);
}

TEST(FrameParser, TcpDataOffsetBelowFiveIsBadTcpDataOffsetWithoutPorts) {
  for (uint8_t words = 0; words < 5; ++words) {
    Frame f = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1234, 80).build();
    set8(f, kIpv4L4 + 12, static_cast<uint8_t>(words << 4));
    const ParsedFrame p = parse(f);
    EXPECT_EQ(p.status, FrameStatus::Ok) << int{words};
    EXPECT_EQ(p.protocol, 6);
    EXPECT_EQ(p.l4_status, L4Status::BadTcpDataOffset) << int{words};
    EXPECT_FALSE(p.has_ports);
  }
}

TEST(FrameParser, UnknownProtocolGreIsNoL4WithoutPorts) {
  const Frame v4 = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").protocol(47).build();
  const ParsedFrame p = parse(v4);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  EXPECT_EQ(p.protocol, 47);
  EXPECT_EQ(p.l4_status, L4Status::NoL4);
  EXPECT_FALSE(p.has_ports);
  EXPECT_EQ(p.src_port, 0);
  EXPECT_EQ(p.l4_offset, 34u);

  const Frame v6 =
      PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").ipv6Extension(60).protocol(47).build();
  const ParsedFrame p6 = parse(v6);
  EXPECT_EQ(p6.status, FrameStatus::Ok);
  EXPECT_EQ(p6.protocol, 47);
  EXPECT_EQ(p6.l4_status, L4Status::NoL4);
  EXPECT_FALSE(p6.has_ports);
}

TEST(FrameParser, ParsedFrameIsResetForEachFrame) {
  ParsedFrame p;
  const Frame tcp = PacketBuilder().vlan(3).ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).build();
  parseFrame(Bytes(tcp), p);
  ASSERT_TRUE(p.has_ports);
  const Frame arp = PacketBuilder().etherType(0x0806).build();
  parseFrame(Bytes(arp), p);
  EXPECT_EQ(p.status, FrameStatus::NotIp);
  EXPECT_FALSE(p.has_ports);
  EXPECT_EQ(p.src_port, 0);
  EXPECT_EQ(p.vlan_count, 0);
  EXPECT_EQ(p.protocol, 0);
  EXPECT_EQ(p.family, IpFamily::None);
  EXPECT_EQ(p.src, IpAddress{});
}

TEST(FrameParser, FrameStatusNameIsDistinctForEveryValue) {
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(FrameStatus::kCount); ++i) {
    const std::string name = frameStatusName(static_cast<FrameStatus>(i));
    EXPECT_NE(name, "unknown") << i;
    EXPECT_FALSE(name.empty()) << i;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(FrameStatus::kCount));
  EXPECT_STREQ(frameStatusName(FrameStatus::Ok), "ok");
  EXPECT_STREQ(frameStatusName(FrameStatus::TooManyVlanTags), "too_many_vlan_tags");
  EXPECT_STREQ(frameStatusName(FrameStatus::kCount), "unknown");
}

// ---- Cross-check with scapy ---------------------------------------------------------------

// Runs a Python snippet (no single quotes) with the system python3 that has scapy.
std::optional<std::string> runScapy(const std::string& script) {
  for (const char* python : {"/usr/bin/python3", "python3"}) {
    const std::string command = std::string(python) + " -c '" + script + "' 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
      continue;
    }
    std::string out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
      out.append(buf, n);
    }
    if (pclose(pipe) == 0 && !out.empty()) {
      return out;
    }
  }
  return std::nullopt;
}

TEST(FrameParser, MatchesScapyBuiltFrames) {
  // Each line: hex of the frame, then the offset scapy puts the L4 header at.
  const std::string script =
      "from scapy.all import *\n"
      "frames = [\n"
      " Ether(dst=\"02:00:00:00:00:02\", src=\"02:00:00:00:00:01\")/IPv6(src=\"2001:db8::1\", "
      "dst=\"2001:db8::2\")/IPv6ExtHdrHopByHop()/IPv6ExtHdrRouting()/"
      "IPv6ExtHdrFragment(offset=0, m=1, id=7)/TCP(sport=1234, dport=443)/Raw(b\"x\" * 32),\n"
      " Ether(dst=\"02:00:00:00:00:02\", src=\"02:00:00:00:00:01\")/Dot1AD(vlan=100)/Dot1Q(vlan=200)/IP(src=\"192.0.2.1\", dst=\"198.51.100.7\", "
      "options=[IPOption_RR(routers=[\"1.1.1.1\", \"2.2.2.2\"])])/UDP(sport=5353, dport=53)/"
      "Raw(b\"q\" * 12),\n"
      " Ether(dst=\"02:00:00:00:00:02\", src=\"02:00:00:00:00:01\")/IPv6(src=\"2001:db8::1\", dst=\"2001:db8::2\")/IPv6ExtHdrDestOpt()/"
      "IPv6ExtHdrFragment(offset=100, m=0, nh=17)/Raw(b\"y\" * 24),\n"
      "]\n"
      "for p in frames:\n"
      " b = bytes(p)\n"
      " l4 = p.getlayer(TCP) or p.getlayer(UDP)\n"
      " print(b.hex(), len(b) - len(bytes(l4)) if l4 else 0)\n";
  const auto out = runScapy(script);
  if (!out) {
    GTEST_SKIP() << "python3 with scapy is not available";
  }
  std::istringstream lines(*out);
  std::vector<std::pair<Frame, std::size_t>> frames;
  std::string hex;
  std::size_t l4 = 0;
  while (lines >> hex >> l4) {
    frames.emplace_back(testing::fromHex(hex), l4);
  }
  ASSERT_EQ(frames.size(), 3u) << *out;

  const ParsedFrame v6 = parse(frames[0].first);
  EXPECT_EQ(v6.status, FrameStatus::Ok);
  EXPECT_EQ(v6.fragment, Fragment::First);
  EXPECT_EQ(v6.protocol, 6);
  EXPECT_EQ(v6.l4_offset, frames[0].second);
  EXPECT_TRUE(v6.has_ports);
  EXPECT_EQ(v6.src_port, 1234);
  EXPECT_EQ(v6.dst_port, 443);
  EXPECT_EQ(v6.src, ip("2001:db8::1"));

  const ParsedFrame qinq = parse(frames[1].first);
  EXPECT_EQ(qinq.status, FrameStatus::Ok);
  EXPECT_EQ(qinq.vlan_count, 2);
  EXPECT_EQ(qinq.l3_offset, 22u);
  EXPECT_EQ(qinq.protocol, 17);
  EXPECT_EQ(qinq.l4_offset, frames[1].second);
  EXPECT_GT(qinq.l4_offset, 22u + 20u);  // the options were walked
  EXPECT_TRUE(qinq.has_ports);
  EXPECT_EQ(qinq.src_port, 5353);
  EXPECT_EQ(qinq.dst_port, 53);
  EXPECT_EQ(qinq.dst, ip("198.51.100.7"));

  const ParsedFrame later = parse(frames[2].first);
  EXPECT_EQ(later.status, FrameStatus::Ok);
  EXPECT_EQ(later.fragment, Fragment::Later);
  EXPECT_EQ(later.protocol, 17);
  EXPECT_FALSE(later.has_ports);
}

}  // namespace
}  // namespace tmirror::packet
