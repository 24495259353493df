// The collector's receive path on hostile datagrams: VXLAN decode, admission, demux by
// (sender, VNI), and the pcapng writer into memory. Input: records of
// [sender selector: 1 byte][length: 2 bytes big-endian][UDP payload].
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "collector/pcapng_format.h"
#include "collector/receive_path.h"

namespace {

using namespace tmirror;

// Writes every frame as an EPB into a 64 KiB memory "file" and checks the block it wrote.
class MemoryPcapngSink : public collector::FrameSink {
 public:
  void write(collector::ReceivedSession& session, const collector::ReceivedFrame& frame) override {
    if (session.index >= preambles_.size()) {
      preambles_.resize(session.index + 1);
    }
    if (preambles_[session.index].empty()) {
      preambles_[session.index] = collector::pcapngPreamble(session.interfaceDescription());
      if (preambles_[session.index].size() % 4 != 0) {
        std::abort();
      }
    }
    const auto direction = session.directionOf(frame.inner);
    const std::size_t expected = collector::enhancedPacketBlockSize(frame.inner.size(), direction);
    if (used_ + expected > buffer_.size()) {
      used_ = 0;  // "rotate"
    }
    const std::size_t n =
        collector::writeEnhancedPacketBlock(std::span(buffer_).subspan(used_), frame.timestamp_ns,
                                            frame.inner, frame.original_length, direction);
    if (expected > buffer_.size()) {
      if (n != 0) {
        std::abort();
      }
      return;
    }
    if (n != expected || n % 4 != 0) {
      std::abort();
    }
    // Total length at both ends; the packet bytes at offset 28.
    uint32_t head = 0, tail = 0, captured = 0;
    std::memcpy(&head, buffer_.data() + used_ + 4, 4);
    std::memcpy(&tail, buffer_.data() + used_ + n - 4, 4);
    std::memcpy(&captured, buffer_.data() + used_ + 20, 4);
    if (head != n || tail != n || captured != frame.inner.size() ||
        (captured != 0 &&
         std::memcmp(buffer_.data() + used_ + 28, frame.inner.data(), captured) != 0)) {
      std::abort();
    }
    used_ += n;
  }

 private:
  std::vector<std::byte> buffer_ = std::vector<std::byte>(64 * 1024);
  std::size_t used_ = 0;
  std::vector<std::vector<std::byte>> preambles_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  collector::AdmissionPolicy admission;
  admission.denied_vnis = {0xFFFFFF};
  std::map<uint32_t, collector::SessionMetadata> metadata;
  metadata[1].source_mac = packet::MacAddress{{0x02, 0, 0, 0, 0, 0x01}};
  collector::SessionTable sessions(16, metadata);
  collector::CollectorCounters counters;
  MemoryPcapngSink sink;
  collector::FrameSink* sinks[] = {&sink};
  collector::ReceivePath path(admission, sessions, counters, sinks);

  const packet::IpAddress senders[] = {
      packet::IpAddress::v4(0x7F000001), packet::IpAddress::v4(0x0A000001),
      packet::IpAddress::v6((packet::Uint128{0x20010db8} << 96) | 1),
      packet::IpAddress::v4(0xC0000207)};
  std::size_t offset = 0;
  uint64_t datagrams = 0;
  while (offset + 3 <= size) {
    const uint8_t selector = data[offset];
    const std::size_t length = std::min<std::size_t>(
        (static_cast<std::size_t>(data[offset + 1]) << 8) | data[offset + 2], size - offset - 3);
    collector::Datagram d;
    d.sender = senders[selector % 4];
    d.timestamp_ns = datagrams * 1000;
    d.payload = packet::Bytes(reinterpret_cast<const std::byte*>(data + offset + 3), length);
    d.truncated = (selector & 0x80) != 0;
    path.process(d);
    ++datagrams;
    offset += 3 + length;
  }
  path.endBatch();
  // Every datagram is delivered or dropped for a named reason, exactly once.
  uint64_t accounted = 0;
  for (std::size_t r = 0; r < static_cast<std::size_t>(collector::DropReason::kCount); ++r) {
    accounted += counters.drops(static_cast<collector::DropReason>(r));
  }
  for (const auto* s : sessions.snapshot()) {
    accounted += s->packets.load();
  }
  if (accounted != counters.datagrams() || counters.datagrams() != datagrams) {
    std::abort();
  }
  return 0;
}
