// Internal to the listener: one client connection's state machine, and the state the listener
// shares with its connections (the io_context, limits, handler, who is connected). Connections
// hold that state by shared_ptr: a Responder may keep a connection a moment after the listener
// has gone, and the connection's socket must not outlive its io_context. The handler is only
// called on the I/O threads, which stop() joins.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "http/listener.h"

namespace tmirror::http::detail {

class ConnectionBase : public ResponseTarget {
 public:
  virtual void start() = 0;
  virtual void abort() = 0;  // from any thread: close now
};

struct ListenerState {
  ListenerState(const ListenerOptions& listener_options, Handler& request_handler)
      : options(listener_options), handler(request_handler) {
    for (std::size_t i = 0; i < options.io_threads; ++i) {
      io.push_back(std::make_unique<boost::asio::io_context>(1));
    }
  }

  // The io_context the next connection lives on: round robin.
  boost::asio::io_context& nextIo() {
    return *io[next_io.fetch_add(1, std::memory_order_relaxed) % io.size()];
  }

  // Counts a new connection from address, unless a cap says no.
  enum class Admission { Admitted, OverTotal, OverAddress };
  Admission admit(const std::string& address);
  void track(ConnectionBase* connection, std::weak_ptr<ConnectionBase> weak);
  void release(ConnectionBase* connection, const std::string& address);
  // Closes every connection; no new ones are admitted.
  void abortAll();

  // One io_context per I/O thread, each run by its thread alone: a connection's reads, its
  // handler and its writes stay on one thread, and readiness on one connection never wakes
  // another thread to run it (with one shared io_context, every event was a hand-off).
  std::vector<std::unique_ptr<boost::asio::io_context>> io;
  std::atomic<std::size_t> next_io{0};
  const ListenerOptions options;
  Handler& handler;
  std::optional<boost::asio::ssl::context> tls;  // set: every connection speaks TLS

  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused_total_cap{0};
  std::atomic<uint64_t> refused_address_cap{0};
  std::atomic<uint64_t> open{0};

 private:
  std::mutex mutex_;
  bool stopping_ = false;
  std::unordered_map<std::string, std::size_t> per_address_;
  std::unordered_map<ConnectionBase*, std::weak_ptr<ConnectionBase>> live_;
};

// Starts serving an accepted, admitted connection. remote: the client's IP literal.
void startConnection(boost::asio::ip::tcp::socket socket, std::shared_ptr<ListenerState> state,
                     std::string remote);

}  // namespace tmirror::http::detail
