// NextHopTable: where a mirror copy to an IPv4 target leaves the host, as raw Ethernet:
// the egress interface and the next hop's MAC (the target itself on the same link, else the
// gateway). Routes come from the kernel (netlink RTM_GETROUTE), neighbours from the ARP table.
//
// An entry is kept for a second, then looked up again. While a neighbour is unknown the
// sender goes through the kernel's IP layer instead (which resolves it), so nothing waits.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

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

class NextHopTable {
 public:
  explicit NextHopTable(std::chrono::milliseconds lifetime = std::chrono::seconds(1))
      : lifetime_(lifetime) {}

  // The next hop for `destination`, looked up again when older than the lifetime.
  // `now` is passed in so that one clock read serves a whole batch.
  const NextHop& find(uint32_t destination, std::chrono::steady_clock::time_point now);

 private:
  struct Entry {
    NextHop hop;
    std::chrono::steady_clock::time_point expires;
  };

  std::chrono::milliseconds lifetime_;
  std::unordered_map<uint32_t, Entry> entries_;
};

}  // namespace tmirror::agent
