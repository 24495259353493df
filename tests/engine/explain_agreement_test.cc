// Property: `tmirror explain`'s trace (rules::explainMatch) reaches the verdict the agent's own
// pipeline (engine::MirrorEngine, with its compiled SessionMatcher) reaches, on random packets
// against random rule sets, and the trace is coherent: the deciding rule is the first one of its
// session that matches, every rule tried before it says why it did not, and no session after the
// decider is tried.
#include <gtest/gtest.h>

#include "engine/mirror_engine.h"
#include "rules/random_traffic.h"
#include "rules/reference_evaluator.h"

namespace tmirror::rules {
namespace {

using model::TrafficDirection;
using testing::random_traffic::Random;
using testing::random_traffic::randomFrame;
using testing::random_traffic::randomHost;

constexpr int kConfigs = 100;
constexpr int kPacketsPerConfig = 1000;

// The trace's own account of one packet, checked against the verdict it carries.
void expectCoherent(const Explanation& e, const packet::ParsedFrame& parsed) {
  const bool mirrored = e.result.fate == PacketFate::Mirrored;
  bool decided = false;
  for (std::size_t i = 0; i < e.sessions.size(); ++i) {
    const SessionTrial& trial = e.sessions[i];
    if (decided) {
      EXPECT_EQ(trial.outcome, SessionOutcome::NotReached) << "a session after the decider";
      EXPECT_TRUE(trial.rules.empty());
      continue;
    }
    for (std::size_t r = 0; r < trial.rules.size(); ++r) {
      const RuleTrial& rule = trial.rules[r];
      EXPECT_EQ(rule.miss == RuleMiss::None, ruleMatches(*rule.rule, parsed));
      EXPECT_FALSE(describeRuleMiss(*rule.rule, parsed, rule.miss).empty());
      // Only the last rule tried may match: the first match decides.
      if (r + 1 < trial.rules.size()) {
        EXPECT_NE(rule.miss, RuleMiss::None);
      }
    }
    switch (trial.outcome) {
      case SessionOutcome::Accepted:
        ASSERT_FALSE(trial.rules.empty());
        EXPECT_EQ(trial.rules.back().miss, RuleMiss::None);
        EXPECT_EQ(trial.rules.back().rule->action, model::RuleAction::Accept);
        EXPECT_TRUE(mirrored);
        EXPECT_EQ(e.result.session_index, i);
        EXPECT_EQ(static_cast<std::size_t>(e.result.rule_index), trial.rules.size() - 1);
        decided = true;
        break;
      case SessionOutcome::DnsService:
        EXPECT_TRUE(mirrored);
        EXPECT_EQ(e.result.session_index, i);
        EXPECT_EQ(e.result.rule_index, kNetworkServiceRule);
        EXPECT_TRUE(trial.session->filter.amazon_dns);
        decided = true;
        break;
      case SessionOutcome::Rejected:
        ASSERT_FALSE(trial.rules.empty());
        EXPECT_EQ(trial.rules.back().miss, RuleMiss::None);
        EXPECT_EQ(trial.rules.back().rule->action, model::RuleAction::Reject);
        break;
      case SessionOutcome::NoRuleMatched:
        for (const auto& rule : trial.rules) {
          EXPECT_NE(rule.miss, RuleMiss::None);
        }
        break;
      case SessionOutcome::NoDnsService:
        EXPECT_FALSE(trial.session->filter.amazon_dns);
        EXPECT_TRUE(trial.rules.empty());
        break;
      case SessionOutcome::NotReached:
        // Only an exclusion leaves the first session untried.
        EXPECT_NE(e.result.fate, PacketFate::NotMatched);
        EXPECT_FALSE(mirrored);
        decided = true;
        break;
    }
  }
  EXPECT_EQ(decided || e.sessions.empty(), mirrored || (e.result.fate != PacketFate::NotMatched &&
                                                        e.result.fate != PacketFate::ResolverDns))
      << packetFateName(e.result.fate);
}

TEST(ExplainAgreement, TheTraceReachesTheEnginesVerdictOnRandomPackets) {
  Random rnd(20261207);
  uint64_t mirrored = 0;
  uint64_t excluded = 0;
  uint64_t rejected_then_later = 0;
  for (int c = 0; c < kConfigs; ++c) {
    model::HostMirrorConfig host = randomHost(rnd);
    host.control_endpoints = {{testing::ip("10.1.2.3"), 80}};
    const auto& interface = host.interfaces[0];
    auto engine = engine::MirrorEngine::create(host, interface);
    ASSERT_TRUE(engine) << engine.error().message;
    const auto exclusions = TrafficExclusions::forInterface(host, interface);
    packet::EncapSlot slot;
    engine::Decision decision;
    for (int p = 0; p < kPacketsPerConfig; ++p) {
      const auto frame = randomFrame(rnd);
      packet::ParsedFrame parsed;
      packet::parseFrame(frame, parsed);
      const auto direction = rnd.chance(0.5) ? TrafficDirection::Ingress : TrafficDirection::Egress;
      engine->process(frame, direction, {}, slot, decision);
      const Explanation e = explainMatch(interface, exclusions, parsed, direction);
      ASSERT_EQ(decision.match, e.result)
          << "config " << c << " packet " << p << ": engine " << packetFateName(decision.match.fate)
          << " session " << decision.match.session_index << " rule " << decision.match.rule_index
          << "; trace " << packetFateName(e.result.fate) << " session " << e.result.session_index
          << " rule " << e.result.rule_index;
      ASSERT_NO_FATAL_FAILURE(expectCoherent(e, parsed));
      if (HasFailure()) {
        return;
      }
      mirrored += e.result.fate == PacketFate::Mirrored;
      excluded += e.result.fate != PacketFate::Mirrored && e.result.fate != PacketFate::NotMatched;
      rejected_then_later += e.result.fate == PacketFate::Mirrored &&
                             e.sessions[0].outcome == SessionOutcome::Rejected;
    }
  }
  const uint64_t total = uint64_t{kConfigs} * kPacketsPerConfig;
  // The generator must reach every kind of verdict, or the agreement proves little.
  EXPECT_GT(mirrored, total / 10);
  EXPECT_LT(mirrored, total * 9 / 10);
  EXPECT_GT(excluded, 100u);
  EXPECT_GT(rejected_then_later, 100u);
}

TEST(ExplainAgreement, RuleMissesNameTheFirstFieldThatDiffers) {
  model::FilterRule rule;
  rule.source_cidr = *packet::parseCidr("10.0.0.0/8");
  rule.destination_cidr = *packet::parseCidr("0.0.0.0/0");
  rule.protocol = packet::kProtoTcp;
  rule.destination_port_range = model::PortRange{443, 443};
  packet::ParsedFrame f;
  f.status = packet::FrameStatus::Ok;
  f.family = packet::IpFamily::V4;
  f.src = testing::ip("10.1.1.1");
  f.dst = testing::ip("192.0.2.1");
  f.protocol = packet::kProtoTcp;
  f.has_ports = true;
  f.src_port = 51000;
  f.dst_port = 443;
  EXPECT_EQ(ruleMiss(rule, f), RuleMiss::None);
  f.dst_port = 80;
  EXPECT_EQ(ruleMiss(rule, f), RuleMiss::DestinationPort);
  EXPECT_EQ(describeRuleMiss(rule, f, RuleMiss::DestinationPort),
            "destination port 80 is outside 443");
  f.protocol = packet::kProtoUdp;
  EXPECT_EQ(describeRuleMiss(rule, f, ruleMiss(rule, f)),
            "the packet is UDP (17); the rule wants TCP (6)");
  f.src = testing::ip("192.0.2.9");
  EXPECT_EQ(describeRuleMiss(rule, f, ruleMiss(rule, f)), "source 192.0.2.9 is outside 10.0.0.0/8");
  f.protocol = packet::kProtoIcmp;
  f.src = testing::ip("10.1.1.1");
  f.has_ports = false;
  EXPECT_EQ(describeRuleMiss(rule, f, RuleMiss::NoPorts),
            "the rule has port ranges and ICMP (1) has no ports");
  f.family = packet::IpFamily::V6;
  f.src = testing::ip("2001:db8::1");
  EXPECT_EQ(describeRuleMiss(rule, f, ruleMiss(rule, f)),
            "the packet is IPv6; the rule's CIDRs are IPv4");
}

}  // namespace
}  // namespace tmirror::rules
