// The seam between the HTTP server and the EC2 Query API: one request in, one response out.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/aws_xml.h"

namespace tmirror::api {

struct HttpRequestView {
  std::string_view method;  // "GET" / "POST"
  std::string_view path;    // without the query string
  std::string_view query;   // raw query string, without '?'
  std::string_view body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string remote_address;
  bool loopback_listener = false;  // the server listens on loopback only
};

struct HttpResponse {
  int status = 200;
  std::string content_type = std::string(kXmlContentType);
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
  // For the server's metrics, so that it never re-reads a request or an answer:
  std::string action;      // the action the API accepted (one of its own names); else empty
  std::string error_code;  // the AWS error code answered; empty on success
};

// Anything that answers EC2 Query API requests. Implementations are thread-safe.
class QueryApi {
 public:
  using Answer = std::function<void(HttpResponse)>;

  virtual ~QueryApi() = default;
  virtual HttpResponse handle(const HttpRequestView& request) = 0;

  // Answers through `answer`, before returning or later from another thread (a mutation
  // waiting for its commit). `request` is valid during the call only. By default: handle().
  virtual void handleAsync(const HttpRequestView& request, Answer answer) {
    answer(handle(request));
  }
};

}  // namespace tmirror::api
