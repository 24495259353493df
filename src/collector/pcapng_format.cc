#include "collector/pcapng_format.h"

#include <algorithm>
#include <cstring>

namespace tmirror::collector {

namespace {

constexpr uint32_t kSectionHeaderType = 0x0A0D0D0A;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint32_t kInterfaceDescriptionType = 0x00000001;
constexpr uint32_t kEnhancedPacketType = 0x00000006;
constexpr uint16_t kOptEndOfOpt = 0;
constexpr uint16_t kOptIfName = 2;
constexpr uint16_t kOptIfDescription = 3;
constexpr uint16_t kOptIfTsresol = 9;
constexpr uint16_t kOptEpbFlags = 2;
constexpr uint16_t kOptShbUserAppl = 4;

constexpr std::size_t pad4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

// pcapng is written in the host's byte order; the SHB's magic tells readers which.
class BlockWriter {
 public:
  explicit BlockWriter(std::vector<std::byte>& out) : out_(out) {}

  void u16(uint16_t v) { raw(&v, sizeof v); }

  void u32(uint32_t v) { raw(&v, sizeof v); }

  // resize + memcpy, not insert(): GCC 12 at -O2 warns falsely (stringop-overflow) on the
  // insert of a few bytes.
  void raw(const void* p, std::size_t n) {
    const std::size_t at = out_.size();
    out_.resize(at + n);
    std::memcpy(out_.data() + at, p, n);
  }

  void padTo4() { out_.resize(pad4(out_.size()), std::byte{0}); }

  void option(uint16_t code, const void* value, std::size_t length) {
    u16(code);
    u16(static_cast<uint16_t>(length));
    raw(value, length);
    padTo4();
  }

  void stringOption(uint16_t code, const std::string& value) {
    // Option lengths are 16 bits; names are short, but never write a broken block.
    option(code, value.data(), std::min<std::size_t>(value.size(), 0xFFF0));
  }

 private:
  std::vector<std::byte>& out_;
};

// Fills in a block's two length fields once its body is written.
void closeBlock(std::vector<std::byte>& out, std::size_t start) {
  const uint32_t total = static_cast<uint32_t>(out.size() - start + 4);
  std::memcpy(out.data() + start + 4, &total, 4);
  BlockWriter(out).u32(total);
}

}  // namespace

std::vector<std::byte> pcapngPreamble(const InterfaceDescription& interface) {
  std::vector<std::byte> out;
  BlockWriter w(out);
  std::size_t start = out.size();
  w.u32(kSectionHeaderType);
  w.u32(0);  // total length, filled by closeBlock
  w.u32(kByteOrderMagic);
  w.u16(1);
  w.u16(0);
  w.u32(0xFFFFFFFF);  // section length: unknown (the file grows while being read)
  w.u32(0xFFFFFFFF);
  w.stringOption(kOptShbUserAppl, "tmirror collect");
  w.u32(kOptEndOfOpt);
  closeBlock(out, start);

  start = out.size();
  w.u32(kInterfaceDescriptionType);
  w.u32(0);
  w.u16(static_cast<uint16_t>(kLinkTypeEthernet));
  w.u16(0);
  w.u32(kPcapngSnaplen);
  w.stringOption(kOptIfName, interface.name);
  w.stringOption(kOptIfDescription, interface.description);
  const uint8_t nanoseconds = 9;
  w.option(kOptIfTsresol, &nanoseconds, 1);
  w.u32(kOptEndOfOpt);
  closeBlock(out, start);
  return out;
}

std::size_t enhancedPacketBlockSize(std::size_t captured, packet::PacketDirection direction) {
  const std::size_t options = direction == packet::PacketDirection::Unknown ? 0 : 8 + 4;
  return 28 + pad4(captured) + options + 4;
}

std::size_t writeEnhancedPacketBlock(std::span<std::byte> out, uint64_t timestamp_ns,
                                     packet::Bytes data, uint32_t original_length,
                                     packet::PacketDirection direction) {
  const std::size_t total = enhancedPacketBlockSize(data.size(), direction);
  if (total > out.size() || data.size() > kPcapngSnaplen) {
    return 0;
  }
  std::byte* p = out.data();
  auto put32 = [&p](uint32_t v) {
    std::memcpy(p, &v, 4);
    p += 4;
  };
  put32(kEnhancedPacketType);
  put32(static_cast<uint32_t>(total));
  put32(0);  // interface 0: one interface per file
  put32(static_cast<uint32_t>(timestamp_ns >> 32));
  put32(static_cast<uint32_t>(timestamp_ns));
  put32(static_cast<uint32_t>(data.size()));
  put32(std::max<uint32_t>(original_length, static_cast<uint32_t>(data.size())));
  if (!data.empty()) {
    std::memcpy(p, data.data(), data.size());
  }
  p += data.size();
  const std::size_t padding = pad4(data.size()) - data.size();
  std::memset(p, 0, padding);
  p += padding;
  if (direction != packet::PacketDirection::Unknown) {
    const uint16_t code = kOptEpbFlags;
    const uint16_t length = 4;
    std::memcpy(p, &code, 2);
    std::memcpy(p + 2, &length, 2);
    p += 4;
    put32(static_cast<uint32_t>(direction));
    put32(kOptEndOfOpt);
  }
  put32(static_cast<uint32_t>(total));
  return total;
}

}  // namespace tmirror::collector
