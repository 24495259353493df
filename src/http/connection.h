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
      : options(listener_options), handler(request_handler) {}

  // Counts a new connection from address, unless a cap says no.
  enum class Admission { Admitted, OverTotal, OverAddress };
  Admission admit(const std::string& address);
  void track(ConnectionBase* connection, std::weak_ptr<ConnectionBase> weak);
  void release(ConnectionBase* connection, const std::string& address);
  // Closes every connection; no new ones are admitted.
  void abortAll();

  boost::asio::io_context io;
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
