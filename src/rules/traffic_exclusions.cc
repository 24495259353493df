#include "rules/traffic_exclusions.h"

#include <algorithm>

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

TrafficExclusions TrafficExclusions::forInterface(const model::HostMirrorConfig& host,
                                                  const model::InterfaceMirrorConfig& interface) {
  TrafficExclusions ex;
  ex.dns_resolvers = host.dns_resolvers;
  ex.control_endpoints = host.control_endpoints;
  for (const auto& other : host.interfaces) {
    // Copies may leave through any interface of the host, with that interface's address.
    if (other.interface.ipv4) {
      ex.local_addresses.push_back(*other.interface.ipv4);
    }
    if (other.interface.ipv6) {
      ex.local_addresses.push_back(*other.interface.ipv6);
    }
  }
  for (const auto& session : interface.sessions) {
    for (const auto& address : session.target.addresses) {
      ex.vxlan_targets.push_back({address, session.target.port});
    }
  }
  return ex;
}

PacketFate TrafficExclusions::neverMirrored(const ParsedFrame& f) const {
  if (!f.has_ports) {
    return PacketFate::Mirrored;
  }
  if (isDhcp(f)) {
    return PacketFate::Dhcp;
  }
  if (f.protocol == packet::kProtoUdp) {
    for (const auto& target : vxlan_targets) {
      if (f.dst_port == target.port && f.dst == target.address &&
          contains(local_addresses, f.src)) {
        return PacketFate::OwnVxlan;
      }
    }
  }
  if (f.protocol == packet::kProtoTcp) {
    for (const auto& endpoint : control_endpoints) {
      if ((f.dst_port == endpoint.port && f.dst == endpoint.address) ||
          (f.src_port == endpoint.port && f.src == endpoint.address)) {
        return PacketFate::ControlChannel;
      }
    }
  }
  return PacketFate::Mirrored;
}

bool TrafficExclusions::isResolverDns(const ParsedFrame& f) const {
  if (!f.has_ports || dns_resolvers.empty()) {
    return false;
  }
  return (f.dst_port == 53 && contains(dns_resolvers, f.dst)) ||
         (f.src_port == 53 && contains(dns_resolvers, f.src));
}

const char* packetFateName(PacketFate fate) {
  switch (fate) {
    case PacketFate::Mirrored: return "mirrored";
    case PacketFate::NotMatched: return "not_matched";
    case PacketFate::NotIp: return "not_ip";
    case PacketFate::Malformed: return "malformed";
    case PacketFate::Dhcp: return "dhcp";
    case PacketFate::OwnVxlan: return "own_vxlan";
    case PacketFate::ControlChannel: return "control_channel";
    case PacketFate::ResolverDns: return "resolver_dns";
    case PacketFate::kCount: break;
  }
  return "unknown";
}

}  // namespace tmirror::rules
