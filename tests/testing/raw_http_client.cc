#include "testing/raw_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace tmirror::testing {
namespace {

std::string toLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return lower;
}

}  // namespace

std::optional<RawHttpConnection> RawHttpConnection::open(uint16_t port, std::string_view address) {
  const std::string text(address);
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return std::nullopt;
  }
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  return RawHttpConnection(fd);
}

RawHttpConnection::RawHttpConnection(RawHttpConnection&& other) noexcept
    : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

RawHttpConnection::~RawHttpConnection() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool RawHttpConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

bool RawHttpConnection::receiveMore(std::chrono::steady_clock::time_point until) {
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) {
      return false;
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    pollfd descriptor{fd_, POLLIN, 0};
    const int ready = ::poll(&descriptor, 1, static_cast<int>(wait.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return false;
    }
    char chunk[16384];
    const ssize_t received = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (received <= 0) {
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(received));
    return true;
  }
}

std::optional<RawResponse> RawHttpConnection::readResponse(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!receiveMore(until)) {
      return std::nullopt;
    }
  }
  RawResponse response;
  const std::string_view head(buffer_.data(), header_end);
  std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.1 ") || status_line.size() < 12) {
    return std::nullopt;
  }
  response.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(
        start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    response.headers[toLower(line.substr(0, colon))] = std::string(value);
  }
  const std::size_t body_length = response.headers.contains("content-length")
                                      ? std::stoul(response.headers["content-length"])
                                      : 0;
  const std::size_t body_start = header_end + 4;
  while (buffer_.size() < body_start + body_length) {
    if (!receiveMore(until)) {
      return std::nullopt;
    }
  }
  response.body = buffer_.substr(body_start, body_length);
  buffer_.erase(0, body_start + body_length);
  return response;
}

void RawHttpConnection::shrinkReceiveBuffer() {
  int size = 16 * 1024;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

std::optional<std::string> RawHttpConnection::receiveSome(std::size_t max,
                                                          std::chrono::milliseconds timeout) {
  pollfd descriptor{fd_, POLLIN, 0};
  const int ready = ::poll(&descriptor, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) {
    return std::nullopt;
  }
  std::string chunk(max, '\0');
  const ssize_t got = ::recv(fd_, chunk.data(), chunk.size(), 0);
  if (got < 0) {
    return std::nullopt;
  }
  chunk.resize(static_cast<std::size_t>(got));
  return chunk;
}

std::optional<std::string> RawHttpConnection::readUntilClosed(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::string received = std::move(buffer_);
  buffer_.clear();
  while (std::chrono::steady_clock::now() < until) {
    const auto wait =
        std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    pollfd descriptor{fd_, POLLIN, 0};
    const int ready = ::poll(&descriptor, 1, static_cast<int>(wait.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return std::nullopt;
    }
    char chunk[16384];
    const ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (got <= 0) {
      return received;
    }
    received.append(chunk, static_cast<std::size_t>(got));
  }
  return std::nullopt;
}

bool RawHttpConnection::waitClosed(std::chrono::milliseconds timeout) {
  return readUntilClosed(timeout).has_value();
}

std::optional<RawResponse> requestOnce(uint16_t port, std::string_view request,
                                       std::string_view address) {
  auto connection = RawHttpConnection::open(port, address);
  if (!connection || !connection->send(request)) {
    return std::nullopt;
  }
  return connection->readResponse();
}

std::string getRequest(std::string_view target, std::string_view extra_headers) {
  std::string request = "GET ";
  request += target;
  request += " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  request += extra_headers;
  request += "\r\n";
  return request;
}

std::string postRequest(std::string_view target, std::string_view body,
                        std::string_view extra_headers) {
  std::string request = "POST ";
  request += target;
  request += " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  request += "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += extra_headers;
  request += "\r\n";
  request += body;
  return request;
}

}  // namespace tmirror::testing
