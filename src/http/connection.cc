#include "http/connection.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/ascii.h"
#include "common/random.h"

namespace tmirror::http::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using BoostError = boost::system::error_code;

// After a refused request the client may still be sending: read and drop its bytes this long so
// that it reads the answer instead of losing it to a reset.
constexpr std::chrono::milliseconds kLingerBudget{500};

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Bytes asked of the socket per read: small, because ten thousand idle connections each keep
// their buffer between requests (a larger head or body grows it as it comes).
constexpr std::size_t kReadSize = 4096;

std::string_view view(beast::string_view text) {
  return {text.data(), text.size()};
}

// The methods the routes above take; other methods HTTP defines are 405, unknown tokens 400.
std::optional<Refusal> checkMethod(bhttp::verb method) {
  switch (method) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::post:
    case bhttp::verb::put:
    case bhttp::verb::patch:
    case bhttp::verb::delete_:
    case bhttp::verb::options:
      return std::nullopt;
    case bhttp::verb::unknown:
      return Refusal::Malformed;
    default:
      return Refusal::MethodNotAllowed;
  }
}

std::chrono::milliseconds jitteredHeadTimeout(std::chrono::milliseconds timeout) {
  return timeout -
         std::chrono::milliseconds(jitterBetween(0, static_cast<uint64_t>(timeout.count() / 10)));
}

bool methodTakesNoBody(bhttp::verb method) {
  return method == bhttp::verb::get || method == bhttp::verb::head ||
         method == bhttp::verb::options;
}

// Stream: tcp::socket, or ssl::stream<tcp::socket> when the listener has TLS.
template <typename Stream>
class Connection final : public ConnectionBase,
                         public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  Connection(Stream stream, std::shared_ptr<ListenerState> state, std::string remote)
      : state_(std::move(state)),
        stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        limits_(state_->options),
        head_timeout_(jitteredHeadTimeout(limits_.header_timeout)),
        remote_(std::move(remote)),
        buffer_(limits_.max_header_bytes + 64 * 1024) {}

  ~Connection() override { state_->release(this, remote_); }

  void start() override {
    // Responses leave in more than one send(); without TCP_NODELAY a kept-alive client's next
    // request waits for its delayed ACK (~40 ms).
    BoostError ignored;
    socket().set_option(tcp::no_delay(true), ignored);
    opened_ = Clock::now();
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->readRequest();
      }
    });
  }

  void abort() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

  // Holds the connection weakly while queued: an answer posted after the I/O threads stopped
  // must not keep the connection (and its io_context) alive in the io_context's own queue.
  // An answer given on this connection's strand (a handler that answered at once) is written
  // at once, with no trip through the queue and no other thread woken.
  void deliver(uint64_t request, Response response) override {
    asio::dispatch(stream_.get_executor(), [weak = this->weak_from_this(), request,
                                            response = std::move(response)]() mutable {
      if (const auto self = weak.lock()) {
        self->onResponse(request, std::move(response));
      }
    });
  }

  bool open() const override { return !closed_.load(std::memory_order_relaxed); }

 private:
  enum class Phase { Reading, Serving, Writing, Lingering, Closed };

  tcp::socket& socket() { return beast::get_lowest_layer(stream_); }

  // TLS: the handshake must end within the head deadline, like a plain request's head.
  void handshake() {
    armTimer(opened_ + head_timeout_);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](BoostError error) {
                              self->disarmTimer();
                              if (error || self->timed_out_ || self->phase_ == Phase::Closed) {
                                self->close();
                                return;
                              }
                              self->readRequest();
                            });
  }

  // --- reading a request -----------------------------------------------------------------

  void readRequest() {
    phase_ = Phase::Reading;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(static_cast<std::uint64_t>(limits_.max_body_bytes));
    head_checked_ = false;
    started_ = std::nullopt;
    if (buffer_.size() > 0) {
      startRequestClock();
    }
    readSome();
  }

  // The head and request deadlines run from a request's first byte.
  void startRequestClock() {
    const auto now = Clock::now();
    started_ = now;
    head_deadline_ = (served_ == 0 ? opened_ : now) + head_timeout_;
    request_deadline_ = now + limits_.request_timeout;
  }

  // Parses what is buffered; reads more when the parser needs it. The socket is read directly,
  // not through Beast's read operations, so that every read has its own silence deadline (a
  // partial head counts as bytes received).
  void readSome() {
    if (buffer_.size() > 0 && !parseBuffered()) {
      return;  // the request is complete or refused
    }
    const std::size_t room = std::min(kReadSize, buffer_.max_size() - buffer_.size());
    if (room == 0) {
      refuse(Refusal::HeadersTooLarge);
      return;
    }
    // The read deadline only ever moves later while a request arrives, so one timer serves
    // every read: it is armed once, and when it fires early it is set again (see onDeadline).
    // A trickling client costs one read and one parse per chunk, no timer operations.
    last_read_ = Clock::now();
    const Clock::time_point until = readDeadline();
    if (!read_timer_armed_ || until < timer_.expiry()) {
      armTimer(until);
      read_timer_armed_ = true;
    }
    stream_.async_read_some(buffer_.prepare(room),
                            [self = this->shared_from_this()](BoostError error, std::size_t bytes) {
                              self->onRead(error, bytes);
                            });
  }

  // When the current read must end: the first request's head deadline on a new connection, the
  // idle timeout between requests, then the silence, head and request deadlines.
  Clock::time_point readDeadline() const {
    if (!started_) {
      return served_ == 0 ? opened_ + head_timeout_ : last_read_ + limits_.idle_timeout;
    }
    Clock::time_point until = std::min(last_read_ + limits_.read_timeout, request_deadline_);
    if (!parser_->is_header_done()) {
      until = std::min(until, head_deadline_);
    }
    return until;
  }

  void onRead(BoostError error, std::size_t bytes) {
    if (phase_ == Phase::Closed) {
      return;
    }
    buffer_.commit(bytes);
    if (!started_ && buffer_.size() > 0) {
      startRequestClock();
    }
    if (timed_out_) {
      if (started_) {
        refuse(Refusal::Timeout);
      } else {
        close();  // an idle connection: nothing to answer
      }
      return;
    }
    if (error) {
      close();  // the client closed or the socket failed: nobody to answer
      return;
    }
    readSome();
  }

  // Feeds the buffered bytes to the parser. False when it needs no more input: the request was
  // dispatched, refused, or a 100 Continue is on its way.
  bool parseBuffered() {
    while (buffer_.size() > 0) {
      BoostError error;
      const std::size_t used = parser_->put(buffer_.data(), error);
      buffer_.consume(used);
      if (error == bhttp::error::need_more) {
        return true;
      }
      if (error) {
        onParseError(error);
        return false;
      }
      if (!head_checked_ && parser_->is_header_done()) {
        head_checked_ = true;
        if (const auto refusal = checkHead()) {
          refuse(*refusal);
          return false;
        }
        parser_->eager(true);  // the body as it comes, now that the head is accepted
        const auto expect = parser_->get()[bhttp::field::expect];
        if (!parser_->is_done() && equalsIgnoreAsciiCase(view(expect), "100-continue")) {
          sendContinue();
          return false;
        }
      }
      if (parser_->is_done()) {
        dispatch();
        return false;
      }
      if (used == 0) {
        return true;
      }
    }
    return true;
  }

  void onParseError(BoostError error) {
    if (error == bhttp::error::body_limit) {
      refuse(Refusal::BodyTooLarge);
    } else if (error == bhttp::error::header_limit) {
      // Without a line end in what arrived, it is the request line that is too long.
      const auto data = buffer_.cdata();
      const std::string_view received(static_cast<const char*>(data.data()), data.size());
      refuse(received.find('\n') == std::string_view::npos ? Refusal::UriTooLong
                                                           : Refusal::HeadersTooLarge);
    } else {
      refuse(Refusal::Malformed);
    }
  }

  // What the parser accepted but tmirror does not: checked before any of the body is read.
  std::optional<Refusal> checkHead() {
    const auto& message = parser_->get();
    if (auto refusal = checkMethod(message.method())) {
      return refusal;
    }
    if (message.target().size() > limits_.max_target_bytes) {
      return Refusal::UriTooLong;
    }
    const std::size_t lengths = message.count(bhttp::field::content_length);
    const std::size_t encodings = message.count(bhttp::field::transfer_encoding);
    if (lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0) ||
        (encodings == 1 &&
         !equalsIgnoreAsciiCase(view(message[bhttp::field::transfer_encoding]), "chunked"))) {
      return Refusal::Malformed;
    }
    if (methodTakesNoBody(message.method()) &&
        (encodings > 0 || parser_->content_length().value_or(0) > 0)) {
      return Refusal::Malformed;
    }
    return std::nullopt;
  }

  void sendContinue() {
    armTimer(Clock::now() + limits_.write_timeout);
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = this->shared_from_this()](BoostError error, std::size_t) {
                        self->disarmTimer();
                        if (error || self->timed_out_ || self->phase_ == Phase::Closed) {
                          self->close();
                          return;
                        }
                        self->readSome();
                      });
  }

  // --- serving ---------------------------------------------------------------------------

  void dispatch() {
    disarmTimer();  // the request is whole: no read deadline while the handler answers
    auto& message = parser_->get();
    Request request;
    request.method = std::string(view(message.method_string()));
    request.target = std::string(view(message.target()));
    for (const auto& field : message) {
      request.headers.push_back(
          {std::string(view(field.name_string())), std::string(view(field.value()))});
    }
    request.body = std::move(message.body());
    request.remote_address = remote_;
    request.head = message.method() == bhttp::verb::head;
    head_request_ = request.head;
    client_keeps_alive_ = message.keep_alive();
    parser_.reset();
    if (buffer_.size() == 0) {
      buffer_.shrink_to_fit();  // a long-poll may park this connection for a while
    }
    ++served_;
    ++request_id_;
    phase_ = Phase::Serving;
    self_ = this->shared_from_this();  // until the answer comes, whoever holds the Responder
    const Responder respond(this->weak_from_this(), request_id_);
    try {
      state_->handler.serve(std::move(request), respond);
    } catch (...) {
      respond(refusalFor(Refusal::InternalError));
    }
  }

  void onResponse(uint64_t request, Response response) {
    if (phase_ != Phase::Serving || request != request_id_) {
      return;  // already answered, or the connection closed
    }
    self_.reset();
    write(std::move(response), false);
  }

  Response refusalFor(Refusal why) {
    try {
      return state_->handler.refusal(why);
    } catch (...) {
      return Response{.status = 500, .close = true};
    }
  }

  void refuse(Refusal why) { write(refusalFor(why), true); }

  // --- writing the answer ----------------------------------------------------------------

  void write(Response response, bool refused) {
    close_after_write_ = response.close || refused || !client_keeps_alive_ ||
                         served_ >= limits_.max_requests_per_connection;
    linger_ = refused;
    phase_ = Phase::Writing;
    armTimer(Clock::now() + limits_.write_timeout);
    if (response.file) {
      auto message = std::make_shared<bhttp::response<bhttp::file_body>>();
      BoostError error;
      message->body().open(response.file->path.c_str(), beast::file_mode::scan, error);
      if (!error) {
        fill(*message, response);
        send(std::move(message));
        return;
      }
      response = refusalFor(Refusal::InternalError);
      close_after_write_ = true;
    }
    auto message = std::make_shared<bhttp::response<bhttp::string_body>>();
    message->body() = std::move(response.body);
    fill(*message, response);
    send(std::move(message));
  }

  template <typename Body>
  void fill(bhttp::response<Body>& message, const Response& response) const {
    message.version(11);
    message.result(static_cast<unsigned>(response.status));
    if (!response.content_type.empty()) {
      message.set(bhttp::field::content_type, beast::string_view(response.content_type));
    }
    for (const Header& header : response.headers) {
      message.insert(beast::string_view(header.name), beast::string_view(header.value));
    }
    message.keep_alive(!close_after_write_);
    message.prepare_payload();
  }

  // Written piece by piece: write_timeout bounds each wait for the client to take more, not the
  // whole response (a capture download may take minutes).
  template <typename Body>
  void send(std::shared_ptr<bhttp::response<Body>> message) {
    auto serializer = std::make_shared<bhttp::response_serializer<Body>>(*message);
    serializer->split(head_request_);  // HEAD: stop after the head
    writing_ = true;
    writeSome(std::move(message), std::move(serializer));
  }

  template <typename Body>
  void writeSome(std::shared_ptr<bhttp::response<Body>> message,
                 std::shared_ptr<bhttp::response_serializer<Body>> serializer) {
    last_write_ = Clock::now();
    bhttp::async_write_some(
        stream_, *serializer,
        [self = this->shared_from_this(), message, serializer](BoostError error, std::size_t) {
          // HEAD: the head as a GET would have it, Content-Length included, and no body.
          const bool done =
              self->head_request_ ? serializer->is_header_done() : serializer->is_done();
          if (error || done || self->timed_out_ || self->phase_ == Phase::Closed) {
            self->writing_ = false;
            self->onWritten(error);
            return;
          }
          self->writeSome(message, serializer);
        });
  }

  void onWritten(BoostError error) {
    disarmTimer();
    head_request_ = false;
    if (phase_ == Phase::Closed) {
      return;
    }
    if (error || timed_out_) {
      close();
      return;
    }
    if (!close_after_write_) {
      readRequest();
      return;
    }
    if constexpr (kTls) {
      // close_notify, then the close; a client that does not answer it has the linger budget.
      phase_ = Phase::Lingering;
      armTimer(Clock::now() + kLingerBudget);
      stream_.async_shutdown([self = this->shared_from_this()](BoostError) { self->close(); });
      return;
    }
    BoostError ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (linger_) {
      phase_ = Phase::Lingering;
      drain_ = std::make_unique<std::array<char, 4096>>();
      armTimer(Clock::now() + kLingerBudget);
      drain();
      return;
    }
    close();
  }

  // Reads and drops what the client still sends until it closes or the linger budget ends.
  void drain() {
    socket().async_read_some(asio::buffer(*drain_),
                             [self = this->shared_from_this()](BoostError error, std::size_t) {
                               if (error || self->timed_out_ || self->phase_ == Phase::Closed) {
                                 self->close();
                                 return;
                               }
                               self->drain();
                             });
  }

  // --- deadlines and closing -------------------------------------------------------------

  // One deadline at a time; when it passes, the pending operation is cancelled and sees
  // timed_out_.
  void armTimer(Clock::time_point until) {
    timed_out_ = false;
    read_timer_armed_ = false;
    const uint64_t generation = ++timer_generation_;
    timer_.expires_at(until);
    timer_.async_wait([self = this->shared_from_this(), generation](BoostError error) {
      if (error || generation != self->timer_generation_ || self->phase_ == Phase::Closed) {
        return;
      }
      self->onDeadline();
    });
  }

  void onDeadline() {
    if (writing_ && phase_ == Phase::Writing) {
      const Clock::time_point until = last_write_ + limits_.write_timeout;
      if (Clock::now() < until) {
        armTimer(until);  // the client took more since it was set
        return;
      }
    }
    if (read_timer_armed_ && phase_ == Phase::Reading) {
      const Clock::time_point until = readDeadline();
      if (Clock::now() < until) {
        armTimer(until);  // bytes came since it was set: the deadline moved
        read_timer_armed_ = true;
        return;
      }
    }
    timed_out_ = true;
    BoostError ignored;
    socket().cancel(ignored);
  }

  void disarmTimer() {
    ++timer_generation_;
    read_timer_armed_ = false;
    timer_.cancel();
  }

  void close() {
    if (phase_ == Phase::Closed) {
      return;
    }
    phase_ = Phase::Closed;
    closed_.store(true, std::memory_order_relaxed);
    disarmTimer();
    BoostError ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
    self_.reset();
  }

  const std::shared_ptr<ListenerState> state_;  // first: the io_context outlives the socket
  Stream stream_;                               // its executor is this connection's strand
  asio::steady_timer timer_;
  const ListenerOptions& limits_;
  // header_timeout less up to a tenth, drawn per connection: connections opened together (an
  // attacker's burst) are cut over a stretch of time, not in one wave of work.
  const std::chrono::milliseconds head_timeout_;
  const std::string remote_;

  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<std::array<char, 4096>> drain_;
  std::shared_ptr<Connection> self_;  // while a Responder owes the answer

  Phase phase_ = Phase::Reading;
  std::atomic<bool> closed_{false};
  Clock::time_point opened_;
  std::optional<Clock::time_point> started_;  // the current request's first byte
  Clock::time_point head_deadline_;
  Clock::time_point request_deadline_;
  Clock::time_point last_read_;   // when the last read was started (bytes or not)
  Clock::time_point last_write_;  // when the last piece of the response was handed to the socket
  bool writing_ = false;          // a response is being written piece by piece
  uint64_t timer_generation_ = 0;
  bool read_timer_armed_ = false;  // the timer holds the current read deadline
  bool timed_out_ = false;
  bool head_checked_ = false;
  bool head_request_ = false;
  bool client_keeps_alive_ = true;
  bool close_after_write_ = false;
  bool linger_ = false;
  std::size_t served_ = 0;
  uint64_t request_id_ = 0;
};

}  // namespace

ListenerState::Admission ListenerState::admit(const std::string& address) {
  std::lock_guard lock(mutex_);
  ++accepted;
  if (stopping_ || live_.size() >= options.max_connections) {
    ++refused_total_cap;
    return Admission::OverTotal;
  }
  std::size_t& from_address = per_address_[address];
  if (from_address >= options.max_connections_per_address) {
    ++refused_address_cap;
    return Admission::OverAddress;
  }
  ++from_address;
  return Admission::Admitted;
}

void ListenerState::track(ConnectionBase* connection, std::weak_ptr<ConnectionBase> weak) {
  std::lock_guard lock(mutex_);
  live_.emplace(connection, std::move(weak));
  open.store(live_.size(), std::memory_order_relaxed);
}

void ListenerState::release(ConnectionBase* connection, const std::string& address) {
  std::lock_guard lock(mutex_);
  live_.erase(connection);
  open.store(live_.size(), std::memory_order_relaxed);
  const auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
}

void ListenerState::abortAll() {
  std::vector<std::shared_ptr<ConnectionBase>> connections;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const auto& [raw, weak] : live_) {
      if (auto connection = weak.lock()) {
        connections.push_back(std::move(connection));
      }
    }
  }
  for (const auto& connection : connections) {
    connection->abort();
  }
}

void startConnection(tcp::socket socket, std::shared_ptr<ListenerState> state, std::string remote) {
  ListenerState& owner = *state;
  std::shared_ptr<ConnectionBase> connection;
  if (owner.tls) {
    using TlsStream = asio::ssl::stream<tcp::socket>;
    connection = std::make_shared<Connection<TlsStream>>(TlsStream(std::move(socket), *owner.tls),
                                                         std::move(state), std::move(remote));
  } else {
    connection = std::make_shared<Connection<tcp::socket>>(std::move(socket), std::move(state),
                                                           std::move(remote));
  }
  owner.track(connection.get(), connection);
  connection->start();
}

}  // namespace tmirror::http::detail
