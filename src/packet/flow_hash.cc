#include "packet/flow_hash.h"

#include <utility>

namespace tmirror::packet {

namespace {

// Two rounds of multiply-xorshift over 64-bit words: enough avalanche for port selection
// and load balancing, a few nanoseconds per packet.
inline uint64_t mix(uint64_t h, uint64_t k) {
  h ^= k;
  h *= 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

inline uint64_t finalize(uint64_t h) {
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 31;
  h *= 0x94D049BB133111EBull;
  return h ^ (h >> 32);
}

}  // namespace

uint32_t symmetricFlowHash(const ParsedFrame& frame) {
  uint16_t port_a = 0;
  uint16_t port_b = 0;
  if (frame.fragment == Fragment::None) {
    if (frame.has_ports) {
      port_a = frame.src_port;
      port_b = frame.dst_port;
    } else if (frame.is_icmp_echo) {
      port_a = port_b = frame.icmp_echo_id;
    }
  }
  // Order the endpoints so that both directions hash alike.
  const bool swap =
      frame.src.value > frame.dst.value || (frame.src.value == frame.dst.value && port_a > port_b);
  const Uint128 a = swap ? frame.dst.value : frame.src.value;
  const Uint128 b = swap ? frame.src.value : frame.dst.value;
  if (swap) {
    std::swap(port_a, port_b);
  }
  // Addresses and ports go in through separate multiply rounds: XORing them into one word
  // first would let address bits cancel port bits (distinct flows, same hash).
  uint64_t h = 0x243F6A8885A308D3ull;  // any non-zero seed
  if (frame.family == IpFamily::V4) {
    h = mix(h, (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b));
  } else {
    h = mix(h, static_cast<uint64_t>(a >> 64));
    h = mix(h, static_cast<uint64_t>(a));
    h = mix(h, static_cast<uint64_t>(b >> 64));
    h = mix(h, static_cast<uint64_t>(b));
  }
  h = mix(h, uint64_t{frame.protocol} | (uint64_t{port_a} << 16) | (uint64_t{port_b} << 32));
  return static_cast<uint32_t>(finalize(h));
}

}  // namespace tmirror::packet
