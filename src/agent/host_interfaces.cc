#include "agent/host_interfaces.h"

#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "common/unique_fd.h"

namespace tmirror::agent {

namespace {

uint32_t readMtu(const std::string& name) {
  // An ioctl, not sysfs: sysfs shows the namespace it was mounted in.
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq request{};
  if (!fd.valid() || name.size() >= IFNAMSIZ) {
    return 1500;
  }
  std::memcpy(request.ifr_name, name.c_str(), name.size());
  if (::ioctl(fd.get(), SIOCGIFMTU, &request) != 0 || request.ifr_mtu <= 0) {
    return 1500;
  }
  return static_cast<uint32_t>(request.ifr_mtu);
}

}  // namespace

uint32_t interfaceMtu(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
    return 0;
  }
  return readMtu(name);
}

std::vector<HostInterface> listHostInterfaces(const std::vector<std::string>& only) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return {};
  }
  std::map<std::string, HostInterface> found;
  for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_LOOPBACK) != 0) {
      continue;
    }
    const std::string name = a->ifa_name;
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) {
      continue;
    }
    if (a->ifa_addr->sa_family == AF_PACKET) {
      const auto* link = reinterpret_cast<const sockaddr_ll*>(a->ifa_addr);
      if (link->sll_halen != 6) {
        continue;  // not Ethernet (tun, ipip, ...)
      }
      HostInterface& i = found[name];
      i.name = name;
      std::memcpy(i.mac.octets.data(), link->sll_addr, 6);
      i.up = (a->ifa_flags & IFF_UP) != 0;
      i.mtu = readMtu(name);
    }
  }
  for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) {
      continue;
    }
    auto it = found.find(a->ifa_name);
    if (it == found.end()) {
      continue;
    }
    HostInterface& i = it->second;
    if (a->ifa_addr->sa_family == AF_INET && !i.ipv4) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      i.ipv4 = packet::IpAddress::v4(ntohl(in->sin_addr.s_addr));
    } else if (a->ifa_addr->sa_family == AF_INET6 && !i.ipv6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) {
        continue;
      }
      packet::Uint128 value = 0;
      for (uint8_t byte : in6->sin6_addr.s6_addr) {
        value = (value << 8) | byte;
      }
      i.ipv6 = packet::IpAddress::v6(value);
    }
  }
  ::freeifaddrs(list);
  // The server knows an interface by host and MAC. VLAN sub-interfaces, bridges and bonds
  // share a MAC with a port: keep the oldest (lowest ifindex), usually the physical one,
  // whose capture carries the others' traffic too (tagged frames keep their tag).
  std::map<std::string, std::pair<unsigned, std::string>> owner;  // MAC -> (ifindex, name)
  for (const auto& [name, i] : found) {
    const unsigned index = ::if_nametoindex(name.c_str());
    auto [it, inserted] = owner.try_emplace(packet::formatMacAddress(i.mac), index, name);
    if (!inserted && index < it->second.first) {
      it->second = {index, name};
    }
  }
  std::vector<HostInterface> out;
  for (auto& [name, i] : found) {
    if (owner[packet::formatMacAddress(i.mac)].second == name) {
      out.push_back(std::move(i));
    }
  }
  return out;
}

std::vector<packet::IpAddress> readResolvers(const std::filesystem::path& resolv_conf) {
  std::vector<packet::IpAddress> out;
  std::ifstream file(resolv_conf);
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    if (words >> keyword >> address && keyword == "nameserver") {
      // Drop an IPv6 zone ("fe80::1%eth0").
      address = address.substr(0, address.find('%'));
      if (auto parsed = packet::parseIpAddress(address)) {
        out.push_back(*parsed);
      }
    }
  }
  return out;
}

}  // namespace tmirror::agent
