#include "metrics/registry.h"

#include <cmath>
#include <map>
#include <utility>

#include "metrics/prometheus_text.h"

namespace tmirror::metrics {
namespace detail {

enum class MetricKind { Counter, Gauge, Histogram, GaugeCallback };

std::string_view typeName(MetricKind kind) {
  switch (kind) {
    case MetricKind::Counter:
      return "counter";
    case MetricKind::Histogram:
      return "histogram";
    case MetricKind::Gauge:
    case MetricKind::GaugeCallback:
      return "gauge";
  }
  return "untyped";
}

struct Series {
  double value = 0;                     // counter, gauge
  std::vector<uint64_t> bucket_counts;  // histogram, per bucket (not cumulative)
  double sum = 0;
  uint64_t count = 0;
};

class MetricFamily {
 public:
  MetricFamily(std::string_view name, std::string_view help, MetricKind kind,
               std::vector<std::string> label_names, std::vector<double> upper_bounds,
               std::size_t max_series)
      : name_(name),
        help_(help),
        kind_(kind),
        label_names_(std::move(label_names)),
        upper_bounds_(std::move(upper_bounds)),
        max_series_(max_series) {
    if (label_names_.empty() && kind_ != MetricKind::GaugeCallback) {
      seriesFor({});  // an unlabelled metric shows its zero from the start
    }
  }

  const std::string& name() const { return name_; }

  MetricKind kind() const { return kind_; }

  bool sameShape(const MetricFamily& other) const {
    return kind_ == other.kind_ && label_names_ == other.label_names_ &&
           upper_bounds_ == other.upper_bounds_;
  }

  void setCollector(Registry::GaugeCollector collect) { collect_ = std::move(collect); }

  void add(const LabelValues& label_values, double delta) {
    std::lock_guard lock(mutex_);
    seriesFor(label_values).value += delta;
  }

  void set(const LabelValues& label_values, double value) {
    std::lock_guard lock(mutex_);
    seriesFor(label_values).value = value;
  }

  void observe(const LabelValues& label_values, double value) {
    std::lock_guard lock(mutex_);
    Series& series = seriesFor(label_values);
    std::size_t bucket = 0;
    while (bucket < upper_bounds_.size() && !(value <= upper_bounds_[bucket])) {
      ++bucket;
    }
    if (bucket < upper_bounds_.size()) {
      ++series.bucket_counts[bucket];
    }
    series.sum += value;
    ++series.count;
  }

  Series snapshot(const LabelValues& label_values) const {
    std::lock_guard lock(mutex_);
    auto it = series_.find(label_values);
    return it == series_.end() ? Series{} : it->second;
  }

  void render(std::string& out) const {
    out += "# HELP ";
    out += name_;
    out += ' ';
    appendEscapedHelp(out, help_);
    out += "\n# TYPE ";
    out += name_;
    out += ' ';
    out += typeName(kind_);
    out += '\n';
    if (kind_ == MetricKind::GaugeCallback) {
      renderCollected(out);
      return;
    }
    std::lock_guard lock(mutex_);
    for (const auto& [label_values, series] : series_) {
      if (kind_ == MetricKind::Histogram) {
        renderHistogram(out, label_values, series);
      } else {
        appendSample(out, "", label_values, {}, series.value);
      }
    }
  }

 private:
  // Requires mutex_ held (or construction).
  Series& seriesFor(const LabelValues& label_values) {
    auto it = series_.find(label_values);
    if (it != series_.end()) {
      return it->second;
    }
    const bool fits = label_values.size() == label_names_.size() && series_.size() < max_series_;
    const LabelValues& key =
        fits ? label_values : LabelValues(label_names_.size(), std::string(kOverflowLabelValue));
    auto [inserted, unused] = series_.try_emplace(key);
    if (kind_ == MetricKind::Histogram && inserted->second.bucket_counts.empty()) {
      inserted->second.bucket_counts.assign(upper_bounds_.size(), 0);
    }
    return inserted->second;
  }

  void renderCollected(std::string& out) const {
    if (!collect_) {
      return;
    }
    for (const GaugeSample& sample : collect_()) {
      if (sample.label_values.size() == label_names_.size()) {
        appendSample(out, "", sample.label_values, {}, sample.value);
      }
    }
  }

  void renderHistogram(std::string& out, const LabelValues& label_values,
                       const Series& series) const {
    uint64_t cumulative = 0;
    std::string bound;
    for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
      cumulative += series.bucket_counts[i];
      bound.clear();
      appendSampleValue(bound, upper_bounds_[i]);
      appendSample(out, "_bucket", label_values, bound, static_cast<double>(cumulative));
    }
    appendSample(out, "_bucket", label_values, "+Inf", static_cast<double>(series.count));
    appendSample(out, "_sum", label_values, {}, series.sum);
    appendSample(out, "_count", label_values, {}, static_cast<double>(series.count));
  }

  // name{labels[,le="..."]} value
  void appendSample(std::string& out, std::string_view suffix, const LabelValues& label_values,
                    std::string_view le, double value) const {
    out += name_;
    out += suffix;
    if (!label_values.empty() || !le.empty()) {
      out += '{';
      for (std::size_t i = 0; i < label_values.size(); ++i) {
        if (i > 0) {
          out += ',';
        }
        out += label_names_[i];
        out += "=\"";
        appendEscapedLabelValue(out, label_values[i]);
        out += '"';
      }
      if (!le.empty()) {
        out += label_values.empty() ? "le=\"" : ",le=\"";
        out += le;
        out += '"';
      }
      out += '}';
    }
    out += ' ';
    appendSampleValue(out, value);
    out += '\n';
  }

  const std::string name_;
  const std::string help_;
  const MetricKind kind_;
  const std::vector<std::string> label_names_;
  const std::vector<double> upper_bounds_;
  const std::size_t max_series_;
  Registry::GaugeCollector collect_;

  mutable std::mutex mutex_;
  std::map<LabelValues, Series> series_;
};

}  // namespace detail

using detail::MetricFamily;
using detail::MetricKind;

void Counter::increment(const LabelValues& label_values, double amount) const {
  if (family_ != nullptr && amount >= 0) {  // also false for NaN
    family_->add(label_values, amount);
  }
}

double Counter::value(const LabelValues& label_values) const {
  return family_ == nullptr ? 0 : family_->snapshot(label_values).value;
}

void Gauge::set(const LabelValues& label_values, double value) const {
  if (family_ != nullptr) {
    family_->set(label_values, value);
  }
}

void Gauge::add(const LabelValues& label_values, double delta) const {
  if (family_ != nullptr) {
    family_->add(label_values, delta);
  }
}

double Gauge::value(const LabelValues& label_values) const {
  return family_ == nullptr ? 0 : family_->snapshot(label_values).value;
}

void Histogram::observe(const LabelValues& label_values, double value) const {
  if (family_ != nullptr && !std::isnan(value)) {
    family_->observe(label_values, value);
  }
}

uint64_t Histogram::count(const LabelValues& label_values) const {
  return family_ == nullptr ? 0 : family_->snapshot(label_values).count;
}

double Histogram::sum(const LabelValues& label_values) const {
  return family_ == nullptr ? 0 : family_->snapshot(label_values).sum;
}

namespace {

Result<void> checkNames(std::string_view name, const std::vector<std::string>& label_names,
                        bool histogram) {
  if (!isValidMetricName(name)) {
    return makeError(ErrorCode::InvalidArgument,
                     "metric name '" + std::string(name) + "' is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!isValidLabelName(label) || (histogram && label == "le")) {
      return makeError(
          ErrorCode::InvalidArgument,
          "metric " + std::string(name) + ": label name '" + label + "' is invalid or reserved");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (label_names[j] == label) {
        return makeError(ErrorCode::InvalidArgument,
                         "metric " + std::string(name) + ": label '" + label + "' repeated");
      }
    }
  }
  return {};
}

}  // namespace

Registry::Registry(std::size_t max_series_per_family)
    : max_series_per_family_(max_series_per_family == 0 ? 1 : max_series_per_family) {}

Registry::~Registry() = default;

Result<MetricFamily*> Registry::add(std::unique_ptr<MetricFamily> family) {
  std::lock_guard lock(mutex_);
  for (const auto& existing : families_) {
    if (existing->name() != family->name()) {
      continue;
    }
    if (existing->sameShape(*family) && family->kind() != MetricKind::GaugeCallback) {
      return existing.get();
    }
    return makeError(ErrorCode::AlreadyExists,
                     "metric " + family->name() + " is already registered with another shape");
  }
  families_.push_back(std::move(family));
  return families_.back().get();
}

Result<Counter> Registry::counter(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names) {
  if (auto ok = checkNames(name, label_names, false); !ok) {
    return std::unexpected(ok.error());
  }
  auto family =
      add(std::make_unique<MetricFamily>(name, help, MetricKind::Counter, std::move(label_names),
                                         std::vector<double>{}, max_series_per_family_));
  if (!family) {
    return std::unexpected(family.error());
  }
  return Counter(*family);
}

Result<Gauge> Registry::gauge(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names) {
  if (auto ok = checkNames(name, label_names, false); !ok) {
    return std::unexpected(ok.error());
  }
  auto family =
      add(std::make_unique<MetricFamily>(name, help, MetricKind::Gauge, std::move(label_names),
                                         std::vector<double>{}, max_series_per_family_));
  if (!family) {
    return std::unexpected(family.error());
  }
  return Gauge(*family);
}

Result<Histogram> Registry::histogram(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> upper_bounds) {
  if (auto ok = checkNames(name, label_names, true); !ok) {
    return std::unexpected(ok.error());
  }
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && !(upper_bounds[i - 1] < upper_bounds[i]))) {
      return makeError(ErrorCode::InvalidArgument,
                       "histogram " + std::string(name) +
                           ": bucket bounds must be finite and strictly increasing");
    }
  }
  auto family =
      add(std::make_unique<MetricFamily>(name, help, MetricKind::Histogram, std::move(label_names),
                                         std::move(upper_bounds), max_series_per_family_));
  if (!family) {
    return std::unexpected(family.error());
  }
  return Histogram(*family);
}

Result<void> Registry::gaugeCallback(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names, GaugeCollector collect) {
  if (auto ok = checkNames(name, label_names, false); !ok) {
    return ok;
  }
  auto family =
      std::make_unique<MetricFamily>(name, help, MetricKind::GaugeCallback, std::move(label_names),
                                     std::vector<double>{}, max_series_per_family_);
  family->setCollector(std::move(collect));
  auto added = add(std::move(family));
  if (!added) {
    return std::unexpected(added.error());
  }
  return {};
}

Result<void> Registry::gaugeCallback(std::string_view name, std::string_view help,
                                     std::function<double()> read) {
  return gaugeCallback(name, help, {}, [read = std::move(read)]() -> std::vector<GaugeSample> {
    if (!read) {
      return {};
    }
    return {GaugeSample{{}, read()}};
  });
}

void Registry::removeGaugeCallback(std::string_view name) {
  std::lock_guard lock(mutex_);
  std::erase_if(families_, [name](const std::unique_ptr<MetricFamily>& family) {
    return family->name() == name && family->kind() == MetricKind::GaugeCallback;
  });
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& family : families_) {
    family->render(out);
  }
  return out;
}

}  // namespace tmirror::metrics
