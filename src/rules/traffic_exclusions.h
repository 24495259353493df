// Traffic that is never mirrored whatever the rules say (DESIGN.md, data-plane point 4), and
// resolver DNS, which only a filter with the amazon-dns network service mirrors.
#pragma once

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
  // From the host's resolvers and control endpoints, the interface's own addresses (the outer
  // source of its copies) and every target endpoint of its sessions.
  static TrafficExclusions forInterface(const model::HostMirrorConfig& host,
                                        const model::InterfaceMirrorConfig& interface);

  // Returns Dhcp, OwnVxlan or ControlChannel, or Mirrored when none applies. `frame` must be
  // a parsed IP packet.
  PacketFate neverMirrored(const packet::ParsedFrame& frame) const;

  // DNS over UDP/TCP port 53 to or from one of the host's resolvers.
  bool isResolverDns(const packet::ParsedFrame& frame) const;

  std::vector<packet::IpAddress> dns_resolvers;
  std::vector<model::ControlEndpoint> control_endpoints;
  std::vector<packet::IpAddress> local_addresses;
  std::vector<VxlanEndpoint> vxlan_targets;
};

}  // namespace tmirror::rules
