#include "server/http_server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "common/ascii.h"
#include "common/aws_xml.h"
#include "common/log.h"
#include "common/loopback.h"
#include "common/random.h"
#include "console/console_routes.h"
#include "http/listener.h"
#include "server/api_request_labels.h"
#include "server/capture_files.h"

namespace tmirror::server {
namespace {

using Clock = std::chrono::steady_clock;

const std::vector<double> kDurationBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

// Label values of tmirror_http_rejected_total: why the HTTP layer answered a request itself.
constexpr std::string_view kReasonBodyTooLarge = "body_too_large";
constexpr std::string_view kReasonReadTimeout = "read_timeout";
constexpr std::string_view kReasonMalformed = "malformed_request";
constexpr std::string_view kReasonUriTooLong = "uri_too_long";
constexpr std::string_view kReasonHeadersTooLarge = "headers_too_large";
constexpr std::string_view kReasonMethod = "method_not_allowed";
constexpr std::string_view kReasonNotFound = "not_found";
constexpr std::string_view kAllReasons[] = {
    kReasonBodyTooLarge,    kReasonReadTimeout, kReasonMalformed, kReasonUriTooLong,
    kReasonHeadersTooLarge, kReasonMethod,      kReasonNotFound};

// Label values of tmirror_http_connections_refused_total.
// An exception that reached the HTTP boundary is a bug: it is answered 500, counted, and
// logged once with what it said. Called in a catch block.
void logBoundaryException(std::string_view path) noexcept {
  try {
    try {
      throw;
    } catch (const std::exception& e) {
      log::logger("server")->error("{}: answered 500 after an exception: {}", path, e.what());
    } catch (...) {
      log::logger("server")->error("{}: answered 500 after an exception", path);
    }
  } catch (...) {  // logging failed too (out of memory): the counter still says it
  }
}

constexpr std::string_view kCapTotal = "total_cap";
constexpr std::string_view kCapAddress = "address_cap";

constexpr std::string_view kInternalErrorMessage =
    "We encountered an internal error. Please try again.";

http::Response envelope(int status, std::string_view code, std::string_view message) {
  return http::Response{.status = status,
                        .content_type = std::string(kXmlContentType),
                        .body = awsErrorDocument(code, message, newUuid4())};
}

http::Response fromApi(api::HttpResponse answer) {
  http::Response response{.status = answer.status,
                          .content_type = std::move(answer.content_type),
                          .body = std::move(answer.body)};
  for (auto& [name, value] : answer.headers) {
    response.headers.push_back({std::move(name), std::move(value)});
  }
  return response;
}

}  // namespace

class HttpServer::Impl final : public http::Handler {
 public:
  Impl(const HttpServerOptions& options, api::QueryApi& api, AgentRoutes* agent,
       metrics::Registry& metrics, bool loopback, metrics::Counter requests,
       metrics::Histogram duration, metrics::Counter rejected, metrics::Counter handler_exceptions,
       metrics::Counter refused_connections)
      : options_(options),
        api_(api),
        agent_(agent),
        metrics_(metrics),
        loopback_(loopback),
        requests_(std::move(requests)),
        duration_(std::move(duration)),
        rejected_(std::move(rejected)),
        handler_exceptions_(std::move(handler_exceptions)),
        refused_connections_(std::move(refused_connections)),
        workers_(options.threads) {}

  ~Impl() override {
    stop();
    if (owns_connections_gauge_) {
      metrics_.removeGaugeCallback(kOpenConnectionsMetric);
    }
  }

  Result<void> init(const http::ListenerOptions& listener_options) {
    auto listener = http::HttpListener::create(listener_options, *this);
    if (!listener) {
      return std::unexpected(listener.error());
    }
    listener_ = std::move(*listener);
    // Another server on the same registry (tests) keeps the gauge it registered first.
    owns_connections_gauge_ =
        metrics_
            .gaugeCallback(kOpenConnectionsMetric, "HTTP connections open now.",
                           [this] { return static_cast<double>(listener_->stats().open); })
            .has_value();
    return {};
  }

  Result<void> start() {
    std::lock_guard lock(lifecycle_mutex_);
    if (started_ || stopped_) {
      return makeError(ErrorCode::InvalidArgument,
                       "the HTTP server was already started or stopped");
    }
    started_ = true;
    return listener_->start();
  }

  uint16_t port() const { return listener_->port(); }

  void stop() {
    std::lock_guard lock(lifecycle_mutex_);
    if (stopped_) {
      return;
    }
    stopped_ = true;
    if (listener_) {
      listener_->stop();
    }
    // Handlers still running finish; their answers go nowhere. So do mutations the store
    // still commits: their answers call back into this object.
    workers_.join();
    waitForApiCalls();
  }

  // http::Handler
  void serve(http::Request request, http::Responder respond) override {
    const std::string_view path = request.path();
    if ((path == "/" && (request.isGetOrHead() || request.method == "POST")) ||
        (path.starts_with("/service/") && request.method == "POST" && options_.other_api)) {
      onWorker(std::move(request), std::move(respond), &Impl::serveApi);
    } else if (path == "/metrics" && request.isGetOrHead()) {
      onWorker(std::move(request), std::move(respond), &Impl::serveMetrics);
    } else if ((path == console::kConsolePath || (path.starts_with(console::kConsolePath) &&
                                                  path[console::kConsolePath.size()] == '/')) &&
               request.isGetOrHead()) {
      respond(serveConsole(request));
    } else if ((path == "/captures" || path.starts_with("/captures/")) && request.isGetOrHead()) {
      onWorker(std::move(request), std::move(respond), &Impl::serveCaptures);
    } else if (path == kDesiredStatePath && request.isGetOrHead()) {
      onWorker(std::move(request), std::move(respond), &Impl::serveDesiredState);
    } else if (path.starts_with(kAgentPathPrefix)) {
      if (!serveAgentInline(request, respond)) {
        onWorker(std::move(request), std::move(respond), &Impl::serveAgent);
      }
    } else {
      respond(notFound());
    }
  }

  http::Response refusal(http::Refusal why) override {
    switch (why) {
      case http::Refusal::Malformed:
        return reject(400, "InvalidRequest", "The request could not be parsed.", kReasonMalformed);
      case http::Refusal::MethodNotAllowed:
        return reject(405, "InvalidRequest", "The HTTP method is not supported.", kReasonMethod);
      case http::Refusal::UriTooLong:
        return reject(414, "InvalidRequest", "The request line is too long.", kReasonUriTooLong);
      case http::Refusal::HeadersTooLarge:
        return reject(431, "InvalidRequest", "The request headers are too large.",
                      kReasonHeadersTooLarge);
      case http::Refusal::BodyTooLarge:
        return reject(
            413, "RequestEntityTooLarge",
            "The request body exceeds " + std::to_string(options_.max_body_bytes) + " bytes.",
            kReasonBodyTooLarge);
      case http::Refusal::Timeout:
        return reject(408, "RequestTimeout", "The request was not received in time.",
                      kReasonReadTimeout);
      case http::Refusal::InternalError:
        break;
    }
    return internalError();
  }

  void connectionRefused(http::ConnectionCap cap) override {
    refused_connections_.increment(
        {std::string(cap == http::ConnectionCap::PerAddress ? kCapAddress : kCapTotal)});
  }

 private:
  using Serve = void (Impl::*)(const http::Request&, const http::Responder&);

  // Runs a handler that may wait on the store off the I/O threads; nothing it throws escapes.
  void onWorker(http::Request request, http::Responder respond, Serve route) {
    boost::asio::post(workers_,
                      [this, request = std::move(request), respond = std::move(respond), route] {
                        try {
                          (this->*route)(request, respond);
                        } catch (...) {
                          logBoundaryException(request.path());
                          respond(internalError());
                        }
                      });
  }

  http::Response reject(int status, std::string_view code, std::string_view message,
                        std::string_view reason) {
    rejected_.increment({std::string(reason)});
    http::Response response = envelope(status, code, message);
    response.close = true;
    return response;
  }

  http::Response internalError() noexcept {
    try {
      handler_exceptions_.increment();
      http::Response response = envelope(500, "InternalError", kInternalErrorMessage);
      response.close = true;
      return response;
    } catch (...) {
      return http::Response{.status = 500, .close = true};  // out of memory: the status alone
    }
  }

  http::Response notFound() {
    rejected_.increment({std::string(kReasonNotFound)});
    return envelope(404, "NotFound", "There is nothing at this path.");
  }

  api::HttpRequestView makeView(const http::Request& request, std::string_view body) const {
    api::HttpRequestView view;
    view.method = request.method;
    view.path = request.path();
    view.query = request.query();
    view.body = body;
    for (const http::Header& header : request.headers) {
      // Repeated headers are joined with commas (RFC 9110 5.3), as SigV4 canonicalises them.
      auto [it, inserted] = view.headers.try_emplace(asciiLower(header.name), header.value);
      if (!inserted) {
        it->second += ',';
        it->second += header.value;
      }
    }
    view.remote_address = request.remote_address;
    view.loopback_listener = loopback_;
    return view;
  }

  void serveApi(const http::Request& request, const http::Responder& respond) {
    // Latency is the API's: the upload was the client's time, and is over.
    const auto started = Clock::now();
    if (options_.other_api) {
      if (auto answer = options_.other_api(makeView(request, request.body))) {
        const ApiRequestLabels labels = apiRequestLabels(*answer);
        requests_.increment({labels.action, labels.code});
        duration_.observe({labels.action},
                          std::chrono::duration<double>(Clock::now() - started).count());
        respond(fromApi(std::move(*answer)));
        return;
      }
      if (request.path() != "/") {
        respond(notFound());
        return;
      }
    }
    // A mutation is answered later, from the store's commit thread: stop() waits for it. The
    // first answer counts (one that throws on its way out must not be followed by another).
    beginApiCall();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto finish = [this, respond, started, answered](std::optional<api::HttpResponse> answer) {
      if (answered->exchange(true)) {
        return;
      }
      struct Ended {
        Impl* impl;
        ~Ended() { impl->endApiCall(); }
      } ended{this};
      try {
        const bool failed = !answer;
        if (failed) {
          answer = api::HttpResponse{.status = 500, .error_code = "InternalError"};
        }
        const ApiRequestLabels labels = apiRequestLabels(*answer);  // before the body moves on
        http::Response response = failed ? internalError() : fromApi(std::move(*answer));
        requests_.increment({labels.action, labels.code});
        duration_.observe({labels.action},
                          std::chrono::duration<double>(Clock::now() - started).count());
        respond(std::move(response));
      } catch (...) {
        respond(internalError());
      }
    };
    try {
      api_.handleAsync(makeView(request, request.body),
                       [finish](api::HttpResponse answer) { finish(std::move(answer)); });
    } catch (...) {
      logBoundaryException(request.path());
      finish(std::nullopt);  // thrown before an answer was handed on
    }
  }

  void beginApiCall() {
    std::lock_guard lock(api_calls_mutex_);
    ++api_calls_;
  }

  void endApiCall() {
    std::lock_guard lock(api_calls_mutex_);
    if (--api_calls_ == 0) {
      api_calls_done_.notify_all();
    }
  }

  void waitForApiCalls() {
    std::unique_lock lock(api_calls_mutex_);
    api_calls_done_.wait(lock, [&] { return api_calls_ == 0; });
  }

  void serveAgent(const http::Request& request, const http::Responder& respond) {
    if (agent_ == nullptr) {
      respond(notFound());
      return;
    }
    agent_->handle(makeView(request, request.body),
                   [respond](api::HttpResponse answer) { respond(fromApi(std::move(answer))); });
  }

  void serveDesiredState(const http::Request& request, const http::Responder& respond) {
    if (agent_ == nullptr) {
      respond(notFound());
      return;
    }
    const api::HttpRequestView view = makeView(request, "");
    if (!options_.authorize || !options_.authorize(view)) {
      respond(http::Response{
          .status = 403,
          .content_type = "application/json",
          .body = nlohmann::json{{"Error",
                                  {{"Code", "AuthFailure"},
                                   {"Message",
                                    "The desired state needs a request signed with a "
                                    "valid access key."}}}}
                      .dump(),
          .headers = {{"Cache-Control", "no-store"}}});
      return;
    }
    respond(fromApi(agent_->interfaceDesiredState(view)));
  }

  bool serveAgentInline(const http::Request& request, const http::Responder& respond) {
    if (agent_ == nullptr) {
      return false;
    }
    Respond answer = [respond](api::HttpResponse a) { respond(fromApi(std::move(a))); };
    return agent_->handleInline(makeView(request, request.body), answer);
  }

  void serveMetrics(const http::Request&, const http::Responder& respond) {
    respond(http::Response{.status = 200,
                           .content_type = std::string(kMetricsContentType),
                           .body = metrics_.render()});
  }

  static http::Response serveConsole(const http::Request& request) {
    const console::ConsoleResponse answer =
        console::serveConsole(request.path(), request.header("If-None-Match"));
    http::Response response{.status = answer.status};
    if (!answer.etag.empty()) {
      response.headers.push_back({"ETag", answer.etag});
    }
    if (!answer.location.empty()) {
      response.headers.push_back({"Location", answer.location});
    }
    response.headers.push_back({"Cache-Control", answer.cache_control});
    response.headers.push_back({"X-Content-Type-Options", "nosniff"});
    // The console loads nothing from elsewhere and talks only to this server.
    response.headers.push_back(
        {"Content-Security-Policy",
         "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"});
    if (answer.status != 304) {
      response.content_type = answer.content_type;
      response.body = std::string(answer.body);
    }
    return response;
  }

  void serveCaptures(const http::Request& request, const http::Responder& respond) {
    if (options_.captures_dir.empty()) {
      respond(notFound());
      return;
    }
    if (!options_.authorize || !options_.authorize(makeView(request, ""))) {
      respond(envelope(403, "AuthFailure",
                       "Capture files need a request signed with a valid access key."));
      return;
    }
    const std::string_view path = request.path();
    if (path == "/captures") {
      respond(http::Response{.status = 200,
                             .content_type = "application/json",
                             .body = captureFilesToJson(listCaptureFiles(options_.captures_dir)),
                             .headers = {{"Cache-Control", "no-store"}}});
      return;
    }
    const std::string name(path.substr(std::string_view("/captures/").size()));
    const auto file = resolveCaptureFile(options_.captures_dir, name);
    if (!file) {
      respond(envelope(404, "NotFound", "No capture file " + name + "."));
      return;
    }
    // Streamed from the file in pieces, never whole in memory.
    respond(http::Response{
        .status = 200,
        .content_type = "application/octet-stream",
        .file = http::FileBody{*file},
        .headers = {{"Cache-Control", "no-store"},
                    {"Content-Disposition", "attachment; filename=\"" + name + "\""}}});
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
  const metrics::Counter refused_connections_;

  boost::asio::thread_pool workers_;
  std::mutex api_calls_mutex_;
  std::condition_variable api_calls_done_;
  std::size_t api_calls_ = 0;  // API requests handed to the API and not answered yet
  std::unique_ptr<http::HttpListener> listener_;
  std::mutex lifecycle_mutex_;
  bool started_ = false;
  bool stopped_ = false;
  bool owns_connections_gauge_ = false;
};

Result<std::unique_ptr<HttpServer>> HttpServer::create(const HttpServerOptions& options,
                                                       api::QueryApi& api,
                                                       metrics::Registry& metrics,
                                                       AgentRoutes* agent) {
  if (options.threads == 0 || options.keep_alive_max_requests == 0) {
    return makeError(ErrorCode::InvalidArgument,
                     "threads and keep-alive requests must be at least 1");
  }
  const http::ListenerOptions listener{
      .address = options.listen_address,
      .port = options.port,
      .io_threads = options.io_threads,
      .max_connections = options.max_connections,
      .max_connections_per_address = options.max_connections_per_address,
      .header_timeout = options.header_timeout,
      .read_timeout = options.read_timeout,
      .request_timeout = options.request_timeout,
      .idle_timeout = options.keep_alive_timeout,
      .write_timeout = options.write_timeout,
      .max_body_bytes = options.max_body_bytes,
      .max_requests_per_connection = options.keep_alive_max_requests,
      .tls = options.tls};

  auto requests = metrics.counter(
      kApiRequestsMetric, "EC2 Query API requests by action and result code.", {"action", "code"});
  auto duration =
      metrics.histogram(kApiDurationMetric, "Time the EC2 Query API took to answer, by action.",
                        {"action"}, kDurationBuckets);
  auto rejected = metrics.counter(
      kHttpRejectedMetric, "Requests the HTTP layer answered itself, by reason.", {"reason"});
  auto exceptions = metrics.counter(kHandlerExceptionsMetric,
                                    "Exceptions caught at the HTTP boundary (answered 500).");
  auto refused =
      metrics.counter(kRefusedConnectionsMetric,
                      "Connections closed on arrival for being over a cap, by cap.", {"reason"});
  for (const Error* failed :
       {requests ? nullptr : &requests.error(), duration ? nullptr : &duration.error(),
        rejected ? nullptr : &rejected.error(), exceptions ? nullptr : &exceptions.error(),
        refused ? nullptr : &refused.error()}) {
    if (failed != nullptr) {
      return std::unexpected(*failed);
    }
  }
  for (std::string_view reason : kAllReasons) {
    rejected->increment({std::string(reason)}, 0);  // every reason visible from the start
  }
  for (std::string_view cap : {kCapTotal, kCapAddress}) {
    refused->increment({std::string(cap)}, 0);
  }
  auto impl =
      std::make_unique<Impl>(options, api, agent, metrics, isLoopbackHost(options.listen_address),
                             *requests, *duration, *rejected, *exceptions, *refused);
  if (auto ready = impl->init(listener); !ready) {
    return std::unexpected(ready.error());
  }
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
