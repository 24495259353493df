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
using testing::random_traffic::randomHost;

constexpr int kConfigs = 250;
constexpr int kPacketsPerConfig = 4000;  // 1,000,000 packets in all

TEST(MatcherProperty, CompiledMatcherAgreesWithReferenceOnAMillionRandomPackets) {
  Random rnd(20261122);
  uint64_t mirrored = 0;
  uint64_t compared = 0;
  uint64_t bitset_lists = 0;
  for (int c = 0; c < kConfigs; ++c) {
    const model::HostMirrorConfig host = randomHost(rnd);
    const auto& interface = host.interfaces[0];
    for (const auto& session : interface.sessions) {
      bitset_lists += session.filter.ingress_rules.size() > 12;
    }
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
