#include <algorithm>

#include "packet/frame.h"

namespace tmirror::packet {

namespace {

constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6DestOptions = 60;
constexpr uint8_t kIpv6Ah = 51;
// More extension headers than any sane packet carries; bounds the walk's cost on hostile input.
constexpr int kMaxIpv6ExtensionHeaders = 16;

Uint128 loadAddress128(Bytes b, std::size_t off) {
  Uint128 v = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    v = (v << 8) | static_cast<uint8_t>(b[off + i]);
  }
  return v;
}

// Reads ports/ICMP id from the L4 header at `off`; `end` bounds the IP payload.
void parseL4(Bytes frame, std::size_t off, std::size_t end, ParsedFrame& out) {
  out.l4_offset = static_cast<uint32_t>(off);
  const Bytes l4 = frame.subspan(0, end);
  switch (out.protocol) {
    case kProtoTcp:
      if (!fits(l4, off, 20)) {
        out.l4_status = L4Status::TruncatedTcp;
        return;
      }
      if ((loadU8(l4, off + 12) >> 4) < 5) {
        // Ports are readable, but a data offset below 5 words is not a TCP header.
        out.l4_status = L4Status::BadTcpDataOffset;
        return;
      }
      break;
    case kProtoUdp:
      if (!fits(l4, off, 8)) {
        out.l4_status = L4Status::TruncatedUdp;
        return;
      }
      break;
    case kProtoIcmp:
    case kProtoIcmpv6: {
      if (!fits(l4, off, 8)) {
        out.l4_status = L4Status::TruncatedIcmp;
        return;
      }
      const uint8_t type = loadU8(l4, off);
      const bool echo =
          out.protocol == kProtoIcmp ? (type == 8 || type == 0) : (type == 128 || type == 129);
      if (echo) {
        out.is_icmp_echo = true;
        out.icmp_echo_id = loadU16(l4, off + 4);
      } else if (out.protocol == kProtoIcmp && (type == 3 || type == 11 || type == 12)) {
        // The quoted datagram: its IPv4 header and at least 8 bytes of what followed.
        const std::size_t quoted = off + 8;
        if (fits(l4, quoted, 20) && (loadU8(l4, quoted) >> 4) == 4 &&
            loadU8(l4, quoted + 9) == kProtoUdp) {
          const std::size_t udp = quoted + (loadU8(l4, quoted) & 0x0f) * 4u;
          if ((loadU8(l4, quoted) & 0x0f) >= 5 && fits(l4, udp, 4)) {
            out.icmp_quotes_udp_v4 = true;
            out.quoted_ipv4_dst = loadU32(l4, quoted + 16);
            out.quoted_udp_dst_port = loadU16(l4, udp + 2);
          }
        }
      }
      out.l4_status = L4Status::Ok;
      return;
    }
    default:
      out.l4_status = L4Status::NoL4;
      return;
  }
  out.src_port = loadU16(l4, off);
  out.dst_port = loadU16(l4, off + 2);
  out.has_ports = true;
  out.l4_status = L4Status::Ok;
}

void parseIpv4(Bytes frame, std::size_t off, ParsedFrame& out) {
  if (!fits(frame, off, 20)) {
    out.status = FrameStatus::TruncatedIpv4Header;
    return;
  }
  const uint8_t version_ihl = loadU8(frame, off);
  if ((version_ihl >> 4) != 4) {
    out.status = FrameStatus::BadIpv4Version;
    return;
  }
  const std::size_t header_len = static_cast<std::size_t>(version_ihl & 0x0F) * 4;
  if (header_len < 20) {
    out.status = FrameStatus::BadIpv4HeaderLength;
    return;
  }
  if (!fits(frame, off, header_len)) {
    out.status = FrameStatus::TruncatedIpv4Header;
    return;
  }
  std::size_t total_len = loadU16(frame, off + 2);
  if (total_len == 0) {
    // IPv4 BIG TCP (Linux 6.3+) hands AF_PACKET GSO packets over 64 KiB with length 0, like
    // an IPv6 jumbogram: the frame gives the length.
    total_len = frame.size() - off;
  }
  if (total_len < header_len) {
    out.status = FrameStatus::BadIpv4TotalLength;
    return;
  }
  out.family = IpFamily::V4;
  out.protocol = loadU8(frame, off + 9);
  out.src = IpAddress::v4(loadU32(frame, off + 12));
  out.dst = IpAddress::v4(loadU32(frame, off + 16));
  const uint16_t flags_offset = loadU16(frame, off + 6);
  const bool more_fragments = (flags_offset & 0x2000) != 0;
  const uint16_t fragment_offset = flags_offset & 0x1FFF;
  out.fragment = fragment_offset != 0 ? Fragment::Later
                 : more_fragments     ? Fragment::First
                                      : Fragment::None;
  out.status = FrameStatus::Ok;
  // Ethernet padding may follow the packet, and a capture may have cut it: the packet ends at
  // whichever comes first.
  const std::size_t end = std::min(frame.size(), off + total_len);
  out.ip_end = static_cast<uint32_t>(end);
  if (out.fragment == Fragment::Later) {
    out.l4_status = L4Status::NoL4;
    out.l4_offset = static_cast<uint32_t>(off + header_len);
    return;
  }
  parseL4(frame, off + header_len, end, out);
}

void parseIpv6(Bytes frame, std::size_t off, ParsedFrame& out) {
  if (!fits(frame, off, 40)) {
    out.status = FrameStatus::TruncatedIpv6Header;
    return;
  }
  if ((loadU8(frame, off) >> 4) != 6) {
    out.status = FrameStatus::BadIpv6Version;
    return;
  }
  const std::size_t payload_len = loadU16(frame, off + 4);
  uint8_t next = loadU8(frame, off + 6);
  out.family = IpFamily::V6;
  out.src = IpAddress::v6(loadAddress128(frame, off + 8));
  out.dst = IpAddress::v6(loadAddress128(frame, off + 24));
  // A jumbogram (payload length 0 with a hop-by-hop option) or a cut capture: bound by the frame.
  const std::size_t end =
      payload_len == 0 ? frame.size() : std::min(frame.size(), off + 40 + payload_len);
  out.ip_end = static_cast<uint32_t>(end);
  const Bytes packet = frame.subspan(0, end);
  std::size_t cursor = off + 40;
  for (int count = 0;; ++count) {
    if (next != kIpv6HopByHop && next != kIpv6Routing && next != kIpv6Fragment &&
        next != kIpv6DestOptions && next != kIpv6Ah) {
      break;
    }
    if (count == kMaxIpv6ExtensionHeaders) {
      // Hosts accept such packets, so an IDS must still see them: the packet stays evaluable
      // by addresses, with the header we stopped at as its protocol and no ports.
      out.protocol = next;
      out.status = FrameStatus::Ok;
      out.l4_status = L4Status::Ipv6ExtensionChainTooLong;
      out.l4_offset = static_cast<uint32_t>(cursor);
      return;
    }
    if (!fits(packet, cursor, 8)) {
      out.status = FrameStatus::TruncatedIpv6ExtensionHeader;
      return;
    }
    const uint8_t following = loadU8(packet, cursor);
    std::size_t length = 0;
    if (next == kIpv6Fragment) {
      length = 8;
      const uint16_t offset_flags = loadU16(packet, cursor + 2);
      const uint16_t fragment_offset = offset_flags >> 3;
      const bool more_fragments = (offset_flags & 0x1) != 0;
      if (fragment_offset != 0) {
        // The upper-layer header is in the first fragment only. The protocol is still known.
        out.fragment = Fragment::Later;
        out.protocol = following;
        out.status = FrameStatus::Ok;
        out.l4_status = L4Status::NoL4;
        out.l4_offset = static_cast<uint32_t>(cursor + length);
        return;
      }
      out.fragment = more_fragments ? Fragment::First : Fragment::None;
    } else if (next == kIpv6Ah) {
      length = (static_cast<std::size_t>(loadU8(packet, cursor + 1)) + 2) * 4;  // RFC 4302
    } else {
      length = (static_cast<std::size_t>(loadU8(packet, cursor + 1)) + 1) * 8;  // RFC 8200
    }
    if (!fits(packet, cursor, length)) {
      out.status = FrameStatus::TruncatedIpv6ExtensionHeader;
      return;
    }
    cursor += length;
    next = following;
  }
  out.protocol = next;
  out.status = FrameStatus::Ok;
  parseL4(packet, cursor, packet.size(), out);
}

}  // namespace

void parseFrame(Bytes frame, ParsedFrame& out) {
  out = ParsedFrame{};
  if (frame.size() < kEthernetHeaderSize) {
    out.status = FrameStatus::TruncatedEthernet;
    return;
  }
  std::size_t off = 12;
  uint16_t ether_type = loadU16(frame, off);
  while (ether_type == kEtherTypeVlan || ether_type == kEtherTypeQinQ ||
         ether_type == kEtherTypeQinQOld) {
    if (out.vlan_count == kMaxVlanTags) {
      out.status = FrameStatus::TooManyVlanTags;
      return;
    }
    if (!fits(frame, off, kVlanTagSize + 2)) {
      out.status = FrameStatus::TruncatedVlanTag;
      return;
    }
    ++out.vlan_count;
    off += kVlanTagSize;
    ether_type = loadU16(frame, off);
  }
  out.ether_type = ether_type;
  off += 2;
  out.l3_offset = static_cast<uint32_t>(off);
  if (ether_type == kEtherTypeIpv4) {
    parseIpv4(frame, off, out);
  } else if (ether_type == kEtherTypeIpv6) {
    parseIpv6(frame, off, out);
  } else {
    out.status = FrameStatus::NotIp;
  }
}

const char* frameStatusName(FrameStatus status) {
  switch (status) {
    case FrameStatus::Ok:
      return "ok";
    case FrameStatus::NotIp:
      return "not_ip";
    case FrameStatus::TruncatedEthernet:
      return "truncated_ethernet";
    case FrameStatus::TruncatedVlanTag:
      return "truncated_vlan_tag";
    case FrameStatus::TooManyVlanTags:
      return "too_many_vlan_tags";
    case FrameStatus::TruncatedIpv4Header:
      return "truncated_ipv4_header";
    case FrameStatus::BadIpv4Version:
      return "bad_ipv4_version";
    case FrameStatus::BadIpv4HeaderLength:
      return "bad_ipv4_header_length";
    case FrameStatus::BadIpv4TotalLength:
      return "bad_ipv4_total_length";
    case FrameStatus::TruncatedIpv6Header:
      return "truncated_ipv6_header";
    case FrameStatus::BadIpv6Version:
      return "bad_ipv6_version";
    case FrameStatus::TruncatedIpv6ExtensionHeader:
      return "truncated_ipv6_extension_header";
    case FrameStatus::kCount:
      break;
  }
  return "unknown";
}

}  // namespace tmirror::packet
