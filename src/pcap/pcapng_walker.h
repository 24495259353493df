// A bounds-checked walk over the blocks of a pcapng file that yields, for each packet-bearing
// block in file order, the packet's direction (EPB epb_flags). libpcap does not expose
// epb_flags, and returns packets in the same block order, so the two walks can be zipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "packet/packet_direction.h"

namespace tmirror::pcap {

inline constexpr uint32_t kPcapngSectionHeaderBlock = 0x0A0D0D0A;
inline constexpr uint32_t kPcapngByteOrderMagic = 0x1A2B3C4D;
inline constexpr uint32_t kPcapngObsoletePacketBlock = 2;
inline constexpr uint32_t kPcapngSimplePacketBlock = 3;
inline constexpr uint32_t kPcapngInterfaceDescriptionBlock = 1;
inline constexpr uint32_t kPcapngEnhancedPacketBlock = 6;
inline constexpr uint16_t kPcapngOptionEnd = 0;
inline constexpr uint16_t kPcapngOptionEpbFlags = 2;

// Reads the file through a small window (never the whole file), so multi-GB captures cost
// 64 KiB of memory. Untrusted bytes never crash it: once a block is malformed (bad length,
// truncated, options overflowing the block) every later next() returns Unknown and
// malformed() turns true.
class PcapngDirectionWalker {
 public:
  // NotFound if the file is missing, Io if it cannot be read, InvalidArgument if it does not
  // start with a Section Header Block.
  static Result<PcapngDirectionWalker> open(const std::filesystem::path& path);

  // Direction of the next packet-bearing block (EPB, SPB, obsolete PB); Unknown for SPB/PB,
  // for EPBs without usable epb_flags, and once exhausted or malformed.
  packet::PacketDirection next();

  // True once a malformed block stopped the walk.
  bool malformed() const { return state_ == State::Malformed; }

  // True once the walk stopped, cleanly at end of file or on a malformed block.
  bool finished() const { return state_ != State::Walking; }

 private:
  enum class State : uint8_t { Walking, Exhausted, Malformed };

  PcapngDirectionWalker(UniqueFd fd, uint64_t file_size);

  // Copies out.size() (at most the window size) bytes at `offset`; false past end of file or on
  // a read error.
  bool readAt(uint64_t offset, std::span<std::byte> out);
  bool readU32At(uint64_t offset, uint32_t& value);
  bool readU16At(uint64_t offset, uint16_t& value);
  packet::PacketDirection enhancedPacketDirection(uint64_t block_start, uint32_t block_length);
  packet::PacketDirection stop(State state);

  UniqueFd fd_;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;  // start of the next block
  bool big_endian_ = false;
  bool in_section_ = false;
  State state_ = State::Walking;
  std::vector<std::byte> window_;
  uint64_t window_offset_ = 0;
  std::size_t window_length_ = 0;
};

}  // namespace tmirror::pcap
