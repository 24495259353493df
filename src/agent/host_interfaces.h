// What this host has: its Ethernet interfaces (name, MAC, primary addresses, MTU) and its DNS
// resolvers, as the agent registers them with the server.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "packet/ip_address.h"

namespace tmirror::agent {

struct HostInterface {
  std::string name;
  packet::MacAddress mac{};
  std::optional<packet::IpAddress> ipv4;  // primary: the first one the kernel lists
  std::optional<packet::IpAddress> ipv6;  // the first global one (not link-local)
  uint32_t mtu = 1500;
  bool up = false;

  friend bool operator==(const HostInterface&, const HostInterface&) = default;
};

// Every interface with an Ethernet MAC except loopback, sorted by name. When `only` is not
// empty, just those names (missing ones are simply absent). Of interfaces sharing a MAC
// (VLAN sub-interfaces, bridges, bonds) only the one with the lowest ifindex is listed.
std::vector<HostInterface> listHostInterfaces(const std::vector<std::string>& only = {});

// An interface's MTU (0 when unknown), from this thread's namespace.
uint32_t interfaceMtu(int ifindex);

// The nameservers of a resolv.conf file (IPv4 and IPv6), in order.
std::vector<packet::IpAddress> readResolvers(const std::filesystem::path& resolv_conf);

}  // namespace tmirror::agent
