// What the server records in /metrics, and that the exposition parses.
#include <cstdlib>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace tmirror::server::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using ServerMetrics = ServerFixture;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    out.push_back(line);
  }
  return out;
}

bool isNameChar(char c, bool first, bool colon_allowed) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const bool digit = c >= '0' && c <= '9';
  return letter || (!first && digit) || (colon_allowed && c == ':');
}

// Consumes a metric name (colon_allowed) or label name from the front of text.
std::string takeName(std::string_view& text, bool colon_allowed) {
  std::size_t n = 0;
  while (n < text.size() && isNameChar(text[n], n == 0, colon_allowed)) {
    ++n;
  }
  std::string name(text.substr(0, n));
  text.remove_prefix(n);
  return name;
}

// One sample line of the text format: name{label="escaped",...} value. Returns the metric
// name, or empty when the line does not parse.
std::string parseSample(std::string_view text) {
  std::string name = takeName(text, true);
  if (name.empty()) {
    return {};
  }
  if (!text.empty() && text.front() == '{') {
    text.remove_prefix(1);
    while (true) {
      if (takeName(text, false).empty() || !text.starts_with("=\"")) {
        return {};
      }
      text.remove_prefix(2);
      while (!text.empty() && text.front() != '"') {
        if (text.front() == '\n') {
          return {};
        }
        if (text.front() == '\\') {
          if (text.size() < 2 || (text[1] != '\\' && text[1] != '"' && text[1] != 'n')) {
            return {};
          }
          text.remove_prefix(1);
        }
        text.remove_prefix(1);
      }
      if (text.empty()) {
        return {};
      }
      text.remove_prefix(1);  // closing quote
      if (text.starts_with(",")) {
        text.remove_prefix(1);
        continue;
      }
      if (!text.starts_with("}")) {
        return {};
      }
      text.remove_prefix(1);
      break;
    }
  }
  if (!text.starts_with(" ")) {
    return {};
  }
  const std::string value(text.substr(1));
  if (value == "NaN" || value == "+Inf" || value == "-Inf") {
    return name;
  }
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  return !value.empty() && end == value.c_str() + value.size() ? name : std::string();
}

api::HttpResponse answerByAction(const RecordedRequest& request) {
  const std::string params = request.query + "&" + request.body;
  if (params.find("Action=CreateTrafficMirrorTarget") != std::string::npos) {
    return errorResponse(400, "InvalidParameterValue", "CreateTrafficMirrorTarget");
  }
  return api::HttpResponse{
      .status = 200, .body = kDescribeSessionsXml, .action = "DescribeTrafficMirrorSessions"};
}

TEST_F(ServerMetrics, RequestsAreCountedByActionAndCodeWithALatencyHistogram) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  api_.respondWith(answerByAction);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send(postRequest("/", "Action=DescribeTrafficMirrorSessions&Version=2016-11-15")));
  }
  ASSERT_TRUE(send(getRequest("/?Action=CreateTrafficMirrorTarget&Version=2016-11-15")));

  auto response = send(getRequest("/metrics"));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  const std::vector<std::string> exposition = lines(response->body);
  const auto has = [&exposition](const std::string& line) {
    return std::find(exposition.begin(), exposition.end(), line) != exposition.end();
  };
  EXPECT_TRUE(
      has("# HELP tmirror_api_requests_total EC2 Query API requests by action and result "
          "code."));
  EXPECT_TRUE(has("# TYPE tmirror_api_requests_total counter"));
  EXPECT_TRUE(
      has("tmirror_api_requests_total{action=\"DescribeTrafficMirrorSessions\",code="
          "\"2xx\"} 3"));
  EXPECT_TRUE(
      has("tmirror_api_requests_total{action=\"CreateTrafficMirrorTarget\",code="
          "\"InvalidParameterValue\"} 1"));
  EXPECT_TRUE(has("# TYPE tmirror_api_request_duration_seconds histogram"));
  EXPECT_TRUE(
      has("tmirror_api_request_duration_seconds_count{action="
          "\"DescribeTrafficMirrorSessions\"} 3"));
  EXPECT_TRUE(has("# TYPE tmirror_http_rejected_total counter"));
  EXPECT_TRUE(has("tmirror_http_rejected_total{reason=\"body_too_large\"} 0"));
  EXPECT_TRUE(has("tmirror_http_rejected_total{reason=\"read_timeout\"} 0"));
  EXPECT_TRUE(has("tmirror_http_handler_exceptions_total 0"));

  // Buckets: the documented bounds in order, counts never decreasing, +Inf equal to _count.
  const std::string bucket_prefix =
      "tmirror_api_request_duration_seconds_bucket{action=\"DescribeTrafficMirrorSessions\",le=\"";
  std::vector<std::string> bounds;
  std::vector<double> counts;
  for (const std::string& line : exposition) {
    if (line.starts_with(bucket_prefix)) {
      const std::size_t quote = line.find('"', bucket_prefix.size());
      bounds.push_back(line.substr(bucket_prefix.size(), quote - bucket_prefix.size()));
      counts.push_back(std::stod(line.substr(line.rfind(' ') + 1)));
    }
  }
  EXPECT_THAT(bounds, ::testing::ElementsAre("0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
                                             "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"));
  ASSERT_FALSE(counts.empty());
  EXPECT_TRUE(std::is_sorted(counts.begin(), counts.end()));
  EXPECT_EQ(counts.back(), 3);
}

TEST_F(ServerMetrics, EveryExpositionLineParses) {
  // The checker itself: accepts the grammar, refuses near misses.
  ASSERT_EQ(parseSample("a_b:c{x=\"1\",y=\"q\\\"\\n\"} 2.5e-05"), "a_b:c");
  ASSERT_EQ(parseSample("up +Inf"), "up");
  ASSERT_EQ(parseSample("x{a=\"unterminated} 1"), "");
  ASSERT_EQ(parseSample("x{a=\"bad\\q\"} 1"), "");
  ASSERT_EQ(parseSample("x 1 2"), "");
  ASSERT_EQ(parseSample("x{a:b=\"1\"} 1"), "");

  ASSERT_NO_FATAL_FAILURE(startServer());
  api_.respondWith(answerByAction);
  ASSERT_TRUE(send(getRequest("/?Action=DescribeTrafficMirrorSessions")));
  ASSERT_TRUE(send(postRequest("/", "Action=CreateTrafficMirrorTarget")));
  ASSERT_TRUE(send(getRequest("/nope")));
  ASSERT_TRUE(metrics_.gaugeCallback("tmirror_resources", "Resources by kind.", {"kind"}, [] {
    return std::vector<metrics::GaugeSample>{{{"traffic-mirror-session"}, 2},
                                             {{"quote\"back\\slash\nnewline"}, 1}};
  }));
  auto response = send(getRequest("/metrics"));
  ASSERT_TRUE(response);

  std::set<std::string> typed;
  std::string current_family;
  for (const std::string& line : lines(response->body)) {
    if (line.starts_with("# HELP ")) {
      std::string_view rest = std::string_view(line).substr(7);
      EXPECT_FALSE(takeName(rest, true).empty()) << line;
      EXPECT_TRUE(rest.starts_with(" ")) << line;
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      std::string_view rest = std::string_view(line).substr(7);
      current_family = takeName(rest, true);
      EXPECT_TRUE(rest == " counter" || rest == " gauge" || rest == " histogram") << line;
      EXPECT_TRUE(typed.insert(current_family).second) << "family typed twice: " << line;
      continue;
    }
    const std::string name = parseSample(line);
    ASSERT_FALSE(name.empty()) << "unparsable line: " << line;
    EXPECT_TRUE(name.starts_with(current_family)) << "sample outside its family: " << line;
  }
  EXPECT_TRUE(typed.contains("tmirror_resources"));
  EXPECT_THAT(response->body,
              HasSubstr("tmirror_resources{kind=\"quote\\\"back\\\\slash\\nnewline\"} 1\n"));
}

TEST_F(ServerMetrics, ClientChosenActionsDoNotBecomeLabels) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  api_.respondWith([](const RecordedRequest& request) {
    if (request.headers.contains("authorization")) {
      return errorResponse(401, "AuthFailure");
    }
    return errorResponse(400, "InvalidAction");
  });
  ASSERT_TRUE(send(getRequest("/?Action=MadeUpActionNumberOne")));
  ASSERT_TRUE(send(getRequest("/?Action=Evil%22%7D")));
  ASSERT_TRUE(send(getRequest("/?Action=DescribeTrafficMirrorSessions",
                              "Authorization: AWS4-HMAC-SHA256 Credential=bad\r\n")));

  const std::string text = metrics_.render();
  EXPECT_THAT(text, HasSubstr("tmirror_api_requests_total{action=\"unknown\",code="
                              "\"InvalidAction\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("tmirror_api_requests_total{action=\"unknown\",code="
                              "\"AuthFailure\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("MadeUpActionNumberOne")));
  EXPECT_THAT(text, Not(HasSubstr("Evil")));
}

}  // namespace
}  // namespace tmirror::server::testing
