// VxlanEncapsulator: turns one captured frame into the pieces of its mirror copy, AWS-style:
// outer Ethernet | IPv4 (TTL 255, DF clear, ID 0) | UDP (sport from the symmetric flow hash,
// dport 4789, checksum 0) | VXLAN (flags 0x08, VNI) | the frame, truncated.
//
// The outer header is built from a per-session template into a caller-owned slot; the frame
// is never copied: the copy is a list of views (header, frame prefix, restored VLAN tag, rest)
// ready for an iovec. Nothing here allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "packet/byte_reader.h"
#include "packet/ip_address.h"
#include "packet/vxlan.h"

namespace tmirror::packet {

inline constexpr std::size_t kOuterEthernetSize = 14;
inline constexpr std::size_t kOuterIpv4Size = 20;
inline constexpr std::size_t kUdpHeaderSize = 8;
inline constexpr std::size_t kOuterHeaderSize =
    kOuterEthernetSize + kOuterIpv4Size + kUdpHeaderSize + kVxlanHeaderSize;
static_assert(kOuterHeaderSize == 50);
// Bytes the outer IPv4 + UDP + VXLAN headers add to the inner frame (what counts against MTU).
inline constexpr uint32_t kIpv4MtuOverhead = kOuterIpv4Size + kUdpHeaderSize + kVxlanHeaderSize;
inline constexpr uint32_t kMaxPacketLength = 8500;  // AWS PacketLength upper bound
inline constexpr uint32_t kMinPathMtu = 68;         // RFC 791 minimum

// Where copies of one session go, as the sender sees it.
struct OuterPath {
  MacAddress src_mac;
  MacAddress dst_mac;
  uint32_t src_ipv4 = 0;  // host order
  uint32_t dst_ipv4 = 0;
  uint16_t dst_port = kVxlanPort;
  uint32_t mtu = 1500;  // path MTU to the target; copies never exceed it
};

// A VLAN tag the capture took off the frame (TPACKET tp_vlan_tci) and the copy puts back.
struct VlanTag {
  bool present = false;
  uint16_t tpid = 0x8100;
  uint16_t tci = 0;
};

// Room for the rewritten headers of one wire packet cut from an offload super-frame: Ethernet,
// two tags in the frame and the restored one, IPv4 with options and TCP with options.
inline constexpr std::size_t kMaxSegmentHead = 160;

// Caller-owned scratch for one copy; must outlive the MirrorCopy that points into it.
struct EncapSlot {
  std::array<std::byte, kOuterHeaderSize> header{};
  std::array<std::byte, 4> vlan_tag{};
  std::array<std::byte, kMaxSegmentHead> inner_head{};  // a segment's headers (segmenter.h)
};

// One mirror copy as up to four views: [outer header][frame head][VLAN tag][frame tail].
struct MirrorCopy {
  std::array<Bytes, 4> pieces{};
  uint8_t piece_count = 0;
  uint32_t inner_length = 0;       // bytes of the (tag-restored) frame carried in `pieces`
  uint32_t wire_inner_length = 0;  // inner bytes the outer headers announce (see below)
  uint32_t original_length = 0;    // the (tag-restored) frame's length on the wire

  // Bytes in `pieces`.
  uint32_t outerLength() const { return static_cast<uint32_t>(kOuterHeaderSize) + inner_length; }

  // Length of the packet the headers describe. Larger than outerLength() only when the
  // capture had cut the frame short (its snapshot length) before the session's limit.
  uint32_t outerWireLength() const {
    return static_cast<uint32_t>(kOuterHeaderSize) + wire_inner_length;
  }

  // Cut to the session's packet length or the path MTU.
  bool truncated() const { return wire_inner_length < original_length; }

  // Writes the whole outer frame contiguously; returns bytes written (0 if `out` is too small).
  std::size_t copyTo(std::span<std::byte> out) const;
};

class VxlanEncapsulator {
 public:
  // `packet_length` 0 means the whole frame. `path.mtu` must be at least kMinPathMtu.
  VxlanEncapsulator(const OuterPath& path, uint32_t vni, uint32_t packet_length);

  // Largest inner frame this session sends: min(packet length, path MTU - 36).
  uint32_t maxInnerLength() const { return max_inner_; }

  uint32_t vni() const { return vni_; }

  // Fills `copy` in place (returning it by value costs a store-forwarding stall per packet).
  // `wire_length` is the frame's length on the wire when the capture kept only a prefix
  // (`frame`); the outer IPv4/UDP lengths then describe the copy the whole frame would give.
  void encapsulate(Bytes frame, uint32_t wire_length, const VlanTag& tag, uint16_t source_port,
                   EncapSlot& slot, MirrorCopy& copy) const;

  void encapsulate(Bytes frame, const VlanTag& tag, uint16_t source_port, EncapSlot& slot,
                   MirrorCopy& copy) const {
    encapsulate(frame, static_cast<uint32_t>(frame.size()), tag, source_port, slot, copy);
  }

  // The same for a wire packet given as two parts: its headers (`head`, any VLAN tag already
  // in place, usually in slot.inner_head) and its payload (a view into the captured frame).
  void encapsulateParts(Bytes head, Bytes payload, uint16_t source_port, EncapSlot& slot,
                        MirrorCopy& copy) const;

 private:
  // The outer Ethernet/IPv4/UDP/VXLAN header of `copy` (its lengths set) into the slot.
  void writeOuterHeader(const MirrorCopy& copy, uint16_t source_port, EncapSlot& slot) const;

  std::array<std::byte, kOuterHeaderSize> template_{};
  uint32_t partial_checksum_ = 0;  // IPv4 header sum without total length and checksum
  uint32_t max_inner_ = 0;
  uint32_t vni_ = 0;
};

}  // namespace tmirror::packet
