#include "server/http_connection.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tmirror::server {
namespace {

// Waits are sliced so that a stopping server is noticed within this.
constexpr std::chrono::milliseconds kStopPollInterval{100};

thread_local ConnectionContext* t_connection = nullptr;

void numericAddress(const sockaddr_storage& address, socklen_t length, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof(host), service,
                  sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(service);
  }
}

}  // namespace

ConnectionStream::ConnectionStream(int fd, ConnectionLimits limits, std::function<bool()> stopping)
    : fd_(fd), limits_(limits), stopping_(std::move(stopping)), deadline_(Clock::now()) {}

ConnectionStream::~ConnectionStream() {
  closeNow();
}

void ConnectionStream::closeNow() {
  if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }
}

int ConnectionStream::waitFor(short events, Clock::time_point until, bool honour_stop) const {
  while (true) {
    if (honour_stop && stopping_ && stopping_()) {
      return -1;
    }
    const auto now = Clock::now();
    if (now >= until) {
      return 0;
    }
    auto slice = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    if (honour_stop) {
      slice = std::min(slice, kStopPollInterval);
    }
    pollfd descriptor{fd_, events, 0};
    const int ready = ::poll(&descriptor, 1, static_cast<int>(slice.count()));
    if (ready > 0) {
      return 1;  // includes POLLHUP/POLLERR: the read or write that follows reports it
    }
    if (ready < 0 && errno != EINTR) {
      return -1;
    }
  }
}

ConnectionStream::Wait ConnectionStream::waitForRequest(std::chrono::milliseconds idle_timeout) {
  if (begin_ < end_) {
    return Wait::Request;  // pipelined: already buffered
  }
  const int ready = waitFor(POLLIN, Clock::now() + idle_timeout, true);
  if (ready > 0) {
    return Wait::Request;
  }
  return ready == 0 ? Wait::Idle : Wait::Stopping;
}

void ConnectionStream::beginRequest() {
  deadline_ = Clock::now() + limits_.request_timeout;
  timed_out_ = false;
}

ConnectionStream::Clock::time_point ConnectionStream::readUntil() const {
  return std::min(Clock::now() + limits_.read_timeout, deadline_);
}

bool ConnectionStream::is_readable() const {
  if (begin_ < end_) {
    return true;
  }
  const int ready = waitFor(POLLIN, readUntil(), true);
  if (ready == 0) {
    timed_out_ = true;
  }
  return ready > 0;
}

bool ConnectionStream::is_writable() const {
  return fd_ >= 0 && waitFor(POLLOUT, Clock::now() + limits_.write_timeout, false) > 0;
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (begin_ == end_) {
    if (fd_ < 0 || !is_readable()) {
      return -1;
    }
    ssize_t received;
    do {
      received = ::recv(fd_, buffer_, kBufferSize, 0);
    } while (received < 0 && errno == EINTR);
    if (received <= 0) {
      return received;
    }
    begin_ = 0;
    end_ = static_cast<std::size_t>(received);
  }
  const std::size_t count = std::min(size, end_ - begin_);
  std::memcpy(ptr, buffer_ + begin_, count);
  begin_ += count;
  return static_cast<ssize_t>(count);
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (fd_ < 0) {
    return -1;
  }
  const auto until = Clock::now() + limits_.write_timeout;
  while (true) {
    if (waitFor(POLLOUT, until, false) <= 0) {
      return -1;
    }
    const ssize_t sent = ::send(fd_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0) {
      return sent;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return -1;
    }
  }
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    numericAddress(address, length, ip, port);
  }
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    numericAddress(address, length, ip, port);
  }
}

void ConnectionStream::closeLingering(std::chrono::milliseconds budget) {
  if (fd_ < 0) {
    return;
  }
  ::shutdown(fd_, SHUT_WR);
  const auto until = Clock::now() + budget;
  while (waitFor(POLLIN, until, false) > 0) {
    ssize_t received;
    do {
      received = ::recv(fd_, buffer_, kBufferSize, 0);
    } while (received < 0 && errno == EINTR);
    if (received <= 0) {
      break;
    }
  }
  closeNow();
}

ConnectionContext* currentConnection() {
  return t_connection;
}

ScopedConnectionContext::ScopedConnectionContext(ConnectionContext& context)
    : previous_(t_connection) {
  t_connection = &context;
}

ScopedConnectionContext::~ScopedConnectionContext() {
  t_connection = previous_;
}

}  // namespace tmirror::server
