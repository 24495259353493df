// ServerClient: how a host (agent, collector) talks to `tmirror server`: one kept-alive
// connection, plain HTTP on loopback or HTTPS verified against a CA file, a pinned
// certificate fingerprint, or the system's CAs. Agent tokens never cross a network in clear
// unless the operator said --insecure-http.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace tmirror::http {

struct ServerTrust {
  // PEM certificates to verify the server's chain and name against (tmirror server --tls auto
  // prints its CA file); empty: the system's CAs.
  std::filesystem::path ca_file;
  // "sha256:<64 hex digits>": trust a server whose chain holds this certificate (its CA's or its
  // own), whatever the names in it. Replaces the CA check.
  std::string fingerprint;
  bool insecure_http = false;  // allow http:// to a server that is not on loopback
};

struct ServerUrl {
  bool tls = false;
  std::string host;  // as written, without IPv6 brackets
  uint16_t port = 80;
};

// "http://HOST[:PORT][/]" or "https://…" (port 80 or 443 by default). Refuses http:// to a host
// that is not loopback unless trust.insecure_http, and a malformed fingerprint.
Result<ServerUrl> parseServerUrl(const std::string& url, const ServerTrust& trust);

struct ClientResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first value of a header (names compared case-insensitively); empty when absent.
  std::string header(std::string_view name) const;
};

class ServerClient {
 public:
  // token: sent as "Authorization: Bearer <token>" on every request.
  ServerClient(ServerUrl url, ServerTrust trust, std::string token);
  ~ServerClient();
  ServerClient(ServerClient&&) noexcept;
  ServerClient& operator=(ServerClient&&) noexcept;

  // Io errors say what failed (connection, TLS verification, timeout); an HTTP status is an
  // answer, not an error.
  Result<ClientResponse> get(const std::string& target, std::chrono::seconds timeout);
  Result<ClientResponse> postJson(const std::string& path, const std::string& body,
                                  std::chrono::seconds timeout);

  // Ends a request in progress from another thread (shutdown).
  void cancel();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tmirror::http
