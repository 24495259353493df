#include "cloudwatch/metric_queries.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "cloudwatch/cloudwatch_wire.h"
#include "history/metric_catalog.h"

namespace tmirror::cloudwatch {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kStatistics[] = {"SampleCount", "Average", "Sum", "Minimum", "Maximum"};
constexpr int64_t kMaxDataQueries = 500;
constexpr int64_t kDefaultMaxDatapoints = 100800;

std::unexpected<api::ApiError> invalid(const std::string& message) {
  return api::apiError("InvalidParameterValue", message);
}

std::unexpected<api::ApiError> missing(std::string_view name) {
  return api::apiError("MissingParameter", "The parameter " + std::string(name) + " is required.");
}

const Json* member(const Json& input, std::string_view name) {
  if (!input.is_object()) {
    return nullptr;
  }
  const auto it = input.find(std::string(name));
  return it == input.end() || it->is_null() ? nullptr : &*it;
}

api::ApiResult<std::optional<std::string>> optionalString(const Json& input, std::string_view name,
                                                          std::string_view path) {
  const Json* v = member(input, name);
  if (v == nullptr) {
    return std::optional<std::string>();
  }
  if (!v->is_string()) {
    return invalid("The parameter " + std::string(path) + " must be a string.");
  }
  return std::optional<std::string>(v->get<std::string>());
}

api::ApiResult<std::optional<int64_t>> optionalInt(const Json& input, std::string_view name,
                                                   std::string_view path) {
  const Json* v = member(input, name);
  if (v == nullptr) {
    return std::optional<int64_t>();
  }
  if (v->is_number_integer()) {
    return std::optional<int64_t>(v->get<int64_t>());
  }
  if (v->is_string()) {
    const auto& text = v->get_ref<const std::string&>();
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (!text.empty() && ec == std::errc{} && end == text.data() + text.size()) {
      return std::optional<int64_t>(n);
    }
  }
  return invalid("The parameter " + std::string(path) + " must be an integer.");
}

// Unix seconds: a number (JSON, CBOR) or ISO 8601 (Query).
api::ApiResult<double> requiredTime(const Json& input, std::string_view name) {
  const Json* v = member(input, name);
  if (v == nullptr) {
    return missing(name);
  }
  if (v->is_number()) {
    return v->get<double>();
  }
  if (v->is_string()) {
    if (auto t = parseIso8601(v->get_ref<const std::string&>())) {
      return *t;
    }
    double seconds = 0;
    const auto& text = v->get_ref<const std::string&>();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec == std::errc{} && end == text.data() + text.size()) {
      return seconds;
    }
  }
  return invalid("The parameter " + std::string(name) + " must be a timestamp.");
}

struct MetricRef {
  std::string namespace_name;
  std::string metric_name;
  history::Dimensions dimensions;
};

api::ApiResult<history::Dimensions> readDimensions(const Json& input, const std::string& path,
                                                   bool values_required) {
  history::Dimensions out;
  const Json* list = member(input, "Dimensions");
  if (list == nullptr) {
    return out;
  }
  if (!list->is_array() || list->size() > 30) {
    return invalid("The parameter " + path + "Dimensions must be a list of at most 30.");
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string at = path + "Dimensions.member." + std::to_string(i + 1) + ".";
    auto name = optionalString((*list)[i], "Name", at + "Name");
    auto value = optionalString((*list)[i], "Value", at + "Value");
    if (!name || !value) {
      return std::unexpected(!name ? name.error() : value.error());
    }
    if (!*name || (*name)->empty()) {
      return missing(at + "Name");
    }
    if (values_required && (!*value || (*value)->empty())) {
      return missing(at + "Value");
    }
    out.emplace_back(**name, value->value_or(""));
  }
  return out;
}

api::ApiResult<MetricRef> readMetric(const Json& input, const std::string& path) {
  auto ns = optionalString(input, "Namespace", path + "Namespace");
  auto name = optionalString(input, "MetricName", path + "MetricName");
  if (!ns || !name) {
    return std::unexpected(!ns ? ns.error() : name.error());
  }
  if (!*ns) {
    return missing(path + "Namespace");
  }
  if (!*name) {
    return missing(path + "MetricName");
  }
  auto dimensions = readDimensions(input, path, true);
  if (!dimensions) {
    return std::unexpected(dimensions.error());
  }
  return MetricRef{**ns, **name, *dimensions};
}

struct Bucket {
  int64_t start = 0;
  int64_t sum = 0;
  int64_t minimum = 0;
  int64_t maximum = 0;
  int64_t samples = 0;
};

// The stored resolution a query reads: the finest that still holds data as old as `start`
// and divides `period`; 0 when none does (CloudWatch then has no datapoints either).
int64_t resolutionFor(int64_t start, int64_t period, int64_t now) {
  const int64_t age = now - start;
  if (period % 60 == 0 && age <= store::kMinuteRetentionSeconds) {
    return 60;
  }
  if (period % 300 == 0 && age <= store::kFiveMinuteRetentionSeconds) {
    return 300;
  }
  if (period % 3600 == 0) {
    return 3600;
  }
  return 0;
}

// The series' points of [start, end) in buckets of `period` aligned on the resolution read.
api::ApiResult<std::vector<Bucket>> buckets(store::MirrorStore& store, const MetricRef& metric,
                                            double start_time, double end_time, int64_t period,
                                            int64_t now) {
  std::vector<Bucket> out;
  auto id = store.findMetricSeries(metric.namespace_name, metric.metric_name,
                                   history::dimensionsText(metric.dimensions));
  if (!id) {
    return api::apiError("InternalFailure", id.error().message);
  }
  const auto start = static_cast<int64_t>(std::floor(start_time));
  const auto end = static_cast<int64_t>(std::ceil(end_time));
  const int64_t resolution = resolutionFor(start, period, now);
  if (!*id || resolution == 0) {
    return out;
  }
  const int64_t first = start / resolution * resolution;  // CloudWatch rounds the start down
  auto points = store.metricPoints(**id, resolution, first, end);
  if (!points) {
    return api::apiError("InternalFailure", points.error().message);
  }
  // The store answers in time order, so a bucket is complete when the next one starts: one
  // pass, no map (at 1-minute periods there is a bucket per point).
  out.reserve(std::min<std::size_t>(points->size(), static_cast<std::size_t>(kMaxDatapoints)));
  for (const auto& p : *points) {
    const int64_t bucket = first + (p.start_time - first) / period * period;
    if (out.empty() || out.back().start != bucket) {
      out.push_back({bucket, p.sum, p.minimum, p.maximum, p.samples});
      continue;
    }
    Bucket& b = out.back();
    b.minimum = std::min(b.minimum, p.minimum);
    b.maximum = std::max(b.maximum, p.maximum);
    b.sum += p.sum;
    b.samples += p.samples;
  }
  return out;
}

double statistic(const Bucket& b, std::string_view stat) {
  if (stat == "Sum") {
    return static_cast<double>(b.sum);
  }
  if (stat == "Minimum") {
    return static_cast<double>(b.minimum);
  }
  if (stat == "Maximum") {
    return static_cast<double>(b.maximum);
  }
  if (stat == "SampleCount") {
    return static_cast<double>(b.samples);
  }
  return static_cast<double>(b.sum) / static_cast<double>(b.samples);  // Average
}

bool knownStatistic(std::string_view stat) {
  return std::find(std::begin(kStatistics), std::end(kStatistics), stat) != std::end(kStatistics);
}

std::string unitOf(const MetricRef& metric) {
  const auto* m = history::findMetric(metric.namespace_name, metric.metric_name);
  return m != nullptr ? std::string(m->unit) : "None";
}

api::ApiResult<void> checkPeriod(std::optional<int64_t> period, const std::string& path) {
  if (!period) {
    return missing(path);
  }
  if (*period < 1 || *period % 60 != 0) {
    return invalid("The parameter " + path + " must be a multiple of 60.");
  }
  return {};
}

}  // namespace

api::ApiResult<Json> listMetrics(store::MirrorStore& store, const Json& input) {
  auto ns = optionalString(input, "Namespace", "Namespace");
  auto name = optionalString(input, "MetricName", "MetricName");
  auto token = optionalString(input, "NextToken", "NextToken");
  if (!ns || !name || !token) {
    return std::unexpected(!ns ? ns.error() : !name ? name.error() : token.error());
  }
  auto filters = readDimensions(input, "", false);
  if (!filters) {
    return std::unexpected(filters.error());
  }
  int64_t after = 0;
  if (*token) {
    const auto& text = **token;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), after);
    if (ec != std::errc{} || end != text.data() + text.size() || after < 0) {
      return api::apiError("InvalidNextToken", "The NextToken is not valid.");
    }
  }
  Json metrics = Json::array();
  int64_t last = after;
  bool more = false;
  // Pages of series read until a page of matches is full: filters may skip many.
  while (static_cast<int64_t>(metrics.size()) < kListMetricsPage) {
    auto page = store.metricSeriesPage(ns->value_or(""), name->value_or(""), last, 1000);
    if (!page) {
      return api::apiError("InternalFailure", page.error().message);
    }
    if (page->empty()) {
      break;
    }
    for (const auto& series : *page) {
      if (static_cast<int64_t>(metrics.size()) == kListMetricsPage) {
        more = true;
        break;
      }
      last = series.id;
      const auto dimensions = history::parseDimensionsText(series.dimensions);
      const bool matches = std::all_of(filters->begin(), filters->end(), [&](const auto& f) {
        return std::any_of(dimensions.begin(), dimensions.end(), [&](const auto& d) {
          return d.first == f.first && (f.second.empty() || d.second == f.second);
        });
      });
      if (!matches) {
        continue;
      }
      Json dims = Json::array();
      for (const auto& [dim_name, value] : dimensions) {
        dims.push_back({{"Name", dim_name}, {"Value", value}});
      }
      metrics.push_back({{"Namespace", series.namespace_name},
                         {"MetricName", series.metric_name},
                         {"Dimensions", std::move(dims)}});
    }
    if (more) {
      break;
    }
  }
  Json out = {{"Metrics", std::move(metrics)}};
  if (more) {
    out["NextToken"] = std::to_string(last);
  }
  return out;
}

api::ApiResult<Json> getMetricStatistics(store::MirrorStore& store, const Json& input,
                                         int64_t now) {
  auto metric = readMetric(input, "");
  if (!metric) {
    return std::unexpected(metric.error());
  }
  auto start = requiredTime(input, "StartTime");
  auto end = requiredTime(input, "EndTime");
  auto period = optionalInt(input, "Period", "Period");
  auto unit = optionalString(input, "Unit", "Unit");
  if (auto e = api::firstError(start, end, period, unit)) {
    return std::unexpected(*e);
  }
  if (auto ok = checkPeriod(*period, "Period"); !ok) {
    return std::unexpected(ok.error());
  }
  const Json* statistics = member(input, "Statistics");
  const Json* extended = member(input, "ExtendedStatistics");
  if (statistics != nullptr && extended != nullptr) {
    return api::apiError("InvalidParameterCombination",
                         "The parameters Statistics and ExtendedStatistics are mutually "
                         "exclusive.");
  }
  if (extended != nullptr) {
    return invalid(
        "ExtendedStatistics (percentiles) are not kept by tmirror: its history holds "
        "per-minute counts. Use Statistics.");
  }
  if (statistics == nullptr || !statistics->is_array() || statistics->empty()) {
    return missing("Statistics");
  }
  std::vector<std::string> stats;
  for (std::size_t i = 0; i < statistics->size(); ++i) {
    const Json& s = (*statistics)[i];
    if (!s.is_string() || !knownStatistic(s.get_ref<const std::string&>())) {
      return invalid("The parameter Statistics.member." + std::to_string(i + 1) +
                     " must be a value in the set [ Maximum, Minimum, Average, Sum, "
                     "SampleCount ].");
    }
    stats.push_back(s.get<std::string>());
  }
  if (*start >= *end) {
    return invalid("The parameter StartTime must be less than the parameter EndTime.");
  }
  const double requested = std::ceil((*end - *start) / static_cast<double>(**period));
  if (requested > kMaxDatapoints) {
    return api::apiError(
        "InvalidParameterCombination",
        "You have requested up to " + std::to_string(static_cast<int64_t>(requested)) +
            " datapoints, which exceeds the limit of 1440. You may reduce the datapoints "
            "requested by increasing Period, or decreasing the time range.");
  }
  Json datapoints = Json::array();
  const std::string metric_unit = unitOf(*metric);
  if (!*unit || **unit == metric_unit) {
    auto found = buckets(store, *metric, *start, *end, **period, now);
    if (!found) {
      return std::unexpected(found.error());
    }
    for (const Bucket& b : *found) {
      Json point = {{"Timestamp", b.start}};
      for (const auto& stat : stats) {
        point[stat] = statistic(b, stat);
      }
      point["Unit"] = metric_unit;
      datapoints.push_back(std::move(point));
    }
  }
  return Json{{"Label", metric->metric_name}, {"Datapoints", std::move(datapoints)}};
}

api::ApiResult<Json> getMetricData(store::MirrorStore& store, const Json& input, int64_t now) {
  const Json* queries = member(input, "MetricDataQueries");
  if (queries == nullptr) {
    return missing("MetricDataQueries");
  }
  if (!queries->is_array() || queries->empty() ||
      static_cast<int64_t>(queries->size()) > kMaxDataQueries) {
    return invalid("The parameter MetricDataQueries must hold 1 to 500 queries.");
  }
  auto start = requiredTime(input, "StartTime");
  auto end = requiredTime(input, "EndTime");
  auto max_points = optionalInt(input, "MaxDatapoints", "MaxDatapoints");
  auto scan_by = optionalString(input, "ScanBy", "ScanBy");
  auto token = optionalString(input, "NextToken", "NextToken");
  if (auto e = api::firstError(start, end, max_points, scan_by, token)) {
    return std::unexpected(*e);
  }
  if (*start >= *end) {
    return invalid("The parameter StartTime must be less than the parameter EndTime.");
  }
  const bool descending = scan_by->value_or("TimestampDescending") != "TimestampAscending";
  if (*scan_by && **scan_by != "TimestampDescending" && **scan_by != "TimestampAscending") {
    return invalid("The parameter ScanBy must be TimestampDescending or TimestampAscending.");
  }
  const int64_t limit = max_points->value_or(kDefaultMaxDatapoints);
  if (limit < 1) {
    return invalid("The parameter MaxDatapoints must be positive.");
  }
  // A page goes on from result `first_result`, at its point `first_point` (in scan order):
  // the token says where ("3.1340"), so the results before it are not read again.
  std::size_t first_result = 0;
  std::size_t first_point = 0;
  if (*token) {
    const auto& text = **token;
    const char* const text_end = text.data() + text.size();
    const auto [dot, ec] = std::from_chars(text.data(), text_end, first_result);
    const bool ok = ec == std::errc{} && dot != text_end && *dot == '.' && [&] {
      const auto [rest, ec2] = std::from_chars(dot + 1, text_end, first_point);
      return ec2 == std::errc{} && rest == text_end;
    }();
    if (!ok) {
      return api::apiError("InvalidNextToken", "The NextToken is not valid.");
    }
  }

  struct Result {
    std::string id;
    std::string label;
    MetricRef metric;
    int64_t period = 60;
    std::string stat;
    bool unit_matches = true;
  };

  std::vector<Result> results;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < queries->size(); ++i) {
    const Json& q = (*queries)[i];
    const std::string at = "MetricDataQueries.member." + std::to_string(i + 1) + ".";
    auto id = optionalString(q, "Id", at + "Id");
    auto label = optionalString(q, "Label", at + "Label");
    auto expression = optionalString(q, "Expression", at + "Expression");
    if (auto e = api::firstError(id, label, expression)) {
      return std::unexpected(*e);
    }
    if (!*id) {
      return missing(at + "Id");
    }
    const std::string& name = **id;
    const bool pattern = !name.empty() && name.size() <= 255 && name[0] >= 'a' && name[0] <= 'z' &&
                         std::all_of(name.begin(), name.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                         });
    if (!pattern) {
      return api::apiError("ValidationError", "The value " + name + " for parameter " + at +
                                                  "Id is not matching the expected pattern "
                                                  "^[a-z][a-zA-Z0-9_]*$.");
    }
    if (std::find(ids.begin(), ids.end(), name) != ids.end()) {
      return invalid("The value " + name + " for parameter " + at + "Id is used twice.");
    }
    ids.push_back(name);
    if (*expression) {
      return invalid("The parameter " + at +
                     "Expression is not supported by tmirror: use MetricStat.");
    }
    const Json* stat_json = member(q, "MetricStat");
    if (stat_json == nullptr) {
      return missing(at + "MetricStat");
    }
    auto metric_json = member(*stat_json, "Metric");
    if (metric_json == nullptr) {
      return missing(at + "MetricStat.Metric");
    }
    auto metric = readMetric(*metric_json, at + "MetricStat.Metric.");
    auto period = optionalInt(*stat_json, "Period", at + "MetricStat.Period");
    auto stat = optionalString(*stat_json, "Stat", at + "MetricStat.Stat");
    auto unit = optionalString(*stat_json, "Unit", at + "MetricStat.Unit");
    auto return_data = member(q, "ReturnData");
    if (auto e = api::firstError(metric, period, stat, unit)) {
      return std::unexpected(*e);
    }
    if (auto ok = checkPeriod(*period, at + "MetricStat.Period"); !ok) {
      return std::unexpected(ok.error());
    }
    if (!*stat) {
      return missing(at + "MetricStat.Stat");
    }
    if (!knownStatistic(**stat)) {
      return invalid("The parameter " + at +
                     "MetricStat.Stat must be one of SampleCount, "
                     "Average, Sum, Minimum, Maximum (tmirror keeps no percentiles).");
    }
    const bool returned =
        return_data == nullptr ||
        (return_data->is_boolean() ? return_data->get<bool>()
                                   : !(return_data->is_string() && *return_data == "false"));
    if (!returned) {
      continue;
    }
    const bool unit_matches = !*unit || **unit == unitOf(*metric);
    results.push_back(Result{name, label->value_or(metric->metric_name), std::move(*metric),
                             **period, **stat, unit_matches});
  }
  if (first_result > results.size()) {
    return api::apiError("InvalidNextToken", "The NextToken is not valid.");
  }

  // Pages cut the datapoints of all results, in order, at MaxDatapoints. Every page lists every
  // result; those before the token's and after the page's end come empty (read on their page).
  Json out_results = Json::array();
  int64_t taken = 0;
  std::optional<std::pair<std::size_t, std::size_t>> next;  // where the next page starts
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    Json timestamps = Json::array();
    Json values = Json::array();
    bool partial = false;
    if (i >= first_result && !next && r.unit_matches) {
      auto found = buckets(store, r.metric, *start, *end, r.period, now);
      if (!found) {
        return std::unexpected(found.error());
      }
      if (descending) {
        std::reverse(found->begin(), found->end());
      }
      const std::size_t from = i == first_result ? std::min(first_point, found->size()) : 0;
      const std::size_t room = static_cast<std::size_t>(limit - taken);
      const std::size_t to = std::min(found->size(), from + room);
      if (from < to) {
        auto& ts = timestamps.get_ref<Json::array_t&>();
        auto& vs = values.get_ref<Json::array_t&>();
        ts.reserve(to - from);
        vs.reserve(to - from);
        for (std::size_t k = from; k < to; ++k) {
          ts.emplace_back((*found)[k].start);
          vs.emplace_back(statistic((*found)[k], r.stat));
        }
        taken += static_cast<int64_t>(to - from);
      }
      if (to < found->size()) {
        partial = true;
        next = {i, to};
      }
    }
    out_results.push_back({{"Id", r.id},
                           {"Label", r.label},
                           {"Timestamps", std::move(timestamps)},
                           {"Values", std::move(values)},
                           {"StatusCode", partial ? "PartialData" : "Complete"}});
  }
  Json out = {{"MetricDataResults", std::move(out_results)}, {"Messages", Json::array()}};
  if (next) {
    out["NextToken"] = std::to_string(next->first) + "." + std::to_string(next->second);
  }
  return out;
}

}  // namespace tmirror::cloudwatch
