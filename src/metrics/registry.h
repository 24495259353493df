// Registry: counters, gauges and histograms with label sets, rendered as Prometheus text
// exposition format 0.0.4 for GET /metrics. Thread-safe; handles are cheap to copy and stay valid
// as long as the registry lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tmirror::metrics {

// Values for a family's labels, in the order its label names were declared.
using LabelValues = std::vector<std::string>;

// One sample reported by a gauge callback.
struct GaugeSample {
  LabelValues label_values;
  double value = 0;
};

// A family stops creating series at its cap: further new label sets all land in one series whose
// every label value is this, so hostile input cannot grow memory and the counts stay visible. A
// call with the wrong number of label values lands there too.
inline constexpr std::string_view kOverflowLabelValue = "overflow";

namespace detail {
class MetricFamily;
}

class Counter {
 public:
  Counter() = default;  // unbound: increments do nothing, value() is 0

  // Negative and NaN amounts are ignored: a counter only goes up.
  void increment(const LabelValues& label_values = {}, double amount = 1.0) const;
  double value(const LabelValues& label_values = {}) const;

 private:
  friend class Registry;

  explicit Counter(detail::MetricFamily* family) : family_(family) {}

  detail::MetricFamily* family_ = nullptr;
};

class Gauge {
 public:
  Gauge() = default;

  void set(const LabelValues& label_values, double value) const;
  void add(const LabelValues& label_values, double delta) const;
  double value(const LabelValues& label_values = {}) const;

 private:
  friend class Registry;

  explicit Gauge(detail::MetricFamily* family) : family_(family) {}

  detail::MetricFamily* family_ = nullptr;
};

class Histogram {
 public:
  Histogram() = default;

  void observe(const LabelValues& label_values, double value) const;
  uint64_t count(const LabelValues& label_values = {}) const;
  double sum(const LabelValues& label_values = {}) const;

 private:
  friend class Registry;

  explicit Histogram(detail::MetricFamily* family) : family_(family) {}

  detail::MetricFamily* family_ = nullptr;
};

class Registry {
 public:
  static constexpr std::size_t kDefaultMaxSeriesPerFamily = 1000;

  // Called at each render; returns the current samples of a labelled gauge.
  using GaugeCollector = std::function<std::vector<GaugeSample>()>;

  explicit Registry(std::size_t max_series_per_family = kDefaultMaxSeriesPerFamily);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name again with the same kind, label names (and buckets) returns the existing
  // metric; anything else that reuses a name is AlreadyExists. Invalid names are InvalidArgument.
  Result<Counter> counter(std::string_view name, std::string_view help,
                          std::vector<std::string> label_names = {});
  Result<Gauge> gauge(std::string_view name, std::string_view help,
                      std::vector<std::string> label_names = {});
  // upper_bounds: finite, strictly increasing; the +Inf bucket is implicit. "le" is reserved.
  Result<Histogram> histogram(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names,
                              std::vector<double> upper_bounds);

  // Gauges read at render time, for values owned elsewhere (resources in the store, registered
  // agents). Callbacks run with the registry locked: they must not register or remove metrics.
  // Samples with the wrong number of label values are left out.
  Result<void> gaugeCallback(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names, GaugeCollector collect);
  Result<void> gaugeCallback(std::string_view name, std::string_view help,
                             std::function<double()> read);
  // Once this returns, the callback is not running and will not run again.
  void removeGaugeCallback(std::string_view name);

  // The whole exposition, families in registration order, series sorted by label values.
  std::string render() const;

 private:
  Result<detail::MetricFamily*> add(std::unique_ptr<detail::MetricFamily> family);

  const std::size_t max_series_per_family_;
  mutable std::mutex mutex_;  // guards families_ and serialises render()
  std::vector<std::unique_ptr<detail::MetricFamily>> families_;
};

}  // namespace tmirror::metrics
