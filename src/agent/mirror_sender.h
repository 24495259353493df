// MirrorSender: sends mirror copies in batches without blocking and without copying payloads.
//
// A copy's pieces (outer header in a slot, frame bytes in the capture ring) become one iovec
// list; a batch goes out with one sendmmsg(). Copies whose next hop is known leave as raw
// Ethernet frames on an AF_PACKET socket that bypasses the qdisc layer (about half the cost
// of a UDP socket, reference/performance.md section 2.2); the rest go through a raw IPv4
// socket, so the kernel routes them and resolves the neighbour. Every send is MSG_DONTWAIT:
// what the kernel does not take now is reported as not sent, and the caller counts it as a
// skip (DESIGN.md point 7).
#pragma once

#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/next_hop.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "packet/encapsulation.h"

namespace tmirror::agent {

inline constexpr std::size_t kSendBatch = 64;

struct SendStatistics {
  uint64_t raw_frames = 0;      // sent as Ethernet frames (AF_PACKET)
  uint64_t routed_packets = 0;  // sent through the kernel's IP layer
  uint64_t send_calls = 0;
  uint64_t would_block = 0;  // copies refused with EAGAIN/ENOBUFS (socket or queue full)
  uint64_t errors = 0;       // copies refused for another reason
  int last_errno = 0;
};

class MirrorSender {
 public:
  static Result<MirrorSender> open();

  // Queues `copy` (whose outer header lives in `slot`) towards `hop`, or routed by the
  // kernel to `destination` (host-order IPv4) when the hop is unresolved. Writes the hop's
  // MAC addresses into the slot's header. The copy's pieces must stay valid until flush().
  // Returns the queue position. Precondition: !full().
  std::size_t queue(const packet::MirrorCopy& copy, packet::EncapSlot& slot, const NextHop& hop,
                    uint32_t destination);

  bool full() const { return count_ == kSendBatch; }

  bool empty() const { return count_ == 0; }

  std::size_t size() const { return count_; }

  // Sends everything queued. `sent[i]` tells whether queue position i went out.
  void flush(std::array<bool, kSendBatch>& sent);

  const SendStatistics& statistics() const { return stats_; }

 private:
  struct Pending {
    bool raw = false;
    std::array<iovec, 4> iov{};
    int iov_count = 0;
    sockaddr_ll link{};
    sockaddr_in ip{};
  };

  void sendGroup(int fd, bool raw, std::array<bool, kSendBatch>& sent);

  UniqueFd packet_fd_;
  UniqueFd ip_fd_;
  std::array<Pending, kSendBatch> pending_{};
  std::array<mmsghdr, kSendBatch> messages_{};
  std::array<std::size_t, kSendBatch> positions_{};
  std::size_t count_ = 0;
  SendStatistics stats_;
};

}  // namespace tmirror::agent
