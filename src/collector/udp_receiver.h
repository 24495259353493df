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
// Largest datagram kept: VXLAN header + a 9000-byte jumbo frame and more. Larger ones are
// counted as oversized.
inline constexpr std::size_t kDatagramBufferSize = 9216 + 64;

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
  // received (0 on timeout); socket drops reported by SO_RXQ_OVFL go to `counters`.
  int receiveBatch(ReceivePath& path, CollectorCounters& counters, int timeout_ms);

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
  uint32_t last_overflow_ = 0;
};

}  // namespace tmirror::collector
