// Which member of a load-balancer target (a collector group) a flow's copies go to:
// rendezvous, or highest-random-weight, hashing. Each member has a key of its own (from its
// address, so it is the same on every agent and across membership changes); a flow goes to the
// member whose key, mixed with the flow's symmetric hash, weighs most. Removing a member moves
// only the flows that were on it; adding one takes about 1/N of all flows (those it now
// outweighs), and none between the others. `hash % members` would move nearly every flow on
// any change. Both directions of a flow share its symmetric hash, so they land together.
#pragma once

#include <cstdint>
#include <span>

#include "packet/ip_address.h"

namespace tmirror::engine {

// A member's stable key.
uint64_t memberKey(const packet::IpAddress& address);

// The index in `keys` of the member a flow with this hash goes to (0 for one member; keys must
// not be empty).
inline uint32_t chooseMember(std::span<const uint64_t> keys, uint32_t flow_hash) {
  uint32_t best = 0;
  uint64_t best_weight = 0;
  for (uint32_t i = 0; i < keys.size(); ++i) {
    // splitmix64's finalizer over the pair: every bit of both moves every bit of the weight.
    uint64_t x = keys[i] ^ (uint64_t{flow_hash} * 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    x ^= x >> 31;
    if (i == 0 || x > best_weight) {
      best = i;
      best_weight = x;
    }
  }
  return best;
}

}  // namespace tmirror::engine
