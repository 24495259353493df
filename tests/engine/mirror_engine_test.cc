#include "engine/mirror_engine.h"

#include <set>

#include <gtest/gtest.h>

#include "packet/vxlan.h"
#include "rules/rules_test_util.h"

namespace tmirror::engine {
namespace {

using model::TrafficDirection;
using testing::PacketBuilder;

struct Fixture {
  model::HostMirrorConfig host;
  model::InterfaceMirrorConfig interface = testing::makeInterface();

  Fixture() {
    auto session = testing::makeSession(1, 4242);
    session.filter.ingress_rules.push_back(
        testing::makeRule(TrafficDirection::Ingress, {.number = 10, .protocol = 6}));
    session.filter.egress_rules.push_back(
        testing::makeRule(TrafficDirection::Egress, {.number = 10, .protocol = 6}));
    interface.sessions.push_back(session);
    host.interfaces = {interface};
  }

  MirrorEngine engine(EngineOptions options = {}) {
    auto e = MirrorEngine::create(host, interface, options);
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().message);
    return std::move(*e);
  }
};

std::vector<std::byte> flatten(const packet::MirrorCopy& copy) {
  std::vector<std::byte> out(copy.outerLength());
  EXPECT_EQ(copy.copyTo(out), out.size());
  return out;
}

TEST(MirrorEngine, MirroredFrameBecomesVxlanToTheTargetWithTheSessionVni) {
  Fixture f;
  auto engine = f.engine();
  const auto frame = PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").tcp(40000, 80).build();
  packet::EncapSlot slot;
  Decision d;
  engine.process(frame, TrafficDirection::Ingress, {}, slot, d);
  ASSERT_EQ(d.match.fate, rules::PacketFate::Mirrored);
  EXPECT_EQ(d.target, testing::ip("198.51.100.20"));
  const auto bytes = flatten(d.copy);
  const auto decap = packet::decapsulateFrame(bytes);
  ASSERT_EQ(decap.status, packet::DecapStatus::Ok);
  EXPECT_EQ(decap.vni, 4242u);
  EXPECT_EQ(decap.outer_src, testing::ip("198.51.100.10"));
  EXPECT_EQ(decap.outer_dst, testing::ip("198.51.100.20"));
  EXPECT_TRUE(std::equal(decap.inner.begin(), decap.inner.end(), frame.begin(), frame.end()));
}

TEST(MirrorEngine, BothDirectionsOfAFlowLeaveFromTheSameSourcePort) {
  Fixture f;
  auto engine = f.engine();
  const auto in = PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").tcp(40000, 80).build();
  const auto out = PacketBuilder().ipv4("198.51.100.10", "192.0.2.1").tcp(80, 40000).build();
  packet::EncapSlot slot_in, slot_out;
  Decision d_in, d_out;
  engine.process(in, TrafficDirection::Ingress, {}, slot_in, d_in);
  engine.process(out, TrafficDirection::Egress, {}, slot_out, d_out);
  const auto a = packet::decapsulateFrame(flatten(d_in.copy));
  const auto b = packet::decapsulateFrame(flatten(d_out.copy));
  EXPECT_EQ(a.outer_src_port, b.outer_src_port);
  EXPECT_GE(a.outer_src_port, 49152);
}

TEST(MirrorEngine, LoadBalancerTargetSendsBothDirectionsToOneMember) {
  Fixture f;
  f.interface.sessions[0].target.type = model::TargetType::NetworkLoadBalancer;
  f.interface.sessions[0].target.addresses = {
      testing::ip("198.51.100.20"), testing::ip("198.51.100.21"), testing::ip("198.51.100.22")};
  f.host.interfaces = {f.interface};
  auto engine = f.engine();
  std::set<uint32_t> members_used;
  for (uint16_t port = 1000; port < 1100; ++port) {
    const auto in = PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").tcp(port, 80).build();
    const auto out = PacketBuilder().ipv4("198.51.100.10", "192.0.2.1").tcp(80, port).build();
    packet::EncapSlot s1, s2;
    Decision d1, d2;
    engine.process(in, TrafficDirection::Ingress, {}, s1, d1);
    engine.process(out, TrafficDirection::Egress, {}, s2, d2);
    EXPECT_EQ(d1.target, d2.target);
    members_used.insert(static_cast<uint32_t>(d1.target.value));
  }
  EXPECT_EQ(members_used.size(), 3u);
}

TEST(MirrorEngine, CountsEveryFrameExactlyOnce) {
  Fixture f;
  f.host.dns_resolvers = {testing::ip("198.51.100.53")};
  auto engine = f.engine();
  packet::EncapSlot slot;
  Decision d;
  const auto tcp =
      PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").tcp(1, 80).payload(100).build();
  const auto udp = PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").udp(1, 80).build();
  const auto arp = PacketBuilder().etherType(0x0806).build();
  std::vector<std::byte> runt(10);
  engine.process(tcp, TrafficDirection::Ingress, {}, slot, d);
  engine.recordSent(d);
  engine.process(tcp, TrafficDirection::Egress, {.present = true, .tci = 5}, slot, d);
  engine.recordSkipped(d);
  engine.process(udp, TrafficDirection::Ingress, {}, slot, d);
  engine.process(arp, TrafficDirection::Ingress, {}, slot, d);
  engine.process(runt, TrafficDirection::Ingress, {}, slot, d);
  engine.recordUnknownDirection();
  const auto& c = engine.counters();
  EXPECT_EQ(c.frames, 6u);
  EXPECT_EQ(c.fate(rules::PacketFate::Mirrored), 1u);
  EXPECT_EQ(c.skipped, 1u);
  EXPECT_EQ(c.fate(rules::PacketFate::NotMatched), 1u);
  EXPECT_EQ(c.fate(rules::PacketFate::NotIp), 1u);
  EXPECT_EQ(c.fate(rules::PacketFate::Malformed), 1u);
  EXPECT_EQ(c.malformed[static_cast<std::size_t>(packet::FrameStatus::TruncatedEthernet)], 1u);
  EXPECT_EQ(c.unknown_direction, 1u);
  uint64_t sum = c.skipped + c.unknown_direction;
  for (uint64_t v : c.fates) {
    sum += v;
  }
  EXPECT_EQ(sum, c.frames);
  EXPECT_EQ(c.mirror.in.mirror_packets, 1u);
  EXPECT_EQ(c.mirror.in.mirror_bytes, tcp.size());
  EXPECT_EQ(c.mirror.out.skip_packets, 1u);
  EXPECT_EQ(c.mirror.out.skip_bytes, tcp.size() + 4);  // restored VLAN tag counts
  EXPECT_EQ(engine.sessionCounters(0).in.mirror_packets, 1u);
}

TEST(MirrorEngine, PacketLengthAndMtuTruncateAndAreCounted) {
  Fixture f;
  f.interface.sessions[0].packet_length = 64;
  f.host.interfaces = {f.interface};
  auto engine = f.engine();
  const auto frame =
      PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").tcp(1, 80).payload(1000).build();
  packet::EncapSlot slot;
  Decision d;
  engine.process(frame, TrafficDirection::Ingress, {}, slot, d);
  EXPECT_EQ(d.copy.inner_length, 64u);
  EXPECT_EQ(d.copy.original_length, frame.size());
  engine.recordSent(d);
  EXPECT_EQ(engine.counters().mirror.in.truncated_packets, 1u);
  EXPECT_EQ(engine.counters().mirror.in.mirror_bytes, frame.size());
}

TEST(MirrorEngine, RejectsIpv6TargetsAndMissingSourceAddress) {
  Fixture f;
  f.interface.sessions[0].target.addresses = {testing::ip("2001:db8::20")};
  auto e = MirrorEngine::create(f.host, f.interface);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, ErrorCode::Unsupported);
  Fixture g;
  g.interface.interface.ipv4.reset();
  auto e2 = MirrorEngine::create(g.host, g.interface);
  ASSERT_FALSE(e2.has_value());
  EXPECT_NE(e2.error().message.find("IPv4"), std::string::npos);
}

}  // namespace
}  // namespace tmirror::engine
