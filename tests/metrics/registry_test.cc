#include "metrics/registry.h"

#include <limits>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tmirror::metrics {
namespace {

TEST(Registry, CounterRendersHelpTypeAndSeriesSortedByLabels) {
  Registry registry;
  auto requests = registry.counter("requests_total", "Requests by action.", {"action", "code"});
  ASSERT_TRUE(requests) << requests.error().message;
  requests->increment({"Describe", "2xx"});
  requests->increment({"Create", "InvalidParameterValue"}, 2);
  requests->increment({"Describe", "2xx"});

  EXPECT_EQ(registry.render(),
            "# HELP requests_total Requests by action.\n"
            "# TYPE requests_total counter\n"
            "requests_total{action=\"Create\",code=\"InvalidParameterValue\"} 2\n"
            "requests_total{action=\"Describe\",code=\"2xx\"} 2\n");
  EXPECT_EQ(requests->value({"Describe", "2xx"}), 2);
  EXPECT_EQ(requests->value({"Nothing", "2xx"}), 0);
}

TEST(Registry, LabelValuesAndHelpAreEscapedInTheExposition) {
  Registry registry;
  auto hits = registry.counter("hits_total", "Hits on \\paths\nby path.", {"path"});
  ASSERT_TRUE(hits);
  hits->increment({"C:\\x \"y\"\nz"});
  EXPECT_EQ(registry.render(),
            "# HELP hits_total Hits on \\\\paths\\nby path.\n"
            "# TYPE hits_total counter\n"
            "hits_total{path=\"C:\\\\x \\\"y\\\"\\nz\"} 1\n");
}

TEST(Registry, UnlabelledMetricsShowZeroBeforeFirstUse) {
  Registry registry;
  ASSERT_TRUE(registry.counter("errors_total", "Errors."));
  ASSERT_TRUE(registry.gauge("queue_depth", "Depth."));
  EXPECT_EQ(registry.render(),
            "# HELP errors_total Errors.\n"
            "# TYPE errors_total counter\n"
            "errors_total 0\n"
            "# HELP queue_depth Depth.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth 0\n");
}

TEST(Registry, CountersIgnoreNegativeAndNanAmounts) {
  Registry registry;
  auto counter = registry.counter("c_total", "C.");
  ASSERT_TRUE(counter);
  counter->increment({}, 5);
  counter->increment({}, -1);
  counter->increment({}, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(counter->value(), 5);
}

TEST(Registry, GaugesSetAndAdd) {
  Registry registry;
  auto gauge = registry.gauge("sessions", "Sessions.", {"state"});
  ASSERT_TRUE(gauge);
  gauge->set({"active"}, 4);
  gauge->add({"active"}, -1.5);
  EXPECT_EQ(gauge->value({"active"}), 2.5);
  EXPECT_NE(registry.render().find("sessions{state=\"active\"} 2.5\n"), std::string::npos);
}

TEST(Registry, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  auto latency = registry.histogram("latency_seconds", "Latency.", {"action"}, {0.1, 1, 2.5});
  ASSERT_TRUE(latency) << latency.error().message;
  latency->observe({"Describe"}, 0.05);
  latency->observe({"Describe"}, 0.1);  // on the bound: counted in le="0.1"
  latency->observe({"Describe"}, 2);
  latency->observe({"Describe"}, 30);

  EXPECT_EQ(registry.render(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{action=\"Describe\",le=\"0.1\"} 2\n"
            "latency_seconds_bucket{action=\"Describe\",le=\"1\"} 2\n"
            "latency_seconds_bucket{action=\"Describe\",le=\"2.5\"} 3\n"
            "latency_seconds_bucket{action=\"Describe\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{action=\"Describe\"} 32.15\n"
            "latency_seconds_count{action=\"Describe\"} 4\n");
  EXPECT_EQ(latency->count({"Describe"}), 4u);
  EXPECT_DOUBLE_EQ(latency->sum({"Describe"}), 32.15);
}

TEST(Registry, UnlabelledHistogramPutsLeAlone) {
  Registry registry;
  auto histogram = registry.histogram("h", "H.", {}, {1});
  ASSERT_TRUE(histogram);
  histogram->observe({}, 0.5);
  EXPECT_EQ(registry.render(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 0.5\nh_count 1\n");
}

TEST(Registry, GaugeCallbacksAreReadAtRender) {
  Registry registry;
  int agents = 2;
  ASSERT_TRUE(registry.gaugeCallback("tmirror_registered_agents", "Agents.",
                                     [&agents] { return static_cast<double>(agents); }));
  ASSERT_TRUE(registry.gaugeCallback("tmirror_resources", "Resources by kind.", {"kind"}, [] {
    return std::vector<GaugeSample>{
        {{"traffic-mirror-session"}, 3}, {{"traffic-mirror-target"}, 1}, {{"wrong", "arity"}, 9}};
  }));
  agents = 5;
  EXPECT_EQ(registry.render(),
            "# HELP tmirror_registered_agents Agents.\n"
            "# TYPE tmirror_registered_agents gauge\n"
            "tmirror_registered_agents 5\n"
            "# HELP tmirror_resources Resources by kind.\n"
            "# TYPE tmirror_resources gauge\n"
            "tmirror_resources{kind=\"traffic-mirror-session\"} 3\n"
            "tmirror_resources{kind=\"traffic-mirror-target\"} 1\n");

  registry.removeGaugeCallback("tmirror_registered_agents");
  EXPECT_EQ(registry.render().find("tmirror_registered_agents"), std::string::npos);
  // The name is free again.
  EXPECT_TRUE(registry.gaugeCallback("tmirror_registered_agents", "Agents.", [] { return 0.0; }));
}

TEST(Registry, RegisteringTheSameMetricAgainReturnsIt) {
  Registry registry;
  auto first = registry.counter("c_total", "C.", {"reason"});
  auto second = registry.counter("c_total", "C.", {"reason"});
  ASSERT_TRUE(first && second);
  first->increment({"x"});
  EXPECT_EQ(second->value({"x"}), 1);
}

TEST(Registry, ConflictingRegistrationsFail) {
  Registry registry;
  ASSERT_TRUE(registry.counter("m", "M.", {"a"}));
  auto other_labels = registry.counter("m", "M.", {"b"});
  ASSERT_FALSE(other_labels);
  EXPECT_EQ(other_labels.error().code, ErrorCode::AlreadyExists);
  EXPECT_FALSE(registry.gauge("m", "M.", {"a"}));
  EXPECT_FALSE(registry.gaugeCallback("m", "M.", [] { return 1.0; }));
  ASSERT_TRUE(registry.gaugeCallback("cb", "CB.", [] { return 1.0; }));
  EXPECT_FALSE(registry.gaugeCallback("cb", "CB.", [] { return 2.0; }));
}

TEST(Registry, InvalidNamesAndBucketsAreRefused) {
  Registry registry;
  EXPECT_EQ(registry.counter("bad-name", "x").error().code, ErrorCode::InvalidArgument);
  EXPECT_FALSE(registry.counter("ok", "x", {"bad label"}));
  EXPECT_FALSE(registry.counter("ok", "x", {"a", "a"}));
  EXPECT_FALSE(registry.histogram("h", "x", {"le"}, {1}));
  EXPECT_FALSE(registry.histogram("h", "x", {}, {1, 1}));
  EXPECT_FALSE(registry.histogram("h", "x", {}, {2, 1}));
  EXPECT_FALSE(registry.histogram("h", "x", {}, {1, std::numeric_limits<double>::infinity()}));
  EXPECT_TRUE(registry.histogram("h", "x", {}, {1, 2}));
}

TEST(Registry, NewSeriesBeyondTheCapFoldIntoOneOverflowSeries) {
  Registry registry(/*max_series_per_family=*/2);
  auto counter = registry.counter("c_total", "C.", {"action"});
  ASSERT_TRUE(counter);
  counter->increment({"A"});
  counter->increment({"B"});
  counter->increment({"C"});
  counter->increment({"D"});
  counter->increment({"A"});
  EXPECT_EQ(counter->value({"A"}), 2);
  EXPECT_EQ(counter->value({"C"}), 0);
  EXPECT_EQ(counter->value({"overflow"}), 2);
}

TEST(Registry, WrongNumberOfLabelValuesLandsInOverflow) {
  Registry registry;
  auto counter = registry.counter("c_total", "C.", {"a", "b"});
  ASSERT_TRUE(counter);
  counter->increment({"only-one"});
  EXPECT_EQ(counter->value({"overflow", "overflow"}), 1);
}

TEST(Registry, UnboundHandlesDoNothing) {
  Counter counter;
  Histogram histogram;
  counter.increment();
  histogram.observe({}, 1);
  EXPECT_EQ(counter.value(), 0);
  EXPECT_EQ(histogram.count(), 0u);
}

TEST(Registry, ConcurrentUpdatesAreAllCounted) {
  Registry registry;
  auto counter = registry.counter("c_total", "C.", {"worker"});
  auto histogram = registry.histogram("h", "H.", {}, {0.5});
  ASSERT_TRUE(counter && histogram);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        counter->increment({t % 2 == 0 ? "even" : "odd"});
        histogram->observe({}, 0.25);
        if (i % 1000 == 0) {
          (void)registry.render();
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(counter->value({"even"}) + counter->value({"odd"}), kThreads * kPerThread);
  EXPECT_EQ(histogram->count(), static_cast<uint64_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace tmirror::metrics
