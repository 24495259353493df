// Test doubles for the server's seams: a QueryApi and AgentRoutes that record every request and
// answer with a canned response (or whatever respond() returns).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/api_service.h"
#include "server/agent_routes.h"

namespace tmirror::server::testing {

// A deep copy of an HttpRequestView, which only borrows its strings.
struct RecordedRequest {
  std::string method;
  std::string path;
  std::string query;
  std::string body;
  std::map<std::string, std::string> headers;
  std::string remote_address;
  bool loopback_listener = false;
};

inline constexpr char kDescribeSessionsXml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeTrafficMirrorSessionsResponse "
    "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>"
    "ea966190-f9aa-478e-9ede-0123456789ab</requestId><trafficMirrorSessionSet/>"
    "</DescribeTrafficMirrorSessionsResponse>";

class RecordingRoutes {
 public:
  using Responder = std::function<api::HttpResponse(const RecordedRequest&)>;

  // Replaces the canned answer; a responder may throw to exercise the server's boundary.
  void respondWith(Responder responder) {
    std::lock_guard lock(mutex_);
    responder_ = std::move(responder);
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 protected:
  api::HttpResponse record(const api::HttpRequestView& view) {
    RecordedRequest request{
        std::string(view.method), std::string(view.path), std::string(view.query),
        std::string(view.body),   view.headers,           view.remote_address,
        view.loopback_listener};
    Responder responder;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      responder = responder_;
    }
    if (responder) {
      return responder(request);
    }
    return api::HttpResponse{
        .status = 200, .body = kDescribeSessionsXml, .action = "DescribeTrafficMirrorSessions"};
  }

 private:
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  Responder responder_;
};

class FakeQueryApi final : public api::QueryApi, public RecordingRoutes {
 public:
  ~FakeQueryApi() override {
    release();
    for (std::thread& t : answering_) {
      t.join();
    }
  }

  api::HttpResponse handle(const api::HttpRequestView& request) override { return record(request); }

  // With deferAnswers(), every answer comes from a thread of its own once release() is
  // called, as the store's commit thread answers a mutation.
  void handleAsync(const api::HttpRequestView& request, Answer answer) override {
    api::HttpResponse response = record(request);
    std::lock_guard lock(deferred_mutex_);
    if (!deferred_) {
      answer(std::move(response));
      return;
    }
    answering_.emplace_back([this, response = std::move(response), answer = std::move(answer)] {
      {
        std::unique_lock wait(deferred_mutex_);
        released_cv_.wait(wait, [&] { return released_; });
      }
      answer(response);
    });
  }

  void deferAnswers() {
    std::lock_guard lock(deferred_mutex_);
    deferred_ = true;
  }

  void release() {
    std::lock_guard lock(deferred_mutex_);
    released_ = true;
    released_cv_.notify_all();
  }

 private:
  std::mutex deferred_mutex_;
  std::condition_variable released_cv_;
  bool deferred_ = false;
  bool released_ = false;
  std::vector<std::thread> answering_;
};

class FakeAgentRoutes final : public AgentRoutes, public RecordingRoutes {
 public:
  void handle(const api::HttpRequestView& request, Respond respond) override {
    respond(record(request));
  }

  api::HttpResponse interfaceDesiredState(const api::HttpRequestView& request) override {
    return record(request);
  }
};

// An AWS error envelope as the real QueryApi writes it; `action`: the one it accepted, if any.
inline api::HttpResponse errorResponse(int status, const std::string& code,
                                       const std::string& action = "") {
  return api::HttpResponse{
      .status = status,
      .body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>" + code +
              "</Code><Message>test</Message></Error></Errors><RequestID>"
              "ea966190-f9aa-478e-9ede-0123456789ab</RequestID></Response>",
      .action = action,
      .error_code = code};
}

}  // namespace tmirror::server::testing
