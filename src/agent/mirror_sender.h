// MirrorSender: sends mirror copies in batches without blocking and without copying payloads.
//
// A copy's pieces (outer header in a slot, frame bytes in the capture ring) become one iovec
// list; a batch goes out with one sendmmsg(). Copies whose next hop is known leave as raw
// Ethernet frames on an AF_PACKET socket that bypasses the qdisc layer (about half the cost
// of a UDP socket); the rest go through a raw IPv4 socket, so the kernel routes them and
// resolves the neighbour. Every send is MSG_DONTWAIT: what the kernel does not take now is
// reported as not sent, and the caller counts it as a skip (production traffic first).
//
// Runs of copies of one flow (the wire packets of an offload super-frame, a bulk transfer's
// segments) cost the kernel one skb each, which dominates the agent's cost per copy. When the
// hop allows it (NextHop::segments_gso), a run of equal-size copies with the same outer
// addresses, ports and VNI goes as one UDP GSO buffer instead: one Ethernet/IPv4/UDP header,
// then each copy's VXLAN header and frame, with a virtio_net_hdr asking for UDP segmentation
// at the copy size. The kernel (or the NIC) cuts it into exactly the packets that would have
// been sent one by one, except that each carries a UDP checksum (the segmentation needs one;
// RFC 7348 allows it) and the IPv4 IDs count up from 0 within the run. A single copy, or any
// copy when GSO is off, keeps checksum 0 and ID 0. A kernel that refuses the buffer (one
// without UDP GSO in packet sockets) turns GSO off for good and the copies go one by one.
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

// When copies may go as UDP GSO buffers: where the hop's device segments them (Auto), always
// (On: the operator knows the NIC segments), or never (Off).
enum class GsoSend : uint8_t { Auto, On, Off };

struct SendStatistics {
  uint64_t raw_frames = 0;      // copies sent as Ethernet frames (AF_PACKET), GSO or not
  uint64_t routed_packets = 0;  // sent through the kernel's IP layer
  uint64_t send_calls = 0;
  uint64_t gso_buffers = 0;  // UDP GSO buffers sent, each carrying two or more copies
  uint64_t gso_copies = 0;   // copies sent inside them
  uint64_t gso_refused = 0;  // GSO buffers the kernel refused (GSO is then off)
  uint64_t would_block = 0;  // copies refused with EAGAIN/ENOBUFS (socket or queue full)
  uint64_t errors = 0;       // copies refused for another reason
  int last_errno = 0;
};

class MirrorSender {
 public:
  static Result<MirrorSender> open(GsoSend gso = GsoSend::Auto);

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

  // Whether runs of copies still go as GSO buffers (false after the kernel refused one).
  bool gsoEnabled() const { return gso_ != GsoSend::Off; }

  const SendStatistics& statistics() const { return stats_; }

 private:
  // struct virtio_net_hdr (linux/virtio_net.h), little-endian.
  struct VirtioHeader {
    uint8_t flags = 0;
    uint8_t gso_type = 0;
    uint16_t hdr_len = 0;
    uint16_t gso_size = 0;
    uint16_t csum_start = 0;
    uint16_t csum_offset = 0;
  };

  static_assert(sizeof(VirtioHeader) == 10);

  static constexpr std::size_t kGsoHeadSize =
      packet::kOuterEthernetSize + packet::kOuterIpv4Size + packet::kUdpHeaderSize;

  struct Pending {
    bool raw = false;
    bool gso = false;                   // may share a GSO buffer with its neighbours
    const std::byte* header = nullptr;  // the slot's outer header
    uint32_t inner_length = 0;          // frame bytes after the outer header
    std::array<iovec, 4> iov{};
    int iov_count = 0;
    sockaddr_ll link{};
    sockaddr_in ip{};
  };

  // One message of a sendmmsg: `count` queue positions from `first`, as one GSO buffer or not.
  struct Span {
    std::size_t first = 0;
    std::size_t count = 0;
    bool gso = false;
  };

  // Copies from `first` on that can share its GSO buffer (1 when none can).
  std::size_t runLength(std::size_t first) const;
  // Fills messages_ and spans_ with the raw copies from queue position `from` on.
  std::size_t buildRaw(std::size_t from);
  void addSingle(std::size_t position, std::size_t message, std::size_t& iov_used);
  void addGsoBuffer(std::size_t first, std::size_t count, std::size_t message,
                    std::size_t& iov_used);
  void setMessage(std::size_t message, iovec* iov, std::size_t iov_count, void* address,
                  socklen_t address_length, Span span);
  // Sends messages_[first, n). Returns the index of a GSO buffer the kernel refused, or n.
  std::size_t sendMessages(int fd, std::size_t first, std::size_t n, bool raw,
                           std::array<bool, kSendBatch>& sent);

  UniqueFd packet_fd_;  // copies alone, past the qdisc
  UniqueFd gso_fd_;     // GSO buffers, each after a virtio_net_hdr, through the qdisc
  UniqueFd ip_fd_;
  GsoSend gso_ = GsoSend::Auto;
  std::array<Pending, kSendBatch> pending_{};
  std::array<mmsghdr, kSendBatch> messages_{};
  std::array<Span, kSendBatch> spans_{};
  // At most four pieces per copy (a GSO buffer: its VXLAN header and up to three frame
  // pieces) and two per GSO buffer (virtio header, outer head), of which there are at most
  // kSendBatch / 2.
  std::array<iovec, kSendBatch * 5> iov_{};
  std::array<VirtioHeader, kSendBatch> virtio_{};
  std::array<std::array<std::byte, kGsoHeadSize>, kSendBatch> gso_heads_{};
  std::size_t count_ = 0;
  SendStatistics stats_;
};

}  // namespace tmirror::agent
