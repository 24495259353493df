// MirrorStore::copyInto (tmirror server migrate): a SQLite store with a record of every kind
// copied into an empty store of each backend reads back the same, kind by kind; a store that
// is not empty is refused and left as it was.
#include <gtest/gtest.h>

#include "store/mirror_store.h"
#include "testing/store_backends.h"

namespace tmirror::store {
namespace {

class StoreCopyTest : public testing::StoreBackendTest {
 protected:
  void SetUp() override {
    source_dir_ = testing::freshTestDirectory("tmirror-copy-source");
    auto source = MirrorStore::open(source_dir_);
    ASSERT_TRUE(source.has_value()) << source.error().message;
    source_ = std::make_unique<MirrorStore>(std::move(*source));
    makeLocation("tmirror-copy-target");
    auto target = MirrorStore::open(location_);
    ASSERT_TRUE(target.has_value()) << target.error().message;
    target_ = std::make_unique<MirrorStore>(std::move(*target));
  }

  void TearDown() override {
    source_.reset();
    target_.reset();
    std::filesystem::remove_all(source_dir_);
    removeLocation();
  }

  // One record of every kind, and some history: a deleted filter leaves a gap in the keys.
  void fill(MirrorStore& s) {
    auto tx = s.transaction();
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE(s.insertAccessKey("AKIAEXAMPLE0000000001", "secret"));
    ASSERT_TRUE(s.insertAgentToken("ab12"));
    ASSERT_TRUE(s.upsertInstance({0, "i-0123456789abcdef0", "host-key", "web-1", "10.0.0.2",
                                  "10.0.0.1:8900,[2001:db8::1]:8900"}));
    NetworkInterfaceRecord source{0,
                                  "eni-0000000000000000a",
                                  "subnet-1",
                                  "source",
                                  "02:00:00:00:00:01",
                                  "10.0.0.5",
                                  std::nullopt,
                                  9001,
                                  "i-0123456789abcdef0",
                                  "eth0",
                                  true};
    NetworkInterfaceRecord collector{0,
                                     "eni-0000000000000000b",
                                     "subnet-1",
                                     "collector",
                                     "02:00:00:00:00:02",
                                     "10.0.0.6",
                                     "fd00::6",
                                     1500,
                                     std::nullopt,
                                     std::nullopt,
                                     false};
    ASSERT_TRUE(s.insertNetworkInterface(source));
    ASSERT_TRUE(s.insertNetworkInterface(collector));
    ASSERT_TRUE(s.insertTarget({0, "tmt-0000000000000000a", "network-interface", collector.id,
                                std::nullopt, std::nullopt, "ids"}));
    ASSERT_TRUE(s.insertTarget({0, "tmt-0000000000000000b", "network-load-balancer", std::nullopt,
                                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/x/1",
                                std::nullopt, std::nullopt}));
    ASSERT_TRUE(s.insertFilter({0, "tmf-0000000000000000z", std::nullopt, false}));
    ASSERT_TRUE(s.deleteFilter("tmf-0000000000000000z"));
    ASSERT_TRUE(s.insertFilter({0, "tmf-0000000000000000a", "web", true}));
    ASSERT_TRUE(s.insertRule({0, "tmfr-0000000000000000a", "tmf-0000000000000000a", "ingress", 100,
                              "accept", 6, "0.0.0.0/0", "10.0.0.0/8", std::nullopt, std::nullopt,
                              80, 443, "web"}));
    ASSERT_TRUE(s.insertSession({0, "tms-0000000000000000a", source.id, "tmt-0000000000000000a",
                                 "tmf-0000000000000000a", 1, 4242, 128, "to the IDS"}));
    ASSERT_TRUE(s.putTag("tms-0000000000000000a", {"owner", "soc"}));
    ASSERT_TRUE(s.putTag("tmf-0000000000000000a", {"Env", "prod"}));
    ASSERT_TRUE(s.setLoadBalancerMembership(
        collector.id, "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/x/1"));
    ASSERT_TRUE(
        s.insertClientToken("CreateTrafficMirrorFilter", "tok", "fp", "tmf-0000000000000000a"));
    ASSERT_TRUE(s.appendAudit({"AKIAEXAMPLE0000000001", "CreateTrafficMirrorFilter",
                               "tmf-0000000000000000a", "ok", "req-1", "127.0.0.1"}));
    // Metric history: a series with minutes and their rollups.
    const auto series = s.metricSeriesId("AWS/EC2", "NetworkPacketsMirrorIn", "InstanceId=i-1");
    ASSERT_TRUE(series);
    ASSERT_TRUE(s.metricSeriesId("tmirror/Collector", "Datagrams", "NetworkInterfaceId=eni-1"));
    HourOfMinutes hour{*series, kMetricMinute / 60, {}};
    hour.minutes[0] = 7;
    hour.minutes[1] = 9;
    ASSERT_TRUE(s.putHourOfMinutes(42, hour));
    ASSERT_TRUE(s.rollUpMetrics((kMetricMinute + 10) * 60));
    ASSERT_TRUE(s.bumpRevision());
    ASSERT_TRUE(s.bumpRevision());
    ASSERT_TRUE(tx->commit());
  }

  static constexpr int64_t kMetricMinute = 29'000'040;  // an hour's first minute

  static void expectSame(MirrorStore& a, MirrorStore& b) {
    EXPECT_EQ(a.accountId(), b.accountId());
    EXPECT_EQ(a.metricSeries().value(), b.metricSeries().value());
    const auto all_series = a.metricSeries().value();
    for (const auto& series : all_series) {
      for (int64_t period : {60, 300, 3600}) {
        const auto points = a.metricPoints(series.id, period, 0, kMetricMinute * 61).value();
        EXPECT_EQ(points, b.metricPoints(series.id, period, 0, kMetricMinute * 61).value());
        if (series.namespace_name == "AWS/EC2") {
          EXPECT_FALSE(points.empty()) << period;
        }
      }
    }
    EXPECT_EQ(a.revision().value(), b.revision().value());
    EXPECT_EQ(a.networkInterfaces().value(), b.networkInterfaces().value());
    EXPECT_EQ(a.targets().value(), b.targets().value());
    EXPECT_EQ(a.filters().value(), b.filters().value());
    EXPECT_EQ(a.rules().value(), b.rules().value());
    EXPECT_EQ(a.sessions().value(), b.sessions().value());
    EXPECT_EQ(a.instances().value(), b.instances().value());
    EXPECT_EQ(a.allTags().value(), b.allTags().value());
    EXPECT_EQ(a.auditLog().value(), b.auditLog().value());
    EXPECT_EQ(a.allLoadBalancerMembers().value(), b.allLoadBalancerMembers().value());
    EXPECT_EQ(a.secretFor("AKIAEXAMPLE0000000001").value(),
              b.secretFor("AKIAEXAMPLE0000000001").value());
    EXPECT_TRUE(b.hasAgentToken("ab12").value());
    const auto token = b.findClientToken("CreateTrafficMirrorFilter", "tok").value();
    ASSERT_TRUE(token.has_value());
    EXPECT_EQ(token->resource_id, "tmf-0000000000000000a");
    EXPECT_EQ(a.hostRevision("i-0123456789abcdef0").value(),
              b.hostRevision("i-0123456789abcdef0").value());
  }

  std::filesystem::path source_dir_;
  std::unique_ptr<MirrorStore> source_;
  std::unique_ptr<MirrorStore> target_;
};

TEST_P(StoreCopyTest, EveryKindOfRecordArrivesAsItWas) {
  fill(*source_);
  auto copied = source_->copyInto(*target_);
  ASSERT_TRUE(copied.has_value()) << copied.error().message;
  expectSame(*source_, *target_);
  // The copy's keys go on from the copied ones: a new filter comes after them.
  ASSERT_TRUE(target_->insertFilter({0, "tmf-0000000000000000n", std::nullopt, false}));
  const auto filters = target_->filters().value();
  ASSERT_EQ(filters.size(), 2u);
  EXPECT_EQ(filters.back().id, "tmf-0000000000000000n");
  EXPECT_GT(filters.back().seq, filters.front().seq);
}

TEST_P(StoreCopyTest, AStoreThatIsNotEmptyIsRefusedAndKeptAsItWas) {
  fill(*source_);
  ASSERT_TRUE(target_->insertFilter({0, "tmf-0000000000000000t", "mine", false}));
  const auto account = target_->accountId();
  auto copied = source_->copyInto(*target_);
  ASSERT_FALSE(copied.has_value());
  EXPECT_EQ(copied.error().code, ErrorCode::AlreadyExists);
  EXPECT_NE(copied.error().message.find("not empty"), std::string::npos);
  EXPECT_EQ(target_->filters().value().size(), 1u);
  EXPECT_TRUE(target_->networkInterfaces().value().empty());
  EXPECT_EQ(target_->accountId(), account);
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreCopyTest, testing::kStoreBackends, testing::storeBackendName);

}  // namespace
}  // namespace tmirror::store
