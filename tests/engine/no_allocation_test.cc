// Proves the match-and-encapsulate path allocates nothing per packet: every global operator
// new this thread makes is counted (testing/allocation_counter.h), and processing many frames
// must not move the count.
#include <gtest/gtest.h>

#include "engine/mirror_engine.h"
#include "rules/rules_test_util.h"
#include "testing/allocation_counter.h"

namespace tmirror::engine {
namespace {

using model::TrafficDirection;
using testing::PacketBuilder;

TEST(NoAllocation, CountingHookSeesAllocations) {
  testing::CountAllocations allocations;
  auto* v = new std::vector<int>(100);
  delete v;
  EXPECT_GE(allocations.count(), 2u);  // the hook is live in this binary
}

void runWithRules(std::size_t rule_count) {
  model::HostMirrorConfig host;
  host.dns_resolvers = {testing::ip("198.51.100.53")};
  auto interface = testing::makeInterface();
  for (uint32_t s = 1; s <= 3; ++s) {
    auto session = testing::makeSession(s, s);
    session.packet_length = 128;
    for (uint32_t r = 0; r < rule_count; ++r) {
      session.filter.ingress_rules.push_back(testing::makeRule(
          TrafficDirection::Ingress,
          {.number = r + 1,
           .action = r % 3 == 0 ? model::RuleAction::Reject : model::RuleAction::Accept,
           .protocol = 6,
           .src = "10.0.0.0/8",
           .dst_ports =
               model::PortRange{static_cast<uint16_t>(r), static_cast<uint16_t>(r + 10)}}));
    }
    session.filter.ingress_rules.push_back(
        testing::makeRule(TrafficDirection::Ingress, {.number = 30000}));
    interface.sessions.push_back(session);
  }
  host.interfaces = {interface};
  auto engine = MirrorEngine::create(host, interface);
  ASSERT_TRUE(engine.has_value());

  std::vector<testing::Frame> frames;
  for (uint16_t i = 0; i < 64; ++i) {
    frames.push_back(
        PacketBuilder().ipv4("10.1.2.3", "198.51.100.10").tcp(1000, i).payload(i * 20).build());
    frames.push_back(PacketBuilder().vlan(7).ipv6("2001:db8::1", "2001:db8::10").udp(5, i).build());
    frames.push_back(PacketBuilder().ipv4("198.51.100.53", "198.51.100.10").udp(53, 4000).build());
  }
  frames.push_back(PacketBuilder().etherType(0x0806).build());
  std::vector<packet::EncapSlot> slots(frames.size());
  std::vector<Decision> decisions(frames.size());

  testing::CountAllocations allocations;
  uint64_t mirrored = 0;
  for (int round = 0; round < 100; ++round) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      engine->process(frames[i], TrafficDirection::Ingress, {.present = (i % 2) == 0, .tci = 9},
                      slots[i], decisions[i]);
      if (decisions[i].match.fate == rules::PacketFate::Mirrored) {
        engine->recordSent(decisions[i]);
        ++mirrored;
      }
    }
  }
  EXPECT_EQ(allocations.count(), 0u);
  EXPECT_GT(mirrored, 0u);
}

TEST(NoAllocation, MatchAndEncapsulateAllocateNothingWithShortRuleLists) {
  runWithRules(5);
}

TEST(NoAllocation, MatchAndEncapsulateAllocateNothingWithLongRuleLists) {
  runWithRules(500);
}

}  // namespace
}  // namespace tmirror::engine
