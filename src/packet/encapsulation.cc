#include "packet/encapsulation.h"

#include <algorithm>
#include <cstring>

namespace tmirror::packet {

namespace {

constexpr std::size_t kIpOffset = kOuterEthernetSize;
constexpr std::size_t kUdpOffset = kIpOffset + kOuterIpv4Size;
constexpr std::size_t kVxlanOffset = kUdpOffset + kUdpHeaderSize;
constexpr std::size_t kMacPairSize = 12;

}  // namespace

VxlanEncapsulator::VxlanEncapsulator(const OuterPath& path, uint32_t vni, uint32_t packet_length)
    : vni_(vni & kMaxVni) {
  // The outer IPv4 total length is 16 bits: no path MTU above 65535 can be honoured.
  const uint32_t mtu = std::clamp(path.mtu, kMinPathMtu, uint32_t{65535});
  max_inner_ = mtu - kIpv4MtuOverhead;
  if (packet_length != 0) {
    max_inner_ = std::min(max_inner_, packet_length);
  }
  std::span<std::byte> t(template_);
  std::memcpy(t.data(), path.dst_mac.octets.data(), 6);
  std::memcpy(t.data() + 6, path.src_mac.octets.data(), 6);
  storeU16(t, 12, 0x0800);
  // IPv4: version 4, IHL 5, TOS 0, length (per packet), ID 0, no DF, TTL 255, UDP.
  t[kIpOffset] = std::byte{0x45};
  t[kIpOffset + 8] = std::byte{255};
  t[kIpOffset + 9] = std::byte{17};
  storeU32(t, kIpOffset + 12, path.src_ipv4);
  storeU32(t, kIpOffset + 16, path.dst_ipv4);
  uint32_t sum = 0;
  for (std::size_t i = 0; i < kOuterIpv4Size; i += 2) {
    sum += loadU16(t, kIpOffset + i);
  }
  partial_checksum_ = sum;
  // UDP: source port and length per packet, checksum 0 (RFC 7348 for IPv4).
  storeU16(t, kUdpOffset + 2, path.dst_port);
  writeVxlanHeader(std::span<std::byte, kVxlanHeaderSize>(t.subspan(kVxlanOffset, 8)), vni_);
}

void VxlanEncapsulator::writeOuterHeader(const MirrorCopy& copy, uint16_t source_port,
                                         EncapSlot& slot) const {
  std::memcpy(slot.header.data(), template_.data(), kOuterHeaderSize);
  std::span<std::byte> h(slot.header);
  const uint32_t ip_len = kIpv4MtuOverhead + copy.wire_inner_length;
  storeU16(h, kIpOffset + 2, static_cast<uint16_t>(ip_len));
  uint32_t sum = partial_checksum_ + ip_len;
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  storeU16(h, kIpOffset + 10, static_cast<uint16_t>(~sum));
  storeU16(h, kUdpOffset, source_port);
  storeU16(h, kUdpOffset + 4, static_cast<uint16_t>(ip_len - kOuterIpv4Size));
}

void VxlanEncapsulator::encapsulate(Bytes frame, uint32_t wire_length, const VlanTag& tag,
                                    uint16_t source_port, EncapSlot& slot, MirrorCopy& copy) const {
  const uint32_t frame_len = static_cast<uint32_t>(frame.size());
  wire_length = std::max(wire_length, frame_len);
  // A tag can only go back after both MAC addresses.
  const bool restore_tag = tag.present && frame_len >= kMacPairSize;
  const uint32_t tag_len = restore_tag ? 4u : 0u;
  copy.original_length = wire_length + tag_len;
  copy.wire_inner_length = std::min(copy.original_length, max_inner_);
  copy.inner_length = std::min(frame_len + tag_len, max_inner_);
  writeOuterHeader(copy, source_port, slot);

  copy.pieces[0] = Bytes(slot.header);
  copy.piece_count = 1;
  if (!restore_tag) {
    copy.pieces[copy.piece_count++] = frame.first(copy.inner_length);
    return;
  }
  std::span<std::byte> vt(slot.vlan_tag);
  storeU16(vt, 0, tag.tpid);
  storeU16(vt, 2, tag.tci);
  uint32_t remaining = copy.inner_length;
  const uint32_t head = std::min<uint32_t>(remaining, kMacPairSize);
  copy.pieces[copy.piece_count++] = frame.first(head);
  remaining -= head;
  if (remaining > 0) {
    const uint32_t tag_bytes = std::min<uint32_t>(remaining, 4);
    copy.pieces[copy.piece_count++] = Bytes(slot.vlan_tag).first(tag_bytes);
    remaining -= tag_bytes;
  }
  if (remaining > 0) {
    copy.pieces[copy.piece_count++] = frame.subspan(kMacPairSize, remaining);
  }
}

void VxlanEncapsulator::encapsulateParts(Bytes head, Bytes payload, uint16_t source_port,
                                         EncapSlot& slot, MirrorCopy& copy) const {
  const auto head_len = static_cast<uint32_t>(head.size());
  copy.original_length = head_len + static_cast<uint32_t>(payload.size());
  copy.wire_inner_length = std::min(copy.original_length, max_inner_);
  copy.inner_length = copy.wire_inner_length;
  writeOuterHeader(copy, source_port, slot);
  copy.pieces[0] = Bytes(slot.header);
  copy.pieces[1] = head.first(std::min(head_len, copy.inner_length));
  copy.piece_count = 2;
  if (copy.inner_length > head_len) {
    copy.pieces[copy.piece_count++] = payload.first(copy.inner_length - head_len);
  }
}

std::size_t MirrorCopy::copyTo(std::span<std::byte> out) const {
  if (out.size() < outerLength()) {
    return 0;
  }
  std::size_t written = 0;
  for (uint8_t i = 0; i < piece_count; ++i) {
    std::memcpy(out.data() + written, pieces[i].data(), pieces[i].size());
    written += pieces[i].size();
  }
  return written;
}

}  // namespace tmirror::packet
