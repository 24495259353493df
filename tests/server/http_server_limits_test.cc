// Bad clients: oversized bodies, slow and trickling clients, handlers that throw.
#include <atomic>
#include <stdexcept>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace tmirror::server::testing {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

using ServerLimits = ServerFixture;

const std::string kDescribeBody = "Action=DescribeTrafficMirrorSessions&Version=2016-11-15";

// Polls until predicate holds or timeout passes.
template <typename Predicate>
bool eventually(Predicate predicate, milliseconds timeout = seconds(3)) {
  const auto until = Clock::now() + timeout;
  while (!predicate()) {
    if (Clock::now() >= until) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

TEST_F(ServerLimits, OversizedBodyIs413WithAnEnvelopeWhileAnotherClientIsServed) {
  HttpServerOptions options;
  options.max_body_bytes = 64 * 1024;
  ASSERT_NO_FATAL_FAILURE(startServer(options));

  auto big = connect();
  ASSERT_TRUE(big);
  ASSERT_TRUE(
      big->send("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 2097152\r\n\r\n"));
  // The oversized client keeps sending while the other one is served.
  std::thread sender([&big] {
    const std::string chunk(64 * 1024, 'a');
    for (int i = 0; i < 32 && big->send(chunk); ++i) {
    }
  });
  auto normal = send(postRequest("/", kDescribeBody));
  auto rejected = big->readResponse();
  sender.join();

  ASSERT_TRUE(normal);
  EXPECT_EQ(normal->status, 200);
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 413);
  EXPECT_EQ(rejected->headers["content-type"], "text/xml;charset=UTF-8");
  EXPECT_EQ(rejected->headers["connection"], "close");
  EXPECT_THAT(rejected->body,
              HasSubstr("<Response><Errors><Error><Code>RequestEntityTooLarge</Code>"
                        "<Message>The request body exceeds 65536 bytes.</Message></Error>"
                        "</Errors><RequestID>"));
  EXPECT_TRUE(big->waitClosed(seconds(3)));
  ASSERT_EQ(api_.requests().size(), 1u);
  EXPECT_EQ(api_.requests()[0].body, kDescribeBody);
  EXPECT_EQ(metricLine("tmirror_http_rejected_total{reason=\"body_too_large\"}"),
            "tmirror_http_rejected_total{reason=\"body_too_large\"} 1");
}

TEST_F(ServerLimits, OversizedChunkedBodyIs413) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  ASSERT_NO_FATAL_FAILURE(startServer(options));
  auto connection = connect();
  ASSERT_TRUE(connection);
  std::string request = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) {
    request += "200\r\n" + std::string(512, 'b') + "\r\n";
  }
  ASSERT_TRUE(connection->send(request));
  auto response = connection->readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_THAT(response->body, HasSubstr("<Code>RequestEntityTooLarge</Code>"));
  EXPECT_TRUE(connection->waitClosed(seconds(3)));
  EXPECT_TRUE(api_.requests().empty());
}

TEST_F(ServerLimits, ExpectContinueIsRefusedBeforeAnOversizedUpload) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  ASSERT_NO_FATAL_FAILURE(startServer(options));

  auto refused = connect();
  ASSERT_TRUE(refused);
  ASSERT_TRUE(
      refused->send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    "Content-Length: 4096\r\n\r\n"));
  auto response = refused->readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);  // no "100 Continue" first
  EXPECT_THAT(response->body, HasSubstr("<Code>RequestEntityTooLarge</Code>"));
  EXPECT_TRUE(refused->waitClosed(seconds(2)));

  auto accepted = connect();
  ASSERT_TRUE(accepted);
  ASSERT_TRUE(
      accepted->send("POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Expect: 100-continue\r\nContent-Length: " +
                     std::to_string(kDescribeBody.size()) + "\r\n\r\n"));
  auto go_ahead = accepted->readResponse();
  ASSERT_TRUE(go_ahead);
  EXPECT_EQ(go_ahead->status, 100);
  ASSERT_TRUE(accepted->send(kDescribeBody));
  auto answer = accepted->readResponse();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  ASSERT_EQ(api_.requests().size(), 1u);
  EXPECT_EQ(api_.requests()[0].body, kDescribeBody);
}

TEST_F(ServerLimits, BodyOfExactlyTheLimitIsAccepted) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  ASSERT_NO_FATAL_FAILURE(startServer(options));
  std::string body = kDescribeBody + "&Pad=";
  body += std::string(1024 - body.size(), 'p');
  auto response = send(postRequest("/", body));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  auto over = send(postRequest("/", body + "p"));
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 413);
}

TEST_F(ServerLimits, SlowClientDoesNotBlockAnotherClient) {
  HttpServerOptions options;
  options.threads = 2;
  options.read_timeout = seconds(1);
  ASSERT_NO_FATAL_FAILURE(startServer(options));

  // Headers complete, body promised, then silence.
  auto slow = connect();
  ASSERT_TRUE(slow);
  ASSERT_TRUE(slow->send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nAction="));
  std::this_thread::sleep_for(milliseconds(100));

  auto normal = send(postRequest("/", kDescribeBody));
  ASSERT_TRUE(normal);
  EXPECT_EQ(normal->status, 200);
  // Served while the slow client still holds its connection (not yet cut by the read
  // timeout): the slow client did not hold this one up.
  EXPECT_FALSE(slow->waitClosed(milliseconds(0))) << "the slow client was cut before";

  auto cut = slow->readResponse(seconds(5));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->status, 408);
  EXPECT_THAT(cut->body, HasSubstr("<Code>RequestTimeout</Code>"));
  EXPECT_TRUE(slow->waitClosed(seconds(2)));
  EXPECT_TRUE(eventually([&] {
    return metricLine("tmirror_http_rejected_total{reason=\"read_timeout\"}") ==
           "tmirror_http_rejected_total{reason=\"read_timeout\"} 1";
  }));
  EXPECT_EQ(api_.requests().size(), 1u);
}

// A slow client holds no thread: with one I/O thread and one worker, another client is served
// while the slow one is still connected, and the slow one is cut by the read timeout.
TEST_F(ServerLimits, SlowClientHoldsNoThreadAndIsCutByTheReadTimeout) {
  HttpServerOptions options;
  options.threads = 1;
  options.io_threads = 1;
  options.read_timeout = seconds(1);
  ASSERT_NO_FATAL_FAILURE(startServer(options));

  auto slow = connect();
  ASSERT_TRUE(slow);
  ASSERT_TRUE(slow->send("GET /?Action=DescribeTrafficMirrorSessions HTTP/1.1\r\nHost: x\r\n"));
  std::this_thread::sleep_for(milliseconds(100));

  auto normal = send(getRequest("/?Action=DescribeTrafficMirrorSessions"));
  ASSERT_TRUE(normal);
  EXPECT_EQ(normal->status, 200);
  EXPECT_FALSE(slow->waitClosed(milliseconds(0))) << "the slow client was cut before";

  auto cut = slow->readResponse(seconds(5));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->status, 408);
  EXPECT_TRUE(slow->waitClosed(seconds(2)));
}

TEST_F(ServerLimits, TricklingClientIsCutByTheRequestDeadline) {
  HttpServerOptions options;
  options.read_timeout = seconds(1);
  options.request_timeout = seconds(2);
  ASSERT_NO_FATAL_FAILURE(startServer(options));

  auto trickler = connect();
  ASSERT_TRUE(trickler);
  ASSERT_TRUE(trickler->send("GET /?Action=DescribeTrafficMirrorSessions HTTP/1.1\r\n"));
  // A header line every 300 ms never trips the 1 s read timeout, so only the 2 s request
  // deadline can close the connection within the 20 lines sent.
  bool closed = false;
  for (int i = 0; i < 20 && !closed; ++i) {
    trickler->send("X-Pad: " + std::to_string(i) + "\r\n");
    closed = trickler->waitClosed(milliseconds(300));
  }
  EXPECT_TRUE(closed);
  EXPECT_TRUE(api_.requests().empty());
}

TEST_F(ServerLimits, HandlerExceptionIs500InternalErrorAndServingGoesOn) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  api_.respondWith([](const RecordedRequest& request) -> api::HttpResponse {
    if (request.query.find("Action=Explode") != std::string::npos) {
      throw std::runtime_error("store went away");
    }
    if (request.query.find("Action=Throw") != std::string::npos) {
      throw 42;
    }
    return api::HttpResponse{
        .status = 200, .body = kDescribeSessionsXml, .action = "DescribeTrafficMirrorSessions"};
  });

  for (std::string_view action : {"Explode", "Throw"}) {
    auto failed = send(getRequest("/?Action=" + std::string(action)));
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->status, 500);
    EXPECT_EQ(failed->headers["content-type"], "text/xml;charset=UTF-8");
    EXPECT_THAT(failed->body, HasSubstr("<Code>InternalError</Code>"));
    EXPECT_THAT(failed->body, ::testing::Not(HasSubstr("store went away")));
  }
  auto fine = send(getRequest("/?Action=DescribeTrafficMirrorSessions"));
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);

  EXPECT_EQ(metricLine("tmirror_http_handler_exceptions_total "),
            "tmirror_http_handler_exceptions_total 2");
  // The API never said which action it ran: the label cannot come from the client.
  EXPECT_EQ(metricLine("tmirror_api_requests_total{action=\"unknown\""),
            "tmirror_api_requests_total{action=\"unknown\",code=\"InternalError\"} 2");
}

TEST_F(ServerLimits, AgentAndMetricsExceptionsAre500Too) {
  FakeAgentRoutes agent;
  agent.respondWith(
      [](const RecordedRequest&) -> api::HttpResponse { throw std::runtime_error("agent bug"); });
  ASSERT_TRUE(metrics_.gaugeCallback("broken_gauge", "Throws.",
                                     []() -> double { throw std::runtime_error("gauge bug"); }));
  ASSERT_NO_FATAL_FAILURE(startServer({}, &agent));

  auto from_agent = send(postRequest("/agent/v1/register", "{}"));
  ASSERT_TRUE(from_agent);
  EXPECT_EQ(from_agent->status, 500);
  auto from_metrics = send(getRequest("/metrics"));
  ASSERT_TRUE(from_metrics);
  EXPECT_EQ(from_metrics->status, 500);
  EXPECT_THAT(from_metrics->body, HasSubstr("<Code>InternalError</Code>"));

  metrics_.removeGaugeCallback("broken_gauge");
  auto recovered = send(getRequest("/metrics"));
  ASSERT_TRUE(recovered);
  EXPECT_EQ(recovered->status, 200);
  EXPECT_THAT(recovered->body, HasSubstr("tmirror_http_handler_exceptions_total 2\n"));
}

}  // namespace
}  // namespace tmirror::server::testing
