// The data-plane semantics (docs/mirroring.md points 2-4) written as plainly as possible. It is the
// specification the compiled SessionMatcher is tested against, and the trace `tmirror explain`
// prints: every session and rule it tries, and why each did or did not match. It allocates and
// is slow on purpose.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/mirror_config.h"
#include "packet/frame.h"
#include "rules/match_result.h"
#include "rules/traffic_exclusions.h"

namespace tmirror::rules {

// The first test of a rule that a packet fails, in the order the rule is read.
enum class RuleMiss : uint8_t {
  None,             // the rule matches
  Family,           // the rule's CIDRs are of the other IP family
  Source,           // source address outside the source CIDR
  Destination,      // destination address outside the destination CIDR
  Protocol,         // another protocol
  NoPorts,          // the rule has port ranges; the packet has no ports to test
  SourcePort,       // source port outside the range
  DestinationPort,  // destination port outside the range
};

RuleMiss ruleMiss(const model::FilterRule& rule, const packet::ParsedFrame& frame);

// True when `rule` matches the packet: same IP family as its CIDRs, both addresses inside,
// protocol equal when set, and ports inside the ranges when set (TCP/UDP with ports only).
inline bool ruleMatches(const model::FilterRule& rule, const packet::ParsedFrame& frame) {
  return ruleMiss(rule, frame) == RuleMiss::None;
}

// "source 10.0.0.9 is outside 192.0.2.0/24", "protocol is UDP (17); the rule wants TCP (6)".
std::string describeRuleMiss(const model::FilterRule& rule, const packet::ParsedFrame& frame,
                             RuleMiss miss);

struct RuleTrial {
  const model::FilterRule* rule = nullptr;  // into the interface's config
  RuleMiss miss = RuleMiss::None;
};

enum class SessionOutcome : uint8_t {
  Accepted,       // an accept rule matched first: this session mirrors the packet
  Rejected,       // a reject rule matched first: the next session may
  NoRuleMatched,  // no rule of the direction matched: the next session may
  DnsService,     // resolver DNS, and this is the first filter with amazon-dns: mirrored here
  NoDnsService,   // resolver DNS, and this filter has no amazon-dns: its rules do not count
  NotReached,     // an earlier session decided, or an exclusion did
};

struct SessionTrial {
  const model::Session* session = nullptr;  // into the interface's config
  SessionOutcome outcome = SessionOutcome::NotReached;
  std::vector<RuleTrial> rules;  // the rules tried, in rule-number order, up to the decider
};

struct Explanation {
  MatchResult result;
  std::vector<SessionTrial> sessions;  // every session, in evaluation (session-number) order
};

// Pointers in the answer point into `interface`, which must outlive it.
Explanation explainMatch(const model::InterfaceMirrorConfig& interface,
                         const TrafficExclusions& exclusions, const packet::ParsedFrame& frame,
                         model::TrafficDirection direction);

inline MatchResult evaluateReference(const model::InterfaceMirrorConfig& interface,
                                     const TrafficExclusions& exclusions,
                                     const packet::ParsedFrame& frame,
                                     model::TrafficDirection direction) {
  return explainMatch(interface, exclusions, frame, direction).result;
}

}  // namespace tmirror::rules
