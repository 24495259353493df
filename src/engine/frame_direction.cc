#include "engine/frame_direction.h"

#include <algorithm>

namespace tmirror::engine {

std::optional<model::TrafficDirection> directionByMac(packet::Bytes frame,
                                                      const packet::MacAddress& interface_mac) {
  if (frame.size() < 12) {
    return std::nullopt;
  }
  auto equals = [&](std::size_t offset) {
    return std::equal(interface_mac.octets.begin(), interface_mac.octets.end(),
                      frame.begin() + static_cast<std::ptrdiff_t>(offset),
                      [](uint8_t a, std::byte b) { return a == static_cast<uint8_t>(b); });
  };
  if (equals(6)) {
    return model::TrafficDirection::Egress;
  }
  const bool group = (static_cast<uint8_t>(frame[0]) & 0x01) != 0;
  if (equals(0) || group) {
    return model::TrafficDirection::Ingress;
  }
  return std::nullopt;
}

}  // namespace tmirror::engine
