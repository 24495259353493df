// CounterHistory: hosts' cumulative counters turned into what each metric series counted per
// minute. A host reports totals since it started; the difference from its previous report is
// what it counted meanwhile, and goes to the minute the report arrives in. A total that went
// down means the host restarted: what it reports is then all it counted since, never a
// negative count. The first report of a host this server has not seen (a server restart) only
// sets the base; a counter that first appears in a later report counts from zero. Memory only;
// HistoryWriter drains it into the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "model/agent_protocol.h"

namespace tmirror::history {

struct SeriesKey {
  std::string namespace_name;
  std::string metric_name;
  std::string dimensions;  // dimensionsText()

  friend auto operator<=>(const SeriesKey&, const SeriesKey&) = default;
};

struct PendingValue {
  SeriesKey series;
  int64_t minute = 0;  // Unix time / 60
  int64_t value = 0;
};

class CounterHistory {
 public:
  // Thread-safe; cheap (memory only): called for every report the server takes.
  void record(const model::CountersReport& report, std::chrono::system_clock::time_point now);

  // What was counted since the last drain, one value per series and minute.
  std::vector<PendingValue> drain();

  // Counters whose base is known (hosts x resources x metrics), for tests and metrics.
  std::size_t trackedCounters() const;

 private:
  // known_reporter: the host's earlier reports were taken, so a counter new to this one
  // starts from zero instead of setting its base.
  void add(const std::string& counter, uint64_t total, bool known_reporter, const SeriesKey& series,
           const SeriesKey* also, int64_t minute);

  mutable std::mutex mutex_;
  // Hosts whose reports this server took: an agent by its instance id, a collector by its
  // interface's ("collector:eni-...").
  std::set<std::string> reporters_;
  std::map<std::string, uint64_t> last_;  // reporter / resource / counter -> last total
  std::map<std::pair<SeriesKey, int64_t>, int64_t> pending_;
};

}  // namespace tmirror::history
