// Telling a captured frame's direction relative to the source interface from its MAC
// addresses, for captures that do not record it (classic pcap, pcapng without epb_flags).
#pragma once

#include <optional>

#include "model/mirror_config.h"
#include "packet/byte_reader.h"
#include "packet/ip_address.h"

namespace tmirror::engine {

// Sent by the interface when the source MAC is its own; received when the destination is its
// own or a group address; nullopt when the frame is neither (another host's traffic captured
// in promiscuous mode) or too short to have MAC addresses.
std::optional<model::TrafficDirection> directionByMac(packet::Bytes frame,
                                                      const packet::MacAddress& interface_mac);

}  // namespace tmirror::engine
