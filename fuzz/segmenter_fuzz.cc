// libFuzzer target: any bytes as a captured frame with any offload metadata, through
// parse -> planSegments -> every writeSegment -> encapsulateParts. Checks the segmenter's
// promises on hostile input: no out-of-bounds read or write, headers within kMaxSegmentHead,
// payload views inside the frame, and the packets' payloads adding up to the frame's.
//
// Input: byte 0 GSO kind (mod 4), bytes 1-2 GSO size (big-endian), byte 3 flags (bit 0
// checksum partial, bit 1 GSO size from the MTU, bit 2 a restored VLAN tag), then the frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "packet/encapsulation.h"
#include "packet/frame.h"
#include "packet/segmenter.h"

using namespace tmirror::packet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) {
    return 0;
  }
  Offload offload;
  offload.gso = static_cast<GsoKind>(data[0] % 4);
  offload.gso_size = static_cast<uint16_t>((data[1] << 8) | data[2]);
  offload.checksum_partial = (data[3] & 1) != 0;
  offload.gso_from_mtu = (data[3] & 2) != 0;
  offload.mtu = static_cast<uint16_t>(offload.gso_size);
  const VlanTag tag{.present = (data[3] & 4) != 0, .tci = 42};
  // The frame in a buffer of its own size, so ASan sees any read past it.
  std::vector<std::byte> buffer(reinterpret_cast<const std::byte*>(data) + 4,
                                reinterpret_cast<const std::byte*>(data) + size);
  const Bytes frame(buffer);
  ParsedFrame parsed;
  parseFrame(frame, parsed);
  SegmentPlan plan;
  if (planSegments(frame, static_cast<uint32_t>(frame.size()), parsed, offload, plan) !=
      SegmentStatus::Ok) {
    return 0;
  }
  if (plan.count == 0 || plan.head_length > frame.size() || plan.payload_end > frame.size() ||
      plan.count > frame.size() + 1) {
    std::abort();
  }
  const VxlanEncapsulator encapsulator(
      OuterPath{.src_ipv4 = 0xC6336410, .dst_ipv4 = 0xC6336414, .mtu = 1500}, 7, data[0] * 10u);
  EncapSlot slot;
  MirrorCopy copy;
  std::size_t payload = 0;
  for (uint32_t i = 0; i < plan.count; ++i) {
    const Segment s = writeSegment(frame, plan, i, tag, slot.inner_head);
    if (s.head.size() > kMaxSegmentHead || s.payload.data() < frame.data() ||
        s.payload.data() + s.payload.size() > frame.data() + frame.size()) {
      std::abort();
    }
    payload += plan.segmented ? s.payload.size() : plan.payloadLength();
    encapsulator.encapsulateParts(s.head, s.payload, 1234, slot, copy);
    std::vector<std::byte> out(copy.outerLength());
    if (copy.copyTo(out) != out.size() || copy.inner_length > encapsulator.maxInnerLength()) {
      std::abort();
    }
  }
  if (payload != plan.payloadLength()) {
    std::abort();
  }
  return 0;
}
