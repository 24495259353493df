#include "metrics/prometheus_text.h"

#include <limits>

#include <gtest/gtest.h>

namespace tmirror::metrics {
namespace {

std::string escapedLabel(std::string_view value) {
  std::string out;
  appendEscapedLabelValue(out, value);
  return out;
}

std::string escapedHelp(std::string_view help) {
  std::string out;
  appendEscapedHelp(out, help);
  return out;
}

std::string sample(double value) {
  std::string out;
  appendSampleValue(out, value);
  return out;
}

TEST(MetricsFormat, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(escapedLabel(R"(C:\dir)"), R"(C:\\dir)");
  EXPECT_EQ(escapedLabel(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(escapedLabel("two\nlines"), R"(two\nlines)");
  EXPECT_EQ(escapedLabel("tab\tstays"), "tab\tstays");
  EXPECT_EQ(escapedLabel("\\\"\n"), R"(\\\"\n)");
}

TEST(MetricsFormat, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(escapedHelp("a \"quoted\" \\ word\nnext"), R"(a "quoted" \\ word\nnext)");
}

TEST(MetricsFormat, SampleValuesAreShortestText) {
  EXPECT_EQ(sample(0), "0");
  EXPECT_EQ(sample(3), "3");
  EXPECT_EQ(sample(-2), "-2");
  EXPECT_EQ(sample(0.0005), "0.0005");
  EXPECT_EQ(sample(2.5), "2.5");
  EXPECT_EQ(sample(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(sample(100), "100");
  EXPECT_EQ(sample(1234567), "1234567");
  EXPECT_EQ(sample(1e20), "100000000000000000000");
  EXPECT_EQ(sample(1e21), "1e+21");
  EXPECT_EQ(sample(0.00012), "0.00012");
  EXPECT_EQ(sample(1e-5), "1e-05");
  EXPECT_EQ(sample(-0.0025), "-0.0025");
  EXPECT_EQ(sample(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(sample(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(sample(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(MetricsFormat, MetricAndLabelNamesFollowThePrometheusGrammar) {
  EXPECT_TRUE(isValidMetricName("tmirror_api_requests_total"));
  EXPECT_TRUE(isValidMetricName("job:rate5m"));
  EXPECT_TRUE(isValidMetricName("_x"));
  EXPECT_FALSE(isValidMetricName(""));
  EXPECT_FALSE(isValidMetricName("9lives"));
  EXPECT_FALSE(isValidMetricName("has-dash"));
  EXPECT_FALSE(isValidMetricName("has space"));

  EXPECT_TRUE(isValidLabelName("action"));
  EXPECT_TRUE(isValidLabelName("_private"));
  EXPECT_FALSE(isValidLabelName("__reserved"));
  EXPECT_FALSE(isValidLabelName("job:rate"));
  EXPECT_FALSE(isValidLabelName("1st"));
  EXPECT_FALSE(isValidLabelName(""));
}

}  // namespace
}  // namespace tmirror::metrics
