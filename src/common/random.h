// The one source of randomness for identifiers and secrets: the kernel's CSPRNG (getrandom(2)).
// Resource IDs, request IDs, access keys, agent tokens, host keys and VNIs all come from here,
// so none of them can be predicted from another.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tmirror {

// Fills `out` from getrandom(2); waits for the kernel's pool at boot, never fails otherwise.
void secureRandomBytes(std::span<std::byte> out);

uint64_t secureRandomU64();

// A number in [low, high], every value equally likely.
uint64_t secureRandomBetween(uint64_t low, uint64_t high);

// A number in [low, high] for spreading timers (waits, back-offs, deadlines), never for
// anything secret: a per-thread generator seeded once from the kernel, so a busy server does
// not make a system call per long-poll.
uint64_t jitterBetween(uint64_t low, uint64_t high);

// How long to wait before trying a server again after `failures` (>= 1) failures in a row:
// growing by half a second up to 5 s, and spread at random over its upper half, so that a
// fleet that lost its server together does not come back together.
std::chrono::milliseconds retryDelay(int failures);

// `length` characters drawn evenly from `alphabet` (not empty).
std::string secureRandomString(std::string_view alphabet, std::size_t length);

// `digits` lower-case hexadecimal digits.
std::string secureRandomHex(std::size_t digits);

// A random (version 4, RFC 4122 variant) UUID in its 36-character lower-case form.
std::string newUuid4();

}  // namespace tmirror
