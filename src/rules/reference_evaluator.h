// The data-plane semantics (docs/mirroring.md points 2-4) written as plainly as possible. It is the
// specification the compiled SessionMatcher is tested against, and the "explain" path; it
// allocates and is slow on purpose.
#pragma once

#include "model/mirror_config.h"
#include "packet/frame.h"
#include "rules/match_result.h"
#include "rules/traffic_exclusions.h"

namespace tmirror::rules {

// True when `rule` matches the packet: same IP family as its CIDRs, both addresses inside,
// protocol equal when set, and ports inside the ranges when set (TCP/UDP with ports only).
bool ruleMatches(const model::FilterRule& rule, const packet::ParsedFrame& frame);

MatchResult evaluateReference(const model::InterfaceMirrorConfig& interface,
                              const TrafficExclusions& exclusions, const packet::ParsedFrame& frame,
                              model::TrafficDirection direction);

}  // namespace tmirror::rules
