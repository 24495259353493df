// HttpServer: the HTTP front of `tmirror server`. It hands EC2 Query API requests (GET and POST
// on /) to a QueryApi, the agent channel (/agent/v1/...) to AgentRoutes, serves /metrics, the
// console and capture downloads. An http::HttpListener reads the requests (deadlines, size
// limits, connection caps); handlers that touch the store run on a small worker pool, so a slow
// client or a parked long-poll holds no thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/api_service.h"
#include "common/result.h"
#include "http/listener.h"
#include "metrics/registry.h"
#include "server/agent_routes.h"

namespace tmirror::server {

struct HttpServerOptions {
  std::string listen_address = "127.0.0.1";  // an IPv4 or IPv6 literal
  uint16_t port = 8900;                      // 0: any free port, see HttpServer::port()
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::seconds header_timeout{10};   // a request's head, from its first byte
  std::chrono::seconds read_timeout{10};     // longest silence while a request is being read
  std::chrono::seconds write_timeout{10};    // a whole response
  std::chrono::seconds request_timeout{30};  // a whole request, headers and body
  std::chrono::seconds keep_alive_timeout{5};
  std::size_t keep_alive_max_requests = 100;  // per connection, then it is closed
  std::size_t threads = 8;                    // workers for handlers that wait on the store
  std::size_t io_threads = 2;                 // threads reading and writing every connection
  std::size_t max_connections = 16384;
  std::size_t max_connections_per_address = 1024;
  std::optional<http::TlsFiles> tls;  // set: HTTPS only
  // The collector's capture files, listed (GET /captures) and downloaded (GET
  // /captures/<name>) for the console; empty: no such routes. Both need a request that
  // `authorize` accepts (the API's SigV4 check): captures are as sensitive as the traffic.
  std::filesystem::path captures_dir;
  std::function<bool(const api::HttpRequestView&)> authorize;
  // Another API on the same endpoint (the CloudWatch API), asked first for requests to "/" and
  // POSTs under /service/: an answer, or nullopt to leave the request to the EC2 API.
  std::function<std::optional<api::HttpResponse>(const api::HttpRequestView&)> other_api;
};

// Metric names the server records into its metrics::Registry.
inline constexpr std::string_view kApiRequestsMetric = "tmirror_api_requests_total";
inline constexpr std::string_view kApiDurationMetric = "tmirror_api_request_duration_seconds";
inline constexpr std::string_view kHttpRejectedMetric = "tmirror_http_rejected_total";
inline constexpr std::string_view kHandlerExceptionsMetric =
    "tmirror_http_handler_exceptions_total";
inline constexpr std::string_view kOpenConnectionsMetric = "tmirror_http_open_connections";
inline constexpr std::string_view kRefusedConnectionsMetric =
    "tmirror_http_connections_refused_total";

// The Prometheus text exposition content type served on /metrics.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

class HttpServer {
 public:
  // Checks the options and registers the server's metrics. api, metrics and agent (null: the
  // agent channel answers 404) must outlive the server.
  static Result<std::unique_ptr<HttpServer>> create(const HttpServerOptions& options,
                                                    api::QueryApi& api, metrics::Registry& metrics,
                                                    AgentRoutes* agent);

  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns once connections are being accepted. Once per server.
  Result<void> start();

  // The port listened on: the one asked for, or the one the kernel chose when 0 was asked.
  uint16_t port() const;

  // Stops accepting, lets requests in progress finish, closes idle connections. Idempotent.
  void stop();

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tmirror::server
