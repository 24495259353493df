#include "collector/udp_receiver.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <time.h>

#include <array>
#include <cstring>

#include "collector/socket_address.h"

namespace tmirror::collector {

UdpReceiver::UdpReceiver(UniqueFd fd)
    : fd_(std::move(fd)), buffers_(kBatchSize * kDatagramBufferSize) {}

Result<UdpReceiver> UdpReceiver::open(const ReceiverOptions& options) {
  const SocketAddress address = toSocketAddress(options.address, options.port);
  UniqueFd fd(::socket(address.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return makeSystemError("UDP socket", errno);
  }
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return makeSystemError("SO_REUSEPORT", errno);
  }
  // As root, SO_RCVBUFFORCE passes net.core.rmem_max; otherwise take what rmem_max allows.
  const int bytes = options.receive_buffer_bytes;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0) {
    return makeSystemError("SO_RXQ_OVFL", errno);
  }
  if (address.family() == AF_INET6) {
    // "::" also receives IPv4 (v4-mapped); a specific v6 address only v6.
    const int zero = 0;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  if (::bind(fd.get(), address.sockaddr(), address.length) != 0) {
    return makeSystemError(
        "bind " + packet::formatIpAddress(options.address) + ":" + std::to_string(options.port),
        errno);
  }
  UdpReceiver receiver(std::move(fd));
  return receiver;
}

uint16_t UdpReceiver::localPort() const {
  SocketAddress address;
  address.length = sizeof address.storage;
  if (::getsockname(fd_.get(), address.sockaddr(), &address.length) != 0) {
    return 0;
  }
  if (address.family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address.storage)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&address.storage)->sin6_port);
}

int UdpReceiver::receiveBufferBytes() const {
  int bytes = 0;
  socklen_t length = sizeof bytes;
  ::getsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &bytes, &length);
  return bytes;
}

void UdpReceiver::countDrops(uint32_t cumulative, CollectorCounters& counters) {
  // The socket's cumulative drop count (sk_drops); count what is new since the last read. A
  // datagram carries the count from when it was queued, which can be older than what the
  // socket said since: never count backwards.
  const auto fresh = static_cast<int32_t>(cumulative - last_overflow_);
  if (fresh > 0) {
    counters.drop(DropReason::SocketOverflow, static_cast<uint32_t>(fresh));
    last_overflow_ = cumulative;
  }
}

void UdpReceiver::readDrops(CollectorCounters& counters) {
  std::array<uint32_t, SK_MEMINFO_VARS> info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_MEMINFO, info.data(), &length) == 0 &&
      length > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
    countDrops(info[SK_MEMINFO_DROPS], counters);
  }
}

int UdpReceiver::receiveBatch(ReceivePath& path, CollectorCounters& counters, int timeout_ms) {
  for (std::size_t i = 0; i < kBatchSize; ++i) {
    iovecs_[i] = iovec{buffers_.data() + i * kDatagramBufferSize, kDatagramBufferSize};
    msghdr& h = messages_[i].msg_hdr;
    h.msg_name = &senders_[i];
    h.msg_namelen = sizeof senders_[i];
    h.msg_iov = &iovecs_[i];
    h.msg_iovlen = 1;
    h.msg_control = controls_[i].data();
    h.msg_controllen = controls_[i].size();
    h.msg_flags = 0;
  }
  int n = ::recvmmsg(fd_.get(), messages_.data(), kBatchSize, MSG_DONTWAIT, nullptr);
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return -1;
    }
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      readDrops(counters);  // quiet: drops of a burst that just ended are counted now
      return 0;
    }
    n = ::recvmmsg(fd_.get(), messages_.data(), kBatchSize, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      return 0;
    }
  }
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const uint64_t now_ns =
      static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(now.tv_nsec);
  if (now_ns >= last_drop_read_ns_ + 100'000'000) {
    last_drop_read_ns_ = now_ns;
    readDrops(counters);
  }
  for (int i = 0; i < n; ++i) {
    msghdr& h = messages_[i].msg_hdr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        uint32_t dropped = 0;
        std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
        countDrops(dropped, counters);
      }
    }
    const std::size_t length = messages_[i].msg_len;
    Datagram d;
    d.sender = fromSocketAddress(senders_[i]);
    d.timestamp_ns = now_ns;
    d.payload = packet::Bytes(buffers_.data() + static_cast<std::size_t>(i) * kDatagramBufferSize,
                              std::min(length, kDatagramBufferSize));
    d.truncated = (h.msg_flags & MSG_TRUNC) != 0;
    path.process(d);
  }
  path.endBatch();
  return n;
}

}  // namespace tmirror::collector
