// Symmetric inner-flow hash: both directions of a flow get the same value, so the outer UDP
// source port (and a load-balanced collector chosen from it) is the same for both.
#pragma once

#include <cstdint>

#include "packet/frame.h"

namespace tmirror::packet {

// 5-tuple (protocol, addresses, ports) for TCP/UDP with ports and for ICMP echo (the
// identifier stands for both ports); 3-tuple (protocol, addresses) for everything else,
// including every fragment of a fragmented datagram, so all its pieces travel together.
uint32_t symmetricFlowHash(const ParsedFrame& frame);

// Outer UDP source port from the flow hash, in the dynamic range 49152-65535 as RFC 7348
// recommends (more entropy for ECMP and SO_REUSEPORT than AWS's observed 0xFF80-0xFFFF).
inline uint16_t vxlanSourcePort(uint32_t flow_hash) {
  return static_cast<uint16_t>(0xC000u | ((flow_hash ^ (flow_hash >> 16)) & 0x3FFFu));
}

}  // namespace tmirror::packet
