// `tmirror explain --packet 'tcp 198.51.100.1:443 > 198.51.100.2:51000'`: a packet described in
// one line, and the Ethernet frame it stands for.
//
//   tcp|udp SRC:PORT > DST:PORT     IPv6 in brackets, [2001:db8::1]:443; tcpdump's own
//                                   198.51.100.1.443 and 2001:db8::1.443 are read too
//   icmp|icmp6 SRC > DST            an echo request
//   N SRC > DST                     any other IP protocol by number (0-255), e.g. 47 (GRE)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "packet/ip_address.h"

namespace tmirror::cli {

struct PacketSpec {
  uint8_t protocol = 0;
  packet::IpAddress source;
  packet::IpAddress destination;
  uint16_t source_port = 0;  // TCP and UDP only
  uint16_t destination_port = 0;
};

// InvalidArgument naming what is wrong and showing the expected form.
Result<PacketSpec> parsePacketSpec(std::string_view text);

// The frame: Ethernet with the given MACs, an IPv4 or IPv6 header (TTL/hop limit 64, checksum
// filled in), the TCP (ACK), UDP or ICMP echo header with its checksum, and a zero payload up to
// `frame_length` bytes when that is longer than the headers.
std::vector<std::byte> buildFrame(const PacketSpec& spec, const packet::MacAddress& source_mac,
                                  const packet::MacAddress& destination_mac, uint32_t frame_length);

}  // namespace tmirror::cli
