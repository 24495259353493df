// libFuzzer target: any bytes as a captured frame through parse -> flow hash -> encapsulate.
// Checks the parser's promises on hostile input: no out-of-bounds read, offsets inside the
// frame, ports only for TCP/UDP, and a copy no longer than the frame plus header and tag.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "packet/encapsulation.h"
#include "packet/flow_hash.h"
#include "packet/frame.h"

using namespace tmirror::packet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes frame(reinterpret_cast<const std::byte*>(data), size);
  ParsedFrame parsed;
  parseFrame(frame, parsed);
  if (parsed.status == FrameStatus::Ok) {
    if (parsed.l3_offset > size || parsed.l4_offset > size) {
      std::abort();
    }
    if (parsed.has_ports && parsed.protocol != kProtoTcp && parsed.protocol != kProtoUdp) {
      std::abort();
    }
    if (parsed.has_ports && parsed.fragment == Fragment::Later) {
      std::abort();
    }
  }
  const uint32_t hash = symmetricFlowHash(parsed);
  const uint32_t packet_length = size > 0 ? data[0] * 40u : 0;
  const VxlanEncapsulator encapsulator(
      OuterPath{
          .src_ipv4 = 0xC6336410, .dst_ipv4 = 0xC6336414, .mtu = size > 1 ? data[1] * 40u : 1500},
      hash & kMaxVni, packet_length);
  EncapSlot slot;
  MirrorCopy copy;
  const VlanTag tag{.present = size > 2 && (data[2] & 1), .tci = 7};
  encapsulator.encapsulate(frame, tag, vxlanSourcePort(hash), slot, copy);
  if (copy.inner_length > size + 4 || copy.inner_length > encapsulator.maxInnerLength()) {
    std::abort();
  }
  std::vector<std::byte> out(copy.outerLength());
  if (copy.copyTo(out) != out.size()) {
    std::abort();
  }
  return 0;
}
