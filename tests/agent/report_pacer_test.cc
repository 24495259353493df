// ReportPacer: the agent sends its counters as often as the server asks and no more often than
// its own interval, holds back a report equal to the last one until the heartbeat, and moves
// its reports to the poll connection at long intervals.
#include "agent/report_pacer.h"

#include <gtest/gtest.h>

#include "model/agent_protocol.h"

namespace tmirror::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

model::CountersReport reportWith(uint64_t packets) {
  model::CountersReport report;
  report.instance_id = "i-0123456789abcdef0";
  model::ResourceCounters eth0;
  eth0.id = "eni-0123456789abcdef0";
  eth0.counts = {{"NetworkPacketsMirrorIn", packets}};
  report.interfaces.push_back(eth0);
  return report;
}

TEST(ReportPacer, KeepsTheServersIntervalButNeverGoesBelowItsOwn) {
  ReportPacer pacer(milliseconds(1000), seconds(60));
  const auto t0 = ReportPacer::Clock::now();
  EXPECT_EQ(pacer.interval(), milliseconds(1000));
  pacer.sent(reportWith(1), t0,
             model::CountersAnswer{.accepted = 1, .report_interval = milliseconds(20000)});
  EXPECT_EQ(pacer.interval(), milliseconds(20000));
  // The next look comes within +-10 % of the interval.
  EXPECT_GE(pacer.nextCheck(), t0 + milliseconds(18000));
  EXPECT_LE(pacer.nextCheck(), t0 + milliseconds(22000));
  pacer.sent(reportWith(2), t0,
             model::CountersAnswer{.accepted = 1, .report_interval = milliseconds(100)});
  EXPECT_EQ(pacer.interval(), milliseconds(1000));
  // A failed send keeps the interval and the last report sent.
  pacer.sent(reportWith(3), t0, std::nullopt);
  EXPECT_EQ(pacer.interval(), milliseconds(1000));
  EXPECT_TRUE(pacer.shouldSend(reportWith(3), t0 + seconds(1)));
}

TEST(ReportPacer, HoldsBackAnUnchangedReportUntilTheHeartbeat) {
  ReportPacer pacer(milliseconds(1000), seconds(60));
  const auto t0 = ReportPacer::Clock::now();
  pacer.sent(reportWith(5), t0, model::CountersAnswer{.accepted = 1});
  EXPECT_FALSE(pacer.shouldSend(reportWith(5), t0 + seconds(1)));
  EXPECT_FALSE(pacer.shouldSend(reportWith(5), t0 + seconds(59)));
  EXPECT_TRUE(pacer.shouldSend(reportWith(6), t0 + seconds(2)));
  EXPECT_TRUE(pacer.shouldSend(reportWith(5), t0 + seconds(61)));
}

TEST(ReportPacer, LongIntervalsRideThePollWhichWaitsOneInterval) {
  ReportPacer pacer(milliseconds(1000), seconds(60));
  const auto t0 = ReportPacer::Clock::now();
  EXPECT_FALSE(pacer.onPollConnection());
  EXPECT_EQ(pacer.pollWait(seconds(30)), seconds(30));
  // Under the server's 5 s idle timeout the reports' own connection stays open.
  pacer.sent(reportWith(1), t0,
             model::CountersAnswer{.accepted = 1, .report_interval = milliseconds(3999)});
  EXPECT_FALSE(pacer.onPollConnection());
  EXPECT_EQ(pacer.pollWait(seconds(30)), seconds(30));
  pacer.sent(
      reportWith(2), t0,
      model::CountersAnswer{.accepted = 1, .report_interval = ReportPacer::kOnPollConnectionFrom});
  EXPECT_TRUE(pacer.onPollConnection());
  // The poll comes back when the next report is due, never later than the longest wait.
  EXPECT_EQ(pacer.pollWait(seconds(30)), seconds(4));
  pacer.sent(reportWith(3), t0,
             model::CountersAnswer{.accepted = 1, .report_interval = milliseconds(20500)});
  EXPECT_EQ(pacer.pollWait(seconds(30)), seconds(20));
  pacer.sent(reportWith(4), t0,
             model::CountersAnswer{.accepted = 1, .report_interval = milliseconds(45000)});
  EXPECT_EQ(pacer.pollWait(seconds(30)), seconds(30));
}

TEST(ReportPacer, AdoptsTheIntervalGivenAtRegistration) {
  ReportPacer pacer(milliseconds(1000), seconds(60));
  const auto t0 = ReportPacer::Clock::now();
  pacer.adopt(milliseconds(30000), t0);
  EXPECT_EQ(pacer.interval(), milliseconds(30000));
  EXPECT_TRUE(pacer.onPollConnection());
  // The first look comes within the interval's jitter, not at once.
  EXPECT_GE(pacer.nextCheck(), t0 + milliseconds(27000));
  EXPECT_LE(pacer.nextCheck(), t0 + milliseconds(33000));
  // Never below the agent's own floor.
  pacer.adopt(milliseconds(10), t0);
  EXPECT_EQ(pacer.interval(), milliseconds(1000));
}

TEST(ReportInterval, TheHeaderIsBoundedAsTheAnswerIs) {
  EXPECT_EQ(model::parseReportInterval("20000"), milliseconds(20000));
  EXPECT_EQ(model::parseReportInterval("0"), milliseconds(1000));
  EXPECT_EQ(model::parseReportInterval("99999999"), milliseconds(300000));
  EXPECT_EQ(model::parseReportInterval(""), std::nullopt);
  EXPECT_EQ(model::parseReportInterval("20s"), std::nullopt);
  EXPECT_EQ(model::parseReportInterval("-5"), std::nullopt);
}

TEST(CountersAnswer, RoundTripsAndBoundsTheInterval) {
  const model::CountersAnswer answer{.accepted = 7, .report_interval = milliseconds(20000)};
  auto parsed = model::parseCountersAnswer(model::countersAnswerToJson(answer));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, answer);
  // An older server says nothing of the interval: one second.
  auto old = model::parseCountersAnswer(R"({"Accepted":3})");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->report_interval, milliseconds(1000));
  // Out of bounds either way: clamped, so that no answer silences a host or makes it spin.
  EXPECT_EQ(model::parseCountersAnswer(R"({"Accepted":1,"ReportIntervalMs":0})")->report_interval,
            milliseconds(1000));
  EXPECT_EQ(
      model::parseCountersAnswer(R"({"Accepted":1,"ReportIntervalMs":99999999})")->report_interval,
      milliseconds(300000));
  EXPECT_FALSE(model::parseCountersAnswer("not json").has_value());
}

}  // namespace
}  // namespace tmirror::agent
