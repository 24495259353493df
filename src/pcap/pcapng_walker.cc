#include "pcap/pcapng_walker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace tmirror::pcap {

namespace {

constexpr std::size_t kWindowSize = 64 * 1024;

// Every block is type + length + ... + trailing length.
constexpr uint32_t kMinBlockLength = 12;
// SHB: header, byte-order magic, major/minor version, 64-bit section length, trailer.
constexpr uint32_t kMinSectionHeaderLength = 28;
// EPB: header, interface id, timestamp (2 x 32), captured and original lengths, trailer.
constexpr uint32_t kEpbFixedLength = 28;
constexpr uint32_t kMinEnhancedPacketLength = kEpbFixedLength + 4;
constexpr uint32_t kEpbCapturedLengthOffset = 20;
// SPB: header, original length, trailer.
constexpr uint32_t kMinSimplePacketLength = 16;
// Obsolete PB: header, interface id + drops, timestamp, captured and original lengths, trailer.
constexpr uint32_t kMinObsoletePacketLength = 32;

constexpr uint32_t kEpbFlagsDirectionMask = 0x3;

uint32_t decodeU32(std::span<const std::byte, 4> b, bool big_endian) {
  const auto byte = [&](std::size_t i) { return static_cast<uint32_t>(b[i]); };
  if (big_endian) {
    return (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
  }
  return (byte(3) << 24) | (byte(2) << 16) | (byte(1) << 8) | byte(0);
}

uint64_t padTo4(uint64_t n) {
  return (n + 3) & ~uint64_t{3};
}

packet::PacketDirection directionFromEpbFlags(uint32_t flags) {
  switch (flags & kEpbFlagsDirectionMask) {
    case 1:
      return packet::PacketDirection::Inbound;
    case 2:
      return packet::PacketDirection::Outbound;
    default:
      return packet::PacketDirection::Unknown;
  }
}

}  // namespace

Result<PcapngDirectionWalker> PcapngDirectionWalker::open(const std::filesystem::path& path) {
  const std::string context = "opening pcapng file '" + path.string() + "'";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return makeError(ErrorCode::NotFound, context + ": no such file");
    }
    return makeSystemError(context, err);
  }

  struct stat st {};

  if (::fstat(fd.get(), &st) != 0) {
    return makeSystemError(context, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return makeError(ErrorCode::InvalidArgument, context + ": not a regular file");
  }
  PcapngDirectionWalker walker(std::move(fd), static_cast<uint64_t>(st.st_size));
  uint32_t magic = 0;
  if (!walker.readU32At(0, magic) || magic != kPcapngSectionHeaderBlock) {
    return makeError(ErrorCode::InvalidArgument,
                     context + ": not a pcapng file (no section header block at offset 0)");
  }
  return walker;
}

PcapngDirectionWalker::PcapngDirectionWalker(UniqueFd fd, uint64_t file_size)
    : fd_(std::move(fd)), file_size_(file_size), window_(kWindowSize) {}

packet::PacketDirection PcapngDirectionWalker::next() {
  while (state_ == State::Walking) {
    if (offset_ == file_size_) {
      return stop(State::Exhausted);
    }
    const uint64_t block_start = offset_;
    if (file_size_ - block_start < kMinBlockLength) {
      return stop(State::Malformed);  // truncated block header
    }
    std::array<std::byte, 12> head{};
    if (!readAt(block_start, head)) {
      return stop(State::Malformed);
    }
    // The SHB type is a byte palindrome, so it reads the same in either byte order; its
    // byte-order magic then sets the order for the whole section.
    const uint32_t type_any_order = decodeU32(std::span(head).subspan<0, 4>(), false);
    if (type_any_order == kPcapngSectionHeaderBlock) {
      const auto magic = std::span<const std::byte>(head).subspan<8, 4>();
      if (decodeU32(magic, true) == kPcapngByteOrderMagic) {
        big_endian_ = true;
      } else if (decodeU32(magic, false) == kPcapngByteOrderMagic) {
        big_endian_ = false;
      } else {
        return stop(State::Malformed);
      }
      in_section_ = true;
    } else if (!in_section_) {
      return stop(State::Malformed);
    }
    const uint32_t type = decodeU32(std::span<const std::byte>(head).subspan<0, 4>(), big_endian_);
    const uint32_t length =
        decodeU32(std::span<const std::byte>(head).subspan<4, 4>(), big_endian_);
    if (length < kMinBlockLength || length % 4 != 0 || length > file_size_ - block_start) {
      return stop(State::Malformed);
    }
    uint32_t trailing_length = 0;
    if (!readU32At(block_start + length - 4, trailing_length) || trailing_length != length) {
      return stop(State::Malformed);
    }
    offset_ = block_start + length;

    switch (type) {
      case kPcapngSectionHeaderBlock:
        if (length < kMinSectionHeaderLength) {
          return stop(State::Malformed);
        }
        break;
      case kPcapngEnhancedPacketBlock:
        return enhancedPacketDirection(block_start, length);
      case kPcapngSimplePacketBlock:
        if (length < kMinSimplePacketLength) {
          return stop(State::Malformed);
        }
        return packet::PacketDirection::Unknown;
      case kPcapngObsoletePacketBlock:
        if (length < kMinObsoletePacketLength) {
          return stop(State::Malformed);
        }
        return packet::PacketDirection::Unknown;
      default:
        break;  // IDB, statistics, name resolution, custom...: nothing to yield
    }
  }
  return packet::PacketDirection::Unknown;
}

packet::PacketDirection PcapngDirectionWalker::enhancedPacketDirection(uint64_t block_start,
                                                                       uint32_t block_length) {
  if (block_length < kMinEnhancedPacketLength) {
    return stop(State::Malformed);
  }
  uint32_t captured_length = 0;
  if (!readU32At(block_start + kEpbCapturedLengthOffset, captured_length)) {
    return stop(State::Malformed);
  }
  // 64-bit arithmetic: a hostile captured length near 2^32 must not wrap.
  const uint64_t options_begin = kEpbFixedLength + padTo4(captured_length);
  const uint64_t options_end = block_length - 4;
  if (options_begin > options_end) {
    return stop(State::Malformed);
  }
  packet::PacketDirection direction = packet::PacketDirection::Unknown;
  uint64_t pos = options_begin;
  while (options_end - pos >= 4) {
    uint16_t code = 0;
    uint16_t value_length = 0;
    if (!readU16At(block_start + pos, code) || !readU16At(block_start + pos + 2, value_length)) {
      return stop(State::Malformed);
    }
    if (code == kPcapngOptionEnd) {
      break;
    }
    const uint64_t padded = padTo4(value_length);
    if (padded > options_end - pos - 4) {
      return stop(State::Malformed);
    }
    // An epb_flags of the wrong size is ignored rather than trusted.
    if (code == kPcapngOptionEpbFlags && value_length == 4) {
      uint32_t flags = 0;
      if (!readU32At(block_start + pos + 4, flags)) {
        return stop(State::Malformed);
      }
      direction = directionFromEpbFlags(flags);
    }
    pos += 4 + padded;
  }
  return direction;
}

packet::PacketDirection PcapngDirectionWalker::stop(State state) {
  state_ = state;
  return packet::PacketDirection::Unknown;
}

bool PcapngDirectionWalker::readU32At(uint64_t offset, uint32_t& value) {
  std::array<std::byte, 4> b{};
  if (!readAt(offset, b)) {
    return false;
  }
  value = decodeU32(b, big_endian_);
  return true;
}

bool PcapngDirectionWalker::readU16At(uint64_t offset, uint16_t& value) {
  std::array<std::byte, 2> b{};
  if (!readAt(offset, b)) {
    return false;
  }
  const auto hi = static_cast<unsigned>(b[big_endian_ ? 0 : 1]);
  const auto lo = static_cast<unsigned>(b[big_endian_ ? 1 : 0]);
  value = static_cast<uint16_t>((hi << 8) | lo);
  return true;
}

bool PcapngDirectionWalker::readAt(uint64_t offset, std::span<std::byte> out) {
  if (out.size() > window_.size() || offset > file_size_ || out.size() > file_size_ - offset) {
    return false;
  }
  const bool in_window = offset >= window_offset_ && offset - window_offset_ <= window_length_ &&
                         out.size() <= window_length_ - (offset - window_offset_);
  if (!in_window) {
    // Refill from `offset`: the walk moves forward, so the rest of the window is what comes
    // next.
    std::size_t filled = 0;
    while (filled < window_.size()) {
      const ssize_t n = ::pread(fd_.get(), window_.data() + filled, window_.size() - filled,
                                static_cast<off_t>(offset + filled));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        break;
      }
      if (n == 0) {
        break;
      }
      filled += static_cast<std::size_t>(n);
    }
    window_offset_ = offset;
    window_length_ = filled;
    if (out.size() > filled) {
      return false;
    }
  }
  std::memcpy(out.data(), window_.data() + (offset - window_offset_), out.size());
  return true;
}

}  // namespace tmirror::pcap
