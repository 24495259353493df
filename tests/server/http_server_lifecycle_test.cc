// Creating, starting and stopping the server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace tmirror::server::testing {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

using ServerLifecycle = ServerFixture;

bool ipv6LoopbackAvailable() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

TEST_F(ServerLifecycle, BindingAnAddressInUseFailsWithAClearError) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  HttpServerOptions options;
  options.port = port_;
  auto second = HttpServer::create(options, api_, metrics_, nullptr);
  ASSERT_TRUE(second) << second.error().message;
  auto started = (*second)->start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::Io);
  EXPECT_EQ(started.error().message,
            "cannot listen on 127.0.0.1:" + std::to_string(port_) + ": Address already in use");
  // The first server is unaffected.
  auto response = send(getRequest("/?Action=DescribeTrafficMirrorSessions"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(ServerLifecycle, CreateRefusesOptionsItCannotHonour) {
  const auto create = [this](HttpServerOptions options) {
    return HttpServer::create(options, api_, metrics_, nullptr);
  };
  auto hostname = create({.listen_address = "localhost"});
  ASSERT_FALSE(hostname);
  EXPECT_EQ(hostname.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(hostname.error().message, HasSubstr("'localhost'"));
  EXPECT_FALSE(create({.threads = 0}));
  EXPECT_FALSE(create({.max_body_bytes = 0}));
  EXPECT_FALSE(create({.read_timeout = std::chrono::seconds(0)}));
  EXPECT_FALSE(create({.keep_alive_max_requests = 0}));
  EXPECT_TRUE(create({}));
}

TEST_F(ServerLifecycle, ServesOnIpv6Loopback) {
  if (!ipv6LoopbackAvailable()) {
    GTEST_SKIP() << "this host has no IPv6 loopback (::1)";
  }
  ASSERT_NO_FATAL_FAILURE(startServer({.listen_address = "::1"}));
  auto response = requestOnce(port_, getRequest("/?Action=DescribeTrafficMirrorSessions"), "::1");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].remote_address, "::1");
  EXPECT_TRUE(requests[0].loopback_listener);
}

TEST_F(ServerLifecycle, StopIsIdempotentAndAServerStartsOnce) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  EXPECT_FALSE(server_->start());
  server_->stop();
  server_->stop();
  EXPECT_FALSE(server_->start());
  EXPECT_FALSE(requestOnce(port_, getRequest("/")));
}

TEST_F(ServerLifecycle, StopDoesNotWaitOutIdleKeepAliveConnections) {
  ASSERT_NO_FATAL_FAILURE(startServer({.keep_alive_timeout = std::chrono::seconds(30)}));
  auto idle = connect();
  ASSERT_TRUE(idle);
  ASSERT_TRUE(idle->send("GET /?Action=DescribeTrafficMirrorSessions HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle->readResponse());
  auto silent = connect();  // connected, never says anything
  ASSERT_TRUE(silent);

  server_->stop();
  // stop() returned with the connections' 30 s keep-alive still running: both are closed
  // now, not left to time out.
  EXPECT_TRUE(idle->waitClosed(std::chrono::seconds(1)));
  EXPECT_TRUE(silent->waitClosed(std::chrono::seconds(1)));
}

// A server whose API answers only once api_.release() is called, and one request it holds.
class DeferredAnswers : public ServerFixture {
 protected:
  void sendHeldRequest() {
    api_.deferAnswers();
    ASSERT_NO_FATAL_FAILURE(startServer());
    auto opened = connect();
    ASSERT_TRUE(opened);
    client_.emplace(std::move(*opened));
    ASSERT_TRUE(
        client_->send("GET /?Action=DescribeTrafficMirrorSessions HTTP/1.1\r\nHost: x\r\n\r\n"));
    for (int i = 0; i < 2000 && api_.requests().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(api_.requests().size(), 1u);
  }

  std::optional<RawHttpConnection> client_;
};

// A mutation is answered from the store's commit thread after its handler returned: the answer
// still reaches the client, and stop() waits for it (it calls back into the server).
TEST_F(DeferredAnswers, AnAnswerGivenLaterFromAnotherThreadIsSentAndStopWaitsForIt) {
  ASSERT_NO_FATAL_FAILURE(sendHeldRequest());

  std::atomic<bool> stopped = false;
  std::thread stopping([&] {
    server_->stop();
    stopped = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(stopped) << "stop() returned while an answer was still to come";
  api_.release();
  stopping.join();
  EXPECT_TRUE(stopped);
  EXPECT_THAT(metricLine("tmirror_api_requests_total{action=\"DescribeTrafficMirrorSessions\""),
              HasSubstr(" 1"))
      << "the late answer was not counted";
}

TEST_F(DeferredAnswers, AnAnswerGivenLaterReachesTheClient) {
  ASSERT_NO_FATAL_FAILURE(sendHeldRequest());
  api_.release();
  auto response = client_->readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->body, HasSubstr("trafficMirrorSessionSet"));
}

}  // namespace
}  // namespace tmirror::server::testing
