#include "collector/forward_sink.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstring>
#include <memory>

#include "collector/socket_address.h"
#include "packet/vxlan.h"

namespace tmirror::collector {

Result<std::unique_ptr<ForwardSink>> ForwardSink::create(const packet::IpAddress& address,
                                                         uint16_t port,
                                                         CollectorCounters& counters) {
  const SocketAddress to = toSocketAddress(address, port);
  UniqueFd fd(::socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return makeSystemError("forward socket", errno);
  }
  if (::connect(fd.get(), to.sockaddr(), to.length) != 0) {
    return makeSystemError("connecting the forward socket", errno);
  }
  return std::unique_ptr<ForwardSink>(new ForwardSink(std::move(fd), counters));
}

void ForwardSink::write(ReceivedSession& session, const ReceivedFrame& frame) {
  std::array<std::byte, packet::kVxlanHeaderSize> header{};
  packet::writeVxlanHeader(header, session.key.vni);
  std::array<iovec, 2> iov{iovec{header.data(), header.size()},
                           iovec{const_cast<std::byte*>(frame.inner.data()), frame.inner.size()}};
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  if (::sendmsg(fd_.get(), &msg, MSG_DONTWAIT) < 0) {
    counters_.drop(DropReason::WriteError);
  }
}

}  // namespace tmirror::collector
