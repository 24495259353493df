// The store side of bench/cloudwatch_api_benchmark.py (issue 14): fills a server's store with
// metric history, and times in-process what a GetMetricData call does besides HTTP and SigV4.
//
//   cloudwatch_api_store seed --data-dir DIR [--database URL] [--series 100] [--days 1]
//                             --first-day UNIX [--now UNIX]
//   cloudwatch_api_store read --data-dir DIR [--database URL] [--series 100] --day UNIX
//                             [--runs 20] [--max-datapoints N]
//
// seed: series i is AWS/EC2 NetworkPacketsMirrorIn of TrafficMirrorSessionId=tms-0be<i as 14
// hex digits>; each of its minutes from --first-day on, for --days days, counts
// 100000 + (minute * 7919 + i * 104729) % 900000 (minute: Unix time / 60), so a reader can
// check every value. It writes through the store functions the server's history writer uses
// (DIR/tmirror.db, or the PostgreSQL database), a day per transaction with its rollups, then
// rolls up at --now as the server does once a minute: the meta key of the last rollup is set,
// so the server's own first rollup redoes only the last two hours.
//
// read (with the server running on the same store, a reader connection as the server's): the
// same day of every series (1) read from the store alone, as GetMetricData's query reads it;
// (2) through GetMetricData's query code (cloudwatch::getMetricData, every MaxDatapoints page);
// (3) each page encoded in the three wire forms. Prints the median and best of --runs each,
// and a last line "JSON {...}" for the benchmark script.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cloudwatch/cloudwatch_wire.h"
#include "cloudwatch/metric_queries.h"
#include "history/metric_catalog.h"
#include "store/mirror_store.h"

namespace {

using namespace tmirror;
using Json = nlohmann::json;

constexpr const char* kNamespace = "AWS/EC2";
constexpr const char* kMetric = "NetworkPacketsMirrorIn";
constexpr const char* kDimension = "TrafficMirrorSessionId";

std::string sessionId(int i) {
  char text[32];
  std::snprintf(text, sizeof text, "tms-0be%014x", static_cast<unsigned>(i));
  return text;
}

int64_t minuteValue(int64_t minute, int64_t series) {
  return 100000 + (minute * 7919 + series * 104729) % 900000;
}

int64_t nowSeconds() {
  return static_cast<int64_t>(std::time(nullptr));
}

int fail(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "cloudwatch_api_store: %s: %s\n", what.c_str(), message.c_str());
  return 1;
}

int seed(const store::StoreLocation& location, int series_count, int days, int64_t first_day,
         int64_t now) {
  if (first_day % 86400 != 0) {
    return fail("seed", "--first-day must be a UTC midnight (a multiple of 86400)");
  }
  if (first_day + days * 86400 > now || now - first_day > store::kMinuteRetentionSeconds) {
    return fail("seed", "the days must be over by --now and within its 15 days of minutes");
  }
  auto s = store::MirrorStore::open(location);
  if (!s) {
    return fail("opening the store", s.error().message);
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> ids;
  {
    auto tx = s->transaction();
    if (!tx) {
      return fail("seed", tx.error().message);
    }
    for (int i = 0; i < series_count; ++i) {
      auto id = s->metricSeriesId(kNamespace, kMetric,
                                  history::dimensionsText({{kDimension, sessionId(i)}}));
      if (!id) {
        return fail("seed", id.error().message);
      }
      ids.push_back(*id);
    }
    if (auto r = tx->commit(); !r) {
      return fail("seed", r.error().message);
    }
  }
  for (int day = 0; day < days; ++day) {
    const int64_t day_start = first_day + day * 86400;
    auto tx = s->transaction();
    if (!tx) {
      return fail("seed", tx.error().message);
    }
    for (int64_t h = 0; h < 24; ++h) {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        store::HourOfMinutes row{ids[i], day_start / 3600 + h, {}};
        for (int64_t m = 0; m < 60; ++m) {
          row.minutes[static_cast<std::size_t>(m)] =
              minuteValue(day_start / 60 + h * 60 + m, static_cast<int64_t>(i));
        }
        if (auto r = s->putHourOfMinutes(1, row); !r) {
          return fail("seed", r.error().message);
        }
      }
    }
    if (auto r = s->rollUpMetrics(day_start + 86400); !r) {
      return fail("seed", r.error().message);
    }
    if (auto r = tx->commit(); !r) {
      return fail("seed", r.error().message);
    }
  }
  {
    auto tx = s->transaction();
    if (!tx) {
      return fail("seed", tx.error().message);
    }
    if (auto r = s->rollUpMetrics(now); !r) {
      return fail("seed", r.error().message);
    }
    if (auto r = tx->commit(); !r) {
      return fail("seed", r.error().message);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("seeded %s: %d series x %d days of minutes from %lld, in %.2f s\n",
              s->where().c_str(), series_count, days, static_cast<long long>(first_day), seconds);
  return 0;
}

struct Timings {
  std::vector<double> ms;

  double median() const {
    auto v = ms;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }

  double best() const { return ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end()); }
};

template <typename F>
double timeMs(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

int read(const store::StoreLocation& location, int series_count, int64_t day, int runs,
         int64_t max_datapoints) {
  auto opened = store::MirrorStore::openReader(location);
  if (!opened) {
    return fail("opening the store", opened.error().message);
  }
  store::MirrorStore& s = *opened;
  const int64_t now = nowSeconds();
  const std::size_t expected = static_cast<std::size_t>(series_count) * 1440;

  // (1) The store alone: what buckets() in cloudwatch/metric_queries.cc asks it, per series.
  Timings store_read;
  std::string error;
  for (int run = 0; run < runs; ++run) {
    std::size_t points = 0;
    int64_t checksum_errors = 0;
    store_read.ms.push_back(timeMs([&] {
      for (int i = 0; i < series_count; ++i) {
        auto id = s.findMetricSeries(kNamespace, kMetric,
                                     history::dimensionsText({{kDimension, sessionId(i)}}));
        if (!id || !*id) {
          error = id ? "series " + sessionId(i) + " not found" : id.error().message;
          return;
        }
        auto p = s.metricPoints(**id, 60, day, day + 86400);
        if (!p) {
          error = p.error().message;
          return;
        }
        points += p->size();
        if (!p->empty() && p->front().sum != minuteValue(day / 60, i)) {
          ++checksum_errors;
        }
      }
    }));
    if (!error.empty()) {
      return fail("store read", error);
    }
    if (points != expected || checksum_errors != 0) {
      return fail("store read", "read " + std::to_string(points) + " points, expected " +
                                    std::to_string(expected) + " (" +
                                    std::to_string(checksum_errors) + " wrong first values)");
    }
  }

  // (2) GetMetricData's query, every page; (3) the pages encoded in each wire form.
  Json queries = Json::array();
  for (int i = 0; i < series_count; ++i) {
    queries.push_back(
        {{"Id", "m" + std::to_string(i)},
         {"MetricStat",
          {{"Metric",
            {{"Namespace", kNamespace},
             {"MetricName", kMetric},
             {"Dimensions", Json::array({{{"Name", kDimension}, {"Value", sessionId(i)}}})}}},
           {"Period", 60},
           {"Stat", "Sum"}}}});
  }
  Json input = {{"MetricDataQueries", std::move(queries)},
                {"StartTime", day},
                {"EndTime", day + 86400},
                {"ScanBy", "TimestampAscending"}};
  if (max_datapoints > 0) {
    input["MaxDatapoints"] = max_datapoints;
  }
  Timings query;
  std::vector<Json> pages;
  for (int run = 0; run < runs; ++run) {
    pages.clear();
    query.ms.push_back(timeMs([&] {
      Json in = input;
      while (true) {
        auto out = cloudwatch::getMetricData(s, in, now);
        if (!out) {
          error = out.error().code + ": " + out.error().message;
          return;
        }
        const bool more = out->contains("NextToken");
        if (more) {
          in["NextToken"] = (*out)["NextToken"];
        }
        pages.push_back(std::move(*out));
        if (!more) {
          break;
        }
      }
    }));
    if (!error.empty()) {
      return fail("GetMetricData query", error);
    }
  }
  std::size_t values = 0;
  for (const Json& page : pages) {
    for (const Json& r : page["MetricDataResults"]) {
      values += r["Values"].size();
    }
  }
  if (values != expected) {
    return fail("GetMetricData query", "answered " + std::to_string(values) + " values, expected " +
                                           std::to_string(expected));
  }

  struct Form {
    const char* name;
    cloudwatch::WireProtocol protocol;
    Timings encode;
    std::size_t bytes = 0;
  };

  Form forms[] = {{"json", cloudwatch::WireProtocol::Json, {}},
                  {"query", cloudwatch::WireProtocol::Query, {}},
                  {"cbor", cloudwatch::WireProtocol::Cbor, {}}};
  for (Form& f : forms) {
    for (int run = 0; run < runs; ++run) {
      f.bytes = 0;
      f.encode.ms.push_back(timeMs([&] {
        for (const Json& page : pages) {
          f.bytes +=
              cloudwatch::encodeResponse(f.protocol, "GetMetricData", page, "bench").body.size();
        }
      }));
    }
  }

  std::printf(
      "in-process, %s, %d series x 1 day at 1-minute resolution (%zu points), %d runs:\n"
      "  store read alone:           median %8.2f ms, best %8.2f ms\n"
      "  GetMetricData query:        median %8.2f ms, best %8.2f ms (%zu page(s))\n",
      s.where().c_str(), series_count, expected, runs, store_read.median(), store_read.best(),
      query.median(), query.best(), pages.size());
  Json out = {{"store_ms", store_read.median()}, {"store_best_ms", store_read.best()},
              {"query_ms", query.median()},      {"query_best_ms", query.best()},
              {"pages", pages.size()},           {"points", expected}};
  for (const Form& f : forms) {
    std::printf("  encode %-5s (all pages):   median %8.2f ms, best %8.2f ms, %.2f MB\n", f.name,
                f.encode.median(), f.encode.best(), static_cast<double>(f.bytes) / 1e6);
    out["encode_" + std::string(f.name) + "_ms"] = f.encode.median();
    out["bytes_" + std::string(f.name)] = f.bytes;
  }
  std::printf("JSON %s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"metric history for the CloudWatch API benchmark: seed a store, time a read"};
  app.require_subcommand(1);
  std::string data_dir;
  std::string database;
  int series_count = 100;
  int days = 1;
  int64_t first_day = 0;
  int64_t now = nowSeconds();
  int64_t day = 0;
  int runs = 20;
  int64_t max_datapoints = 0;

  auto* seed_cmd = app.add_subcommand("seed", "write the series' minutes and their rollups");
  auto* read_cmd = app.add_subcommand("read", "time a day of every series read in-process");
  for (auto* cmd : {seed_cmd, read_cmd}) {
    cmd->add_option("--data-dir", data_dir, "The server's --data-dir")->required();
    cmd->add_option("--database", database, "The server's PostgreSQL --database; default SQLite");
    cmd->add_option("--series", series_count)->check(CLI::Range(1, 500));
  }
  seed_cmd->add_option("--days", days)->check(CLI::Range(1, 14));
  seed_cmd->add_option("--first-day", first_day, "Unix time of the first day's midnight (UTC)")
      ->required();
  seed_cmd->add_option("--now", now, "Unix time of the last rollup (default: now)");
  read_cmd->add_option("--day", day, "Unix time of the day's midnight (UTC)")->required();
  read_cmd->add_option("--runs", runs)->check(CLI::Range(1, 10000));
  read_cmd->add_option("--max-datapoints", max_datapoints,
                       "GetMetricData's MaxDatapoints (default: CloudWatch's 100,800)");
  CLI11_PARSE(app, argc, argv);

  const store::StoreLocation location{data_dir, database};
  if (seed_cmd->parsed()) {
    return seed(location, series_count, days, first_day, now);
  }
  return read(location, series_count, day, runs, max_datapoints);
}
