// Proves the match-and-encapsulate path allocates nothing per packet: every global operator
// new in this binary is counted, and processing many frames must not move the count.
#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "engine/mirror_engine.h"
#include "rules/rules_test_util.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// These replacements are the allocator: new is malloc and delete is free by construction.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}

void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}

void* operator new(std::size_t size, std::align_val_t align) {
  ++g_allocations;
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) {
    return p;
  }
  throw std::bad_alloc();
}

void* operator new[](std::size_t size) {
  return operator new(size);
}

void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}

void* operator new[](std::size_t size, std::align_val_t align) {
  return operator new(size, align);
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete[](void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}

void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}

void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace tmirror::engine {
namespace {

using model::TrafficDirection;
using testing::PacketBuilder;

TEST(NoAllocation, CountingHookSeesAllocations) {
  const uint64_t before = g_allocations.load();
  auto* v = new std::vector<int>(100);
  delete v;
  EXPECT_GE(g_allocations.load() - before, 2u);  // the hook is live in this binary
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

  const uint64_t before = g_allocations.load();
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
  EXPECT_EQ(g_allocations.load() - before, 0u);
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
