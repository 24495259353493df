// libFuzzer target: any bytes as (a) a UDP payload to VXLAN-decode and (b) a whole outer
// frame to decapsulate; a decoded inner frame is parsed too. Checks that every view handed
// back lies inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "packet/frame.h"
#include "packet/vxlan.h"

using namespace tmirror::packet;

namespace {

void checkInside(Bytes outer, Bytes inner) {
  if (inner.empty()) {
    return;
  }
  if (inner.data() < outer.data() || inner.data() + inner.size() > outer.data() + outer.size()) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  for (bool lenient : {false, true}) {
    const VxlanPayload payload = decodeVxlan(bytes, lenient);
    checkInside(bytes, payload.inner);
    if (payload.status == DecapStatus::Ok) {
      if (payload.vni > kMaxVni || payload.inner.size() + kVxlanHeaderSize != size) {
        std::abort();
      }
      ParsedFrame inner;
      parseFrame(payload.inner, inner);
    }
  }
  const DecapsulatedFrame decap = decapsulateFrame(bytes);
  checkInside(bytes, decap.inner);
  if (decap.status == DecapStatus::Ok) {
    ParsedFrame inner;
    parseFrame(decap.inner, inner);
  }
  return 0;
}
