#include "packet/packet_direction.h"

namespace tmirror::packet {

const char* packetDirectionName(PacketDirection direction) {
  switch (direction) {
    case PacketDirection::Unknown:
      return "unknown";
    case PacketDirection::Inbound:
      return "inbound";
    case PacketDirection::Outbound:
      return "outbound";
  }
  return "invalid";
}

}  // namespace tmirror::packet
