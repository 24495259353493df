// Which way a captured packet travelled relative to the capturing interface.
#pragma once

#include <cstdint>

namespace tmirror::pcap {

enum class PacketDirection : uint8_t { Unknown, Inbound, Outbound };

const char* packetDirectionName(PacketDirection direction);

}  // namespace tmirror::pcap
