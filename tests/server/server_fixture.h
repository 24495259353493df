// A real HttpServer on 127.0.0.1 with an ephemeral port, a recording QueryApi and a metrics
// registry, for the server's integration tests.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "metrics/registry.h"
#include "server/fake_routes.h"
#include "server/http_server.h"
#include "testing/raw_http_client.h"

namespace tmirror::server::testing {

using tmirror::testing::getRequest;
using tmirror::testing::postRequest;
using tmirror::testing::RawHttpConnection;
using tmirror::testing::RawResponse;
using tmirror::testing::requestOnce;

class ServerFixture : public ::testing::Test {
 protected:
  // Starts the server; failures are fatal to the test (check with ASSERT_NO_FATAL_FAILURE).
  void startServer(HttpServerOptions options = {}, AgentRoutes* agent = nullptr) {
    options.port = 0;
    auto created = HttpServer::create(options, api_, metrics_, agent);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error().message;
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  std::optional<RawResponse> send(std::string_view request) { return requestOnce(port_, request); }

  std::optional<RawHttpConnection> connect() { return RawHttpConnection::open(port_); }

  // One line of the /metrics exposition, found by its exact beginning ("name{labels} ").
  std::string metricLine(std::string_view prefix) const {
    const std::string text = metrics_.render();
    std::size_t at = text.starts_with(prefix) ? 0 : text.find("\n" + std::string(prefix));
    if (at == std::string::npos) {
      return {};
    }
    at += text[at] == '\n' ? 1 : 0;
    return text.substr(at, text.find('\n', at) - at);
  }

  FakeQueryApi api_;
  metrics::Registry metrics_;
  uint16_t port_ = 0;
  std::unique_ptr<HttpServer> server_;  // last: stops before the routes it calls go away
};

}  // namespace tmirror::server::testing
