// Why the collector did not write a datagram or frame, one counter per reason, plus totals.
// Shared by the receive threads: relaxed atomics, read by /metrics and /counters.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "packet/vxlan.h"

namespace tmirror::collector {

enum class DropReason : uint8_t {
  ShortPacket,        // shorter than a VXLAN header
  BadVxlanFlags,      // I flag missing or other flag bits set
  ReservedBitsSet,    // RFC 7348 reserved fields not zero
  EmptyInnerFrame,    // nothing after the VXLAN header
  OversizedDatagram,  // larger than the receive buffer (cut by the kernel)
  SenderNotAllowed,   // outer source outside --allow-sender
  VniNotAllowed,      // not in --allow-vni
  VniDenied,          // in --deny-vni
  SessionTableFull,   // a new (sender, VNI) beyond --max-sessions
  WriteError,         // an output refused the frame (I/O error, TAP queue full, send failed)
  DiskFull,           // the file output is paused because the disk is full
  SocketOverflow,     // the kernel dropped it: socket buffer full (SO_RXQ_OVFL)
  kCount,
};

const char* dropReasonName(DropReason reason);

// The drop reason for a failed VXLAN decode.
DropReason dropReasonFor(packet::DecapStatus status);

class CollectorCounters {
 public:
  void drop(DropReason reason, uint64_t n = 1) {
    drops_[static_cast<std::size_t>(reason)].fetch_add(n, std::memory_order_relaxed);
  }

  uint64_t drops(DropReason reason) const {
    return drops_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
  }

  void received(uint64_t datagrams, uint64_t bytes) {
    datagrams_.fetch_add(datagrams, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }

  uint64_t datagrams() const { return datagrams_.load(std::memory_order_relaxed); }

  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, static_cast<std::size_t>(DropReason::kCount)> drops_{};
  std::atomic<uint64_t> datagrams_{0};
  std::atomic<uint64_t> bytes_{0};
};

}  // namespace tmirror::collector
