// PacketBuilder: assembles real Ethernet frames byte by byte for tests (no parser involved),
// so parser and rules tests check decoding against independently built bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "packet/ip_address.h"

namespace tmirror::testing {

using Frame = std::vector<std::byte>;

packet::IpAddress ip(std::string_view text);  // aborts the test binary on bad text

// Bytes from hex text; whitespace is ignored. Aborts the test binary on anything else.
Frame fromHex(std::string_view hex);

// Lower-case hex of `bytes`, no separators (for failure messages).
std::string toHex(std::span<const std::byte> bytes);

// The first frame of a real AWS mirror capture (OISF/suricata-verify
// tests/vxlan-decoder-03/vxlan.pcap) as received on the target, 140 bytes: outer Ethernet
// 06:e2:43:9c:ff:5e <- 06:1d:3c:34:d0:77 | IPv4 172.31.0.238 -> 172.31.17.188, len 126, ID 0,
// DF clear, TTL 255, checksum 0x5086 | UDP 65445 -> 4789, len 106, checksum 0 | VXLAN 0x08,
// VNI 5569041 | inner Ethernet 02:29:23:74:c7:7d <- 02:85:69:c2:ab:02 | IPv4 172.31.0.238 ->
// 78.46.93.39, len 76, ID 0x0951, DF, TTL 255 | UDP 60631 -> 123 len 56 | NTP v4 client request.
// The first 64 bytes are the reference's; the rest of the inner packet (addresses, ports, a
// zeroed NTP request and the checksums) is reconstructed so that every length is consistent.
inline constexpr std::string_view kAwsMirrorFrameHex =
    "06e2439cff5e061d3c34d0770800"
    "4500007e00000000ff115086ac1f00eeac1f11bc"
    "ffa512b5006a0000"
    "0800000054fa1100"
    "02292374c77d028569c2ab020800"
    "4500004c09514000ff1119edac1f00ee4e2e5d27"
    "ecd7007b003896c8"
    "23000000000000000000000000000000"
    "00000000000000000000000000000000"
    "00000000000000000000000000000000";

class PacketBuilder {
 public:
  PacketBuilder& macs(std::string_view dst, std::string_view src);
  PacketBuilder& vlan(uint16_t tci, uint16_t tpid = 0x8100);  // outermost first
  PacketBuilder& ipv4(std::string_view src, std::string_view dst);
  PacketBuilder& ipv6(std::string_view src, std::string_view dst);
  PacketBuilder& ipv4Options(std::size_t option_words);  // NOP-padded options
  PacketBuilder& ipv4Fragment(uint16_t offset_units, bool more_fragments);
  // IPv6 extension headers in order: 0 hop-by-hop, 43 routing, 60 dest options, 51 AH,
  // 44 fragment (uses fragment offset/more flags below).
  PacketBuilder& ipv6Extension(uint8_t header_type);
  PacketBuilder& ipv6Fragment(uint16_t offset_units, bool more_fragments);
  PacketBuilder& tcp(uint16_t sport, uint16_t dport);
  PacketBuilder& udp(uint16_t sport, uint16_t dport);
  PacketBuilder& icmpEcho(uint16_t id, bool reply = false);  // ICMP or ICMPv6 by family
  PacketBuilder& protocol(uint8_t proto);  // an L4 protocol with an opaque 8-byte header
  PacketBuilder& payload(std::size_t bytes);
  PacketBuilder& etherType(uint16_t type);  // non-IP frame with this ethertype

  Frame build() const;

 private:
  uint8_t dst_mac_[6] = {0x02, 0, 0, 0, 0, 0x02};
  uint8_t src_mac_[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::vector<std::pair<uint16_t, uint16_t>> vlans_;
  int family_ = 0;
  uint16_t raw_ether_type_ = 0;
  packet::IpAddress src_{};
  packet::IpAddress dst_{};
  std::size_t option_words_ = 0;
  uint16_t frag_offset_ = 0;
  bool more_fragments_ = false;
  std::vector<uint8_t> extensions_;
  enum class L4 { None, Tcp, Udp, Icmp, Opaque } l4_ = L4::None;
  uint8_t opaque_proto_ = 0;
  uint16_t sport_ = 0;
  uint16_t dport_ = 0;
  uint16_t icmp_id_ = 0;
  bool icmp_reply_ = false;
  std::size_t payload_ = 0;
};

}  // namespace tmirror::testing
