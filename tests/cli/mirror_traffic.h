// A capture on the source interface with both directions of TCP/IPv4, TCP/IPv6 and UDP flows,
// a VLAN-tagged frame and a long frame, each with the fields a decoder should find in it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/mirror_inputs.h"

namespace tmirror::cli::testing {

struct TrafficFrame {
  std::string name;
  Frame bytes;
  std::string dst_mac;
  std::string src_mac;
  bool ipv6 = false;
  std::string src_ip;
  std::string dst_ip;
  bool tcp = true;  // else UDP
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  int vlan_id = -1;  // -1: untagged
  int flow = 0;      // frames of one flow, both directions, share this
};

inline constexpr std::size_t kLongFrameSize = 1454;  // 14 + 20 + 20 + 1400

inline TrafficFrame trafficFrame(std::string name, int flow, bool inbound, bool ipv6, bool tcp,
                                 const std::string& peer_ip, uint16_t peer_port,
                                 uint16_t local_port, int vlan_id = -1, std::size_t payload = 0) {
  TrafficFrame f;
  f.name = std::move(name);
  f.flow = flow;
  f.dst_mac = inbound ? kInterfaceMac : kPeerMac;
  f.src_mac = inbound ? kPeerMac : kInterfaceMac;
  f.ipv6 = ipv6;
  const std::string local_ip = ipv6 ? kInterfaceIp6 : kInterfaceIp;
  f.src_ip = inbound ? peer_ip : local_ip;
  f.dst_ip = inbound ? local_ip : peer_ip;
  f.tcp = tcp;
  f.src_port = inbound ? peer_port : local_port;
  f.dst_port = inbound ? local_port : peer_port;
  f.vlan_id = vlan_id;
  PacketBuilder builder;
  builder.macs(f.dst_mac, f.src_mac);
  if (vlan_id >= 0) {
    builder.vlan(static_cast<uint16_t>(vlan_id));
  }
  if (ipv6) {
    builder.ipv6(f.src_ip, f.dst_ip);
  } else {
    builder.ipv4(f.src_ip, f.dst_ip);
  }
  if (tcp) {
    builder.tcp(f.src_port, f.dst_port);
  } else {
    builder.udp(f.src_port, f.dst_port);
  }
  f.bytes = builder.payload(payload).build();
  return f;
}

// Directions are told by MAC: the interface's MAC is the source of what it sends.
inline std::vector<TrafficFrame> bothDirectionsTraffic() {
  return {
      trafficFrame("tcp4-in", 1, true, false, true, kPeerIp, 40001, 80),
      trafficFrame("tcp4-out", 1, false, false, true, kPeerIp, 40001, 80),
      trafficFrame("tcp6-in", 2, true, true, true, kPeerIp6, 40010, 443),
      trafficFrame("tcp6-out", 2, false, true, true, kPeerIp6, 40010, 443),
      trafficFrame("udp4-in", 3, true, false, false, kPeerIp, 5000, 6000, -1, 20),
      trafficFrame("udp4-out", 3, false, false, false, kPeerIp, 5000, 6000, -1, 20),
      trafficFrame("vlan-in", 4, true, false, true, "192.0.2.34", 40020, 8080, 100),
      trafficFrame("long-in", 5, true, false, true, kPeerIp, 40030, 80, -1, 1400),
  };
}

inline std::vector<Frame> bytesOf(const std::vector<TrafficFrame>& frames) {
  std::vector<Frame> out;
  for (const auto& f : frames) {
    out.push_back(f.bytes);
  }
  return out;
}

}  // namespace tmirror::cli::testing
