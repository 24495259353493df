// The Internet checksum (RFC 1071) over untrusted bytes, fast enough to run over every payload
// byte of a mirrored segment: a 64-bit accumulator of native 32-bit words, byte-swapped once at
// the end (the one's-complement sum does not depend on byte order, RFC 1071 section 2(B)).
#pragma once

#include <cstdint>

#include "packet/byte_reader.h"

namespace tmirror::packet {

// One's-complement sum of `bytes` as big-endian 16-bit words (an odd last byte is padded with
// zero), added to `sum`. Not folded: add several, then fold once.
uint64_t checksumAdd(Bytes bytes, uint64_t sum = 0);

// Folds a sum to 16 bits (not complemented).
inline uint16_t checksumFold(uint64_t sum) {
  sum = (sum & 0xFFFFFFFF) + (sum >> 32);
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The value for a header's checksum field: the complement of the folded sum.
inline uint16_t checksumFinish(uint64_t sum) {
  return static_cast<uint16_t>(~checksumFold(sum));
}

}  // namespace tmirror::packet
