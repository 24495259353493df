// The listener as clients meet it: answers given later from another thread, connection caps,
// deadlines for silent and idle connections, HEAD, and slow clients that hold no thread.
#include "http/listener.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/raw_http_client.h"

namespace tmirror::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using tmirror::testing::getRequest;
using tmirror::testing::RawHttpConnection;
using tmirror::testing::requestOnce;

// GET /echo answers at once with what it saw; GET /later parks the responder for the test to
// answer; anything else is 404.
class RecordingHandler final : public Handler {
 public:
  void serve(Request request, Responder respond) override {
    if (request.path() == "/later") {
      std::lock_guard lock(mutex_);
      parked_.push_back(std::move(respond));
      return;
    }
    if (request.path() == "/echo") {
      respond({.status = 200,
               .content_type = "text/plain",
               .body = request.method + " " + request.target + " from " + request.remote_address});
      return;
    }
    respond({.status = 404, .body = "none"});
  }

  Response refusal(Refusal why) override {
    return {.status = 400, .body = "refused " + std::to_string(static_cast<int>(why))};
  }

  void connectionRefused(ConnectionCap cap) override {
    (cap == ConnectionCap::PerAddress ? refused_address_ : refused_total_)++;
  }

  std::vector<Responder> takeParked() {
    std::lock_guard lock(mutex_);
    return std::exchange(parked_, {});
  }

  std::size_t parkedCount() {
    std::lock_guard lock(mutex_);
    return parked_.size();
  }

  std::atomic<int> refused_address_{0};
  std::atomic<int> refused_total_{0};

 private:
  std::mutex mutex_;
  std::vector<Responder> parked_;
};

class ListenerTest : public ::testing::Test {
 protected:
  void start(ListenerOptions options = {}) {
    options.port = 0;
    auto created = HttpListener::create(options, handler_);
    ASSERT_TRUE(created) << created.error().message;
    listener_ = std::move(*created);
    auto started = listener_->start();
    ASSERT_TRUE(started) << started.error().message;
    port_ = listener_->port();
  }

  // Waits for a parked request: serve() runs on an I/O thread after the bytes arrive.
  bool waitParked(std::size_t count) {
    for (int i = 0; i < 500; ++i) {
      if (handler_.parkedCount() >= count) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  RecordingHandler handler_;
  std::unique_ptr<HttpListener> listener_;  // after the handler: stops before it goes
  uint16_t port_ = 0;
};

constexpr char kKeepAliveGet[] = "GET /later HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(ListenerTest, AParkedRequestIsAnsweredLaterFromAnotherThreadAndTheConnectionGoesOn) {
  ASSERT_NO_FATAL_FAILURE(start({.io_threads = 1}));
  auto waiting = RawHttpConnection::open(port_);
  ASSERT_TRUE(waiting);
  ASSERT_TRUE(waiting->send(kKeepAliveGet));
  ASSERT_TRUE(waitParked(1));

  // The single I/O thread is free while the request waits.
  auto other = requestOnce(port_, getRequest("/echo?x=1"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->body, "GET /echo?x=1 from 127.0.0.1");

  std::vector<Responder> parked = handler_.takeParked();
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_TRUE(parked[0].connected());
  std::thread answerer([responder = parked[0]] {
    responder({.status = 200, .content_type = "application/json", .body = "{\"revision\":2}"});
    responder({.status = 500, .body = "a second answer is ignored"});
  });
  answerer.join();
  auto answer = waiting->readResponse();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "{\"revision\":2}");

  // Kept alive: the next request on the same connection is served, and nothing else came.
  ASSERT_TRUE(waiting->send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto next = waiting->readResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "GET /echo from 127.0.0.1");
}

TEST_F(ListenerTest, AnswersOwedWhenTheListenerStopsAreDroppedSafely) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto waiting = RawHttpConnection::open(port_);
  ASSERT_TRUE(waiting);
  ASSERT_TRUE(waiting->send(kKeepAliveGet));
  ASSERT_TRUE(waitParked(1));
  listener_->stop();
  EXPECT_TRUE(waiting->waitClosed(seconds(2)));
  std::vector<Responder> parked = handler_.takeParked();
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_FALSE(parked[0].connected());
  parked[0]({.status = 200, .body = "too late"});  // nowhere to go, and no harm
  listener_.reset();
  parked[0]({.status = 200, .body = "later still"});
}

TEST_F(ListenerTest, ConnectionsOverThePerAddressCapGetA503AndAreClosed) {
  ASSERT_NO_FATAL_FAILURE(start({.max_connections_per_address = 2}));
  auto first = RawHttpConnection::open(port_);
  auto second = RawHttpConnection::open(port_);
  ASSERT_TRUE(first && second);
  // Both admitted: each is served.
  ASSERT_TRUE(first->send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(second->send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(first->readResponse());
  ASSERT_TRUE(second->readResponse());

  auto third = RawHttpConnection::open(port_);
  ASSERT_TRUE(third);
  auto refused = third->readUntilClosed(seconds(2));
  ASSERT_TRUE(refused);
  EXPECT_THAT(*refused, HasSubstr("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_EQ(handler_.refused_address_.load(), 1);
  EXPECT_EQ(listener_->stats().refused_address_cap, 1u);
  EXPECT_EQ(listener_->stats().open, 2u);

  // A place freed is a place taken.
  first.reset();
  for (int i = 0; i < 200 && listener_->stats().open > 1; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  auto fourth = requestOnce(port_, getRequest("/echo"));
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->status, 200);
}

TEST_F(ListenerTest, ConnectionsOverTheTotalCapGetA503) {
  ASSERT_NO_FATAL_FAILURE(start({.max_connections = 1}));
  auto held = RawHttpConnection::open(port_);
  ASSERT_TRUE(held);
  ASSERT_TRUE(held->send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(held->readResponse());
  auto refused = RawHttpConnection::open(port_);
  ASSERT_TRUE(refused);
  auto bytes = refused->readUntilClosed(seconds(2));
  ASSERT_TRUE(bytes);
  EXPECT_THAT(*bytes, HasSubstr(" 503 "));
  EXPECT_EQ(handler_.refused_total_.load(), 1);
}

TEST_F(ListenerTest, ASilentNewConnectionIsClosedAtTheHeadDeadlineWithoutAnAnswer) {
  ASSERT_NO_FATAL_FAILURE(start({.header_timeout = milliseconds(300)}));
  auto silent = RawHttpConnection::open(port_);
  ASSERT_TRUE(silent);
  auto bytes = silent->readUntilClosed(seconds(5));
  ASSERT_TRUE(bytes) << "still open after the head deadline";
  EXPECT_EQ(*bytes, "");
}

TEST_F(ListenerTest, APartialHeadIsAnswered408AtTheHeadDeadline) {
  ASSERT_NO_FATAL_FAILURE(start({.header_timeout = milliseconds(500)}));
  auto slow = RawHttpConnection::open(port_);
  ASSERT_TRUE(slow);
  ASSERT_TRUE(slow->send("GET /echo HTTP/1.1\r\nHost: x\r\n"));
  // Bytes every 100 ms keep the read timeout (10 s) from firing; the head deadline does.
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    slow->send("X-Pad: " + std::to_string(i) + "\r\n");
  }
  auto bytes = slow->readUntilClosed(seconds(5));
  ASSERT_TRUE(bytes);
  EXPECT_THAT(*bytes, HasSubstr("HTTP/1.1 400 "));  // the handler's refusal for Timeout
  EXPECT_THAT(*bytes, HasSubstr("refused " + std::to_string(static_cast<int>(Refusal::Timeout))));
}

TEST_F(ListenerTest, AnIdleKeptAliveConnectionIsClosedAfterTheIdleTimeout) {
  ASSERT_NO_FATAL_FAILURE(start({.idle_timeout = milliseconds(300)}));
  auto connection = RawHttpConnection::open(port_);
  ASSERT_TRUE(connection);
  ASSERT_TRUE(connection->send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto response = connection->readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->headers["connection"], "");  // kept alive
  auto rest = connection->readUntilClosed(seconds(5));
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, "");
}

TEST_F(ListenerTest, HeadIsAnsweredWithTheHeadOfGetAndNoBody) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto connection = RawHttpConnection::open(port_);
  ASSERT_TRUE(connection);
  ASSERT_TRUE(connection->send("HEAD /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto bytes = connection->readUntilClosed(seconds(5));
  ASSERT_TRUE(bytes);
  const std::string get_body = "HEAD /echo from 127.0.0.1";
  EXPECT_THAT(*bytes, HasSubstr("Content-Length: " + std::to_string(get_body.size()) + "\r\n"));
  EXPECT_TRUE(bytes->ends_with("\r\n\r\n")) << *bytes;
}

// 1,000 connections trickling a head hold no thread: with one I/O thread, a normal client is
// served while every one of them is still connected.
TEST_F(ListenerTest, AThousandSlowlorisConnectionsDoNotStopANormalClient) {
  ASSERT_NO_FATAL_FAILURE(start({.io_threads = 1,
                                 .max_connections_per_address = 2000,
                                 .header_timeout = seconds(60),
                                 .read_timeout = seconds(60)}));
  std::vector<RawHttpConnection> slow;
  slow.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    auto connection = RawHttpConnection::open(port_);
    ASSERT_TRUE(connection) << "connection " << i;
    ASSERT_TRUE(connection->send("GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    slow.push_back(std::move(*connection));
  }
  for (int i = 0; i < 200 && listener_->stats().open < 1000; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(listener_->stats().open, 1000u);
  auto normal = requestOnce(port_, getRequest("/echo"));
  ASSERT_TRUE(normal);
  EXPECT_EQ(normal->status, 200);
  std::size_t still_open = 0;
  for (auto& connection : slow) {
    still_open += connection.waitClosed(milliseconds(0)) ? 0 : 1;
  }
  EXPECT_EQ(still_open, 1000u);
}

}  // namespace
}  // namespace tmirror::http

namespace tmirror::http {
namespace {

// A response the client takes slowly but steadily is not cut by write_timeout: the timeout
// bounds each wait for the client, not the whole answer.
class BigAnswerHandler final : public Handler {
 public:
  void serve(Request, Responder respond) override {
    respond({.status = 200,
             .content_type = "application/octet-stream",
             .body = std::string(8 * 1024 * 1024, 'x')});
  }

  Response refusal(Refusal) override { return {.status = 400, .close = true}; }
};

TEST(ListenerWrites, ASlowSteadyReaderGetsTheWholeAnswerPastTheWriteTimeout) {
  BigAnswerHandler handler;
  auto listener = HttpListener::create({.write_timeout = milliseconds(1000)}, handler);
  ASSERT_TRUE(listener);
  ASSERT_TRUE((*listener)->start());
  auto connection = RawHttpConnection::open((*listener)->port());
  ASSERT_TRUE(connection);
  connection->shrinkReceiveBuffer();
  ASSERT_TRUE(connection->send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  // At most 32 KiB every 10 ms: the 8 MiB take at least 2.5 s by construction, well past the
  // 1 s write timeout. (The timeout bounds each wait for the socket to take more.)
  std::size_t received = 0;
  while (true) {
    auto chunk = connection->receiveSome(32 * 1024, seconds(5));
    if (!chunk || chunk->empty()) {
      break;
    }
    received += chunk->size();
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GT(received, 8u * 1024 * 1024);  // the head and every byte of the body
}

TEST(ListenerLifecycle, AListenerStoppedBeforeItStartedDoesNotStart) {
  RecordingHandler handler;
  auto listener = HttpListener::create({}, handler);
  ASSERT_TRUE(listener);
  (*listener)->stop();
  EXPECT_FALSE((*listener)->start());
}

}  // namespace
}  // namespace tmirror::http
