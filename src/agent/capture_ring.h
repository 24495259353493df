// CaptureRing: an AF_PACKET TPACKET_V3 receive ring on one interface, both directions.
//
// The kernel fills fixed-size blocks with variable-size frames and hands a block over when it
// is full or when the block timeout passes; the reader walks the frames in place (no copy) and
// gives the block back. One syscall (poll) per block instead of one per packet is what makes
// V3 cheap.
#pragma once

#include <linux/if_packet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "packet/byte_reader.h"
#include "packet/encapsulation.h"
#include "packet/segmenter.h"
#include "rules/bpf_program.h"

namespace tmirror::agent {

// A block holds at least one 64 KiB frame (GSO/GRO super-frames) whole: a frame cut by the
// ring would give a copy whose headers announce bytes it does not carry.
inline constexpr uint32_t kMinBlockSize = 128u << 10;

struct RingOptions {
  uint32_t block_size = 2u << 20;  // bytes; a power of two, at least kMinBlockSize
  // 32 MiB in all: libpcap's 2 MiB default dropped 1.3 % of a 0.7 Mpps burst where 32-64 MiB
  // dropped nothing; Zeek and Arkime use 128-256 MiB.
  uint32_t block_count = 16;
  uint32_t block_timeout_ms = 2;  // bounds latency at low rates
  bool offload_headers = true;    // ask for per-frame offload metadata (PACKET_VNET_HDR)
};

// One captured frame, valid until its block is released.
struct CapturedFrame {
  packet::Bytes data;        // the frame as captured (VLAN tag removed by the NIC/kernel)
  uint32_t wire_length = 0;  // tp_len: the frame's length before any capture cut
  packet::VlanTag tag;       // the tag the kernel took off, to be restored in copies
  uint8_t packet_type = 0;   // PACKET_HOST, PACKET_OUTGOING, ...
  int64_t timestamp_ns = 0;  // when the kernel took the frame (CLOCK_REALTIME)
  packet::Offload offload;   // what the kernel left to the NIC (segmentation, checksum)

  bool outgoing() const { return packet_type == PACKET_OUTGOING; }
};

// Kernel counters since the previous read (PACKET_STATISTICS resets them on each read).
struct RingStatistics {
  uint64_t packets = 0;  // frames the kernel handed to the ring (including dropped ones)
  uint64_t drops = 0;    // frames lost because the ring was full
  uint64_t freeze_queue = 0;
};

class CaptureRing {
 public:
  static Result<CaptureRing> open(const std::string& interface, const RingOptions& options);

  CaptureRing(CaptureRing&& other) noexcept;
  CaptureRing& operator=(CaptureRing&& other) noexcept;
  CaptureRing(const CaptureRing&) = delete;
  CaptureRing& operator=(const CaptureRing&) = delete;
  ~CaptureRing();

  // Waits up to `timeout_ms` for the next block the kernel has handed over. Returns false on
  // timeout or interruption, and while the interface is down (the kernel feeds the same
  // socket again when it comes back up); other errors are returned.
  Result<bool> waitForBlock(int timeout_ms);

  // Calls `visit(const CapturedFrame&)` for every frame of the current block, if the kernel
  // has handed it over. Returns the number of frames visited (0: the block is still the
  // kernel's). The frames stay valid until releaseBlock().
  template <typename Visitor>
  std::size_t visitBlock(Visitor&& visit);

  // Gives the current block back to the kernel and moves to the next one.
  void releaseBlock();

  Result<RingStatistics> readStatistics();

  // Replaces the socket's classic BPF filter (SO_ATTACH_FILTER, atomic); an empty program
  // removes it, so that every frame reaches the ring.
  Result<void> setFilter(const std::vector<rules::BpfInstruction>& program);

  int fd() const { return fd_.get(); }

  int ifindex() const { return ifindex_; }

  // Whether the kernel writes each frame's offload metadata (a virtio_net_hdr) before it.
  // Without it, offloads are inferred from tp_status and the interface's MTU.
  bool hasOffloadHeaders() const { return vnet_header_; }

  std::size_t mappedBytes() const { return map_size_; }

 private:
  CaptureRing() = default;
  bool currentBlockReady() const;
  const tpacket_block_desc* currentBlock() const;

  UniqueFd fd_;
  int ifindex_ = 0;
  std::byte* map_ = nullptr;
  std::size_t map_size_ = 0;
  uint32_t block_size_ = 0;
  uint32_t block_count_ = 0;
  uint32_t current_ = 0;
  bool vnet_header_ = false;
  uint32_t mtu_ = 0;
};

// How the ring describes offloads: from a virtio_net_hdr before each frame, or (older
// kernels) from tp_status and the interface's MTU.
struct OffloadSource {
  bool vnet_header = false;
  uint32_t mtu = 0;
};

// Decodes one frame header of a V3 block (exposed for tests).
void decodeFrameHeader(const tpacket3_hdr& header, const std::byte* frame_base, CapturedFrame& out,
                       OffloadSource source = {});

template <typename Visitor>
std::size_t CaptureRing::visitBlock(Visitor&& visit) {
  if (!currentBlockReady()) {
    return 0;
  }
  const tpacket_block_desc* block = currentBlock();
  const uint32_t count = block->hdr.bh1.num_pkts;
  const auto* base = reinterpret_cast<const std::byte*>(block);
  uint32_t offset = block->hdr.bh1.offset_to_first_pkt;
  CapturedFrame frame;
  for (uint32_t i = 0; i < count; ++i) {
    if (offset >= block_size_) {
      break;  // never trust an offset past the block
    }
    const auto* header = reinterpret_cast<const tpacket3_hdr*>(base + offset);
    decodeFrameHeader(*header, base + offset, frame, OffloadSource{vnet_header_, mtu_});
    if (offset + header->tp_mac + frame.data.size() <= block_size_) {
      visit(static_cast<const CapturedFrame&>(frame));
    }
    if (header->tp_next_offset == 0) {
      break;
    }
    offset += header->tp_next_offset;
  }
  return count;
}

}  // namespace tmirror::agent
