// HttpListener: an event-driven HTTP/1.1 server on Boost.Beast. A few I/O threads serve every
// connection, each its own share of them; no thread waits for a slow client or a parked
// long-poll. It reads each request
// whole under deadlines and size limits, refuses what it cannot trust (see Refusal), caps
// connections in total and per client address, and hands each request to a Handler.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/message.h"
#include "http/responder.h"

namespace tmirror::http {

// Which cap turned a connection away.
enum class ConnectionCap { Total, PerAddress };

class Handler {
 public:
  virtual ~Handler() = default;
  // A request read whole. Runs on an I/O thread, so it must not block: answer through respond
  // at once, or hand respond (and the request) to another thread and return.
  virtual void serve(Request request, Responder respond) = 0;
  // The answer to a request the listener refuses itself; the connection closes after it.
  virtual Response refusal(Refusal why) = 0;

  // A connection was closed at once for being over a cap. Runs on an I/O thread.
  virtual void connectionRefused(ConnectionCap) {}
};

struct TlsFiles {
  std::filesystem::path certificate_chain;  // PEM: the server's certificate, then its issuers
  std::filesystem::path private_key;        // PEM
};

struct ListenerOptions {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal
  uint16_t port = 0;                  // 0: any free port, see port()
  std::size_t io_threads = 2;
  // Connections beyond these are closed as soon as they are accepted, after a fixed 503.
  std::size_t max_connections = 16384;
  std::size_t max_connections_per_address = 1024;
  // A request's head must arrive whole this long after its first byte (on a new connection:
  // after the connection opened).
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds read_timeout{10000};     // longest silence inside a request
  std::chrono::milliseconds request_timeout{30000};  // a whole request, head and body
  std::chrono::milliseconds idle_timeout{5000};      // between requests on a kept-alive connection
  std::chrono::milliseconds write_timeout{10000};    // a whole response
  std::size_t max_header_bytes = 16 * 1024;          // request line and headers
  std::size_t max_target_bytes = 8 * 1024;           // the request target alone
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_requests_per_connection = 100;  // then the connection closes
  // Set: every connection speaks TLS (1.2 or later) with this certificate; the handshake must
  // end within header_timeout.
  std::optional<TlsFiles> tls;
};

struct ListenerStats {
  uint64_t open = 0;      // connections open now
  uint64_t accepted = 0;  // since start, refused ones included
  uint64_t refused_total_cap = 0;
  uint64_t refused_address_cap = 0;
};

class HttpListener {
 public:
  // Checks the options. handler must outlive the listener.
  static Result<std::unique_ptr<HttpListener>> create(const ListenerOptions& options,
                                                      Handler& handler);
  ~HttpListener();  // stops
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds, listens and starts the I/O threads. Once per listener.
  Result<void> start();

  // The port listened on: the one asked for, or the one the kernel chose for 0.
  uint16_t port() const;

  // Stops accepting, closes every connection (answers still owed are dropped) and joins the
  // I/O threads. Idempotent.
  void stop();

  ListenerStats stats() const;

  class Impl;

 private:
  explicit HttpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tmirror::http
