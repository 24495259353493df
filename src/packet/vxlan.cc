#include "packet/vxlan.h"

#include <algorithm>

#include "packet/frame.h"

namespace tmirror::packet {

void writeVxlanHeader(std::span<std::byte, kVxlanHeaderSize> out, uint32_t vni) {
  storeU32(out, 0, uint32_t{kVxlanFlagVni} << 24);
  storeU32(out, 4, (vni & kMaxVni) << 8);
}

VxlanPayload decodeVxlan(Bytes udp_payload, bool lenient_reserved) {
  VxlanPayload result;
  if (udp_payload.size() < kVxlanHeaderSize) {
    result.status = DecapStatus::TruncatedVxlan;
    return result;
  }
  const uint32_t word0 = loadU32(udp_payload, 0);
  const uint32_t word1 = loadU32(udp_payload, 4);
  const uint8_t flags = static_cast<uint8_t>(word0 >> 24);
  if ((flags & kVxlanFlagVni) == 0 || (!lenient_reserved && flags != kVxlanFlagVni)) {
    result.status = DecapStatus::BadVxlanFlags;
    return result;
  }
  if (!lenient_reserved && ((word0 & 0x00FFFFFF) != 0 || (word1 & 0xFF) != 0)) {
    result.status = DecapStatus::ReservedBitsSet;
    return result;
  }
  result.vni = word1 >> 8;
  result.inner = udp_payload.subspan(kVxlanHeaderSize);
  result.status = result.inner.empty() ? DecapStatus::EmptyInnerFrame : DecapStatus::Ok;
  return result;
}

DecapsulatedFrame decapsulateFrame(Bytes frame, uint16_t vxlan_port) {
  DecapsulatedFrame result;
  ParsedFrame outer;
  parseFrame(frame, outer);
  switch (outer.status) {
    case FrameStatus::Ok:
      break;
    case FrameStatus::TruncatedEthernet:
    case FrameStatus::TruncatedVlanTag:
      result.status = DecapStatus::TruncatedOuterEthernet;
      return result;
    case FrameStatus::NotIp:
    case FrameStatus::TooManyVlanTags:
      result.status = DecapStatus::OuterNotIp;
      return result;
    case FrameStatus::TruncatedIpv4Header:
    case FrameStatus::TruncatedIpv6Header:
    case FrameStatus::TruncatedIpv6ExtensionHeader:
      result.status = DecapStatus::TruncatedOuterIp;
      return result;
    default:
      result.status = DecapStatus::BadOuterIp;
      return result;
  }
  result.outer_src = outer.src;
  result.outer_dst = outer.dst;
  if (outer.fragment != Fragment::None) {
    result.status = DecapStatus::OuterFragment;
    return result;
  }
  if (outer.protocol != kProtoUdp) {
    result.status = DecapStatus::OuterNotUdp;
    return result;
  }
  if (!outer.has_ports) {
    result.status = DecapStatus::TruncatedOuterUdp;
    return result;
  }
  result.outer_src_port = outer.src_port;
  result.outer_dst_port = outer.dst_port;
  if (outer.dst_port != vxlan_port) {
    result.status = DecapStatus::NotVxlanPort;
    return result;
  }
  // The UDP length and the IP packet's end both bound the payload (Ethernet padding may
  // follow; a capture may cut it; a hostile sender may make them disagree).
  const std::size_t udp_len = loadU16(frame, outer.l4_offset + 4);
  if (udp_len < 8 || outer.l4_offset + 8 > outer.ip_end) {
    result.status = DecapStatus::TruncatedOuterUdp;
    return result;
  }
  const std::size_t payload_end = std::min<std::size_t>(outer.ip_end, outer.l4_offset + udp_len);
  const VxlanPayload vxlan =
      decodeVxlan(frame.subspan(outer.l4_offset + 8, payload_end - (outer.l4_offset + 8)));
  result.status = vxlan.status;
  result.vni = vxlan.vni;
  result.inner = vxlan.inner;
  return result;
}

const char* decapStatusName(DecapStatus status) {
  switch (status) {
    case DecapStatus::Ok:
      return "ok";
    case DecapStatus::TruncatedVxlan:
      return "truncated_vxlan";
    case DecapStatus::BadVxlanFlags:
      return "bad_vxlan_flags";
    case DecapStatus::ReservedBitsSet:
      return "vxlan_reserved_bits_set";
    case DecapStatus::EmptyInnerFrame:
      return "empty_inner_frame";
    case DecapStatus::TruncatedOuterEthernet:
      return "truncated_outer_ethernet";
    case DecapStatus::OuterNotIp:
      return "outer_not_ip";
    case DecapStatus::TruncatedOuterIp:
      return "truncated_outer_ip";
    case DecapStatus::BadOuterIp:
      return "bad_outer_ip";
    case DecapStatus::OuterFragment:
      return "outer_fragment";
    case DecapStatus::OuterNotUdp:
      return "outer_not_udp";
    case DecapStatus::TruncatedOuterUdp:
      return "truncated_outer_udp";
    case DecapStatus::NotVxlanPort:
      return "not_vxlan_port";
    case DecapStatus::kCount:
      break;
  }
  return "unknown";
}

}  // namespace tmirror::packet
