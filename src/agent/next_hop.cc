#include "agent/next_hop.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/device_segmentation.h"

namespace tmirror::agent {

// The netlink macros (NLMSG_*, RTA_*) are C and cast the old way.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"

Result<Route> lookupRoute(uint32_t destination) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) {
    return makeSystemError("netlink socket", errno);
  }

  struct {
    nlmsghdr header;
    rtmsg message;
    std::array<char, 64> attributes;
  } request{};

  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  request.header.nlmsg_type = RTM_GETROUTE;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = 1;
  request.message.rtm_family = AF_INET;
  request.message.rtm_dst_len = 32;
  auto* attribute = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&request) +
                                              NLMSG_ALIGN(request.header.nlmsg_len));
  attribute->rta_type = RTA_DST;
  attribute->rta_len = RTA_LENGTH(4);
  const uint32_t network_order = htonl(destination);
  std::memcpy(RTA_DATA(attribute), &network_order, 4);
  request.header.nlmsg_len = NLMSG_ALIGN(request.header.nlmsg_len) + RTA_ALIGN(attribute->rta_len);
  // The kernel answers at once; never let a lost answer stall the packet path.
  timeval timeout{0, 100'000};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd.get(), &request, request.header.nlmsg_len, 0,
               reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0) {
    return makeSystemError("RTM_GETROUTE", errno);
  }
  std::array<char, 8192> buffer;
  const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
  if (n < 0) {
    return makeSystemError("RTM_GETROUTE reply", errno);
  }
  int remaining = static_cast<int>(n);
  for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, remaining);
       h = NLMSG_NEXT(h, remaining)) {
    if (h->nlmsg_type == NLMSG_ERROR) {
      const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
      return makeSystemError(
          "no route to " + packet::formatIpAddress(packet::IpAddress::v4(destination)),
          -error->error);
    }
    if (h->nlmsg_type != RTM_NEWROUTE) {
      continue;
    }
    const auto* message = static_cast<const rtmsg*>(NLMSG_DATA(h));
    if (message->rtm_type != RTN_UNICAST && message->rtm_type != RTN_LOCAL) {
      return makeError(
          ErrorCode::NotFound,
          "no unicast route to " + packet::formatIpAddress(packet::IpAddress::v4(destination)));
    }
    Route route;
    int length = static_cast<int>(RTM_PAYLOAD(h));
    for (auto* a = RTM_RTA(message); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
      uint32_t value = 0;
      if (RTA_PAYLOAD(a) >= 4) {
        std::memcpy(&value, RTA_DATA(a), 4);
      }
      switch (a->rta_type) {
        case RTA_OIF:
          route.ifindex = static_cast<int>(value);
          break;
        case RTA_GATEWAY:
          route.gateway = ntohl(value);
          break;
        case RTA_PREFSRC:
          route.preferred_src = ntohl(value);
          break;
        default:
          break;
      }
    }
    if (route.ifindex == 0) {
      return makeError(ErrorCode::NotFound, "the route has no output interface");
    }
    return route;
  }
  return makeError(ErrorCode::NotFound, "RTM_GETROUTE: no answer");
}

#pragma GCC diagnostic pop

namespace {

std::string interfaceName(int ifindex) {
  char name[IF_NAMESIZE] = {};
  return ::if_indextoname(static_cast<unsigned>(ifindex), name) ? std::string(name) : std::string();
}

}  // namespace

std::optional<packet::MacAddress> lookupNeighbour(uint32_t address, int ifindex) {
  const std::string device = interfaceName(ifindex);
  // thread-self: the namespace of this thread (a thread may have entered another one).
  std::ifstream arp("/proc/thread-self/net/arp");
  std::string line;
  std::getline(arp, line);  // header
  const std::string wanted = packet::formatIpAddress(packet::IpAddress::v4(address));
  while (std::getline(arp, line)) {
    std::istringstream fields(line);
    std::string ip, hw_type, flags, mac, mask, dev;
    if (!(fields >> ip >> hw_type >> flags >> mac >> mask >> dev)) {
      continue;
    }
    // Flags 0x2 = ATF_COM: the entry is complete.
    if (ip == wanted && dev == device && (std::strtoul(flags.c_str(), nullptr, 16) & 0x2) != 0) {
      return packet::parseMacAddress(mac);
    }
  }
  return std::nullopt;
}

std::optional<packet::MacAddress> interfaceMac(int ifindex) {
  // An ioctl on a socket of this thread's namespace (sysfs may show another namespace).
  const std::string device = interfaceName(ifindex);
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (device.empty() || device.size() >= IFNAMSIZ || !fd.valid()) {
    return std::nullopt;
  }
  ifreq request{};
  std::memcpy(request.ifr_name, device.c_str(), device.size());
  if (::ioctl(fd.get(), SIOCGIFHWADDR, &request) != 0) {
    return std::nullopt;
  }
  packet::MacAddress mac;
  std::memcpy(mac.octets.data(), request.ifr_hwaddr.sa_data, 6);
  return mac;
}

NextHop resolveNextHop(uint32_t destination) {
  NextHop hop;
  auto route = lookupRoute(destination);
  if (!route) {
    hop.error = route.error().message;
    return hop;
  }
  hop.ifindex = route->ifindex;
  const auto src = interfaceMac(route->ifindex);
  const auto dst =
      lookupNeighbour(route->gateway != 0 ? route->gateway : destination, route->ifindex);
  if (src && dst) {
    hop.resolved = true;
    hop.src_mac = *src;
    hop.dst_mac = *dst;
    hop.segments_gso = probeDeviceSegmentation(route->ifindex).segmentsBeforeWire();
  }
  return hop;
}

NextHops NextHops::resolve(std::span<const uint32_t> destinations) {
  NextHops hops;
  std::vector<uint32_t> distinct(destinations.begin(), destinations.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  hops.entries_.reserve(distinct.size());
  for (uint32_t destination : distinct) {
    hops.entries_.emplace_back(destination, resolveNextHop(destination));
  }
  return hops;
}

const NextHop* NextHops::find(uint32_t destination) const {
  // A handful of targets per interface: a sorted array beats a hash table here.
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), destination,
      [](const std::pair<uint32_t, NextHop>& entry, uint32_t d) { return entry.first < d; });
  return it != entries_.end() && it->first == destination ? &it->second : nullptr;
}

}  // namespace tmirror::agent
