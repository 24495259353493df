#include "packet/flow_hash.h"

#include <utility>

namespace tmirror::packet {

namespace {

inline uint64_t mix(uint64_t h, uint64_t k) {
  h ^= k * 0x9E3779B97F4A7C15ull;
  h = (h << 31) | (h >> 33);
  return h * 0xBF58476D1CE4E5B9ull;
}

inline uint64_t finalize(uint64_t h) {  // splitmix64 finaliser: full avalanche
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

}  // namespace

uint32_t symmetricFlowHash(const ParsedFrame& frame) {
  Uint128 a = frame.src.value;
  Uint128 b = frame.dst.value;
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
  if (a > b || (a == b && port_a > port_b)) {
    std::swap(a, b);
    std::swap(port_a, port_b);
  }
  uint64_t h = uint64_t{frame.protocol} | (uint64_t{port_a} << 16) | (uint64_t{port_b} << 32);
  h = mix(h, static_cast<uint64_t>(a >> 64));
  h = mix(h, static_cast<uint64_t>(a));
  h = mix(h, static_cast<uint64_t>(b >> 64));
  h = mix(h, static_cast<uint64_t>(b));
  return static_cast<uint32_t>(finalize(h));
}

}  // namespace tmirror::packet
