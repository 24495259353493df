// Where a mirror copy to an IPv4 target leaves the host, as raw Ethernet: the egress
// interface and the next hop's MAC (the target itself on the same link, else the gateway).
// Routes come from the kernel (netlink RTM_GETROUTE), neighbours from the ARP table.
//
// Resolving takes system calls and file reads, so the data path never does it: the worker's
// upkeep thread resolves every target of the engine in effect once a second into an
// immutable NextHops table, which the data path reads (interface_worker.h). While a
// neighbour is unknown the sender goes through the kernel's IP layer instead (which
// resolves it), so nothing waits.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "packet/ip_address.h"

namespace tmirror::agent {

struct Route {
  int ifindex = 0;
  uint32_t gateway = 0;        // host order; 0 when the target is on the link
  uint32_t preferred_src = 0;  // host order; 0 when the kernel gave none
};

struct NextHop {
  bool resolved = false;  // false: send through the kernel's IP layer
  int ifindex = 0;
  packet::MacAddress src_mac{};
  packet::MacAddress dst_mac{};
  // Copies to this hop may go as one UDP GSO buffer: the egress device cuts it into wire
  // packets before anything reads them (device_segmentation.h).
  bool segments_gso = false;
  std::string error;  // why there is no route, when there is none
};

// Asks the kernel for the route to `destination` (host-order IPv4).
Result<Route> lookupRoute(uint32_t destination);

// The MAC of `address` (host order) on `ifindex` from /proc/net/arp, when complete.
std::optional<packet::MacAddress> lookupNeighbour(uint32_t address, int ifindex);

// An interface's own MAC from /sys/class/net/<name>/address.
std::optional<packet::MacAddress> interfaceMac(int ifindex);

// Everything about reaching `destination` (host-order IPv4) now: route, MACs, and whether
// the egress device cuts GSO buffers. Never fails: a hop without a route carries the reason.
NextHop resolveNextHop(uint32_t destination);

// The next hops of a set of destinations, resolved at one moment; read-only once built.
class NextHops {
 public:
  NextHops() = default;
  // Resolves each distinct destination once.
  static NextHops resolve(std::span<const uint32_t> destinations);

  // The hop to `destination`; nullptr when it was not among the destinations.
  const NextHop* find(uint32_t destination) const;

  std::size_t size() const { return entries_.size(); }

 private:
  std::vector<std::pair<uint32_t, NextHop>> entries_;  // sorted by destination
};

}  // namespace tmirror::agent
