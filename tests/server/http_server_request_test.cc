// What the QueryApi and AgentRoutes receive, and which requests reach which route.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace tmirror::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ServerRequestView = ServerFixture;
using ServerRouting = ServerFixture;

std::vector<std::string> headerNames(const RecordedRequest& request) {
  std::vector<std::string> names;
  for (const auto& [name, value] : request.headers) {
    names.push_back(name);
  }
  return names;
}

TEST_F(ServerRequestView, GetHandsTheRawQueryAndLowerCasedHeadersToTheApi) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  const std::string query =
      "Action=DescribeTrafficMirrorSessions&Filter.1.Name=description&"
      "Filter.1.Value.1=a%2Fb+c%20d%2B&Version=2016-11-15&X-Amz-Signature=abc";
  auto response = send(getRequest(
      "/?" + query, "X-Amz-Date: 20240101T000000Z\r\nX-Custom-MiXed: Value With Case\r\n"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["content-type"], "text/xml;charset=UTF-8");
  EXPECT_EQ(response->body, kDescribeSessionsXml);

  const auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const RecordedRequest& request = requests[0];
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/");
  EXPECT_EQ(request.query, query);
  EXPECT_EQ(request.body, "");
  EXPECT_THAT(headerNames(request),
              ElementsAre("connection", "host", "x-amz-date", "x-custom-mixed"));
  EXPECT_EQ(request.headers.at("x-amz-date"), "20240101T000000Z");
  EXPECT_EQ(request.headers.at("x-custom-mixed"), "Value With Case");
  EXPECT_EQ(request.remote_address, "127.0.0.1");
  EXPECT_TRUE(request.loopback_listener);
}

TEST_F(ServerRequestView, PostHandsTheBodyAndQueryExactlyAsSent) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  const std::string body =
      "Action=CreateTrafficMirrorTarget&Description=a%2Fb+c&NetworkInterfaceId=eni-"
      "0123456789abcdef0&Version=2016-11-15";
  auto response = send(postRequest("/?x=%2F+", body, "X-Amz-Security-Token: T0k3n\r\n"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);

  const auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/");
  EXPECT_EQ(requests[0].query, "x=%2F+");
  EXPECT_EQ(requests[0].body, body);
  EXPECT_EQ(requests[0].headers.at("content-type"),
            "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(requests[0].headers.at("content-length"), std::to_string(body.size()));
  EXPECT_EQ(requests[0].headers.at("x-amz-security-token"), "T0k3n");
}

// The client's address comes from the socket, never from a header; headers reach the API as
// sent (a signed request may sign any of them).
TEST_F(ServerRequestView, RepeatedHeadersAreJoinedAndTheAddressComesFromTheSocket) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto response = send(getRequest("/?Action=DescribeTrafficMirrorSessions",
                                  "X-Amz-Meta: one\r\nx-amz-meta: two\r\n"
                                  "REMOTE_ADDR: 10.9.9.9\r\nlocal_port: 1\r\n"));
  ASSERT_TRUE(response);
  const auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("x-amz-meta"), "one,two");
  EXPECT_EQ(requests[0].headers.at("remote_addr"), "10.9.9.9");
  EXPECT_EQ(requests[0].headers.at("local_port"), "1");
  EXPECT_EQ(requests[0].remote_address, "127.0.0.1");
}

// cpp-httplib's own body reader refuses form bodies over 8 KiB; ours allows max_body_bytes.
TEST_F(ServerRequestView, FormBodiesLargerThanEightKiBReachTheApi) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  std::string body = "Action=CreateTags&Version=2016-11-15";
  for (int i = 1; body.size() < 100 * 1024; ++i) {
    body += "&Tag." + std::to_string(i) + ".Key=k" + std::to_string(i) + "&Tag." +
            std::to_string(i) + ".Value=" + std::string(40, 'v');
  }
  auto response = send(postRequest("/", body));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, body);
}

TEST_F(ServerRequestView, ChunkedBodyIsReassembled) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto response = send(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"
      "7\r\nAction=\r\n1d\r\nDescribeTrafficMirrorSessions\r\n0\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, "Action=DescribeTrafficMirrorSessions");
}

TEST_F(ServerRequestView, TheApiAnswerIsSentAsIs) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  api_.respondWith([](const RecordedRequest&) {
    api::HttpResponse answer = errorResponse(412, "DryRunOperation");
    answer.content_type = "application/xml";
    return answer;
  });
  auto response = send(getRequest("/?Action=DeleteTrafficMirrorSession&DryRun=true"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 412);
  EXPECT_EQ(response->headers["content-type"], "application/xml");
  EXPECT_EQ(response->body, errorResponse(412, "DryRunOperation").body);
}

// cpp-httplib 0.11 drops a second request that arrives in the same read as the first.
TEST_F(ServerRequestView, PipelinedRequestsAreAllAnswered) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto connection = connect();
  ASSERT_TRUE(connection);
  ASSERT_TRUE(connection->send(
      "GET /?Action=DescribeTrafficMirrorSessions HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /?Action=DescribeTrafficMirrorTargets HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto first = connection->readResponse();
  auto second = connection->readResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 200);
  const auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].query, "Action=DescribeTrafficMirrorTargets");
}

TEST_F(ServerRequestView, AConnectionServesAtMostTheKeepAliveLimit) {
  HttpServerOptions options;
  options.keep_alive_max_requests = 2;
  ASSERT_NO_FATAL_FAILURE(startServer(options));
  auto connection = connect();
  ASSERT_TRUE(connection);
  const std::string request =
      "GET /?Action=DescribeTrafficMirrorSessions HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(connection->send(request));
  auto first = connection->readResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->headers["connection"], "");
  ASSERT_TRUE(connection->send(request));
  auto second = connection->readResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->headers["connection"], "close");
  EXPECT_TRUE(connection->waitClosed(std::chrono::seconds(2)));
  EXPECT_EQ(api_.requests().size(), 2u);
}

TEST_F(ServerRouting, MetricsAreServedAsPrometheusText) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto response = send(getRequest("/metrics"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(response->body, HasSubstr("# TYPE tmirror_api_requests_total counter\n"));
  EXPECT_TRUE(api_.requests().empty());
}

TEST_F(ServerRouting, EveryMethodUnderAgentV1ReachesTheAgentRoutes) {
  FakeAgentRoutes agent;
  agent.respondWith([](const RecordedRequest& request) {
    return api::HttpResponse{.status = request.method == "POST" ? 201 : 200,
                             .content_type = "application/json",
                             .body = "{\"revision\":7}"};
  });
  ASSERT_NO_FATAL_FAILURE(startServer({}, &agent));

  auto get = send(getRequest("/agent/v1/desired-state?revision=6&wait=30"));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->headers["content-type"], "application/json");
  EXPECT_EQ(get->body, "{\"revision\":7}");

  const std::string json = "{\"hostname\":\"web-1\"}";
  auto post = send(
      "POST /agent/v1/register HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(json.size()) + "\r\n\r\n" + json);
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 201);
  for (std::string_view method : {"PUT", "PATCH"}) {
    auto response = send(std::string(method) +
                         " /agent/v1/hosts/i-0123 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         "Content-Length: 2\r\n\r\n{}");
    ASSERT_TRUE(response) << method;
    EXPECT_EQ(response->status, 200) << method;
  }
  for (std::string_view method : {"DELETE", "OPTIONS"}) {
    auto response =
        send(std::string(method) +
             " /agent/v1/hosts/i-0123 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(response) << method;
    EXPECT_EQ(response->status, 200) << method;
  }

  const auto requests = agent.requests();
  ASSERT_EQ(requests.size(), 6u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/agent/v1/desired-state");
  EXPECT_EQ(requests[0].query, "revision=6&wait=30");
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].body, json);
  EXPECT_EQ(requests[1].headers.at("content-type"), "application/json");
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(requests[2].body, "{}");
  EXPECT_EQ(requests[3].method, "PATCH");
  EXPECT_EQ(requests[4].method, "DELETE");
  EXPECT_EQ(requests[4].path, "/agent/v1/hosts/i-0123");
  EXPECT_EQ(requests[5].method, "OPTIONS");
  EXPECT_TRUE(api_.requests().empty());
}

TEST_F(ServerRouting, TheDesiredStateViewNeedsASignedRequestThenReachesTheAgentRoutes) {
  FakeAgentRoutes agent;
  agent.respondWith([](const RecordedRequest&) {
    return api::HttpResponse{
        .status = 200, .content_type = "application/json", .body = "{\"InstanceId\":\"i-1\"}"};
  });
  HttpServerOptions options;
  options.authorize = [](const api::HttpRequestView& request) {
    return request.headers.contains("authorization");
  };
  ASSERT_NO_FATAL_FAILURE(startServer(options, &agent));

  auto unsigned_get = send(getRequest("/desired-state?NetworkInterfaceId=eni-1"));
  ASSERT_TRUE(unsigned_get);
  EXPECT_EQ(unsigned_get->status, 403);
  EXPECT_THAT(unsigned_get->body, HasSubstr("\"Code\":\"AuthFailure\""));
  EXPECT_TRUE(agent.requests().empty());

  auto signed_get = send(
      "GET /desired-state?NetworkInterfaceId=eni-1 HTTP/1.1\r\nHost: x\r\n"
      "Authorization: AWS4-HMAC-SHA256 x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(signed_get);
  EXPECT_EQ(signed_get->status, 200);
  EXPECT_EQ(signed_get->body, "{\"InstanceId\":\"i-1\"}");
  const auto requests = agent.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/desired-state");
  EXPECT_EQ(requests[0].query, "NetworkInterfaceId=eni-1");
  EXPECT_TRUE(api_.requests().empty());
}

TEST_F(ServerRouting, AgentPathsAre404WithoutAgentRoutes) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto get = send(getRequest("/agent/v1/desired-state"));
  auto post = send(postRequest("/agent/v1/register", "{}"));
  ASSERT_TRUE(get && post);
  EXPECT_EQ(get->status, 404);
  EXPECT_EQ(post->status, 404);
  EXPECT_THAT(post->body, HasSubstr("<Code>NotFound</Code>"));
  EXPECT_TRUE(api_.requests().empty());
}

TEST_F(ServerRouting, UnknownPathsAre404WithAnErrorEnvelope) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  for (const std::string& request :
       {getRequest("/nope"), getRequest("/agent/v1"), getRequest("//?Action=X"),
        postRequest("/metrics", "x=1"), postRequest("/nope?Action=CreateTags", "Action=CreateTags"),
        std::string("DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")}) {
    auto response = send(request);
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 404) << request;
    EXPECT_EQ(response->headers["content-type"], "text/xml;charset=UTF-8");
    EXPECT_THAT(response->body,
                HasSubstr("<Response><Errors><Error><Code>NotFound</Code><Message>"));
  }
  EXPECT_TRUE(api_.requests().empty());
  EXPECT_EQ(metricLine("tmirror_http_rejected_total{reason=\"not_found\"}"),
            "tmirror_http_rejected_total{reason=\"not_found\"} 6");
}

TEST_F(ServerRouting, AmbiguousFramingIsRefusedAndTheConnectionClosed) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  const std::string kHead = "POST / HTTP/1.1\r\nHost: x\r\n";
  for (const std::string& request : {
           kHead + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           kHead + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
           kHead + "Content-Length: 5x\r\n\r\nhello",
           kHead + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
           std::string("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
       }) {
    auto connection = connect();
    ASSERT_TRUE(connection);
    ASSERT_TRUE(connection->send(request));
    auto response = connection->readResponse();
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_EQ(response->headers["connection"], "close");
    EXPECT_THAT(response->body, HasSubstr("<Code>InvalidRequest</Code>"));
    EXPECT_TRUE(connection->waitClosed(std::chrono::seconds(2))) << request;
  }
  EXPECT_TRUE(api_.requests().empty());
  EXPECT_EQ(metricLine("tmirror_http_rejected_total{reason=\"malformed_request\"}"),
            "tmirror_http_rejected_total{reason=\"malformed_request\"} 5");
}

TEST_F(ServerRouting, MethodsOutsideTheSupportedSetAreRefused) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto trace = send("TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->status, 405);
  EXPECT_THAT(trace->body, HasSubstr("<Code>InvalidRequest</Code>"));
  auto brew = send("BREW / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(brew);
  EXPECT_EQ(brew->status, 400);
  EXPECT_TRUE(api_.requests().empty());
}

TEST_F(ServerRouting, OverlongRequestLineIs414WithAnEnvelope) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto response =
      send(getRequest("/?Action=DescribeTrafficMirrorSessions&Pad=" + std::string(10000, 'p')));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 414);
  EXPECT_THAT(response->body, HasSubstr("<Code>InvalidRequest</Code>"));
  EXPECT_TRUE(api_.requests().empty());
  EXPECT_EQ(metricLine("tmirror_http_rejected_total{reason=\"uri_too_long\"}"),
            "tmirror_http_rejected_total{reason=\"uri_too_long\"} 1");
}

}  // namespace
}  // namespace tmirror::server::testing
