#include "packet/segmenter.h"

#include <algorithm>
#include <cstring>

#include "packet/checksum.h"

namespace tmirror::packet {

namespace {

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpCwr = 0x80;
constexpr std::size_t kMacPairSize = 12;

}  // namespace

const char* segmentStatusName(SegmentStatus status) {
  switch (status) {
    case SegmentStatus::Ok:
      return "ok";
    case SegmentStatus::NotTcpOrUdp:
      return "offload_not_tcp_or_udp";
    case SegmentStatus::UnsupportedGsoType:
      return "offload_unsupported_gso_type";
    case SegmentStatus::BadGsoSize:
      return "offload_bad_gso_size";
    case SegmentStatus::InconsistentLength:
      return "offload_inconsistent_length";
    case SegmentStatus::Ipv6ExtensionHeaders:
      return "offload_ipv6_extension_headers";
    case SegmentStatus::HeaderTooLong:
      return "offload_header_too_long";
    case SegmentStatus::Fragment:
      return "offload_fragment";
    case SegmentStatus::kCount:
      break;
  }
  return "unknown";
}

SegmentStatus planSegments(Bytes frame, uint32_t wire_length, const ParsedFrame& parsed,
                           const Offload& offload, SegmentPlan& plan) {
  plan = SegmentPlan{};
  if (parsed.status != FrameStatus::Ok ||
      (parsed.family != IpFamily::V4 && parsed.family != IpFamily::V6)) {
    return SegmentStatus::NotTcpOrUdp;
  }
  if (offload.gso == GsoKind::Other) {
    return SegmentStatus::UnsupportedGsoType;
  }
  if (parsed.fragment != Fragment::None) {
    return SegmentStatus::Fragment;
  }
  const uint8_t protocol = parsed.protocol;
  if ((protocol != kProtoTcp && protocol != kProtoUdp) ||
      (offload.gso == GsoKind::Tcp && protocol != kProtoTcp) ||
      (offload.gso == GsoKind::Udp && protocol != kProtoUdp)) {
    return SegmentStatus::NotTcpOrUdp;
  }
  if (offload.gso_from_mtu && protocol != kProtoTcp) {
    return SegmentStatus::UnsupportedGsoType;  // a UDP GSO size cannot be told from the MTU
  }
  if (frame.size() < wire_length) {
    return SegmentStatus::InconsistentLength;  // the capture cut it: the payload is not all here
  }
  const bool ipv4 = parsed.family == IpFamily::V4;
  if (!ipv4 && parsed.l4_offset != parsed.l3_offset + 40) {
    return SegmentStatus::Ipv6ExtensionHeaders;
  }
  if (parsed.l4_status != L4Status::Ok) {
    return SegmentStatus::HeaderTooLong;  // the TCP/UDP header is cut short or malformed
  }
  const Bytes packet = frame.first(parsed.ip_end);
  const uint32_t l4 = parsed.l4_offset;
  uint32_t l4_header = 8;
  if (protocol == kProtoTcp) {
    l4_header = static_cast<uint32_t>(loadU8(packet, l4 + 12) >> 4) * 4;
  }
  if (!fits(packet, l4, l4_header)) {
    return SegmentStatus::HeaderTooLong;
  }
  const uint32_t head_length = l4 + l4_header;
  if (head_length + kVlanTagSize > kMaxSegmentHead) {
    return SegmentStatus::HeaderTooLong;
  }
  plan.head_length = head_length;
  plan.payload_end = parsed.ip_end;
  plan.l3_offset = parsed.l3_offset;
  plan.l4_offset = l4;
  plan.protocol = protocol;
  plan.ipv4 = ipv4;
  const uint32_t payload = plan.payloadLength();
  if (offload.gso != GsoKind::None || offload.gso_from_mtu) {
    // The IP length must describe exactly the frame: a super-frame carries no trailer, and
    // one the capture cut short would give packets that were never on the wire. (0: IPv4
    // BIG TCP or an IPv6 jumbogram, whose length only the frame gives.)
    const uint32_t declared =
        ipv4 ? loadU16(packet, parsed.l3_offset + 2) : loadU16(packet, parsed.l3_offset + 4);
    const uint32_t actual = static_cast<uint32_t>(frame.size()) - parsed.l3_offset;
    if (parsed.ip_end != frame.size() ||
        (declared != 0 && declared + (ipv4 ? 0u : 40u) != actual)) {
      return SegmentStatus::InconsistentLength;
    }
    uint32_t size = offload.gso_size;
    if (offload.gso_from_mtu) {
      const uint32_t headers = head_length - parsed.l3_offset;
      size = offload.mtu > headers ? offload.mtu - headers : 0;
    }
    if (size == 0 || size > payload) {
      return SegmentStatus::BadGsoSize;
    }
    plan.segmented = true;
    plan.segment_size = size;
    plan.count = (payload + size - 1) / size;
  } else {
    plan.segment_size = payload;
    plan.count = 1;
  }
  if (ipv4) {
    plan.ipv4_id = loadU16(packet, parsed.l3_offset + 4);
    plan.pseudo_sum = checksumAdd(packet.subspan(parsed.l3_offset + 12, 8));
  } else {
    plan.pseudo_sum = checksumAdd(packet.subspan(parsed.l3_offset + 8, 32));
  }
  plan.pseudo_sum += protocol;
  if (protocol == kProtoTcp) {
    plan.tcp_sequence = loadU32(packet, l4 + 4);
  }
  return SegmentStatus::Ok;
}

Segment writeSegment(Bytes frame, const SegmentPlan& plan, uint32_t index, const VlanTag& tag,
                     std::span<std::byte, kMaxSegmentHead> head_buffer) {
  const uint32_t offset = index * plan.segment_size;
  const uint32_t length = std::min(plan.segment_size, plan.payloadLength() - offset);
  const Bytes payload = frame.subspan(plan.head_length + offset, length);

  // The frame's headers, with the capture's tag back after the MAC addresses.
  const uint32_t shift = tag.present ? static_cast<uint32_t>(kVlanTagSize) : 0;
  std::byte* out = head_buffer.data();
  std::memcpy(out, frame.data(), kMacPairSize);
  if (tag.present) {
    storeU16(head_buffer, kMacPairSize, tag.tpid);
    storeU16(head_buffer, kMacPairSize + 2, tag.tci);
  }
  std::memcpy(out + kMacPairSize + shift, frame.data() + kMacPairSize,
              plan.head_length - kMacPairSize);
  const std::span<std::byte> head = head_buffer.first(plan.head_length + shift);
  const uint32_t l3 = plan.l3_offset + shift;
  const uint32_t l4 = plan.l4_offset + shift;
  const uint32_t l4_length = plan.head_length - plan.l4_offset + length;

  if (plan.segmented) {
    if (plan.ipv4) {
      storeU16(head, l3 + 2, static_cast<uint16_t>(plan.head_length - plan.l3_offset + length));
      storeU16(head, l3 + 4, static_cast<uint16_t>(plan.ipv4_id + index));
      const uint32_t ihl = static_cast<uint32_t>(loadU8(head, l3) & 0x0F) * 4;
      storeU16(head, l3 + 10, 0);
      storeU16(head, l3 + 10, checksumFinish(checksumAdd(head.subspan(l3, ihl))));
    } else {
      storeU16(head, l3 + 4, static_cast<uint16_t>(l4_length));
    }
    if (plan.protocol == kProtoTcp) {
      storeU32(head, l4 + 4, plan.tcp_sequence + offset);
      auto flags = loadU8(head, l4 + 13);
      if (index > 0) {
        flags &= static_cast<uint8_t>(~kTcpCwr);
      }
      if (index + 1 < plan.count) {
        flags &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
      }
      head[l4 + 13] = static_cast<std::byte>(flags);
    } else {
      storeU16(head, l4 + 4, static_cast<uint16_t>(l4_length));
    }
  }

  // The L4 checksum over the pseudo-header, the header and this packet's payload.
  uint32_t checksum_length = l4_length;
  const uint32_t field = l4 + (plan.protocol == kProtoTcp ? 16 : 6);
  if (plan.protocol == kProtoUdp && !plan.segmented) {
    // Not rewritten: the datagram's own length, bounded by the IP packet.
    checksum_length = std::min<uint32_t>(loadU16(head, l4 + 4), l4_length);
    checksum_length = std::max<uint32_t>(checksum_length, 8);
  }
  storeU16(head, field, 0);
  uint64_t sum = plan.pseudo_sum + checksum_length;
  sum = checksumAdd(head.subspan(l4), sum);
  sum = checksumAdd(payload.first(checksum_length - (plan.head_length - plan.l4_offset)), sum);
  uint16_t checksum = checksumFinish(sum);
  if (plan.protocol == kProtoUdp && checksum == 0) {
    checksum = 0xFFFF;  // 0 means "no checksum" in UDP (RFC 768)
  }
  storeU16(head, field, checksum);

  // A packet that only needed its checksum keeps whatever followed it in the frame (padding).
  const Bytes rest = plan.segmented ? payload : frame.subspan(plan.head_length + offset);
  return Segment{Bytes(head), rest};
}

}  // namespace tmirror::packet
