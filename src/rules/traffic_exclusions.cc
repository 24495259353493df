#include "rules/traffic_exclusions.h"

#include <algorithm>
#include <utility>

namespace tmirror::rules {

namespace {

using packet::IpAddress;
using packet::ParsedFrame;

bool contains(const std::vector<IpAddress>& list, const IpAddress& address) {
  return std::find(list.begin(), list.end(), address) != list.end();
}

bool isDhcp(const ParsedFrame& f) {
  if (f.protocol != packet::kProtoUdp || !f.has_ports) {
    return false;
  }
  if (f.family == packet::IpFamily::V4) {  // client 68, server/relay 67
    return (f.src_port == 67 || f.src_port == 68) && (f.dst_port == 67 || f.dst_port == 68);
  }
  return (f.src_port == 546 || f.src_port == 547) && (f.dst_port == 546 || f.dst_port == 547);
}

}  // namespace

TrafficExclusions::TrafficExclusions(std::vector<IpAddress> dns_resolvers,
                                     std::vector<model::ControlEndpoint> control_endpoints,
                                     std::vector<IpAddress> local_addresses,
                                     std::vector<VxlanEndpoint> vxlan_targets)
    : dns_resolvers_(std::move(dns_resolvers)),
      control_endpoints_(std::move(control_endpoints)),
      local_addresses_(std::move(local_addresses)),
      vxlan_targets_(std::move(vxlan_targets)) {
  for (uint16_t port : {67, 68, 546, 547}) {
    flagPort(port);
  }
  if (!dns_resolvers_.empty()) {
    flagPort(53);
  }
  for (const auto& endpoint : control_endpoints_) {
    flagPort(endpoint.port);
  }
  for (const auto& target : vxlan_targets_) {
    flagPort(target.port);
  }
}

TrafficExclusions TrafficExclusions::forInterface(const model::HostMirrorConfig& host,
                                                  const model::InterfaceMirrorConfig& interface) {
  std::vector<IpAddress> local_addresses;
  for (const auto& other : host.interfaces) {
    // Copies may leave through any interface of the host, with that interface's address.
    if (other.interface.ipv4) {
      local_addresses.push_back(*other.interface.ipv4);
    }
    if (other.interface.ipv6) {
      local_addresses.push_back(*other.interface.ipv6);
    }
  }
  // Every interface's copies, not just this one's: another interface's copies may be routed
  // out through this one, and mirroring them would nest VXLAN (or loop between sessions).
  std::vector<VxlanEndpoint> vxlan_targets;
  auto add_targets = [&](const model::InterfaceMirrorConfig& i) {
    for (const auto& session : i.sessions) {
      for (const auto& address : session.target.addresses) {
        vxlan_targets.push_back({address, session.target.port});
      }
    }
  };
  add_targets(interface);
  for (const auto& other : host.interfaces) {
    if (other.interface.id != interface.interface.id) {
      add_targets(other);
    }
  }
  return TrafficExclusions(host.dns_resolvers, host.control_endpoints, std::move(local_addresses),
                           std::move(vxlan_targets));
}

PacketFate TrafficExclusions::neverMirrored(const ParsedFrame& f) const {
  if (!mayBeExcluded(f)) {
    return PacketFate::Mirrored;
  }
  if (isDhcp(f)) {
    return PacketFate::Dhcp;
  }
  if (f.protocol == packet::kProtoUdp) {
    for (const auto& target : vxlan_targets_) {
      // A later fragment of our own copy (fragmented on the way out) has no port to check.
      if ((!f.has_ports || f.dst_port == target.port) && f.dst == target.address &&
          contains(local_addresses_, f.src)) {
        return PacketFate::OwnVxlan;
      }
    }
  }
  if (f.icmp_quotes_udp_v4) {
    const packet::IpAddress quoted = packet::IpAddress::v4(f.quoted_ipv4_dst);
    for (const auto& target : vxlan_targets_) {
      if (f.quoted_udp_dst_port == target.port && quoted == target.address &&
          contains(local_addresses_, f.dst)) {
        return PacketFate::OwnVxlan;
      }
    }
  }
  if (f.protocol == packet::kProtoTcp && f.has_ports) {
    for (const auto& endpoint : control_endpoints_) {
      if ((f.dst_port == endpoint.port && f.dst == endpoint.address) ||
          (f.src_port == endpoint.port && f.src == endpoint.address)) {
        return PacketFate::ControlChannel;
      }
    }
  }
  return PacketFate::Mirrored;
}

bool TrafficExclusions::isResolverDns(const ParsedFrame& f) const {
  if (!mayBeExcluded(f) || dns_resolvers_.empty()) {
    return false;
  }
  if (!f.has_ports) {
    if (f.fragment != packet::Fragment::Later) {
      return false;  // an ICMP error (see mayBeExcluded), not DNS
    }
    return contains(dns_resolvers_, f.dst) || contains(dns_resolvers_, f.src);
  }
  return (f.dst_port == 53 && contains(dns_resolvers_, f.dst)) ||
         (f.src_port == 53 && contains(dns_resolvers_, f.src));
}

const char* packetFateName(PacketFate fate) {
  switch (fate) {
    case PacketFate::Mirrored:
      return "mirrored";
    case PacketFate::NotMatched:
      return "not_matched";
    case PacketFate::NotIp:
      return "not_ip";
    case PacketFate::Malformed:
      return "malformed";
    case PacketFate::Dhcp:
      return "dhcp";
    case PacketFate::OwnVxlan:
      return "own_vxlan";
    case PacketFate::ControlChannel:
      return "control_channel";
    case PacketFate::ResolverDns:
      return "resolver_dns";
    case PacketFate::kCount:
      break;
  }
  return "unknown";
}

}  // namespace tmirror::rules
