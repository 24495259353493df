// Readable gtest output for pcap types.
#pragma once

#include <ostream>

#include "pcap/packet_direction.h"

namespace tmirror::pcap {

inline void PrintTo(PacketDirection direction, std::ostream* os) {
  *os << packetDirectionName(direction);
}

}  // namespace tmirror::pcap
