#include "packet/checksum.h"

#include <bit>
#include <cstring>

namespace tmirror::packet {

uint64_t checksumAdd(Bytes bytes, uint64_t sum) {
  const std::byte* p = bytes.data();
  std::size_t n = bytes.size();
  // Native-order 32-bit words into 64 bits: no carry is lost before 2^32 words.
  uint64_t native = 0;
  while (n >= 16) {
    uint32_t w[4];
    std::memcpy(w, p, sizeof w);
    native += uint64_t{w[0]} + w[1] + w[2] + w[3];
    p += 16;
    n -= 16;
  }
  while (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, sizeof w);
    native += w;
    p += 4;
    n -= 4;
  }
  uint16_t folded = checksumFold(native);
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<uint16_t>((folded >> 8) | (folded << 8));
  }
  sum += folded;
  // The last 0-3 bytes, as big-endian words; they start at an even offset.
  if (n >= 2) {
    sum += (static_cast<uint32_t>(p[0]) << 8) | static_cast<uint32_t>(p[1]);
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    sum += static_cast<uint32_t>(p[0]) << 8;
  }
  return sum;
}

}  // namespace tmirror::packet
