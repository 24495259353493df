// Which way a captured packet travelled relative to the capturing interface. The values are
// pcapng's (the direction bits of an Enhanced Packet Block's epb_flags).
#pragma once

#include <cstdint>

namespace tmirror::packet {

enum class PacketDirection : uint8_t { Unknown = 0, Inbound = 1, Outbound = 2 };

const char* packetDirectionName(PacketDirection direction);

}  // namespace tmirror::packet
