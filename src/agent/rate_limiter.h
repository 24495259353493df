// RateLimiter: a token bucket in packets/s and bytes/s, the per-interface cap on mirror
// output (docs/mirroring.md point 7). A copy goes out only if both buckets hold enough; otherwise
// it is skipped and counted. Refilled from a clock reading the caller takes once per batch.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace tmirror::agent {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // 0 means no cap for that unit. The bucket holds `burst` seconds of traffic (at least one
  // packet of 64 KiB, so that a cap below one jumbo copy still lets copies through).
  RateLimiter(uint64_t packets_per_second, uint64_t bytes_per_second,
              std::chrono::milliseconds burst = std::chrono::milliseconds(10))
      : pps_(packets_per_second), bps_(bytes_per_second) {
    const double seconds = std::chrono::duration<double>(burst).count();
    packet_capacity_ = std::max(1.0, static_cast<double>(pps_) * seconds);
    byte_capacity_ = std::max(65536.0, static_cast<double>(bps_) * seconds);
    packets_ = packet_capacity_;
    bytes_ = byte_capacity_;
  }

  bool unlimited() const { return pps_ == 0 && bps_ == 0; }

  // Refills from a nanosecond timestamp of any clock (the capture's frame times): elapsed
  // time is what counts; a clock that steps back refills nothing.
  void refillNanoseconds(int64_t now_ns) {
    refill(Clock::time_point(std::chrono::nanoseconds(now_ns)));
  }

  void refill(Clock::time_point now) {
    if (last_ == Clock::time_point{}) {
      last_ = now;
      return;
    }
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    if (elapsed <= 0) {
      return;
    }
    packets_ = std::min(packet_capacity_, packets_ + elapsed * static_cast<double>(pps_));
    bytes_ = std::min(byte_capacity_, bytes_ + elapsed * static_cast<double>(bps_));
  }

  // Takes one packet of `bytes` if both buckets allow it.
  bool admit(uint32_t bytes) {
    const bool packet_ok = pps_ == 0 || packets_ >= 1.0;
    const bool bytes_ok = bps_ == 0 || bytes_ >= static_cast<double>(bytes);
    if (!packet_ok || !bytes_ok) {
      return false;
    }
    if (pps_ != 0) {
      packets_ -= 1.0;
    }
    if (bps_ != 0) {
      bytes_ -= static_cast<double>(bytes);
    }
    return true;
  }

 private:
  uint64_t pps_;
  uint64_t bps_;
  double packet_capacity_ = 0;
  double byte_capacity_ = 0;
  double packets_ = 0;
  double bytes_ = 0;
  Clock::time_point last_{};
};

}  // namespace tmirror::agent
