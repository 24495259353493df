// ConnectionStream: one accepted client connection as cpp-httplib reads and writes it, adding
// what cpp-httplib 0.11 lacks: a deadline for a whole request (so a client cannot trickle bytes
// forever), reads that wake up when the server stops, pipelined requests that are not lost, a
// record of requests cut by a timeout, and a lingering close after a rejected request.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>

namespace tmirror::server {

struct ConnectionLimits {
  std::chrono::milliseconds read_timeout{10000};     // longest wait for the next bytes
  std::chrono::milliseconds write_timeout{10000};    // longest wait to send more bytes
  std::chrono::milliseconds request_timeout{30000};  // a whole request, headers and body
};

class ConnectionStream final : public httplib::Stream {
 public:
  enum class Wait { Request, Idle, Stopping };

  // Takes ownership of fd. stopping() is polled while waiting; true makes waits give up.
  ConnectionStream(int fd, ConnectionLimits limits, std::function<bool()> stopping);
  ~ConnectionStream() override;
  ConnectionStream(const ConnectionStream&) = delete;
  ConnectionStream& operator=(const ConnectionStream&) = delete;

  // Between requests on a kept-alive connection: Request when bytes (or end of stream) arrived.
  Wait waitForRequest(std::chrono::milliseconds idle_timeout);

  // Starts the whole-request deadline and clears timedOut().
  void beginRequest();

  // A read of the current request gave up on the read timeout or the request deadline.
  bool timedOut() const { return timed_out_; }

  // Sends FIN, then reads and discards what the client still sends, for at most budget, so the
  // client reads the answer instead of losing it to a reset. Closing without this is done by the
  // destructor.
  void closeLingering(std::chrono::milliseconds budget);

  // httplib::Stream
  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;

  socket_t socket() const override { return fd_; }

 private:
  using Clock = std::chrono::steady_clock;

  // 1 when events are ready, 0 when until passed, -1 on error or stop.
  int waitFor(short events, Clock::time_point until, bool honour_stop) const;
  Clock::time_point readUntil() const;
  void closeNow();

  int fd_;
  const ConnectionLimits limits_;
  const std::function<bool()> stopping_;
  Clock::time_point deadline_;
  mutable bool timed_out_ = false;

  static constexpr std::size_t kBufferSize = 16 * 1024;
  char buffer_[kBufferSize];
  std::size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_)
  std::size_t end_ = 0;
};

// What handlers running on a connection's thread can ask of it. Handlers run on the thread that
// reads the connection, so a thread-local pointer reaches it without changing cpp-httplib's
// handler signatures.
struct ConnectionContext {
  ConnectionStream* stream = nullptr;
  bool close_after_response = false;  // the rest of the input cannot be trusted: no keep-alive
  bool answered = false;              // one of our handlers made the current response
};

// Null outside a connection's thread.
ConnectionContext* currentConnection();

class ScopedConnectionContext {
 public:
  explicit ScopedConnectionContext(ConnectionContext& context);
  ~ScopedConnectionContext();
  ScopedConnectionContext(const ScopedConnectionContext&) = delete;
  ScopedConnectionContext& operator=(const ScopedConnectionContext&) = delete;

 private:
  ConnectionContext* previous_;
};

}  // namespace tmirror::server
