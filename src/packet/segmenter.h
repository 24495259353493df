// Segmenter: the wire packets an offload super-frame stands for.
//
// With segmentation offloads on (TSO/GSO on the way out, GRO on the way in) the kernel hands
// a packet socket one frame of up to 64 KiB where the wire carries many; and with checksum
// offload a frame's TCP/UDP checksum is still to be filled in by the NIC. A mirror must copy
// what is on the wire (docs/mirroring.md point 5), so such a frame is cut here into the packets a
// NIC would send: each gets its own headers (sequence number advanced, IP length and IPv4 ID, TCP
// flags: CWR only on the first, FIN and PSH only on the last, every checksum complete) and a view
// of its share of the payload. Nothing is allocated and the frame is not copied: the headers go to
// a caller-owned buffer (EncapSlot::inner_head), the payload stays where the capture put it.
//
// A frame that cannot be cut as it claims (lengths that disagree, a GSO size of 0 or above
// the payload, IPv6 extension headers, headers longer than the frame) gets a named status and
// goes on as captured.
#pragma once

#include <cstdint>
#include <span>

#include "packet/byte_reader.h"
#include "packet/encapsulation.h"
#include "packet/frame.h"

namespace tmirror::packet {

enum class GsoKind : uint8_t {
  None = 0,
  Tcp,    // TSO/GSO or GRO of TCP over IPv4 or IPv6 (virtio GSO_TCPV4/TCPV6)
  Udp,    // UDP_SEGMENT (virtio GSO_UDP_L4)
  Other,  // a kind the kernel names but no NIC segments like this (UFO, tunnels)
};

// What the kernel says of one captured frame's offloads (virtio_net_hdr, tp_status).
struct Offload {
  GsoKind gso = GsoKind::None;
  uint16_t gso_size = 0;          // payload bytes per wire packet; 0 with gso_from_mtu
  bool checksum_partial = false;  // the L4 checksum is the NIC's to fill in
  // No GSO metadata (an old kernel): a TCP frame longer than `mtu` is a super-frame, cut
  // into packets of at most `mtu` bytes of IP.
  bool gso_from_mtu = false;
  uint16_t mtu = 0;

  bool any() const { return gso != GsoKind::None || checksum_partial || gso_from_mtu; }
};

// Why a frame with offloads was copied as captured. Each value is a counter name.
enum class SegmentStatus : uint8_t {
  Ok = 0,
  NotTcpOrUdp,           // GSO or partial checksum on something other than TCP/UDP over IP
  UnsupportedGsoType,    // UFO or tunnel GSO
  BadGsoSize,            // 0, or more than the payload
  InconsistentLength,    // IP length, frame length and capture length disagree
  Ipv6ExtensionHeaders,  // extension headers between IPv6 and TCP/UDP
  HeaderTooLong,         // L4 header past the frame, or headers over kMaxSegmentHead
  Fragment,              // an IP fragment claims offloads
  kCount,
};

const char* segmentStatusName(SegmentStatus status);

// How one frame becomes wire packets (filled by planSegments()).
struct SegmentPlan {
  uint32_t count = 0;        // wire packets
  uint32_t head_length = 0;  // Ethernet (with the frame's own tags) through the L4 header
  uint32_t payload_end = 0;  // end of the L4 payload in the frame
  uint32_t segment_size = 0;
  uint32_t l3_offset = 0;
  uint32_t l4_offset = 0;
  uint8_t protocol = 0;
  bool ipv4 = false;
  bool segmented = false;  // false: one packet, only its checksum completed
  uint16_t ipv4_id = 0;
  uint32_t tcp_sequence = 0;
  uint64_t pseudo_sum = 0;  // source and destination addresses and protocol

  uint32_t payloadLength() const { return payload_end - head_length; }
};

// Plans `frame` (parsed as `parsed`, `wire_length` long on the wire) under `offload`.
// On Ok, plan.count >= 1 packets; otherwise the frame is to be copied as captured.
SegmentStatus planSegments(Bytes frame, uint32_t wire_length, const ParsedFrame& parsed,
                           const Offload& offload, SegmentPlan& plan);

// One wire packet: its headers in the caller's buffer, its payload in the frame.
struct Segment {
  Bytes head;
  Bytes payload;

  uint32_t length() const { return static_cast<uint32_t>(head.size() + payload.size()); }
};

// Writes the headers of packet `index` (< plan.count) into `head_buffer`, `tag` (taken off by
// the capture) restored after the MAC addresses, with every checksum complete.
Segment writeSegment(Bytes frame, const SegmentPlan& plan, uint32_t index, const VlanTag& tag,
                     std::span<std::byte, kMaxSegmentHead> head_buffer);

}  // namespace tmirror::packet
