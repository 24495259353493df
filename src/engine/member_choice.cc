#include "engine/member_choice.h"

namespace tmirror::engine {

uint64_t memberKey(const packet::IpAddress& address) {
  // FNV-1a over the family and the address's 16 bytes: fixed, the same on every host.
  uint64_t h = 0xCBF29CE484222325ULL;
  auto mix = [&h](uint8_t byte) {
    h ^= byte;
    h *= 0x100000001B3ULL;
  };
  mix(static_cast<uint8_t>(address.family));
  for (int shift = 120; shift >= 0; shift -= 8) {
    mix(static_cast<uint8_t>(address.value >> shift));
  }
  return h;
}

}  // namespace tmirror::engine
