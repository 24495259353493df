// Property: the compiled SessionMatcher (linear and bit-vector paths) decides exactly what the
// reference evaluator decides, on 1,000,000 random packets against random rule sets with
// overlapping CIDRs and port ranges, both families, fragments and tags.
#include <random>

#include <gtest/gtest.h>

#include "rules/random_traffic.h"
#include "rules/reference_evaluator.h"
#include "rules/rules_test_util.h"
#include "rules/session_matcher.h"

namespace tmirror::rules {
namespace {

using model::TrafficDirection;
using testing::random_traffic::Random;
using testing::random_traffic::randomFrame;
using testing::random_traffic::randomRules;

constexpr int kConfigs = 250;
constexpr int kPacketsPerConfig = 4000;  // 1,000,000 packets in all

TEST(MatcherProperty, CompiledMatcherAgreesWithReferenceOnAMillionRandomPackets) {
  Random rnd(20261122);
  uint64_t mirrored = 0;
  uint64_t compared = 0;
  uint64_t bitset_lists = 0;
  for (int c = 0; c < kConfigs; ++c) {
    model::HostMirrorConfig host;
    auto interface = testing::makeInterface();
    const uint32_t session_count = 1 + rnd.below(3);
    for (uint32_t s = 0; s < session_count; ++s) {
      auto session = testing::makeSession(1 + rnd.below(32766));
      session.filter.ingress_rules = randomRules(rnd, TrafficDirection::Ingress);
      session.filter.egress_rules = randomRules(rnd, TrafficDirection::Egress);
      session.filter.amazon_dns = rnd.chance(0.2);
      bitset_lists += session.filter.ingress_rules.size() > 12;
      interface.sessions.push_back(std::move(session));
    }
    if (rnd.chance(0.5)) {
      host.dns_resolvers = {testing::ip("198.51.100.53"), testing::ip("2001:db8::53")};
    }
    host.interfaces = {interface};
    const auto exclusions = TrafficExclusions::forInterface(host, interface);
    const auto compiled = SessionMatcher::compile(interface, exclusions);
    const auto bitsets = SessionMatcher::compile(interface, exclusions, {.force_bitsets = true});
    for (int p = 0; p < kPacketsPerConfig; ++p) {
      const auto frame = randomFrame(rnd);
      packet::ParsedFrame parsed;
      packet::parseFrame(frame, parsed);
      const auto direction = rnd.chance(0.5) ? TrafficDirection::Ingress : TrafficDirection::Egress;
      const MatchResult expected = evaluateReference(interface, exclusions, parsed, direction);
      const MatchResult got = compiled.match(parsed, direction);
      const MatchResult got_bitsets = bitsets.match(parsed, direction);
      ++compared;
      mirrored += expected.fate == PacketFate::Mirrored;
      if (got != expected || got_bitsets != expected) {
        ADD_FAILURE() << "config " << c << " packet " << p << ": reference fate "
                      << packetFateName(expected.fate) << " session " << int{expected.session_index}
                      << " rule " << expected.rule_index << "; compiled "
                      << packetFateName(got.fate) << " session " << int{got.session_index}
                      << " rule " << got.rule_index << "; bitsets "
                      << packetFateName(got_bitsets.fate) << " session "
                      << int{got_bitsets.session_index} << " rule " << got_bitsets.rule_index;
        return;
      }
    }
  }
  EXPECT_EQ(compared, 1'000'000u);
  // The generator must exercise both outcomes and the large-list path, or the test proves little.
  EXPECT_GT(mirrored, compared / 10);
  EXPECT_LT(mirrored, compared * 9 / 10);
  EXPECT_GT(bitset_lists, 50u);
}

}  // namespace
}  // namespace tmirror::rules
