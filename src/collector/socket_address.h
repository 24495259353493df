// sockaddr_storage <-> packet::IpAddress, for the UDP sockets (IPv4, IPv6, v4-mapped).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "packet/ip_address.h"

namespace tmirror::collector {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }

  const struct sockaddr* sockaddr() const {
    return reinterpret_cast<const struct sockaddr*>(&storage);
  }

  struct sockaddr* sockaddr() {
    return reinterpret_cast<struct sockaddr*>(&storage);
  }
};

SocketAddress toSocketAddress(const packet::IpAddress& address, uint16_t port);

// The sender of a datagram; an IPv4-mapped IPv6 address (dual-stack socket) becomes IPv4.
packet::IpAddress fromSocketAddress(const sockaddr_storage& storage);

}  // namespace tmirror::collector
