// CounterHistory: cumulative counters from hosts become per-minute counts per series.
#include "history/counter_history.h"

#include <gtest/gtest.h>

#include "history/metric_catalog.h"

namespace tmirror::history {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const std::chrono::system_clock::time_point kT0{minutes(29'000'000)};  // a minute's start

model::CountersReport agentReport(uint64_t eth0_packets, uint64_t eth1_packets,
                                  uint64_t session_bytes) {
  model::CountersReport r;
  r.instance_id = "i-0123";
  model::ResourceCounters eth0;
  eth0.id = "eni-0";
  eth0.counts = {{"NetworkPacketsMirrorIn", eth0_packets}, {"Frames", 999}};
  model::ResourceCounters eth1;
  eth1.id = "eni-1";
  eth1.counts = {{"NetworkPacketsMirrorIn", eth1_packets}};
  model::ResourceCounters session;
  session.id = "tms-1";
  session.network_interface_id = "eni-0";
  session.counts = {{"NetworkMirrorOut", session_bytes}};
  r.interfaces = {eth0, eth1};
  r.sessions = {session};
  return r;
}

int64_t valueOf(const std::vector<PendingValue>& values, const std::string& metric,
                const std::string& dimensions, int64_t minute) {
  int64_t sum = 0;
  int found = 0;
  for (const auto& v : values) {
    if (v.series.metric_name == metric && v.series.dimensions == dimensions && v.minute == minute) {
      sum += v.value;
      ++found;
    }
  }
  EXPECT_LE(found, 1) << "one value per series and minute";
  return found == 0 ? -1 : sum;
}

TEST(CounterHistory, DifferencesOfTotalsGoToTheMinuteTheReportArrivesIn) {
  CounterHistory h;
  const int64_t m0 = 29'000'000;
  h.record(agentReport(100, 10, 5000), kT0);  // the base
  EXPECT_TRUE(h.drain().empty());
  h.record(agentReport(130, 15, 5600), kT0 + seconds(20));
  h.record(agentReport(150, 15, 6000), kT0 + seconds(40));
  h.record(agentReport(160, 25, 6000), kT0 + seconds(70));  // the next minute
  const auto values = h.drain();
  EXPECT_EQ(valueOf(values, "NetworkPacketsMirrorIn", "NetworkInterfaceId=eni-0", m0), 50);
  EXPECT_EQ(valueOf(values, "NetworkPacketsMirrorIn", "NetworkInterfaceId=eni-1", m0), 5);
  // Per instance: summed over its interfaces, as AWS reports these metrics.
  EXPECT_EQ(valueOf(values, "NetworkPacketsMirrorIn", "InstanceId=i-0123", m0), 55);
  EXPECT_EQ(valueOf(values, "NetworkPacketsMirrorIn", "InstanceId=i-0123", m0 + 1), 20);
  EXPECT_EQ(valueOf(values, "NetworkMirrorOut", "TrafficMirrorSessionId=tms-1", m0), 1000);
  EXPECT_EQ(valueOf(values, "NetworkMirrorOut", "TrafficMirrorSessionId=tms-1", m0 + 1), 0);
  for (const auto& v : values) {
    EXPECT_EQ(v.series.namespace_name, kEc2Namespace);
    EXPECT_NE(v.series.metric_name, "Frames") << "only the catalog's counters have history";
  }
  EXPECT_TRUE(h.drain().empty()) << "drained once";
}

TEST(CounterHistory, ARestartedHostNeverGivesANegativeCount) {
  CounterHistory h;
  h.record(agentReport(1000, 0, 0), kT0);
  h.record(agentReport(1200, 0, 0), kT0 + seconds(10));
  h.record(agentReport(30, 0, 0), kT0 + seconds(20));  // the agent restarted: 30 since
  const auto values = h.drain();
  EXPECT_EQ(valueOf(values, "NetworkPacketsMirrorIn", "NetworkInterfaceId=eni-0", 29'000'000), 230);
  for (const auto& v : values) {
    EXPECT_GE(v.value, 0);
  }
}

TEST(CounterHistory, CollectorsCountUnderTheirOwnNamespaceAndOnlyWholeCounts) {
  CounterHistory h;
  auto report = [](double datagrams, double sessions) {
    model::CountersReport r;
    model::ResourceCounters item;
    item.id = "eni-c";
    item.counts = {{"CollectorHealthy", 1}};
    item.values = {{"CollectorDatagrams", datagrams}, {"CollectorSessions", sessions}};
    r.interfaces = {item};
    return r;
  };
  h.record(report(10, 2), kT0);
  h.record(report(25, 3), kT0 + seconds(10));
  h.record(report(25.5, 3), kT0 + seconds(20));  // not a count: ignored
  const auto values = h.drain();
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].series.namespace_name, kCollectorNamespace);
  EXPECT_EQ(values[0].series.metric_name, "Datagrams");
  EXPECT_EQ(values[0].series.dimensions, "NetworkInterfaceId=eni-c");
  EXPECT_EQ(values[0].value, 15);
}

// A collector's report as ServerRegistration sends it: its interface, and what it received per
// session since it started.
model::CountersReport collectorReport(const std::string& eni,
                                      std::vector<std::pair<std::string, uint64_t>> datagrams) {
  model::CountersReport r;
  model::ResourceCounters item;
  item.id = eni;
  item.counts = {{"CollectorHealthy", 1}};
  r.interfaces = {item};
  for (const auto& [session, count] : datagrams) {
    model::ResourceCounters received;
    received.id = session;
    received.counts = {{"CollectorDatagrams", count}, {"CollectorBytes", count * 100}};
    r.sessions.push_back(received);
  }
  return r;
}

// Two collectors (a load balancer's members) receive shares of one session: each total is
// differenced against that collector's own, and the counts add up in the session's series.
TEST(CounterHistory, CollectorsReceiptsOfOneSessionAddUpWithABasePerCollector) {
  CounterHistory h;
  const int64_t m0 = 29'000'000;
  const std::string session = "TrafficMirrorSessionId=tms-1";
  h.record(collectorReport("eni-a", {{"tms-1", 100}}), kT0);   // a's base
  h.record(collectorReport("eni-b", {{"tms-1", 5000}}), kT0);  // b's base, not a's next total
  EXPECT_TRUE(h.drain().empty());
  h.record(collectorReport("eni-a", {{"tms-1", 130}}), kT0 + seconds(10));
  h.record(collectorReport("eni-b", {{"tms-1", 5020}}), kT0 + seconds(10));
  h.record(collectorReport("eni-a", {{"tms-1", 150}}), kT0 + seconds(20));
  auto values = h.drain();
  EXPECT_EQ(valueOf(values, "Datagrams", session, m0), 30 + 20 + 20);
  EXPECT_EQ(valueOf(values, "Bytes", session, m0), (30 + 20 + 20) * 100);
  for (const auto& v : values) {
    EXPECT_EQ(v.series.namespace_name, kCollectorNamespace);
    EXPECT_GE(v.value, 0);
  }
  // b restarts: what it reports is all it received since; a's base is untouched.
  h.record(collectorReport("eni-b", {{"tms-1", 7}}), kT0 + seconds(70));
  h.record(collectorReport("eni-a", {{"tms-1", 151}}), kT0 + seconds(70));
  values = h.drain();
  EXPECT_EQ(valueOf(values, "Datagrams", session, m0 + 1), 7 + 1);
  for (const auto& v : values) {
    EXPECT_GE(v.value, 0) << "a restart never gives a negative count";
  }
  // A base per collector, session and metric (Datagrams, Bytes): none shared.
  EXPECT_EQ(h.trackedCounters(), 4u);
}

// A session new in a later report of a known host counts from zero: the collector's first
// copies of a session arrive before the server has told it the session's id.
TEST(CounterHistory, ASessionNewInALaterReportCountsFromZero) {
  CounterHistory h;
  const int64_t m0 = 29'000'000;
  h.record(collectorReport("eni-a", {}), kT0);  // the collector's base, before the session
  h.record(collectorReport("eni-a", {{"tms-1", 40}}), kT0 + seconds(10));
  h.record(collectorReport("eni-a", {{"tms-1", 45}}), kT0 + seconds(20));
  // Another collector's first report only sets its base, sessions and all.
  h.record(collectorReport("eni-b", {{"tms-1", 900}}), kT0 + seconds(20));
  const auto values = h.drain();
  EXPECT_EQ(valueOf(values, "Datagrams", "TrafficMirrorSessionId=tms-1", m0), 45);
  // The agent's session too: new since its previous report.
  CounterHistory agent;
  agent.record(agentReport(10, 10, 0), kT0);
  auto later = agentReport(10, 10, 0);
  model::ResourceCounters added;
  added.id = "tms-2";
  added.counts = {{"NetworkPacketsMirrorOut", 12}};
  later.sessions.push_back(added);
  agent.record(later, kT0 + seconds(10));
  EXPECT_EQ(valueOf(agent.drain(), "NetworkPacketsMirrorOut", "TrafficMirrorSessionId=tms-2", m0),
            12);
}

// A collector's session totals are what arrived, never the agent's series of that session.
TEST(CounterHistory, AgentsAndCollectorsCountASessionInTheirOwnNamespaces) {
  CounterHistory h;
  const int64_t m0 = 29'000'000;
  h.record(agentReport(0, 0, 1000), kT0);
  h.record(collectorReport("eni-a", {{"tms-1", 3}}), kT0);
  h.record(agentReport(0, 0, 1500), kT0 + seconds(10));
  h.record(collectorReport("eni-a", {{"tms-1", 8}}), kT0 + seconds(10));
  const auto values = h.drain();
  EXPECT_EQ(valueOf(values, "NetworkMirrorOut", "TrafficMirrorSessionId=tms-1", m0), 500);
  EXPECT_EQ(valueOf(values, "Datagrams", "TrafficMirrorSessionId=tms-1", m0), 5);
  for (const auto& v : values) {
    const bool received = v.series.metric_name == "Datagrams" || v.series.metric_name == "Bytes";
    EXPECT_EQ(v.series.namespace_name, received ? kCollectorNamespace : kEc2Namespace);
  }
}

TEST(MetricCatalog, DimensionsAreSortedAndReadBack) {
  const Dimensions d = {{"NetworkInterfaceId", "eni-1"}, {"InstanceId", "i-2"}};
  const std::string text = dimensionsText(d);
  EXPECT_EQ(text, "InstanceId=i-2,NetworkInterfaceId=eni-1");
  EXPECT_EQ(parseDimensionsText(text),
            (Dimensions{{"InstanceId", "i-2"}, {"NetworkInterfaceId", "eni-1"}}));
  EXPECT_TRUE(parseDimensionsText("").empty());
  ASSERT_NE(findMetric("AWS/EC2", "NetworkPacketsMirrorIn"), nullptr);
  EXPECT_EQ(findMetric("AWS/EC2", "NetworkMirrorIn")->unit, "Bytes");
  EXPECT_EQ(findMetric("AWS/EC2", "Datagrams"), nullptr);
  EXPECT_EQ(metricCatalog().size(), 11u);
}

}  // namespace
}  // namespace tmirror::history
