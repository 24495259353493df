// Traffic that is never mirrored whatever the rules say (docs/mirroring.md point 4), and
// resolver DNS, which only a filter with the amazon-dns network service mirrors.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "model/mirror_config.h"
#include "packet/frame.h"
#include "rules/match_result.h"

namespace tmirror::rules {

struct VxlanEndpoint {
  packet::IpAddress address;
  uint16_t port = 0;
};

class TrafficExclusions {
 public:
  TrafficExclusions() = default;

  TrafficExclusions(std::vector<packet::IpAddress> dns_resolvers,
                    std::vector<model::ControlEndpoint> control_endpoints,
                    std::vector<packet::IpAddress> local_addresses,
                    std::vector<VxlanEndpoint> vxlan_targets);

  // From the host's resolvers and control endpoints, the interface's own addresses (the outer
  // source of its copies) and every target endpoint of its sessions.
  static TrafficExclusions forInterface(const model::HostMirrorConfig& host,
                                        const model::InterfaceMirrorConfig& interface);

  // False for nearly every packet: true when either port is one an exclusion looks at
  // (DHCP, DNS, a target's VXLAN port, a control port), or for a non-first TCP/UDP fragment,
  // which has no ports and is judged by its addresses, or for an ICMP error quoting a UDP
  // datagram (it may answer one of our copies). The checks below start with it.
  bool mayBeExcluded(const packet::ParsedFrame& frame) const {
    if (frame.has_ports) [[likely]] {
      return portFlagged(frame.src_port) || portFlagged(frame.dst_port);
    }
    return (frame.fragment == packet::Fragment::Later &&
            (frame.protocol == packet::kProtoUdp || frame.protocol == packet::kProtoTcp)) ||
           frame.icmp_quotes_udp_v4;
  }

  // Returns Dhcp, OwnVxlan or ControlChannel, or Mirrored when none applies. `frame` must be
  // a parsed IP packet. OwnVxlan also covers ICMP errors about our copies (a target without
  // a listener answers each copy with "port unreachable"; mirroring those would loop).
  PacketFate neverMirrored(const packet::ParsedFrame& frame) const;

  // DNS over UDP/TCP port 53 to or from one of the host's resolvers. A non-first fragment
  // has no port: any TCP/UDP fragment to or from a resolver counts (resolvers serve DNS).
  bool isResolverDns(const packet::ParsedFrame& frame) const;

 private:
  bool portFlagged(uint16_t port) const { return (port_bits_[port >> 6] >> (port & 63)) & 1; }

  void flagPort(uint16_t port) { port_bits_[port >> 6] |= uint64_t{1} << (port & 63); }

  std::vector<packet::IpAddress> dns_resolvers_;
  std::vector<model::ControlEndpoint> control_endpoints_;
  std::vector<packet::IpAddress> local_addresses_;
  std::vector<VxlanEndpoint> vxlan_targets_;
  std::array<uint64_t, 1024> port_bits_{};  // 65,536 bits
};

}  // namespace tmirror::rules
