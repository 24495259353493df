// pcapng (draft-ietf-opsawg-pcapng) blocks written by hand into caller-owned bytes: a Section
// Header, one Interface Description per session, Enhanced Packet Blocks with nanosecond
// timestamps, the original length and the direction in epb_flags. Nothing here allocates per
// packet or uses std::expected, so the fuzz build (clang 14) compiles it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "packet/byte_reader.h"
#include "packet/packet_direction.h"

namespace tmirror::collector {

inline constexpr uint32_t kLinkTypeEthernet = 1;
inline constexpr uint32_t kPcapngSnaplen = 262144;

struct InterfaceDescription {
  std::string name;         // if_name
  std::string description;  // if_description
};

// The file preamble: SHB (section length unknown) + one IDB (if_tsresol 9 = nanoseconds).
std::vector<std::byte> pcapngPreamble(const InterfaceDescription& interface);

// Bytes one EPB for `captured` bytes of packet data takes (flags option included).
std::size_t enhancedPacketBlockSize(std::size_t captured, packet::PacketDirection direction);

// Writes one EPB for interface 0 into `out`; returns the bytes written, 0 when it does not fit.
// `original_length` below data.size() is raised to data.size().
std::size_t writeEnhancedPacketBlock(std::span<std::byte> out, uint64_t timestamp_ns,
                                     packet::Bytes data, uint32_t original_length,
                                     packet::PacketDirection direction);

}  // namespace tmirror::collector
