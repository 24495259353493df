// Metric history in the store: how many bytes a series takes per day, and how long reading a
// day of minutes of 100 series takes (what GetMetricData at 1-minute resolution reads).
//
//   metric_history_benchmark [--series 100] [--days 2] [--database postgresql://...]
//
// SQLite (the default) in a temporary directory: the file's growth after the writes (the
// store closed, so the WAL is folded in). PostgreSQL: pg_total_relation_size of the three
// tables, through psql. Goal (issue 14): at most 64 KiB per series per day.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "store/mirror_store.h"

namespace {

using namespace tmirror;

constexpr int64_t kDay0 = 1'800'000'000 / 86400 * 86400;

int64_t postgresBytes(const std::string& url) {
  const std::string command =
      "psql '" + url +
      "' -Atc \"SELECT pg_total_relation_size('metric_series') + "
      "pg_total_relation_size('metric_hours') + pg_total_relation_size('metric_rollups')\"";
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    return -1;
  }
  long long bytes = -1;
  if (std::fscanf(p, "%lld", &bytes) != 1) {
    bytes = -1;
  }
  ::pclose(p);
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"metric history: bytes per series per day, and a day of 100 series read back"};
  int series_count = 100;
  int days = 2;
  std::string database;
  app.add_option("--series", series_count)->check(CLI::Range(1, 100000));
  app.add_option("--days", days)->check(CLI::Range(1, 15));
  app.add_option("--database", database, "PostgreSQL URL (an empty database); default SQLite");
  CLI11_PARSE(app, argc, argv);

  const auto dir = std::filesystem::temp_directory_path() /
                   ("tmirror-history-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const store::StoreLocation location{dir, database};
  const std::filesystem::path file = dir / "tmirror.db";
  int64_t empty_bytes = 0;
  {
    auto s = store::MirrorStore::open(location);
    if (!s) {
      std::fprintf(stderr, "%s\n", s.error().message.c_str());
      return 1;
    }
  }
  empty_bytes = database.empty() ? static_cast<int64_t>(std::filesystem::file_size(file))
                                 : postgresBytes(database);

  std::vector<int64_t> ids;
  const auto write_start = std::chrono::steady_clock::now();
  {
    auto s = store::MirrorStore::open(location);
    if (!s) {
      std::fprintf(stderr, "%s\n", s.error().message.c_str());
      return 1;
    }
    for (int i = 0; i < series_count; ++i) {
      auto id = s->metricSeriesId("AWS/EC2", "NetworkPacketsMirrorIn",
                                  "InstanceId=i-" + std::to_string(0x10000000000000 + i));
      ids.push_back(id.value_or(0));
    }
    // A day at a time: each minute of each series a count, with the magnitudes of a busy
    // host (packets per minute in the hundreds of thousands), each hour's row written once.
    for (int day = 0; day < days; ++day) {
      auto tx = s->transaction();
      for (int64_t h = 0; h < 24; ++h) {
        for (std::size_t i = 0; i < ids.size(); ++i) {
          store::HourOfMinutes row{ids[i], (kDay0 + day * 86400) / 3600 + h, {}};
          for (int64_t m = 0; m < 60; ++m) {
            row.minutes[static_cast<std::size_t>(m)] =
                100000 + static_cast<int64_t>(((h * 60 + m) * 7919 + i * 104729) % 900000);
          }
          if (auto r = s->putHourOfMinutes(1, row); !r) {
            std::fprintf(stderr, "%s\n", r.error().message.c_str());
            return 1;
          }
        }
      }
      if (auto r = s->rollUpMetrics(kDay0 + (day + 1) * 86400); !r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 1;
      }
      if (auto r = tx->commit(); !r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 1;
      }
    }
  }
  const double write_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - write_start).count();
  const int64_t full_bytes = database.empty()
                                 ? static_cast<int64_t>(std::filesystem::file_size(file))
                                 : postgresBytes(database);

  // A day of minutes of every series (up to 100), read back as GetMetricData would.
  auto s = store::MirrorStore::open(location);
  const std::size_t read_series = std::min<std::size_t>(ids.size(), 100);
  double best_ms = 1e9;
  std::size_t points = 0;
  for (int run = 0; run < 5; ++run) {
    points = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < read_series; ++i) {
      auto p = s->metricPoints(ids[i], 60, kDay0, kDay0 + 86400);
      points += p ? p->size() : 0;
    }
    best_ms = std::min(
        best_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  const double per_series_day = static_cast<double>(full_bytes - empty_bytes) / series_count / days;
  std::printf(
      "metric history (%s): %d series x %d days of minutes, with their 5-minute and hourly "
      "points\n"
      "  store growth: %.1f KiB per series per day (goal <= 64 KiB); written in %.2f s\n"
      "  read back: %zu series x 1 day at 1-minute resolution = %zu points in %.2f ms (best of "
      "5)\n",
      database.empty() ? "SQLite" : "PostgreSQL", series_count, days, per_series_day / 1024.0,
      write_seconds, read_series, points, best_ms);
  std::filesystem::remove_all(dir);
  return 0;
}
