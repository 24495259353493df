// symmetricFlowHash / vxlanSourcePort: both directions of a flow agree, flows spread out,
// fragments of one datagram stay together, and ports never leave the dynamic range.
#include "packet/flow_hash.h"

#include <random>
#include <set>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "packet/frame.h"
#include "testing/packet_builder.h"

namespace tmirror::packet {
namespace {

using testing::Frame;
using testing::PacketBuilder;

ParsedFrame parse(const Frame& frame) {
  ParsedFrame parsed;
  parseFrame(Bytes(frame), parsed);
  return parsed;
}

uint32_t hashOf(const Frame& frame) {
  const ParsedFrame p = parse(frame);
  EXPECT_EQ(p.status, FrameStatus::Ok);
  return symmetricFlowHash(p);
}

ParsedFrame tcpFlow(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
  ParsedFrame p;
  p.status = FrameStatus::Ok;
  p.family = IpFamily::V4;
  p.protocol = kProtoTcp;
  p.has_ports = true;
  p.src = IpAddress::v4(src);
  p.dst = IpAddress::v4(dst);
  p.src_port = sport;
  p.dst_port = dport;
  return p;
}

std::string v4(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xFF) + "." +
         std::to_string((a >> 8) & 0xFF) + "." + std::to_string(a & 0xFF);
}

TEST(FlowHash, TcpIsSymmetricUnderSwappingAddressesAndPorts) {
  const uint32_t there =
      hashOf(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(37180, 22).build());
  const uint32_t back = hashOf(PacketBuilder().ipv4("10.0.0.2", "10.0.0.1").tcp(22, 37180).build());
  EXPECT_EQ(there, back);
  EXPECT_EQ(vxlanSourcePort(there), vxlanSourcePort(back));
}

TEST(FlowHash, UdpIsSymmetricUnderSwappingAddressesAndPorts) {
  const uint32_t there =
      hashOf(PacketBuilder().ipv4("172.31.0.238", "78.46.93.39").udp(60631, 123).build());
  const uint32_t back =
      hashOf(PacketBuilder().ipv4("78.46.93.39", "172.31.0.238").udp(123, 60631).build());
  EXPECT_EQ(there, back);
  EXPECT_EQ(vxlanSourcePort(there), vxlanSourcePort(back));
}

TEST(FlowHash, SymmetricForRandomTcpAndUdpFlows) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 500; ++i) {
    const std::string a = v4(any(rng));
    const std::string b = v4(any(rng));
    const auto pa = static_cast<uint16_t>(any(rng));
    const auto pb = static_cast<uint16_t>(any(rng));
    const bool tcp = (i % 2) == 0;
    PacketBuilder there;
    PacketBuilder back;
    there.ipv4(a, b);
    back.ipv4(b, a);
    if (tcp) {
      there.tcp(pa, pb);
      back.tcp(pb, pa);
    } else {
      there.udp(pa, pb);
      back.udp(pb, pa);
    }
    ASSERT_EQ(hashOf(there.build()), hashOf(back.build()))
        << a << ":" << pa << " " << b << ":" << pb;
  }
}

TEST(FlowHash, SameAddressDifferentPortsIsSymmetric) {
  const uint32_t there =
      hashOf(PacketBuilder().ipv4("127.0.0.1", "127.0.0.1").tcp(1000, 2000).build());
  const uint32_t back =
      hashOf(PacketBuilder().ipv4("127.0.0.1", "127.0.0.1").tcp(2000, 1000).build());
  EXPECT_EQ(there, back);
}

TEST(FlowHash, IcmpEchoRequestAndReplyWithSameIdShareAHash) {
  const uint32_t request =
      hashOf(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").icmpEcho(777, false).build());
  const uint32_t reply =
      hashOf(PacketBuilder().ipv4("10.0.0.2", "10.0.0.1").icmpEcho(777, true).build());
  EXPECT_EQ(request, reply);
  const uint32_t other_id =
      hashOf(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").icmpEcho(778, false).build());
  EXPECT_NE(request, other_id);

  const uint32_t request6 =
      hashOf(PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").icmpEcho(9).build());
  const uint32_t reply6 =
      hashOf(PacketBuilder().ipv6("2001:db8::2", "2001:db8::1").icmpEcho(9, true).build());
  EXPECT_EQ(request6, reply6);
}

TEST(FlowHash, Ipv6TcpIsSymmetric) {
  const uint32_t there = hashOf(PacketBuilder()
                                    .ipv6("2001:db8::1", "2001:db8:1::ff")
                                    .ipv6Extension(0)
                                    .tcp(50000, 443)
                                    .build());
  const uint32_t back =
      hashOf(PacketBuilder().ipv6("2001:db8:1::ff", "2001:db8::1").tcp(443, 50000).build());
  EXPECT_EQ(there, back);
  EXPECT_EQ(vxlanSourcePort(there), vxlanSourcePort(back));
}

TEST(FlowHash, DistinctFlowsGetDistinctHashesAlmostAlways) {
  std::mt19937 rng(2024);
  std::uniform_int_distribution<uint32_t> any;
  std::set<uint32_t> hashes;
  std::set<uint16_t> ports;
  std::set<std::tuple<uint32_t, uint32_t, uint16_t, uint16_t>> flows;
  while (flows.size() < 10000) {
    const uint32_t a = any(rng);
    const uint32_t b = any(rng);
    const auto pa = static_cast<uint16_t>(any(rng));
    const auto pb = static_cast<uint16_t>(any(rng));
    if (!flows.insert({a, b, pa, pb}).second) {
      continue;
    }
    const uint32_t h = symmetricFlowHash(tcpFlow(a, b, pa, pb));
    hashes.insert(h);
    ports.insert(vxlanSourcePort(h));
  }
  // 10,000 random values in 2^32 collide with probability ~1%; allow a handful.
  EXPECT_GE(hashes.size(), 9995u);
  // 10,000 values into 16,384 ports: ~7,490 distinct expected if well spread.
  EXPECT_GE(ports.size(), 7200u);
}

TEST(FlowHash, OnlyTheSourcePortDifferingStillSpreads) {
  std::set<uint32_t> hashes;
  std::set<uint16_t> ports;
  for (uint32_t sport = 1024; sport < 1024 + 10000; ++sport) {
    const uint32_t h =
        symmetricFlowHash(tcpFlow(0x0A000001, 0x0A000002, static_cast<uint16_t>(sport), 443));
    hashes.insert(h);
    ports.insert(vxlanSourcePort(h));
  }
  EXPECT_GE(hashes.size(), 9995u);
  EXPECT_GE(ports.size(), 7200u);
}

TEST(FlowHash, AddressAndPortBitsDoNotCancelOut) {
  // One client, 256 servers 11.X.0.2, client ports 1024-1279: 65,536 distinct flows.
  std::set<uint32_t> hashes;
  for (uint32_t x = 0; x < 256; ++x) {
    for (uint32_t port = 1024; port < 1024 + 256; ++port) {
      hashes.insert(symmetricFlowHash(
          tcpFlow(0x0A000001, 0x0B000002 | (x << 16), static_cast<uint16_t>(port), 443)));
    }
  }
  const uint32_t h1 = symmetricFlowHash(tcpFlow(0x0A000001, 0x0A000002, 1000, 80));
  const uint32_t h2 = symmetricFlowHash(tcpFlow(0x0A000001, 0x0A010002, 1001, 80));
  // IPv6: the third 16-bit group of the lower address against its port.
  const uint32_t h3 =
      hashOf(PacketBuilder().ipv6("2001:db8:1::1", "2001:db9::1").tcp(0x3E8, 80).build());
  const uint32_t h4 =
      hashOf(PacketBuilder().ipv6("2001:db8:2::1", "2001:db9::1").tcp(0x3EB, 80).build());
  // Addresses and ports must not cancel: these pairs collided when both were XORed into one
  // word before the first multiply.
  EXPECT_GE(hashes.size(), 65000u);
  EXPECT_NE(h1, h2);
  EXPECT_NE(h3, h4);
}

TEST(FlowHash, SourcePortIsAlwaysInTheDynamicRange) {
  for (uint32_t h :
       {0u, 1u, 0x3FFFu, 0x4000u, 0xC000u, 0xFFFFu, 0x10000u, 0xFFFF0000u, 0xFFFFFFFFu}) {
    EXPECT_GE(vxlanSourcePort(h), 49152) << h;
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> any;
  std::set<uint16_t> seen;
  for (int i = 0; i < 400000; ++i) {
    const uint16_t port = vxlanSourcePort(any(rng));
    ASSERT_GE(port, 49152);
    ASSERT_LE(port, 65535);
    seen.insert(port);
  }
  EXPECT_EQ(seen.size(), 16384u);  // every port of the range is reachable
}

TEST(FlowHash, FirstAndLaterIpv4FragmentsShareAHash) {
  const Frame first = PacketBuilder()
                          .ipv4("10.0.0.1", "10.0.0.2")
                          .ipv4Fragment(0, true)
                          .udp(5000, 6000)
                          .payload(100)
                          .build();
  const Frame later = PacketBuilder()
                          .ipv4("10.0.0.1", "10.0.0.2")
                          .ipv4Fragment(14, false)
                          .udp(1, 1)
                          .payload(40)
                          .build();
  const Frame later_back = PacketBuilder()
                               .ipv4("10.0.0.2", "10.0.0.1")
                               .ipv4Fragment(14, false)
                               .udp(1, 1)
                               .payload(40)
                               .build();
  ASSERT_EQ(parse(first).fragment, Fragment::First);
  ASSERT_EQ(parse(later).fragment, Fragment::Later);
  EXPECT_EQ(hashOf(first), hashOf(later));
  EXPECT_EQ(hashOf(later), hashOf(later_back));
}

TEST(FlowHash, FirstAndLaterIpv6FragmentsShareAHash) {
  const Frame first = PacketBuilder()
                          .ipv6("2001:db8::1", "2001:db8::2")
                          .ipv6Fragment(0, true)
                          .tcp(1234, 443)
                          .payload(100)
                          .build();
  const Frame later =
      PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").ipv6Fragment(15, false).tcp(9, 9).build();
  ASSERT_EQ(parse(first).fragment, Fragment::First);
  ASSERT_EQ(parse(later).fragment, Fragment::Later);
  EXPECT_EQ(hashOf(first), hashOf(later));
}

TEST(FlowHash, NonTcpUdpUsesAddressesAndProtocolOnly) {
  // GRE: the opaque header differs, the hash does not.
  Frame gre_a = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").protocol(47).build();
  Frame gre_b = gre_a;
  gre_b[34] = std::byte{0x12};
  gre_b[36] = std::byte{0x34};
  EXPECT_EQ(hashOf(gre_a), hashOf(gre_b));
  EXPECT_EQ(hashOf(gre_a),
            hashOf(PacketBuilder().ipv4("10.0.0.2", "10.0.0.1").protocol(47).build()));

  // Ports a parser never set for a portless packet are ignored too.
  ParsedFrame p = parse(gre_a);
  const uint32_t base = symmetricFlowHash(p);
  p.src_port = 1111;
  p.dst_port = 2222;
  EXPECT_EQ(symmetricFlowHash(p), base);

  // ICMP that is not an echo: 3-tuple, whatever its identifier bytes hold.
  Frame unreachable_a = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").icmpEcho(1).build();
  Frame unreachable_b = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").icmpEcho(2).build();
  unreachable_a[34] = std::byte{3};
  unreachable_b[34] = std::byte{3};
  EXPECT_EQ(hashOf(unreachable_a), hashOf(unreachable_b));
}

TEST(FlowHash, ProtocolIsPartOfTheHash) {
  const uint32_t tcp = hashOf(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1000, 2000).build());
  const uint32_t udp = hashOf(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").udp(1000, 2000).build());
  const uint32_t gre = hashOf(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").protocol(47).build());
  const uint32_t esp = hashOf(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").protocol(50).build());
  EXPECT_NE(tcp, udp);
  EXPECT_NE(gre, esp);
}

TEST(FlowHash, SwappingOnlyPortsIsADifferentFlow) {
  const uint32_t a = hashOf(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(1000, 2000).build());
  const uint32_t b = hashOf(PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(2000, 1000).build());
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace tmirror::packet
