// Metric history in the store (store/metric_history.cc) on SQLite and PostgreSQL, and the
// HistoryWriter that fills it: minutes add up, rollups carry CloudWatch's statistics, late
// values still reach them, retention drops what CloudWatch drops, and it survives a reopen.
#include <map>

#include <gtest/gtest.h>

#include "history/history_writer.h"
#include "store/mirror_store.h"
#include "store/shared_store.h"
#include "testing/store_backends.h"

namespace tmirror::history {
namespace {

using store::HourOfMinutes;
using store::MetricPoint;
using store::MirrorStore;

constexpr int64_t kHour0 = 1'800'000'000 / 3600 * 3600;  // an hour's start, in 2027
constexpr int64_t kMinute0 = kHour0 / 60;

class MetricHistoryStoreTest : public testing::StoreBackendTest {
 protected:
  void SetUp() override {
    makeLocation("tmirror-history-test");
    reopen();
  }

  void TearDown() override {
    store_.reset();
    removeLocation();
  }

  void reopen() {
    store_.reset();
    auto store = MirrorStore::open(location_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::make_unique<MirrorStore>(std::move(*store));
  }

  int64_t series(const std::string& dimensions) {
    auto id = store_->metricSeriesId("AWS/EC2", "NetworkPacketsMirrorIn", dimensions);
    EXPECT_TRUE(id) << id.error().message;
    return id.value_or(0);
  }

  // Minutes (offsets from kMinute0) and their counts, as `writer` writes them.
  void put(int64_t writer, int64_t series_id, const std::vector<std::pair<int64_t, int64_t>>& at) {
    std::map<int64_t, HourOfMinutes> rows;
    for (const auto& [minute, value] : at) {
      HourOfMinutes& row = rows[(kMinute0 + minute) / 60];
      row.series_id = series_id;
      row.hour = (kMinute0 + minute) / 60;
      row.minutes[static_cast<std::size_t>((kMinute0 + minute) % 60)] = value;
    }
    for (const auto& [hour, row] : rows) {
      auto r = store_->putHourOfMinutes(writer, row);
      EXPECT_TRUE(r) << r.error().message;
    }
  }

  std::vector<MetricPoint> points(int64_t id, int64_t period, int64_t from, int64_t to) {
    auto p = store_->metricPoints(id, period, from, to);
    EXPECT_TRUE(p) << p.error().message;
    return p.value_or(std::vector<MetricPoint>{});
  }

  std::unique_ptr<MirrorStore> store_;
};

TEST_P(MetricHistoryStoreTest, SeriesAreCreatedOnceAndTheWritersMinutesAddUp) {
  const int64_t a = series("InstanceId=i-1");
  EXPECT_EQ(series("InstanceId=i-1"), a);
  const int64_t b = series("InstanceId=i-2");
  EXPECT_NE(a, b);
  put(1, a, {{0, 3}, {1, 7}});
  put(1, a, {{0, 10}, {1, 7}});  // the writer's row, rewritten: replaced
  put(1, b, {{0, 1}});
  put(2, a, {{0, 5}});  // another server counted in the same minute
  EXPECT_EQ(points(a, 60, kHour0, kHour0 + 3600),
            (std::vector<MetricPoint>{{kHour0, 15, 15, 15, 1}, {kHour0 + 60, 7, 7, 7, 1}}));
  EXPECT_EQ(points(a, 60, kHour0 + 60, kHour0 + 120).size(), 1u) << "[from, to)";
  auto all = store_->metricSeries();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].dimensions, "InstanceId=i-1");
  EXPECT_EQ((*all)[0].namespace_name, "AWS/EC2");
}

TEST_P(MetricHistoryStoreTest, RollupsCarryTheStatisticsOfTheirMinutes) {
  const int64_t a = series("InstanceId=i-1");
  std::vector<std::pair<int64_t, int64_t>> values;
  // Two hours of minutes: minute i counts i, except minutes 3 and 4, which have no value.
  for (int64_t i = 0; i < 120; ++i) {
    if (i != 3 && i != 4) {
      values.emplace_back(i, i);
    }
  }
  put(1, a, values);
  ASSERT_TRUE(store_->rollUpMetrics(kHour0 + 2 * 3600 + 600));
  const auto five = points(a, 300, kHour0, kHour0 + 3600);
  ASSERT_EQ(five.size(), 12u);
  EXPECT_EQ(five[0], (MetricPoint{kHour0, 0 + 1 + 2, 0, 2, 3}));
  EXPECT_EQ(five[1], (MetricPoint{kHour0 + 300, 5 + 6 + 7 + 8 + 9, 5, 9, 5}));
  const auto hours = points(a, 3600, kHour0, kHour0 + 7200);
  ASSERT_EQ(hours.size(), 2u);
  EXPECT_EQ(hours[0], (MetricPoint{kHour0, 59 * 60 / 2 - 3 - 4, 0, 59, 58}));
  EXPECT_EQ(hours[1], (MetricPoint{kHour0 + 3600, (60 + 119) * 60 / 2, 60, 119, 60}));

  // Another writer's late row for a recent hour reaches its rollups at the next run; running
  // twice changes nothing.
  put(2, a, {{119, 1000}});
  ASSERT_TRUE(store_->rollUpMetrics(kHour0 + 2 * 3600 + 660));
  ASSERT_TRUE(store_->rollUpMetrics(kHour0 + 2 * 3600 + 660));
  EXPECT_EQ(points(a, 3600, kHour0 + 3600, kHour0 + 7200)[0].sum, (60 + 119) * 60 / 2 + 1000);
  EXPECT_EQ(points(a, 300, kHour0 + 6900, kHour0 + 7200)[0].maximum, 1119);
  EXPECT_EQ(points(a, 300, kHour0 + 6900, kHour0 + 7200)[0].samples, 5);

  reopen();  // a restarted server finds it all
  EXPECT_EQ(points(a, 300, kHour0, kHour0 + 7200).size(), 24u);
  EXPECT_EQ(points(a, 60, kHour0, kHour0 + 7200).size(), 118u);
}

TEST_P(MetricHistoryStoreTest, EachResolutionIsKeptAsLongAsCloudWatchKeepsIt) {
  const int64_t a = series("InstanceId=i-1");
  put(1, a, {{0, 4}});
  ASSERT_TRUE(store_->rollUpMetrics(kHour0 + 3600));
  auto at = [&](int64_t days) { return kHour0 + days * 86400 + 3600; };
  ASSERT_TRUE(store_->rollUpMetrics(at(15)));
  EXPECT_TRUE(points(a, 60, kHour0, kHour0 + 60).empty()) << "minutes: 15 days";
  EXPECT_EQ(points(a, 300, kHour0, kHour0 + 300).size(), 1u);
  ASSERT_TRUE(store_->rollUpMetrics(at(63)));
  EXPECT_TRUE(points(a, 300, kHour0, kHour0 + 300).empty()) << "5 minutes: 63 days";
  EXPECT_EQ(points(a, 3600, kHour0, kHour0 + 3600).size(), 1u);
  ASSERT_TRUE(store_->rollUpMetrics(at(455)));
  EXPECT_TRUE(points(a, 3600, kHour0, kHour0 + 3600).empty()) << "hours: 455 days";
}

TEST_P(MetricHistoryStoreTest, TheWriterMovesCountsIntoTheStoreAndRollsThemUp) {
  store_.reset();
  auto shared = store::SharedStore::open(location_);
  ASSERT_TRUE(shared) << shared.error().message;
  CounterHistory history;
  int64_t now = kHour0 + 30;
  HistoryWriter writer(**shared, history, {.now = [&] {
    return std::chrono::system_clock::time_point(std::chrono::seconds(now));
  }});
  model::CountersReport report;
  report.instance_id = "i-9";
  model::ResourceCounters eth0;
  eth0.id = "eni-9";
  for (uint64_t total : {100u, 160u, 200u}) {
    eth0.counts = {{"NetworkPacketsMirrorIn", total}};
    report.interfaces = {eth0};
    history.record(report, std::chrono::system_clock::time_point(std::chrono::seconds(now)));
    ASSERT_TRUE(writer.flush(false));
    now += 20;
  }
  now = kHour0 + 900;
  ASSERT_TRUE(writer.flush(true));
  (*shared)->read([&](MirrorStore& s) {
    auto all = s.metricSeries();
    EXPECT_TRUE(all);
    EXPECT_EQ(all->size(), 2u);  // the interface and the instance
    for (const auto& series : *all) {
      auto minutes = s.metricPoints(series.id, 60, kHour0, kHour0 + 3600);
      auto five = s.metricPoints(series.id, 300, kHour0, kHour0 + 3600);
      EXPECT_TRUE(minutes && five);
      int64_t sum = 0;
      for (const auto& p : *minutes) {
        sum += p.sum;
      }
      EXPECT_EQ(sum, 100) << series.dimensions;
      EXPECT_EQ(five->empty() ? -1 : (*five)[0].sum, 100) << series.dimensions;
    }
    return 0;
  });
}

INSTANTIATE_TEST_SUITE_P(Stores, MetricHistoryStoreTest, testing::kStoreBackends,
                         testing::storeBackendName);

}  // namespace
}  // namespace tmirror::history
