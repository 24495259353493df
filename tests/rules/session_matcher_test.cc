// Pins the data-plane semantics (docs/mirroring.md points 2-4) on three evaluators that must agree:
// the reference evaluator, the compiled matcher with linear rule lists, and the compiled
// matcher forced onto its bit-vector path.
#include "rules/session_matcher.h"

#include <gtest/gtest.h>

#include "rules/reference_evaluator.h"
#include "rules/rules_test_util.h"

namespace tmirror::rules {
namespace {

using model::RuleAction;
using model::TrafficDirection;
using testing::Frame;
using testing::makeInterface;
using testing::makeRule;
using testing::makeSession;
using testing::PacketBuilder;
using testing::RuleSpec;

constexpr auto kIn = TrafficDirection::Ingress;
constexpr auto kOut = TrafficDirection::Egress;
constexpr auto kAccept = RuleAction::Accept;
constexpr auto kReject = RuleAction::Reject;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

enum class Evaluator { Reference, CompiledLinear, CompiledBitset };

class SessionMatcherTest : public ::testing::TestWithParam<Evaluator> {
 protected:
  MatchResult decide(const Frame& frame, TrafficDirection direction) {
    packet::ParsedFrame parsed;
    packet::parseFrame(frame, parsed);
    const auto exclusions = TrafficExclusions::forInterface(host_, interface_);
    switch (GetParam()) {
      case Evaluator::Reference:
        return evaluateReference(interface_, exclusions, parsed, direction);
      case Evaluator::CompiledLinear:
        return SessionMatcher::compile(interface_, exclusions).match(parsed, direction);
      case Evaluator::CompiledBitset:
        return SessionMatcher::compile(interface_, exclusions, {.force_bitsets = true})
            .match(parsed, direction);
    }
    return {};
  }

  PacketFate fate(const Frame& frame, TrafficDirection direction = kIn) {
    return decide(frame, direction).fate;
  }

  model::Session& addSession(uint32_t number) {
    interface_.sessions.push_back(makeSession(number));
    host_.interfaces = {interface_};
    return interface_.sessions.back();
  }

  void syncHost() { host_.interfaces = {interface_}; }

  static void addRule(model::Session& s, TrafficDirection d, const RuleSpec& spec) {
    (d == kIn ? s.filter.ingress_rules : s.filter.egress_rules).push_back(makeRule(d, spec));
  }

  model::HostMirrorConfig host_;
  model::InterfaceMirrorConfig interface_ = makeInterface();
};

Frame tcp4(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  return PacketBuilder().ipv4(src, dst).tcp(sport, dport).build();
}

Frame tcp6(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  return PacketBuilder().ipv6(src, dst).tcp(sport, dport).build();
}

TEST_P(SessionMatcherTest, NoSessionsMirrorsNothing) {
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1234, 80)), PacketFate::NotMatched);
}

TEST_P(SessionMatcherTest, FilterWithoutRulesMirrorsNothing) {
  addSession(1);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1234, 80)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1234, 80), kOut), PacketFate::NotMatched);
}

TEST_P(SessionMatcherTest, OnlyTheRulesOfThePacketsDirectionCount) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .action = kAccept});
  syncHost();
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1234, 80), kIn), PacketFate::Mirrored);
  EXPECT_EQ(fate(tcp4("198.51.100.10", "192.0.2.1", 80, 1234), kOut), PacketFate::NotMatched);
}

// AWS guide example 1: inbound 10 reject TCP dst 22 from my-network to the VPC CIDR,
// 20 accept all TCP: all inbound IPv4 TCP except SSH from my-network.
TEST_P(SessionMatcherTest, GuideExampleAllInboundTcpExceptSshFromMyNetwork) {
  auto& s = addSession(1);
  addRule(s, kIn,
          {.number = 10,
           .action = kReject,
           .protocol = kTcp,
           .src = "203.0.113.0/24",
           .dst = "198.51.100.0/24",
           .dst_ports = model::PortRange{22, 22}});
  addRule(s, kIn, {.number = 20, .action = kAccept, .protocol = kTcp});
  syncHost();
  EXPECT_EQ(fate(tcp4("203.0.113.5", "198.51.100.10", 40000, 22)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp4("192.0.2.5", "198.51.100.10", 40000, 22)), PacketFate::Mirrored);
  EXPECT_EQ(fate(tcp4("203.0.113.5", "198.51.100.10", 40000, 443)), PacketFate::Mirrored);
  EXPECT_EQ(fate(PacketBuilder().ipv4("203.0.113.5", "198.51.100.10").udp(5, 22).build()),
            PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp6("2001:db8::5", "2001:db8::10", 40000, 443)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp4("192.0.2.5", "198.51.100.10", 40000, 22), kOut), PacketFate::NotMatched);
}

// AWS guide example 2: inbound 10 accept TCP dst 443 over IPv4, 20 the same over IPv6.
TEST_P(SessionMatcherTest, GuideExampleHttpsOverIpv4AndIpv6) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .protocol = kTcp, .dst_ports = model::PortRange{443, 443}});
  addRule(s, kIn,
          {.number = 20,
           .protocol = kTcp,
           .src = "::/0",
           .dst = "::/0",
           .dst_ports = model::PortRange{443, 443}});
  syncHost();
  EXPECT_EQ(decide(tcp4("192.0.2.1", "198.51.100.10", 50000, 443), kIn).rule_index, 0);
  EXPECT_EQ(decide(tcp6("2001:db8::1", "2001:db8::10", 50000, 443), kIn).rule_index, 1);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 50000, 80)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp6("2001:db8::1", "2001:db8::10", 50000, 444)), PacketFate::NotMatched);
  EXPECT_EQ(fate(PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").udp(5, 443).build()),
            PacketFate::NotMatched);
}

TEST_P(SessionMatcherTest, RulesAreEvaluatedInRuleNumberOrderNotListOrder) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 200, .action = kAccept});
  addRule(s, kIn, {.number = 100, .action = kReject, .protocol = kTcp});
  syncHost();
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1, 2)), PacketFate::NotMatched);
  const auto udp = PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").udp(1, 2).build();
  EXPECT_EQ(decide(udp, kIn).rule_index, 1);  // rule 200 is second in rule-number order
}

TEST_P(SessionMatcherTest, RejectInFirstSessionLetsSecondMirror) {
  auto& s1 = addSession(1);
  addRule(s1, kIn, {.number = 10, .action = kReject, .protocol = kTcp});
  auto& s2 = addSession(2);
  addRule(s2, kIn, {.number = 10, .action = kAccept});
  syncHost();
  const auto result = decide(tcp4("192.0.2.1", "198.51.100.10", 1, 80), kIn);
  EXPECT_EQ(result.fate, PacketFate::Mirrored);
  EXPECT_EQ(result.session_index, 1);
}

TEST_P(SessionMatcherTest, AcceptInFirstSessionStopsSecond) {
  auto& s2 = addSession(2);
  addRule(s2, kIn, {.number = 10, .action = kAccept});
  auto& s1 = addSession(1);  // added second, but its number makes it first
  addRule(s1, kIn, {.number = 10, .action = kAccept, .protocol = kTcp});
  syncHost();
  const auto tcp = decide(tcp4("192.0.2.1", "198.51.100.10", 1, 80), kIn);
  EXPECT_EQ(tcp.fate, PacketFate::Mirrored);
  EXPECT_EQ(tcp.session_index, 0);
  const auto udp =
      decide(PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").udp(1, 2).build(), kIn);
  EXPECT_EQ(udp.session_index, 1);
}

TEST_P(SessionMatcherTest, NoMatchInFirstSessionFallsThroughToSecond) {
  auto& s1 = addSession(1);
  addRule(s1, kIn, {.number = 10, .protocol = kUdp});
  auto& s2 = addSession(7);
  addRule(s2, kIn, {.number = 10, .protocol = kTcp});
  syncHost();
  EXPECT_EQ(decide(tcp4("192.0.2.1", "198.51.100.10", 1, 80), kIn).session_index, 1);
}

TEST_P(SessionMatcherTest, FamilyMustEqualTheCidrsFamily) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10});  // 0.0.0.0/0 both sides
  syncHost();
  EXPECT_EQ(fate(tcp6("2001:db8::1", "2001:db8::10", 1, 2)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1, 2)), PacketFate::Mirrored);
}

TEST_P(SessionMatcherTest, BothAddressesMustBeInTheirCidrs) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .src = "192.0.2.0/25", .dst = "198.51.100.8/29"});
  syncHost();
  EXPECT_EQ(fate(tcp4("192.0.2.127", "198.51.100.15", 1, 2)), PacketFate::Mirrored);
  EXPECT_EQ(fate(tcp4("192.0.2.128", "198.51.100.10", 1, 2)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.16", 1, 2)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp4("198.51.100.10", "192.0.2.1", 1, 2)), PacketFate::NotMatched);
}

TEST_P(SessionMatcherTest, Ipv6CidrsMatchOnAllBits) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .src = "2001:db8:0:1::/64", .dst = "2001:db8::10/128"});
  syncHost();
  EXPECT_EQ(fate(tcp6("2001:db8:0:1:ffff::1", "2001:db8::10", 1, 2)), PacketFate::Mirrored);
  EXPECT_EQ(fate(tcp6("2001:db8:0:2::1", "2001:db8::10", 1, 2)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp6("2001:db8:0:1::1", "2001:db8::11", 1, 2)), PacketFate::NotMatched);
}

TEST_P(SessionMatcherTest, PortRangesAreInclusive) {
  auto& s = addSession(1);
  addRule(s, kIn,
          {.number = 10,
           .protocol = kTcp,
           .src_ports = model::PortRange{1024, 2047},
           .dst_ports = model::PortRange{80, 81}});
  syncHost();
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1024, 80)), PacketFate::Mirrored);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 2047, 81)), PacketFate::Mirrored);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1023, 80)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 2048, 80)), PacketFate::NotMatched);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1500, 82)), PacketFate::NotMatched);
}

TEST_P(SessionMatcherTest, ProtocolMustEqualWhenSet) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .protocol = 47});  // GRE
  syncHost();
  EXPECT_EQ(fate(PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").protocol(47).build()),
            PacketFate::Mirrored);
  EXPECT_EQ(fate(tcp4("192.0.2.1", "198.51.100.10", 1, 2)), PacketFate::NotMatched);
}

TEST_P(SessionMatcherTest, IcmpMatchesRulesWithoutPortsOnly) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .protocol = 1, .dst_ports = model::PortRange{0, 65535}});
  addRule(s, kIn, {.number = 20, .action = kReject, .protocol = 1});
  addRule(s, kIn, {.number = 30});
  syncHost();
  const auto ping = PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").icmpEcho(7).build();
  EXPECT_EQ(fate(ping), PacketFate::NotMatched);  // rule 10 cannot match; 20 rejects
}

TEST_P(SessionMatcherTest, PortRulesDoNotMatchNonFirstIpv4Fragments) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .protocol = kUdp, .dst_ports = model::PortRange{0, 65535}});
  syncHost();
  const auto first =
      PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").ipv4Fragment(0, true).udp(5, 53).build();
  const auto later = PacketBuilder()
                         .ipv4("192.0.2.1", "198.51.100.10")
                         .ipv4Fragment(185, false)
                         .udp(5, 53)
                         .build();
  EXPECT_EQ(fate(first), PacketFate::Mirrored);
  EXPECT_EQ(fate(later), PacketFate::NotMatched);
}

TEST_P(SessionMatcherTest, NonFirstFragmentsMatchProtocolRulesWithoutPorts) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .protocol = kUdp, .dst_ports = model::PortRange{53, 53}});
  addRule(s, kIn, {.number = 20, .protocol = kUdp});
  syncHost();
  const auto later4 = PacketBuilder()
                          .ipv4("192.0.2.1", "198.51.100.10")
                          .ipv4Fragment(185, false)
                          .udp(5, 53)
                          .build();
  EXPECT_EQ(decide(later4, kIn).rule_index, 1);
  interface_.sessions[0].filter.ingress_rules.push_back(
      makeRule(kIn, {.number = 30, .protocol = kUdp, .src = "::/0", .dst = "::/0"}));
  syncHost();
  const auto later6 = PacketBuilder()
                          .ipv6("2001:db8::1", "2001:db8::10")
                          .ipv6Fragment(100, false)
                          .udp(5, 53)
                          .build();
  EXPECT_EQ(decide(later6, kIn).rule_index, 2);
}

TEST_P(SessionMatcherTest, Ipv6ExtensionHeadersBeforeTcpStillMatchPorts) {
  auto& s = addSession(1);
  addRule(s, kIn,
          {.number = 10,
           .protocol = kTcp,
           .src = "::/0",
           .dst = "::/0",
           .dst_ports = model::PortRange{443, 443}});
  syncHost();
  const auto frame = PacketBuilder()
                         .ipv6("2001:db8::1", "2001:db8::10")
                         .ipv6Extension(0)
                         .ipv6Extension(43)
                         .ipv6Extension(60)
                         .ipv6Extension(51)
                         .ipv6Fragment(0, true)
                         .tcp(40000, 443)
                         .build();
  EXPECT_EQ(fate(frame), PacketFate::Mirrored);
  const auto later = PacketBuilder()
                         .ipv6("2001:db8::1", "2001:db8::10")
                         .ipv6Extension(0)
                         .ipv6Fragment(8, false)
                         .tcp(40000, 443)
                         .build();
  EXPECT_EQ(fate(later), PacketFate::NotMatched);
}

TEST_P(SessionMatcherTest, VlanTaggedFramesAreMatchedOnTheirIpHeader) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .protocol = kTcp, .dst_ports = model::PortRange{80, 80}});
  syncHost();
  EXPECT_EQ(fate(PacketBuilder().vlan(100).ipv4("192.0.2.1", "198.51.100.10").tcp(1, 80).build()),
            PacketFate::Mirrored);
  EXPECT_EQ(fate(PacketBuilder()
                     .vlan(100, 0x88A8)
                     .vlan(200)
                     .ipv4("192.0.2.1", "198.51.100.10")
                     .tcp(1, 80)
                     .build()),
            PacketFate::Mirrored);
}

TEST_P(SessionMatcherTest, NonIpFramesAreNeverMirrored) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10});
  addRule(s, kIn, {.number = 11, .src = "::/0", .dst = "::/0"});
  syncHost();
  EXPECT_EQ(fate(PacketBuilder().etherType(0x0806).build()), PacketFate::NotIp);  // ARP
  EXPECT_EQ(fate(PacketBuilder().etherType(0x88CC).build()), PacketFate::NotIp);  // LLDP
}

TEST_P(SessionMatcherTest, MalformedIpIsCountedNotMirrored) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10});
  syncHost();
  auto frame = tcp4("192.0.2.1", "198.51.100.10", 1, 2);
  frame[14] = std::byte{0x43};  // IHL 3
  EXPECT_EQ(fate(frame), PacketFate::Malformed);
}

TEST_P(SessionMatcherTest, DhcpIsNeverMirrored) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10});
  addRule(s, kIn, {.number = 20, .src = "::/0", .dst = "::/0"});
  addRule(s, kOut, {.number = 10});
  syncHost();
  EXPECT_EQ(fate(PacketBuilder().ipv4("0.0.0.0", "255.255.255.255").udp(68, 67).build(), kOut),
            PacketFate::Dhcp);
  EXPECT_EQ(fate(PacketBuilder().ipv4("198.51.100.1", "198.51.100.10").udp(67, 68).build()),
            PacketFate::Dhcp);
  EXPECT_EQ(fate(PacketBuilder().ipv6("fe80::1", "fe80::2").udp(547, 546).build()),
            PacketFate::Dhcp);
  EXPECT_EQ(fate(PacketBuilder().ipv4("198.51.100.1", "198.51.100.10").udp(67, 69).build()),
            PacketFate::Mirrored);
}

TEST_P(SessionMatcherTest, OwnVxlanOutputIsNeverMirrored) {
  auto& s = addSession(1);
  addRule(s, kOut, {.number = 10});
  syncHost();
  // The copies this interface sends to its target.
  EXPECT_EQ(
      fate(PacketBuilder().ipv4("198.51.100.10", "198.51.100.20").udp(50000, 4789).build(), kOut),
      PacketFate::OwnVxlan);
  // Someone else's VXLAN to the same collector is ordinary traffic.
  EXPECT_EQ(
      fate(PacketBuilder().ipv4("198.51.100.11", "198.51.100.20").udp(50000, 4789).build(), kOut),
      PacketFate::Mirrored);
}

// An ICMPv4 error from `from` to `to` quoting a UDP datagram `quoted_src` -> `quoted_dst`.
testing::Frame icmpErrorQuotingUdp(const char* from, const char* to, const char* quoted_src,
                                   const char* quoted_dst, uint16_t quoted_dport, uint8_t type) {
  const auto quoted =
      PacketBuilder().ipv4(quoted_src, quoted_dst).udp(50000, quoted_dport).payload(8).build();
  auto frame = PacketBuilder().ipv4(from, to).protocol(1).payload(20 + 8).build();
  // The opaque 8-byte header becomes the ICMP header; the payload, the quoted IP + UDP.
  const std::size_t icmp = 14 + 20;
  frame[icmp] = std::byte{type};
  frame[icmp + 1] = std::byte{3};
  std::copy(quoted.begin() + 14, quoted.begin() + 14 + 28, frame.begin() + icmp + 8);
  return frame;
}

TEST_P(SessionMatcherTest, IcmpErrorsAboutOurOwnCopiesAreNeverMirrored) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10});
  syncHost();
  // A target without a listener answers each copy with "port unreachable": mirroring those
  // would make a copy of the answer, which gets an answer, ...
  EXPECT_EQ(fate(icmpErrorQuotingUdp("198.51.100.20", "198.51.100.10", "198.51.100.10",
                                     "198.51.100.20", 4789, 3)),
            PacketFate::OwnVxlan);
  EXPECT_EQ(fate(icmpErrorQuotingUdp("198.51.100.1", "198.51.100.10", "198.51.100.10",
                                     "198.51.100.20", 4789, 11)),
            PacketFate::OwnVxlan);
  // Errors about anything else are ordinary traffic.
  EXPECT_EQ(fate(icmpErrorQuotingUdp("198.51.100.20", "198.51.100.10", "198.51.100.10",
                                     "198.51.100.20", 53, 3)),
            PacketFate::Mirrored);
  EXPECT_EQ(fate(icmpErrorQuotingUdp("198.51.100.30", "198.51.100.10", "198.51.100.10",
                                     "198.51.100.30", 4789, 3)),
            PacketFate::Mirrored);
  // An echo reply is not an error, whatever it carries.
  EXPECT_EQ(fate(icmpErrorQuotingUdp("198.51.100.20", "198.51.100.10", "198.51.100.10",
                                     "198.51.100.20", 4789, 0)),
            PacketFate::Mirrored);
}

TEST_P(SessionMatcherTest, ControlChannelIsNeverMirrored) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10});
  addRule(s, kOut, {.number = 10});
  host_.control_endpoints = {{testing::ip("198.51.100.1"), 8900}};
  syncHost();
  EXPECT_EQ(fate(tcp4("198.51.100.10", "198.51.100.1", 40000, 8900), kOut),
            PacketFate::ControlChannel);
  EXPECT_EQ(fate(tcp4("198.51.100.1", "198.51.100.10", 8900, 40000), kIn),
            PacketFate::ControlChannel);
  EXPECT_EQ(fate(tcp4("198.51.100.1", "198.51.100.10", 8901, 40000), kIn), PacketFate::Mirrored);
}

TEST_P(SessionMatcherTest, ResolverDnsIsNotMirroredWithoutAmazonDns) {
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10});
  addRule(s, kOut, {.number = 10});
  host_.dns_resolvers = {testing::ip("198.51.100.53")};
  syncHost();
  EXPECT_EQ(
      fate(PacketBuilder().ipv4("198.51.100.10", "198.51.100.53").udp(40000, 53).build(), kOut),
      PacketFate::ResolverDns);
  EXPECT_EQ(fate(PacketBuilder().ipv4("198.51.100.53", "198.51.100.10").udp(53, 40000).build()),
            PacketFate::ResolverDns);
  EXPECT_EQ(fate(tcp4("198.51.100.53", "198.51.100.10", 53, 40000)), PacketFate::ResolverDns);
  // DNS to any other server is ordinary traffic.
  EXPECT_EQ(fate(PacketBuilder().ipv4("198.51.100.10", "192.0.2.53").udp(40000, 53).build(), kOut),
            PacketFate::Mirrored);
}

TEST_P(SessionMatcherTest, AmazonDnsMirrorsResolverDnsWhateverTheRules) {
  auto& s1 = addSession(1);
  addRule(s1, kIn, {.number = 10});
  auto& s2 = addSession(2);
  s2.filter.amazon_dns = true;
  addRule(s2, kIn, {.number = 10, .action = kReject});
  host_.dns_resolvers = {testing::ip("198.51.100.53"), testing::ip("2001:db8::53")};
  syncHost();
  const auto query = PacketBuilder().ipv4("198.51.100.10", "198.51.100.53").udp(40000, 53).build();
  const auto answer6 = PacketBuilder().ipv6("2001:db8::53", "2001:db8::10").udp(53, 40000).build();
  for (const auto& [frame, dir] : {std::pair{query, kOut}, std::pair{answer6, kIn}}) {
    const auto r = decide(frame, dir);
    EXPECT_EQ(r.fate, PacketFate::Mirrored);
    EXPECT_EQ(r.session_index, 1);  // session 1 has no amazon-dns: not eligible there
    EXPECT_EQ(r.rule_index, kNetworkServiceRule);
  }
}

TEST_P(SessionMatcherTest, LaterFragmentsOfResolverDnsFollowTheFirst) {
  // A large EDNS answer arrives fragmented; its later pieces have no port 53 to show.
  auto& s = addSession(1);
  addRule(s, kIn, {.number = 10, .protocol = kUdp});
  host_.dns_resolvers = {testing::ip("198.51.100.53")};
  syncHost();
  const auto first = PacketBuilder()
                         .ipv4("198.51.100.53", "198.51.100.10")
                         .ipv4Fragment(0, true)
                         .udp(53, 40000)
                         .build();
  const auto later = PacketBuilder()
                         .ipv4("198.51.100.53", "198.51.100.10")
                         .ipv4Fragment(185, false)
                         .udp(53, 40000)
                         .build();
  EXPECT_EQ(fate(first), PacketFate::ResolverDns);
  EXPECT_EQ(fate(later), PacketFate::ResolverDns);
  interface_.sessions[0].filter.amazon_dns = true;
  syncHost();
  EXPECT_EQ(decide(later, kIn).rule_index, kNetworkServiceRule);
}

TEST_P(SessionMatcherTest, CopiesOfAnotherInterfaceLeavingThroughThisOneAreNeverMirrored) {
  auto& s = addSession(1);
  addRule(s, kOut, {.number = 10});
  // A second interface of the host mirrors to another collector; its copies may be routed
  // out through this interface.
  model::InterfaceMirrorConfig other = testing::makeInterface();
  other.interface.id = "eni-0000000000000000b";
  other.interface.ipv4 = testing::ip("198.51.100.11");
  other.sessions.push_back(testing::makeSession(1));
  other.sessions[0].target.addresses = {testing::ip("203.0.113.2")};
  host_.interfaces = {interface_, other};
  EXPECT_EQ(
      fate(PacketBuilder().ipv4("198.51.100.11", "203.0.113.2").udp(50000, 4789).build(), kOut),
      PacketFate::OwnVxlan);
}

INSTANTIATE_TEST_SUITE_P(AllEvaluators, SessionMatcherTest,
                         ::testing::Values(Evaluator::Reference, Evaluator::CompiledLinear,
                                           Evaluator::CompiledBitset),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case Evaluator::Reference:
                               return std::string("Reference");
                             case Evaluator::CompiledLinear:
                               return std::string("CompiledLinear");
                             case Evaluator::CompiledBitset:
                               return std::string("CompiledBitset");
                           }
                           return std::string("?");
                         });

}  // namespace
}  // namespace tmirror::rules
