// The CloudWatch operations over a store holding history: what each statistic of a period is,
// which resolution an old period reads, pagination, and CloudWatch's validation errors.
#include "cloudwatch/metric_queries.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace tmirror::cloudwatch {
namespace {

using Json = nlohmann::json;

constexpr int64_t kHour0 = 1'796'637'600;  // 2026-12-07T10:00:00Z
constexpr int64_t kNow = kHour0 + 2 * 3600;

class MetricQueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tmirror-cw-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto s = store::MirrorStore::open(dir_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::make_unique<store::MirrorStore>(std::move(*s));
    // i-1's mirrored packets: minute m of the two hours counts m + 1.
    series_ = store_->metricSeriesId("AWS/EC2", "NetworkPacketsMirrorIn", "InstanceId=i-1").value();
    for (int64_t h = 0; h < 2; ++h) {
      store::HourOfMinutes row{series_, kHour0 / 3600 + h, {}};
      for (int64_t m = 0; m < 60; ++m) {
        row.minutes[static_cast<std::size_t>(m)] = h * 60 + m + 1;
      }
      ASSERT_TRUE(store_->putHourOfMinutes(1, row));
    }
    ASSERT_TRUE(store_->metricSeriesId("AWS/EC2", "NetworkMirrorIn", "InstanceId=i-1"));
    ASSERT_TRUE(
        store_->metricSeriesId("AWS/EC2", "NetworkPacketsMirrorIn", "NetworkInterfaceId=eni-1"));
    ASSERT_TRUE(
        store_->metricSeriesId("tmirror/Collector", "Datagrams", "NetworkInterfaceId=eni-2"));
    ASSERT_TRUE(store_->rollUpMetrics(kNow));
  }

  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static Json statisticsRequest(int64_t start, int64_t end, int64_t period) {
    return {{"Namespace", "AWS/EC2"},
            {"MetricName", "NetworkPacketsMirrorIn"},
            {"Dimensions", {{{"Name", "InstanceId"}, {"Value", "i-1"}}}},
            {"StartTime", start},
            {"EndTime", end},
            {"Period", period},
            {"Statistics", {"Sum", "SampleCount", "Average", "Minimum", "Maximum"}}};
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::MirrorStore> store_;
  int64_t series_ = 0;
};

TEST_F(MetricQueriesTest, EachStatisticOfAPeriodComesFromItsMinutes) {
  auto out = getMetricStatistics(*store_, statisticsRequest(kHour0, kHour0 + 3600, 600), kNow);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ((*out)["Label"], "NetworkPacketsMirrorIn");
  const Json& points = (*out)["Datapoints"];
  ASSERT_EQ(points.size(), 6u);
  // Minutes 0..9 count 1..10.
  EXPECT_EQ(points[0]["Timestamp"], kHour0);
  EXPECT_EQ(points[0]["Sum"], 55.0);
  EXPECT_EQ(points[0]["SampleCount"], 10.0);
  EXPECT_EQ(points[0]["Average"], 5.5);
  EXPECT_EQ(points[0]["Minimum"], 1.0);
  EXPECT_EQ(points[0]["Maximum"], 10.0);
  EXPECT_EQ(points[0]["Unit"], "Count");
  // Query-form values (strings, ISO time) read the same.
  Json query = statisticsRequest(0, 0, 0);
  query["StartTime"] = "2026-12-07T10:00:00Z";
  query["EndTime"] = "2026-12-07T11:00:00Z";
  query["Period"] = "3600";
  query["Statistics"] = {"Sum"};
  auto hour = getMetricStatistics(*store_, query, kNow);
  ASSERT_TRUE(hour) << hour.error().message;
  ASSERT_EQ((*hour)["Datapoints"].size(), 1u);
  EXPECT_EQ((*hour)["Datapoints"][0]["Sum"], 60.0 * 61 / 2);
}

TEST_F(MetricQueriesTest, OldPeriodsReadTheCoarserResolutionsThatStillHoldThem) {
  // Twenty days later the minutes are gone (15 days) but the 5-minute points remain.
  const int64_t later = kHour0 + 20 * 86400;
  ASSERT_TRUE(store_->rollUpMetrics(later));
  auto five = getMetricStatistics(*store_, statisticsRequest(kHour0, kHour0 + 3600, 300), later);
  ASSERT_TRUE(five) << five.error().message;
  ASSERT_EQ((*five)["Datapoints"].size(), 12u);
  EXPECT_EQ((*five)["Datapoints"][0]["Sum"], 15.0);
  EXPECT_EQ((*five)["Datapoints"][0]["SampleCount"], 5.0);
  // A 1-minute period no longer has data; CloudWatch answers no datapoints.
  auto minutes = getMetricStatistics(*store_, statisticsRequest(kHour0, kHour0 + 600, 60), later);
  ASSERT_TRUE(minutes);
  EXPECT_TRUE((*minutes)["Datapoints"].empty());
}

TEST_F(MetricQueriesTest, BadRequestsGetCloudWatchsCodes) {
  auto code = [&](Json request) {
    auto out = getMetricStatistics(*store_, request, kNow);
    return out ? std::string("ok") : out.error().code;
  };
  Json r = statisticsRequest(kHour0, kHour0 + 3600, 90);
  EXPECT_EQ(code(r), "InvalidParameterValue");  // not a multiple of 60
  r = statisticsRequest(kHour0, kHour0 + 86400 * 2, 60);
  EXPECT_EQ(code(r), "InvalidParameterCombination");  // 2,880 datapoints
  r = statisticsRequest(kHour0 + 60, kHour0, 60);
  EXPECT_EQ(code(r), "InvalidParameterValue");  // start after end
  r = statisticsRequest(kHour0, kHour0 + 60, 60);
  r["ExtendedStatistics"] = {"p99"};
  EXPECT_EQ(code(r), "InvalidParameterCombination");
  r.erase("Statistics");
  r.erase("ExtendedStatistics");
  EXPECT_EQ(code(r), "MissingParameter");
  r = statisticsRequest(kHour0, kHour0 + 60, 60);
  r["Statistics"] = {"Median"};
  EXPECT_EQ(code(r), "InvalidParameterValue");
  r.erase("Namespace");
  EXPECT_EQ(code(r), "MissingParameter");
}

TEST_F(MetricQueriesTest, ListMetricsFiltersByNamespaceNameAndDimensions) {
  auto all = listMetrics(*store_, Json::object());
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)["Metrics"].size(), 4u);
  EXPECT_FALSE(all->contains("NextToken"));
  auto ec2 =
      listMetrics(*store_, {{"Namespace", "AWS/EC2"}, {"Dimensions", {{{"Name", "InstanceId"}}}}});
  ASSERT_TRUE(ec2);
  ASSERT_EQ((*ec2)["Metrics"].size(), 2u);
  EXPECT_EQ((*ec2)["Metrics"][0]["Dimensions"][0]["Value"], "i-1");
  auto one = listMetrics(*store_, {{"MetricName", "Datagrams"}});
  ASSERT_TRUE(one);
  ASSERT_EQ((*one)["Metrics"].size(), 1u);
  EXPECT_EQ((*one)["Metrics"][0]["Namespace"], "tmirror/Collector");
  auto bad = listMetrics(*store_, {{"NextToken", "x"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "InvalidNextToken");
}

TEST_F(MetricQueriesTest, GetMetricDataAnswersEachQueryAndPages) {
  Json request = {{"StartTime", kHour0},
                  {"EndTime", kHour0 + 3600},
                  {"ScanBy", "TimestampAscending"},
                  {"MetricDataQueries",
                   {{{"Id", "sum5"},
                     {"Label", "packets"},
                     {"MetricStat",
                      {{"Metric",
                        {{"Namespace", "AWS/EC2"},
                         {"MetricName", "NetworkPacketsMirrorIn"},
                         {"Dimensions", {{{"Name", "InstanceId"}, {"Value", "i-1"}}}}}},
                       {"Period", 300},
                       {"Stat", "Sum"}}}},
                    {{"Id", "max"},
                     {"MetricStat",
                      {{"Metric",
                        {{"Namespace", "AWS/EC2"},
                         {"MetricName", "NetworkPacketsMirrorIn"},
                         {"Dimensions", {{{"Name", "InstanceId"}, {"Value", "i-1"}}}}}},
                       {"Period", 3600},
                       {"Stat", "Maximum"}}}}}}};
  auto out = getMetricData(*store_, request, kNow);
  ASSERT_TRUE(out) << out.error().message;
  const Json& results = (*out)["MetricDataResults"];
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["Id"], "sum5");
  EXPECT_EQ(results[0]["Label"], "packets");
  EXPECT_EQ(results[0]["Timestamps"].size(), 12u);
  EXPECT_EQ(results[0]["Timestamps"][0], kHour0);
  EXPECT_EQ(results[0]["Values"][0], 15.0);
  EXPECT_EQ(results[0]["StatusCode"], "Complete");
  EXPECT_EQ(results[1]["Label"], "NetworkPacketsMirrorIn");
  EXPECT_EQ(results[1]["Values"], Json::parse("[60.0]"));

  // Pages of 5 datapoints: 13 in all.
  request["MaxDatapoints"] = 5;
  int64_t total = 0;
  int pages = 0;
  while (true) {
    auto page = getMetricData(*store_, request, kNow);
    ASSERT_TRUE(page) << page.error().message;
    for (const auto& r : (*page)["MetricDataResults"]) {
      total += static_cast<int64_t>(r["Values"].size());
    }
    ++pages;
    if (!page->contains("NextToken")) {
      break;
    }
    request["NextToken"] = (*page)["NextToken"];
  }
  EXPECT_EQ(total, 13);
  EXPECT_EQ(pages, 3);

  Json bad = request;
  bad.erase("NextToken");
  bad["MetricDataQueries"][0]["Id"] = "Sum5";
  auto refused = getMetricData(*store_, bad, kNow);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "ValidationError");
  bad["MetricDataQueries"][0]["Id"] = "e1";
  bad["MetricDataQueries"][0]["Expression"] = "SUM(METRICS())";
  refused = getMetricData(*store_, bad, kNow);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "InvalidParameterValue");
}

}  // namespace
}  // namespace tmirror::cloudwatch
