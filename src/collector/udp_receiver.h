// UdpReceiver: one receive thread's UDP socket (SO_REUSEPORT, large SO_RCVBUF, SO_RXQ_OVFL)
// and its recvmmsg batch, preallocated: no allocation per datagram.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "collector/receive_path.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace tmirror::collector {

inline constexpr std::size_t kBatchSize = 64;
// Largest datagram kept: any UDP payload (64 KiB), so jumbo frames and copies of unsegmented
// super-frames from other senders are written whole. Only an IPv6 jumbogram is larger (and
// counted as oversized).
inline constexpr std::size_t kDatagramBufferSize = 65536;

struct ReceiverOptions {
  packet::IpAddress address;
  uint16_t port = packet::kVxlanPort;
  int receive_buffer_bytes = 32 << 20;
};

class UdpReceiver {
 public:
  static Result<UdpReceiver> open(const ReceiverOptions& options);

  UdpReceiver(UdpReceiver&&) = default;

  // Waits up to `timeout_ms` for datagrams, then hands each to `path`. Returns how many were
  // received (0 on timeout). Socket drops go to `counters`: from SO_RXQ_OVFL with each
  // datagram, and on every timeout (and at least every 100 ms) from the socket itself, so
  // the count is right soon after a burst ends even when no datagram follows.
  int receiveBatch(ReceivePath& path, CollectorCounters& counters, int timeout_ms);

  // Reads the socket's drop counter (SO_MEMINFO) and counts what is new.
  void readDrops(CollectorCounters& counters);

  uint16_t localPort() const;
  int receiveBufferBytes() const;

 private:
  explicit UdpReceiver(UniqueFd fd);

  UniqueFd fd_;
  std::vector<std::byte> buffers_;
  std::array<mmsghdr, kBatchSize> messages_{};
  std::array<iovec, kBatchSize> iovecs_{};
  std::array<sockaddr_storage, kBatchSize> senders_{};
  // SO_RXQ_OVFL is one uint32 cmsg per datagram.
  std::array<std::array<std::byte, CMSG_SPACE(sizeof(uint32_t))>, kBatchSize> controls_{};
  void countDrops(uint32_t cumulative, CollectorCounters& counters);

  uint32_t last_overflow_ = 0;
  uint64_t last_drop_read_ns_ = 0;
};

}  // namespace tmirror::collector
