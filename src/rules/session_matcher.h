// SessionMatcher: the compiled form of one source interface's sessions. For each packet it
// tries the sessions in ascending session number; in each, the first rule of the packet's
// direction that matches decides (accept: mirror here and stop; reject or none: next
// session). Agrees with evaluateReference() on every packet; allocates nothing per packet.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/mirror_config.h"
#include "packet/frame.h"
#include "rules/match_result.h"
#include "rules/rule_classifier.h"
#include "rules/traffic_exclusions.h"

namespace tmirror::rules {

struct MatcherOptions {
  bool force_bitsets = false;  // tests: use the large-list path even for short lists
  bool force_linear = false;   // benchmarks: the plain scan, as a baseline
};

class SessionMatcher {
 public:
  SessionMatcher() = default;

  static SessionMatcher compile(const model::InterfaceMirrorConfig& interface,
                                TrafficExclusions exclusions, MatcherOptions options = {});

  MatchResult match(const packet::ParsedFrame& frame, model::TrafficDirection direction) const;

  std::size_t sessionCount() const { return sessions_.size(); }

  // Indexes into the interface's session list, in evaluation (session-number) order.
  const std::vector<std::size_t>& sessionOrder() const { return order_; }

 private:
  template <typename Addr>
  struct FamilyRules {
    RuleClassifier<Addr> classifier;
    std::vector<uint8_t> accept;      // per classifier position
    std::vector<int16_t> rule_index;  // position in the direction's rule-number order
  };

  struct DirectionRules {
    FamilyRules<uint32_t> v4;
    FamilyRules<packet::Uint128> v6;
  };

  struct CompiledSession {
    bool amazon_dns = false;
    DirectionRules ingress;
    DirectionRules egress;
  };

  std::vector<CompiledSession> sessions_;
  std::vector<std::size_t> order_;
  TrafficExclusions exclusions_;
};

}  // namespace tmirror::rules
