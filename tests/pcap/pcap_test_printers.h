// Readable gtest output for pcap types.
#pragma once

#include <ostream>

#include "packet/packet_direction.h"

namespace tmirror::pcap {

inline void PrintTo(packet::PacketDirection direction, std::ostream* os) {
  *os << packet::packetDirectionName(direction);
}

}  // namespace tmirror::pcap
