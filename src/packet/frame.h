// ParsedFrame: what the data plane needs to know about one Ethernet frame, decoded in place.
// It holds offsets and numbers only; the bytes stay where they are.
#pragma once

#include <cstdint>

#include "packet/byte_reader.h"
#include "packet/ip_address.h"

namespace tmirror::packet {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;     // 802.1Q
inline constexpr uint16_t kEtherTypeQinQ = 0x88A8;     // 802.1ad service tag
inline constexpr uint16_t kEtherTypeQinQOld = 0x9100;  // pre-standard QinQ
inline constexpr std::size_t kEthernetHeaderSize = 14;
inline constexpr std::size_t kVlanTagSize = 4;
inline constexpr std::size_t kMaxVlanTags = 2;

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpv6 = 58;

// Why a frame is not an IP packet the rules can look at. Each value is a counter name.
enum class FrameStatus : uint8_t {
  Ok = 0,
  NotIp,                // a valid frame of another protocol (ARP, LLDP, 802.3/LLC ...)
  TruncatedEthernet,    // shorter than an Ethernet header
  TruncatedVlanTag,     // a VLAN tag cut short
  TooManyVlanTags,      // more than kMaxVlanTags stacked tags
  TruncatedIpv4Header,  // fewer bytes than the IPv4 header needs
  BadIpv4Version,       // ethertype says IPv4, version nibble disagrees
  BadIpv4HeaderLength,  // IHL below 5
  BadIpv4TotalLength,   // total length shorter than the header
  TruncatedIpv6Header,
  BadIpv6Version,
  TruncatedIpv6ExtensionHeader,
  kCount,
};

const char* frameStatusName(FrameStatus status);

// A problem past the IP header. The packet stays evaluable by its addresses and protocol,
// but has no ports, so rules with port ranges do not match it.
enum class L4Status : uint8_t {
  Ok = 0,
  NoL4,  // protocol without a header we decode, or a non-first fragment
  TruncatedTcp,
  BadTcpDataOffset,
  TruncatedUdp,
  TruncatedIcmp,
  Ipv6ExtensionChainTooLong,  // walk stopped; protocol is the extension header reached
};

enum class Fragment : uint8_t { None, First, Later };

struct ParsedFrame {
  FrameStatus status = FrameStatus::NotIp;
  L4Status l4_status = L4Status::NoL4;
  IpFamily family = IpFamily::None;
  Fragment fragment = Fragment::None;
  uint8_t protocol = 0;     // IPv4 protocol, or IPv6 next header after extension headers
  uint8_t vlan_count = 0;   // tags found in the frame itself
  bool has_ports = false;   // TCP/UDP with a complete port pair, first or no fragment
  uint16_t ether_type = 0;  // innermost ethertype
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t icmp_echo_id = 0;  // echo request/reply identifier, for the flow hash
  bool is_icmp_echo = false;
  // An ICMPv4 error (unreachable, time exceeded, parameter problem) quoting a UDP datagram:
  // where that datagram went. The loop guard uses it to recognise answers to our own VXLAN.
  bool icmp_quotes_udp_v4 = false;
  uint16_t quoted_udp_dst_port = 0;
  uint32_t quoted_ipv4_dst = 0;  // host order
  uint32_t l3_offset = 0;
  uint32_t l4_offset = 0;
  uint32_t ip_end = 0;  // end of the IP packet in the frame: padding and cut captures excluded
  IpAddress src;
  IpAddress dst;
};

// Decodes Ethernet II (+ up to two 802.1Q/802.1ad tags), IPv4 or IPv6 (walking hop-by-hop,
// routing, fragment, destination-options and AH headers), and TCP/UDP/ICMP/ICMPv6 enough
// to know ports. Never reads outside `frame`; never fails other than through `status`.
void parseFrame(Bytes frame, ParsedFrame& out);

}  // namespace tmirror::packet
