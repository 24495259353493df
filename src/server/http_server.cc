#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "common/aws_xml.h"
#include "common/random.h"
#include "console/console_routes.h"
#include "server/api_request_labels.h"
#include "server/capture_files.h"
#include "server/http_connection.h"

namespace tmirror::server {
namespace {

using Clock = std::chrono::steady_clock;
using HandlerResponse = httplib::Server::HandlerResponse;

// After a rejected request the client may still be sending: read and drop its bytes this long so
// it sees the answer rather than a reset.
constexpr std::chrono::milliseconds kLingerBudget{500};

// How long start() waits for the listener thread to enter its accept loop.
constexpr std::chrono::seconds kStartTimeout{5};

const std::vector<double> kDurationBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

// Label values of tmirror_http_rejected_total: why the HTTP layer answered a request itself.
constexpr std::string_view kReasonBodyTooLarge = "body_too_large";
constexpr std::string_view kReasonReadTimeout = "read_timeout";
constexpr std::string_view kReasonMalformed = "malformed_request";
constexpr std::string_view kReasonUriTooLong = "uri_too_long";
constexpr std::string_view kReasonMethod = "method_not_allowed";
constexpr std::string_view kReasonNotFound = "not_found";
constexpr std::string_view kReasonOther = "other";
constexpr std::string_view kAllReasons[] = {
    kReasonBodyTooLarge, kReasonReadTimeout, kReasonMalformed, kReasonUriTooLong,
    kReasonMethod,       kReasonNotFound,    kReasonOther};

constexpr std::string_view kInternalErrorMessage =
    "We encountered an internal error. Please try again.";

bool isAllowedMethod(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "POST" || method == "PUT" ||
         method == "PATCH" || method == "DELETE" || method == "OPTIONS";
}

bool methodTakesNoBody(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

// Headers cpp-httplib adds to every request for its own handlers; a client may also send them.
// Neither belongs in the view a signature is checked against.
bool isLibraryHeader(const std::string& name) {
  return equalsIgnoreCase(name, "REMOTE_ADDR") || equalsIgnoreCase(name, "REMOTE_PORT") ||
         equalsIgnoreCase(name, "LOCAL_ADDR") || equalsIgnoreCase(name, "LOCAL_PORT");
}

std::string toLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return lower;
}

// Loopback: 127.0.0.0/8, ::1 or ::ffff:127.x. nullopt: not an IP literal.
std::optional<bool> isLoopbackLiteral(const std::string& address) {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) {
      return true;
    }
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return std::nullopt;
}

std::string endpointText(const std::string& address, uint16_t port) {
  const bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

// The raw request target split at the first '?', exactly as the client sent it: SigV4 signs the
// query string in its encoded form.
std::pair<std::string_view, std::string_view> splitTarget(std::string_view target) {
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) {
    return {target, {}};
  }
  return {target.substr(0, question), target.substr(question + 1)};
}

// cpp-httplib's Server with our own connection loop: cpp-httplib 0.11 cannot close a connection
// from a handler, loses pipelined requests, and bounds reads only per read, not per request.
class ListeningServer final : public httplib::Server {
 public:
  ListeningServer(ConnectionLimits limits, std::chrono::milliseconds keep_alive_timeout,
                  std::size_t max_requests, metrics::Counter rejected)
      : limits_(limits),
        keep_alive_timeout_(keep_alive_timeout),
        max_requests_(max_requests),
        rejected_(std::move(rejected)) {}

  // cpp-httplib compiles in a listen backlog of 5; a burst of agents deserves more.
  void raiseBacklog() {
    const socket_t listening = svr_sock_;
    if (listening != INVALID_SOCKET) {
      ::listen(listening, SOMAXCONN);
    }
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    // Responses leave in more than one send(); without TCP_NODELAY every keep-alive request
    // after the first waits for the client's delayed ACK (~40 ms).
    int nodelay = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay));
    ConnectionStream stream(sock, limits_, [this] { return svr_sock_ == INVALID_SOCKET; });
    ConnectionContext context{&stream};
    ScopedConnectionContext scope(context);
    bool linger = false;
    for (std::size_t served = 0; served < max_requests_; ++served) {
      if (served > 0 &&
          stream.waitForRequest(keep_alive_timeout_) != ConnectionStream::Wait::Request) {
        break;
      }
      if (svr_sock_ == INVALID_SOCKET) {
        break;
      }
      stream.beginRequest();
      context.close_after_response = false;
      context.answered = false;
      bool connection_closed = false;
      const bool last = served + 1 == max_requests_;
      const bool ok = process_request(stream, last, connection_closed, nullptr);
      if (stream.timedOut()) {
        rejected_.increment({std::string(kReasonReadTimeout)});
        break;
      }
      if (context.close_after_response) {
        linger = true;
        break;
      }
      if (!ok || connection_closed) {
        break;
      }
    }
    if (linger) {
      stream.closeLingering(kLingerBudget);
    }
    return true;
  }

  const ConnectionLimits limits_;
  const std::chrono::milliseconds keep_alive_timeout_;
  const std::size_t max_requests_;
  const metrics::Counter rejected_;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, api::QueryApi& api, AgentRoutes* agent,
       metrics::Registry& metrics, bool loopback, metrics::Counter requests,
       metrics::Histogram duration, metrics::Counter rejected, metrics::Counter handler_exceptions)
      : options_(options),
        api_(api),
        agent_(agent),
        metrics_(metrics),
        loopback_(loopback),
        requests_(std::move(requests)),
        duration_(std::move(duration)),
        rejected_(std::move(rejected)),
        handler_exceptions_(std::move(handler_exceptions)) {
    http_ = std::make_unique<ListeningServer>(
        ConnectionLimits{.read_timeout = options.read_timeout,
                         .write_timeout = options.write_timeout,
                         .request_timeout = options.request_timeout},
        options.keep_alive_timeout, options.keep_alive_max_requests, rejected_);
    configure();
  }

  ~Impl() { stop(); }

  Result<void> start() {
    std::lock_guard lock(lifecycle_mutex_);
    if (state_ != State::Created) {
      return makeError(ErrorCode::InvalidArgument, "the HTTP server was already started");
    }
    state_ = State::Stopped;  // unless everything below succeeds
    const std::string endpoint = endpointText(options_.listen_address, options_.port);
    errno = 0;
    int bound = -1;
    if (options_.port == 0) {
      bound = http_->bind_to_any_port(options_.listen_address);
    } else if (http_->bind_to_port(options_.listen_address, options_.port)) {
      bound = options_.port;
    }
    if (bound <= 0) {
      const int error = errno;
      if (error != 0) {
        return makeSystemError("cannot listen on " + endpoint, error);
      }
      return makeError(ErrorCode::Io, "cannot listen on " + endpoint);
    }
    port_ = static_cast<uint16_t>(bound);
    http_->raiseBacklog();
    listener_ = std::thread([this] {
      http_->listen_after_bind();
      listener_done_ = true;
    });
    const auto give_up = Clock::now() + kStartTimeout;
    while (!http_->is_running() && !listener_done_ && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    state_ = State::Running;
    if (!http_->is_running()) {
      stopLocked();
      return makeError(ErrorCode::Io, "the listener on " + endpoint + " did not start");
    }
    return {};
  }

  uint16_t port() const { return port_ != 0 ? port_ : options_.port; }

  void stop() {
    std::lock_guard lock(lifecycle_mutex_);
    stopLocked();
  }

 private:
  enum class State { Created, Running, Stopped };

  void stopLocked() {
    if (state_ == State::Running) {
      http_->stop();
      if (listener_.joinable()) {
        listener_.join();
      }
    }
    state_ = State::Stopped;
  }

  void configure() {
    const std::size_t threads = options_.threads;
    http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, which would let a second
    // server silently share a port that is already in use.
    http_->set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    http_->set_payload_max_length(options_.max_body_bytes);
    http_->set_read_timeout(options_.read_timeout);
    http_->set_write_timeout(options_.write_timeout);
    http_->set_keep_alive_timeout(options_.keep_alive_timeout.count());
    http_->set_keep_alive_max_count(options_.keep_alive_max_requests);

    http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return guardedPreRouting(req, res);
    });
    http_->set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          return guardedLibraryError(req, res);
        }));
    // Refuse an oversized upload before the client sends it, not after.
    http_->set_expect_100_continue_handler(
        [this](const httplib::Request& req, httplib::Response& res) {
          try {
            if (checkFraming(req, res) == HandlerResponse::Handled) {
              return res.status;
            }
            return 100;
          } catch (...) {
            answerInternalError(res);
            return res.status;
          }
        });
    http_->set_exception_handler([this](const httplib::Request&, httplib::Response& res,
                                        std::exception_ptr) { answerInternalError(res); });

    const auto api = [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { serveApi(req, res, nullptr); });
    };
    const auto api_with_body = [this](const httplib::Request& req, httplib::Response& res,
                                      const httplib::ContentReader& reader) {
      guarded(res, [&] { serveApi(req, res, &reader); });
    };
    const auto agent = [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { serveAgent(req, res, nullptr); });
    };
    const auto agent_with_body = [this](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& reader) {
      guarded(res, [&] { serveAgent(req, res, &reader); });
    };
    const auto not_found = [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { serveNotFound(req, res, nullptr); });
    };
    const auto not_found_with_body = [this](const httplib::Request& req, httplib::Response& res,
                                            const httplib::ContentReader& reader) {
      guarded(res, [&] { serveNotFound(req, res, &reader); });
    };

    // cpp-httplib tries patterns in registration order; the catch-alls come last. Every route
    // that may carry a body takes a ContentReader, so bodies are read by our bounded reader
    // (cpp-httplib's own reader caps form bodies at 8 KiB and chunked bodies not at all).
    http_->Get("/", api);
    http_->Post("/", api_with_body);
    http_->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { serveMetrics(req, res); });
    });

    // The web console: embedded static files, a client of the API above like any other.
    const auto console_files = [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { serveConsole(req, res); });
    };
    http_->Get(std::string(console::kConsolePath), console_files);
    http_->Get(std::string(console::kConsolePath) + "/.*", console_files);

    // The collector's capture files (tmirror up): listed and downloaded with SigV4.
    const auto captures = [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { serveCaptures(req, res); });
    };
    http_->Get("/captures", captures);
    http_->Get("/captures/.*", captures);

    const std::string agent_pattern = std::string(kAgentPathPrefix) + ".*";
    http_->Get(agent_pattern, agent);
    http_->Options(agent_pattern, agent);
    http_->Delete(agent_pattern, agent);
    http_->Post(agent_pattern, agent_with_body);
    http_->Put(agent_pattern, agent_with_body);
    http_->Patch(agent_pattern, agent_with_body);
    http_->Delete(agent_pattern, agent_with_body);

    http_->Get(".*", not_found);
    http_->Options(".*", not_found);
    http_->Delete(".*", not_found);
    http_->Post(".*", not_found_with_body);
    http_->Put(".*", not_found_with_body);
    http_->Patch(".*", not_found_with_body);
    http_->Delete(".*", not_found_with_body);
  }

  // Nothing thrown below a handler reaches cpp-httplib.
  template <typename Serve>
  void guarded(httplib::Response& res, Serve&& serve) {
    try {
      markAnswered();
      serve();
    } catch (...) {
      answerInternalError(res);
    }
  }

  HandlerResponse guardedPreRouting(const httplib::Request& req, httplib::Response& res) {
    try {
      return checkFraming(req, res);
    } catch (...) {
      answerInternalError(res);
      return HandlerResponse::Handled;
    }
  }

  HandlerResponse guardedLibraryError(const httplib::Request& req, httplib::Response& res) {
    try {
      return answerLibraryError(req, res);
    } catch (...) {
      return HandlerResponse::Unhandled;  // cpp-httplib sends its bare status line
    }
  }

  static void markAnswered() {
    if (ConnectionContext* connection = currentConnection()) {
      connection->answered = true;
    }
  }

  static void closeAfterResponse(httplib::Response& res) {
    if (ConnectionContext* connection = currentConnection()) {
      connection->close_after_response = true;
    }
    res.set_header("Connection", "close");
  }

  static bool requestTimedOut() {
    const ConnectionContext* connection = currentConnection();
    return connection != nullptr && connection->stream != nullptr && connection->stream->timedOut();
  }

  static void answerEnvelope(httplib::Response& res, int status, std::string_view code,
                             std::string_view message) {
    res.status = status;
    res.set_content(awsErrorDocument(code, message, newUuid4()), std::string(kXmlContentType));
  }

  // Answers with an error envelope and closes the connection: after a request that breaks the
  // rules the rest of the input cannot be trusted to be framed as the client claimed.
  void reject(httplib::Response& res, int status, std::string_view code, std::string_view message,
              std::string_view reason) {
    markAnswered();
    answerEnvelope(res, status, code, message);
    closeAfterResponse(res);
    rejected_.increment({std::string(reason)});
  }

  void rejectTimeout(httplib::Response& res) {
    // Counted once per connection by the connection loop.
    markAnswered();
    answerEnvelope(res, 408, "RequestTimeout", "The request was not received in time.");
    closeAfterResponse(res);
  }

  void answerInternalError(httplib::Response& res) noexcept {
    try {
      handler_exceptions_.increment();
      markAnswered();
      answerEnvelope(res, 500, "InternalError", kInternalErrorMessage);
      closeAfterResponse(res);
    } catch (...) {
      res.status = 500;  // out of memory: the bare status line is all that is left
    }
  }

  // Runs before cpp-httplib reads any body: refuses what must not be read at all.
  HandlerResponse checkFraming(const httplib::Request& req, httplib::Response& res) {
    if (!isAllowedMethod(req.method)) {
      reject(res, 405, "InvalidRequest", "The HTTP method is not supported.", kReasonMethod);
      return HandlerResponse::Handled;
    }
    const std::size_t lengths = req.get_header_value_count("Content-Length");
    const std::size_t encodings = req.get_header_value_count("Transfer-Encoding");
    if (lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0) ||
        (encodings == 1 &&
         !equalsIgnoreCase(req.get_header_value("Transfer-Encoding"), "chunked"))) {
      reject(res, 400, "InvalidRequest", "The request body framing is ambiguous.",
             kReasonMalformed);
      return HandlerResponse::Handled;
    }
    uint64_t length = 0;
    if (lengths == 1) {
      const std::string text = req.get_header_value("Content-Length");
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
      if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        reject(res, 400, "InvalidRequest", "The Content-Length header is not a number.",
               kReasonMalformed);
        return HandlerResponse::Handled;
      }
    }
    if (methodTakesNoBody(req.method) && (length > 0 || encodings > 0)) {
      reject(res, 400, "InvalidRequest", "This method does not take a request body.",
             kReasonMalformed);
      return HandlerResponse::Handled;
    }
    if (length > options_.max_body_bytes) {
      rejectTooLarge(res);
      return HandlerResponse::Handled;
    }
    return HandlerResponse::Unhandled;
  }

  void rejectTooLarge(httplib::Response& res) {
    reject(res, 413, "RequestEntityTooLarge",
           "The request body exceeds " + std::to_string(options_.max_body_bytes) + " bytes.",
           kReasonBodyTooLarge);
  }

  // cpp-httplib answered by itself (bad request line or headers, URI too long): give the answer
  // an AWS envelope and count it. Responses our handlers made are left alone.
  HandlerResponse answerLibraryError(const httplib::Request&, httplib::Response& res) {
    const ConnectionContext* connection = currentConnection();
    if (connection != nullptr ? connection->answered : res.has_header("Content-Type")) {
      // Ours already. Handled all the same: on the Expect: 100-continue path it is what makes
      // cpp-httplib send Content-Length.
      return HandlerResponse::Handled;
    }
    if (requestTimedOut()) {
      rejectTimeout(res);
      return HandlerResponse::Handled;
    }
    switch (res.status) {
      case 400:
        reject(res, 400, "InvalidRequest", "The request could not be parsed.", kReasonMalformed);
        break;
      case 413:
        rejectTooLarge(res);
        break;
      case 414:
        reject(res, 414, "InvalidRequest", "The request line is too long.", kReasonUriTooLong);
        break;
      case 404:
        reject(res, 404, "NotFound", "There is nothing at this path.", kReasonNotFound);
        break;
      default:
        reject(res, res.status, res.status >= 500 ? "InternalError" : "InvalidRequest",
               "The request could not be served.", kReasonOther);
    }
    return HandlerResponse::Handled;
  }

  // The request body, at most max_body_bytes. nullopt: the response is already an error and the
  // connection will close.
  std::optional<std::string> readBody(const httplib::Request& req, httplib::Response& res,
                                      const httplib::ContentReader* reader) {
    // Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 6.3);
    // cpp-httplib would read until the client closes.
    if (reader == nullptr ||
        (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))) {
      return std::string();
    }
    std::string body;
    if (req.has_header("Content-Length")) {
      // checkFraming() bounded it by max_body_bytes.
      body.reserve(req.get_header_value<uint64_t>("Content-Length"));
    }
    bool too_large = false;
    const bool complete = (*reader)([&](const char* data, size_t length) {
      if (length > options_.max_body_bytes - body.size()) {
        too_large = true;
        return false;
      }
      body.append(data, length);
      return true;
    });
    if (too_large || res.status == 413) {
      rejectTooLarge(res);
      return std::nullopt;
    }
    if (!complete) {
      if (requestTimedOut()) {
        rejectTimeout(res);
      } else {
        reject(res, 400, "InvalidRequest", "The request body could not be read.", kReasonMalformed);
      }
      return std::nullopt;
    }
    return body;
  }

  api::HttpRequestView makeView(const httplib::Request& req, std::string_view path,
                                std::string_view query, std::string_view body) const {
    api::HttpRequestView view;
    view.method = req.method;
    view.path = path;
    view.query = query;
    view.body = body;
    for (const auto& [name, value] : req.headers) {
      if (isLibraryHeader(name)) {
        continue;
      }
      // Repeated headers are joined with commas (RFC 9110 5.3), as SigV4 canonicalises them.
      auto [it, inserted] = view.headers.try_emplace(toLower(name), value);
      if (!inserted) {
        it->second += ',';
        it->second += value;
      }
    }
    view.remote_address = req.remote_addr;
    view.loopback_listener = loopback_;
    return view;
  }

  static void applyResponse(const api::HttpResponse& answer, httplib::Response& res) {
    res.status = answer.status;
    res.set_content(answer.body, answer.content_type);
  }

  void serveApi(const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader* reader) {
    std::optional<std::string> body = readBody(req, res, reader);
    if (!body) {
      return;
    }
    // Latency is the API's: a slow upload is the client's time, not ours.
    const auto started = Clock::now();
    const auto [path, query] = splitTarget(req.target);
    api::HttpResponse answer;
    try {
      answer = api_.handle(makeView(req, path, query, *body));
      applyResponse(answer, res);
    } catch (...) {
      answerInternalError(res);
      answer = api::HttpResponse{.status = res.status, .error_code = "InternalError"};
    }
    const ApiRequestLabels labels = apiRequestLabels(answer);
    requests_.increment({labels.action, labels.code});
    duration_.observe({labels.action},
                      std::chrono::duration<double>(Clock::now() - started).count());
  }

  void serveAgent(const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader* reader) {
    std::optional<std::string> body = readBody(req, res, reader);
    if (!body) {
      return;
    }
    if (agent_ == nullptr) {
      answerNotFound(res);
      return;
    }
    const auto [path, query] = splitTarget(req.target);
    applyResponse(agent_->handle(makeView(req, path, query, *body)), res);
  }

  void serveMetrics(const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(metrics_.render(), std::string(kMetricsContentType));
  }

  static void serveConsole(const httplib::Request& req, httplib::Response& res) {
    const auto [path, query] = splitTarget(req.target);
    const console::ConsoleResponse answer =
        console::serveConsole(path, req.get_header_value("If-None-Match"));
    res.status = answer.status;
    if (!answer.etag.empty()) {
      res.set_header("ETag", answer.etag);
    }
    if (!answer.location.empty()) {
      res.set_header("Location", answer.location);
    }
    res.set_header("Cache-Control", answer.cache_control);
    res.set_header("X-Content-Type-Options", "nosniff");
    // The console loads nothing from elsewhere and talks only to this server.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    if (answer.status != 304) {
      res.set_content(answer.body.data(), answer.body.size(), answer.content_type);
    }
  }

  void serveCaptures(const httplib::Request& req, httplib::Response& res) {
    if (options_.captures_dir.empty()) {
      answerNotFound(res);
      return;
    }
    const auto [path, query] = splitTarget(req.target);
    if (!options_.authorize || !options_.authorize(makeView(req, path, query, ""))) {
      answerEnvelope(res, 403, "AuthFailure",
                     "Capture files need a request signed with a valid access key.");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    if (path == "/captures") {
      res.status = 200;
      res.set_content(captureFilesToJson(listCaptureFiles(options_.captures_dir)),
                      "application/json");
      return;
    }
    const std::string name(path.substr(std::string_view("/captures/").size()));
    const auto file = resolveCaptureFile(options_.captures_dir, name);
    std::error_code error;
    const auto size = file ? std::filesystem::file_size(*file, error) : 0;
    if (!file || error) {
      answerEnvelope(res, 404, "NotFound", "No capture file " + name + ".");
      return;
    }
    // Streamed in chunks, never whole in memory; a file still being written is served up to
    // the size it had when asked.
    auto stream = std::make_shared<std::ifstream>(*file, std::ios::binary);
    res.status = 200;
    res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
    res.set_content_provider(
        size, "application/octet-stream",
        [stream](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          std::array<char, 65536> buffer;
          stream->seekg(static_cast<std::streamoff>(offset));
          stream->read(buffer.data(),
                       static_cast<std::streamsize>(std::min(length, buffer.size())));
          const auto got = stream->gcount();
          if (got <= 0) {
            return false;
          }
          sink.write(buffer.data(), static_cast<std::size_t>(got));
          return true;
        });
  }

  void serveNotFound(const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader* reader) {
    if (readBody(req, res, reader)) {
      answerNotFound(res);
    }
  }

  void answerNotFound(httplib::Response& res) {
    answerEnvelope(res, 404, "NotFound", "There is nothing at this path.");
    rejected_.increment({std::string(kReasonNotFound)});
  }

  const HttpServerOptions options_;
  api::QueryApi& api_;
  AgentRoutes* const agent_;
  metrics::Registry& metrics_;
  const bool loopback_;
  const metrics::Counter requests_;
  const metrics::Histogram duration_;
  const metrics::Counter rejected_;
  const metrics::Counter handler_exceptions_;

  std::unique_ptr<ListeningServer> http_;
  std::mutex lifecycle_mutex_;
  State state_ = State::Created;
  std::thread listener_;
  std::atomic<bool> listener_done_{false};
  uint16_t port_ = 0;
};

Result<std::unique_ptr<HttpServer>> HttpServer::create(const HttpServerOptions& options,
                                                       api::QueryApi& api,
                                                       metrics::Registry& metrics,
                                                       AgentRoutes* agent) {
  const std::optional<bool> loopback = isLoopbackLiteral(options.listen_address);
  if (!loopback) {
    return makeError(ErrorCode::InvalidArgument, "listen address '" + options.listen_address +
                                                     "' is not an IPv4 or IPv6 address");
  }
  if (options.threads == 0 || options.max_body_bytes == 0 || options.keep_alive_max_requests == 0) {
    return makeError(ErrorCode::InvalidArgument,
                     "threads, max body bytes and keep-alive requests must be at least 1");
  }
  if (options.read_timeout.count() <= 0 || options.write_timeout.count() <= 0 ||
      options.request_timeout.count() <= 0 || options.keep_alive_timeout.count() <= 0) {
    return makeError(ErrorCode::InvalidArgument, "HTTP timeouts must be at least 1 second");
  }

  auto requests = metrics.counter(
      kApiRequestsMetric, "EC2 Query API requests by action and result code.", {"action", "code"});
  auto duration =
      metrics.histogram(kApiDurationMetric, "Time the EC2 Query API took to answer, by action.",
                        {"action"}, kDurationBuckets);
  auto rejected = metrics.counter(
      kHttpRejectedMetric, "Requests the HTTP layer answered itself, by reason.", {"reason"});
  auto exceptions = metrics.counter(kHandlerExceptionsMetric,
                                    "Exceptions caught at the HTTP boundary (answered 500).");
  if (!requests) {
    return std::unexpected(requests.error());
  }
  if (!duration) {
    return std::unexpected(duration.error());
  }
  if (!rejected) {
    return std::unexpected(rejected.error());
  }
  if (!exceptions) {
    return std::unexpected(exceptions.error());
  }
  for (std::string_view reason : kAllReasons) {
    rejected->increment({std::string(reason)}, 0);  // every reason visible from the start
  }
  auto impl = std::make_unique<Impl>(options, api, agent, metrics, *loopback, *requests, *duration,
                                     *rejected, *exceptions);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;

Result<void> HttpServer::start() {
  return impl_->start();
}

uint16_t HttpServer::port() const {
  return impl_->port();
}

void HttpServer::stop() {
  impl_->stop();
}

}  // namespace tmirror::server
