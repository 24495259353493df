#include "common/random.h"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

namespace tmirror {

void secureRandomBytes(std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      // Only an invalid call (or a kernel before 3.17) fails: no safe way on.
      std::abort();
    }
  }
}

uint64_t secureRandomU64() {
  uint64_t value = 0;
  secureRandomBytes(std::as_writable_bytes(std::span(&value, 1)));
  return value;
}

uint64_t jitterBetween(uint64_t low, uint64_t high) {
  thread_local std::mt19937_64 generator{secureRandomU64()};
  return std::uniform_int_distribution<uint64_t>(low, high)(generator);
}

std::chrono::milliseconds retryDelay(int failures) {
  const uint64_t ceiling = static_cast<uint64_t>(std::clamp(failures, 1, 10)) * 500;
  return std::chrono::milliseconds(jitterBetween(ceiling / 2, ceiling));
}

uint64_t secureRandomBetween(uint64_t low, uint64_t high) {
  const uint64_t span = high - low;
  if (span == UINT64_MAX) {
    return secureRandomU64();
  }
  const uint64_t range = span + 1;
  // Reject the top partial block, so that every value has the same chance.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t value = 0;
  do {
    value = secureRandomU64();
  } while (value >= limit);
  return low + value % range;
}

std::string secureRandomString(std::string_view alphabet, std::size_t length) {
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) {
    out += alphabet[secureRandomBetween(0, alphabet.size() - 1)];
  }
  return out;
}

std::string secureRandomHex(std::size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  std::array<std::byte, 32> pool{};
  std::size_t used = pool.size();
  for (std::size_t i = 0; i < digits; ++i) {
    if (used == pool.size()) {
      secureRandomBytes(pool);
      used = 0;
    }
    out += kHex[static_cast<unsigned>(pool[used++]) & 0xF];
  }
  return out;
}

std::string newUuid4() {
  std::array<std::byte, 16> bytes{};
  secureRandomBytes(bytes);
  bytes[6] = (bytes[6] & std::byte{0x0F}) | std::byte{0x40};  // version 4
  bytes[8] = (bytes[8] & std::byte{0x3F}) | std::byte{0x80};  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    const auto b = static_cast<unsigned>(bytes[i]);
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

}  // namespace tmirror
