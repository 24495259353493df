// A raw-socket HTTP/1.1 client for the HTTP tests: sends exactly the bytes a test writes
// (encoded query strings, broken framing, stalls) and reads Content-Length-framed responses.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tmirror::testing {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class RawHttpConnection {
 public:
  // Connects to address:port (IPv4 or IPv6 literal); nullopt when the connection fails.
  static std::optional<RawHttpConnection> open(uint16_t port,
                                               std::string_view address = "127.0.0.1");

  RawHttpConnection(RawHttpConnection&& other) noexcept;
  RawHttpConnection& operator=(RawHttpConnection&&) = delete;
  ~RawHttpConnection();

  bool send(std::string_view bytes);

  // One response; nullopt when it does not arrive complete within timeout.
  std::optional<RawResponse> readResponse(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Makes the kernel buffer little of what arrives, so that a slow reader holds the server up.
  void shrinkReceiveBuffer();

  // Up to max bytes, as they come; "" at end of stream, nullopt on timeout or error.
  std::optional<std::string> receiveSome(std::size_t max, std::chrono::milliseconds timeout);

  // Every byte until the server closes the connection; nullopt when it stays open past timeout.
  std::optional<std::string> readUntilClosed(std::chrono::milliseconds timeout);

  // True when the server closes the connection (end of stream or reset) within timeout; bytes
  // that arrive meanwhile are discarded.
  bool waitClosed(std::chrono::milliseconds timeout);

 private:
  explicit RawHttpConnection(int fd) : fd_(fd) {}

  // Appends what arrives within until; false on timeout, close or error.
  bool receiveMore(std::chrono::steady_clock::time_point until);

  int fd_ = -1;
  std::string buffer_;
};

// One request on a fresh connection, one response.
std::optional<RawResponse> requestOnce(uint16_t port, std::string_view request,
                                       std::string_view address = "127.0.0.1");

// Request texts with Host and "Connection: close"; extra_headers are full lines ending in \r\n.
std::string getRequest(std::string_view target, std::string_view extra_headers = "");
std::string postRequest(std::string_view target, std::string_view body,
                        std::string_view extra_headers = "");

}  // namespace tmirror::testing
