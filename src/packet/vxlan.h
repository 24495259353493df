// VXLAN (RFC 7348) header: 8 bytes, flags 0x08 (valid VNI), 24-bit VNI, reserved bytes zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "packet/byte_reader.h"
#include "packet/ip_address.h"

namespace tmirror::packet {

inline constexpr uint16_t kVxlanPort = 4789;
inline constexpr std::size_t kVxlanHeaderSize = 8;
inline constexpr uint8_t kVxlanFlagVni = 0x08;
inline constexpr uint32_t kMaxVni = 0xFFFFFF;

void writeVxlanHeader(std::span<std::byte, kVxlanHeaderSize> out, uint32_t vni);

// Why a datagram or frame did not yield an inner frame. Each value is a counter name.
enum class DecapStatus : uint8_t {
  Ok = 0,
  TruncatedVxlan,   // UDP payload shorter than a VXLAN header
  BadVxlanFlags,    // I flag missing or other flag bits set
  ReservedBitsSet,  // reserved fields non-zero (RFC 7348: must be zero when sent)
  EmptyInnerFrame,  // nothing after the VXLAN header
  TruncatedOuterEthernet,
  OuterNotIp,
  TruncatedOuterIp,
  BadOuterIp,
  OuterFragment,  // VXLAN must never be fragmented; we do not reassemble
  OuterNotUdp,
  TruncatedOuterUdp,
  NotVxlanPort,
  kCount,
};

const char* decapStatusName(DecapStatus status);

struct VxlanPayload {
  DecapStatus status = DecapStatus::TruncatedVxlan;
  uint32_t vni = 0;
  Bytes inner;  // the inner Ethernet frame, a view into the input
};

// Decodes a VXLAN header at the start of a UDP payload. Strict by default; `lenient_reserved`
// accepts senders that put data in the reserved bytes (the VNI is still the 24 bits).
VxlanPayload decodeVxlan(Bytes udp_payload, bool lenient_reserved = false);

struct DecapsulatedFrame {
  DecapStatus status = DecapStatus::TruncatedOuterEthernet;
  IpAddress outer_src;
  IpAddress outer_dst;
  uint16_t outer_src_port = 0;
  uint16_t outer_dst_port = 0;
  uint32_t vni = 0;
  Bytes inner;
};

// Decapsulates a whole outer Ethernet frame (optionally VLAN-tagged; IPv4 or IPv6; UDP to
// `vxlan_port`), as read from a pcap of mirror traffic.
DecapsulatedFrame decapsulateFrame(Bytes frame, uint16_t vxlan_port = kVxlanPort);

}  // namespace tmirror::packet
