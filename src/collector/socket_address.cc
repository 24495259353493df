#include "collector/socket_address.h"

#include <cstring>

namespace tmirror::collector {

SocketAddress toSocketAddress(const packet::IpAddress& address, uint16_t port) {
  SocketAddress out;
  if (address.family == packet::IpFamily::V4) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = htonl(static_cast<uint32_t>(address.value));
    std::memcpy(&out.storage, &in, sizeof in);
    out.length = sizeof in;
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    for (int i = 0; i < 16; ++i) {
      in6.sin6_addr.s6_addr[i] = static_cast<uint8_t>(address.value >> (8 * (15 - i)));
    }
    std::memcpy(&out.storage, &in6, sizeof in6);
    out.length = sizeof in6;
  }
  return out;
}

packet::IpAddress fromSocketAddress(const sockaddr_storage& storage) {
  if (storage.ss_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, &storage, sizeof in);
    return packet::IpAddress::v4(ntohl(in.sin_addr.s_addr));
  }
  if (storage.ss_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &storage, sizeof in6);
    packet::Uint128 value = 0;
    for (int i = 0; i < 16; ++i) {
      value = (value << 8) | in6.sin6_addr.s6_addr[i];
    }
    if ((value >> 32) == 0xFFFF) {
      return packet::IpAddress::v4(static_cast<uint32_t>(value));
    }
    return packet::IpAddress::v6(value);
  }
  return {};
}

}  // namespace tmirror::collector
