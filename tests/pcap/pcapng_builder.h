// Assembles pcapng files byte by byte, in either byte order, so tests read real files whose
// every byte is known. Offsets of the blocks it appended let tests corrupt them on purpose.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string_view>
#include <vector>

namespace tmirror::pcap::testing {

enum class ByteOrder { Little, Big };

inline const char* byteOrderName(ByteOrder order) {
  return order == ByteOrder::Big ? "BigEndian" : "LittleEndian";
}

inline void PrintTo(ByteOrder order, std::ostream* os) {
  *os << byteOrderName(order);
}

struct PcapngOption {
  uint16_t code = 0;
  std::vector<std::byte> value;
};

inline std::vector<std::byte> bytesOf(std::string_view text) {
  std::vector<std::byte> out;
  for (char c : text) {
    out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

// `n` bytes counting up from `first`: recognisable packet contents.
inline std::vector<std::byte> patternBytes(std::size_t n, uint8_t first) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<std::byte>(static_cast<uint8_t>(first + i));
  }
  return out;
}

class PcapngBuilder {
 public:
  static constexpr uint32_t kSectionHeader = 0x0A0D0D0A;
  static constexpr uint32_t kInterfaceDescription = 1;
  static constexpr uint32_t kObsoletePacket = 2;
  static constexpr uint32_t kSimplePacket = 3;
  static constexpr uint32_t kEnhancedPacket = 6;
  static constexpr uint32_t kCustom = 0x00000BAD;
  static constexpr uint16_t kOptComment = 1;
  static constexpr uint16_t kOptEpbFlags = 2;
  static constexpr uint16_t kOptIfTsresol = 9;

  explicit PcapngBuilder(ByteOrder order) : order_(order) {}

  // Switches the byte order for the blocks appended from now on (a new section may differ).
  PcapngBuilder& useByteOrder(ByteOrder order) {
    order_ = order;
    return *this;
  }

  PcapngBuilder& sectionHeader() {
    std::vector<std::byte> body;
    putU32(body, 0x1A2B3C4D);
    putU16(body, 1);           // major
    putU16(body, 0);           // minor
    putU32(body, 0xFFFFFFFF);  // section length: unknown (-1)
    putU32(body, 0xFFFFFFFF);
    appendOptions(body, {{4, bytesOf("tmirror-test")}});  // shb_userappl
    return block(kSectionHeader, body);
  }

  // tsresol: if_tsresol exponent (9 = nanoseconds); absent means the default microseconds.
  PcapngBuilder& interfaceDescription(uint16_t link_type, uint32_t snaplen,
                                      std::optional<uint8_t> tsresol) {
    std::vector<std::byte> body;
    putU16(body, link_type);
    putU16(body, 0);  // reserved
    putU32(body, snaplen);
    if (tsresol) {
      appendOptions(body, {{kOptIfTsresol, {static_cast<std::byte>(*tsresol)}}});
    }
    return block(kInterfaceDescription, body);
  }

  PcapngBuilder& enhancedPacket(uint32_t interface_id, uint64_t timestamp,
                                std::span<const std::byte> data, uint32_t original_length,
                                const std::vector<PcapngOption>& options) {
    std::vector<std::byte> body;
    putU32(body, interface_id);
    putU32(body, static_cast<uint32_t>(timestamp >> 32));
    putU32(body, static_cast<uint32_t>(timestamp));
    putU32(body, static_cast<uint32_t>(data.size()));
    putU32(body, original_length);
    putPadded(body, data);
    appendOptions(body, options);
    return block(kEnhancedPacket, body);
  }

  PcapngBuilder& simplePacket(std::span<const std::byte> data, uint32_t original_length) {
    std::vector<std::byte> body;
    putU32(body, original_length);
    putPadded(body, data);
    return block(kSimplePacket, body);
  }

  PcapngBuilder& obsoletePacket(uint16_t interface_id, uint64_t timestamp,
                                std::span<const std::byte> data, uint32_t original_length) {
    std::vector<std::byte> body;
    putU16(body, interface_id);
    putU16(body, 0);  // drops count
    putU32(body, static_cast<uint32_t>(timestamp >> 32));
    putU32(body, static_cast<uint32_t>(timestamp));
    putU32(body, static_cast<uint32_t>(data.size()));
    putU32(body, original_length);
    putPadded(body, data);
    return block(kObsoletePacket, body);
  }

  // Any block: header, the body padded to 4, trailer; lengths computed.
  PcapngBuilder& block(uint32_t type, std::span<const std::byte> body) {
    last_block_offset_ = bytes_.size();
    const auto length = static_cast<uint32_t>(12 + ((body.size() + 3) & ~std::size_t{3}));
    putU32(bytes_, type);
    putU32(bytes_, length);
    putPadded(bytes_, body);
    putU32(bytes_, length);
    return *this;
  }

  static PcapngOption epbFlags(uint32_t flags, ByteOrder order) {
    std::vector<std::byte> value;
    putU32(value, flags, order);
    return {kOptEpbFlags, value};
  }

  PcapngOption epbFlags(uint32_t flags) const { return epbFlags(flags, order_); }

  // Overwrites 4 bytes at `offset` in the current byte order, for corrupting a block.
  void patchU32(std::size_t offset, uint32_t value) {
    std::vector<std::byte> tmp;
    putU32(tmp, value);
    for (std::size_t i = 0; i < 4; ++i) {
      bytes_.at(offset + i) = tmp[i];
    }
  }

  void patchU16(std::size_t offset, uint16_t value) {
    std::vector<std::byte> tmp;
    putU16(tmp, value);
    bytes_.at(offset) = tmp[0];
    bytes_.at(offset + 1) = tmp[1];
  }

  std::size_t lastBlockOffset() const { return last_block_offset_; }

  const std::vector<std::byte>& bytes() const { return bytes_; }

 private:
  void appendOptions(std::vector<std::byte>& body, const std::vector<PcapngOption>& options) {
    if (options.empty()) {
      return;
    }
    for (const auto& option : options) {
      putU16(body, option.code);
      putU16(body, static_cast<uint16_t>(option.value.size()));
      putPadded(body, option.value);
    }
    putU16(body, 0);  // opt_endofopt
    putU16(body, 0);
  }

  static void putPadded(std::vector<std::byte>& out, std::span<const std::byte> data) {
    out.insert(out.end(), data.begin(), data.end());
    out.resize(out.size() + ((4 - data.size() % 4) % 4), std::byte{0});
  }

  static void putU16(std::vector<std::byte>& out, uint16_t v, ByteOrder order) {
    const auto hi = static_cast<std::byte>(v >> 8);
    const auto lo = static_cast<std::byte>(v);
    if (order == ByteOrder::Big) {
      out.insert(out.end(), {hi, lo});
    } else {
      out.insert(out.end(), {lo, hi});
    }
  }

  static void putU32(std::vector<std::byte>& out, uint32_t v, ByteOrder order) {
    if (order == ByteOrder::Big) {
      putU16(out, static_cast<uint16_t>(v >> 16), order);
      putU16(out, static_cast<uint16_t>(v), order);
    } else {
      putU16(out, static_cast<uint16_t>(v), order);
      putU16(out, static_cast<uint16_t>(v >> 16), order);
    }
  }

  void putU16(std::vector<std::byte>& out, uint16_t v) const { putU16(out, v, order_); }

  void putU32(std::vector<std::byte>& out, uint32_t v) const { putU32(out, v, order_); }

  ByteOrder order_;
  std::vector<std::byte> bytes_;
  std::size_t last_block_offset_ = 0;
};

}  // namespace tmirror::pcap::testing
