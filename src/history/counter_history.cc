#include "history/counter_history.h"

#include <cmath>
#include <optional>

#include "history/metric_catalog.h"

namespace tmirror::history {

namespace {

const MetricDefinition* definitionOf(std::string_view report_name) {
  for (const auto& m : metricCatalog()) {
    if (m.report_name == report_name) {
      return &m;
    }
  }
  return nullptr;
}

// A report's number as a whole count, or nothing (a fraction, negative, not finite).
std::optional<uint64_t> wholeCount(double value) {
  if (!std::isfinite(value) || value < 0 || value >= 1.8e19 || std::floor(value) != value) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(value);
}

}  // namespace

void CounterHistory::record(const model::CountersReport& report,
                            std::chrono::system_clock::time_point now) {
  const int64_t minute =
      std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
  const bool agent = !report.instance_id.empty();
  // A collector is known by its interface: several collectors may report one session (a load
  // balancer's members), each with totals of its own.
  const std::string collector_id = report.interfaces.empty() ? "" : report.interfaces.front().id;
  const std::string reporter = agent ? report.instance_id : "collector:" + collector_id;
  std::lock_guard lock(mutex_);
  const bool known = !reporters_.insert(reporter).second;
  auto take = [&](const model::ResourceCounters& item, const Dimensions& own,
                  const std::optional<Dimensions>& summed) {
    auto each = [&](std::string_view name, uint64_t total) {
      const MetricDefinition* m = definitionOf(name);
      if (m == nullptr || (m->namespace_name == kEc2Namespace) != agent) {
        return;
      }
      const SeriesKey series{std::string(m->namespace_name), std::string(m->metric_name),
                             dimensionsText(own)};
      std::optional<SeriesKey> also;
      if (summed) {
        also = SeriesKey{series.namespace_name, series.metric_name, dimensionsText(*summed)};
      }
      add(reporter + "/" + item.id + "/" + std::string(name), total, known, series,
          also ? &*also : nullptr, minute);
    };
    for (const auto& [name, value] : item.counts) {
      each(name, value);
    }
    for (const auto& [name, value] : item.values) {
      if (const auto count = wholeCount(value)) {
        each(name, *count);
      }
    }
  };
  for (const auto& item : report.interfaces) {
    if (agent) {
      // Per interface, and summed over the instance's interfaces as AWS reports it.
      take(item, {{"NetworkInterfaceId", item.id}}, Dimensions{{"InstanceId", report.instance_id}});
    } else {
      take(item, {{"NetworkInterfaceId", item.id}}, std::nullopt);
    }
  }
  // An agent's sessions: what it sent. A collector's: what it received, summed over the
  // collectors that receive the session (each counter's base is still the collector's own).
  if (agent || !collector_id.empty()) {
    for (const auto& item : report.sessions) {
      take(item, {{"TrafficMirrorSessionId", item.id}}, std::nullopt);
    }
  }
}

void CounterHistory::add(const std::string& counter, uint64_t total, bool known_reporter,
                         const SeriesKey& series, const SeriesKey* also, int64_t minute) {
  auto [it, first] = last_.try_emplace(counter, total);
  if (first && !known_reporter) {
    return;  // the base: what came before this server saw the host is not known
  }
  // New in a later report of the host (a session it just began to send or receive): all of it
  // was counted since the host's previous report, or went unnamed until then (a collector
  // learns a session's id from the server after its first copies).
  const uint64_t before = first ? 0 : it->second;
  it->second = total;
  // Went down: the host restarted and counted `total` since.
  const auto delta = static_cast<int64_t>(total >= before ? total - before : total);
  pending_[{series, minute}] += delta;
  if (also != nullptr) {
    pending_[{*also, minute}] += delta;
  }
}

std::vector<PendingValue> CounterHistory::drain() {
  std::map<std::pair<SeriesKey, int64_t>, int64_t> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(pending_);
  }
  std::vector<PendingValue> out;
  out.reserve(taken.size());
  for (auto& [key, value] : taken) {
    out.push_back({key.first, key.second, value});
  }
  return out;
}

std::size_t CounterHistory::trackedCounters() const {
  std::lock_guard lock(mutex_);
  return last_.size();
}

}  // namespace tmirror::history
