// Bounds-checked big-endian reads over untrusted bytes. Every read checks the length first;
// nothing here throws, asserts or allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tmirror::packet {

using Bytes = std::span<const std::byte>;

inline uint8_t loadU8(Bytes b, std::size_t off) {
  return static_cast<uint8_t>(b[off]);
}

inline uint16_t loadU16(Bytes b, std::size_t off) {
  return static_cast<uint16_t>((static_cast<uint16_t>(b[off]) << 8) |
                               static_cast<uint16_t>(b[off + 1]));
}

inline uint32_t loadU32(Bytes b, std::size_t off) {
  return (static_cast<uint32_t>(b[off]) << 24) | (static_cast<uint32_t>(b[off + 1]) << 16) |
         (static_cast<uint32_t>(b[off + 2]) << 8) | static_cast<uint32_t>(b[off + 3]);
}

inline void storeU16(std::span<std::byte> b, std::size_t off, uint16_t v) {
  b[off] = static_cast<std::byte>(v >> 8);
  b[off + 1] = static_cast<std::byte>(v);
}

inline void storeU32(std::span<std::byte> b, std::size_t off, uint32_t v) {
  b[off] = static_cast<std::byte>(v >> 24);
  b[off + 1] = static_cast<std::byte>(v >> 16);
  b[off + 2] = static_cast<std::byte>(v >> 8);
  b[off + 3] = static_cast<std::byte>(v);
}

// True when [off, off + n) lies inside b, without overflow.
inline bool fits(Bytes b, std::size_t off, std::size_t n) {
  return off <= b.size() && n <= b.size() - off;
}

}  // namespace tmirror::packet
