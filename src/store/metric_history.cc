// MirrorStore's metric history: series, hours of minute counts, rollups and retention
// (migration 7).
//
// A row holds an hour of one series' minutes as text ("12,,7,…": 60 fields, empty where no
// report came), so a day of a series is 24 rows, not 1,440: on PostgreSQL a row costs some 30
// bytes before its data. The 5-minute and 1-hour rollups keep the statistics CloudWatch
// answers (sum, minimum, maximum, sample count) of their minutes, and outlive them (63 and 455
// days against 15). Rollups are computed here, from the hours, and replaced whole: any replica
// may run them, any number of times.
#include <algorithm>
#include <charconv>
#include <map>
#include <string>

#include "store/mirror_store.h"
#include "store/statement_rows.h"

namespace tmirror::store {

namespace {

// Hours recomputed before the last rollup's: a writer rewrites its current hour until the hour
// is over, and a flush may come late (a store away for a while).
constexpr int64_t kLateHours = 2;

std::string formatMinutes(const std::array<std::optional<int64_t>, 60>& minutes) {
  std::string out;
  for (std::size_t i = 0; i < minutes.size(); ++i) {
    if (i != 0) {
      out += ',';
    }
    if (minutes[i]) {
      out += std::to_string(*minutes[i]);
    }
  }
  return out;
}

// Fields that are not numbers read as absent.
std::array<std::optional<int64_t>, 60> parseMinutes(std::string_view text) {
  std::array<std::optional<int64_t>, 60> out{};
  for (std::size_t i = 0; i < out.size() && !text.empty(); ++i) {
    const std::size_t comma = std::min(text.find(','), text.size());
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + comma, value);
    if (comma != 0 && ec == std::errc{} && end == text.data() + comma) {
      out[i] = value;
    }
    text.remove_prefix(std::min(comma + 1, text.size()));
  }
  return out;
}

// The rows of [from_hour, to_hour) (of one series, or of all when series_id is 0), the writers
// of each hour added up minute by minute.
Result<std::map<std::pair<int64_t, int64_t>, std::array<std::optional<int64_t>, 60>>> readHours(
    Database& db, int64_t series_id, int64_t from_hour, int64_t to_hour) {
  auto stmt = series_id != 0 ? db.prepare(
                                   "SELECT series_id, hour, minutes FROM metric_hours "
                                   "WHERE series_id = ? AND hour >= ? AND hour < ?")
                             : db.prepare(
                                   "SELECT series_id, hour, minutes FROM metric_hours "
                                   "WHERE hour >= ? AND hour < ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  const int first = series_id != 0 ? 2 : 1;
  if (series_id != 0) {
    stmt->bind(1, series_id);
  }
  stmt->bind(first, from_hour).bind(first + 1, to_hour);

  struct Row {
    int64_t series_id;
    int64_t hour;
    std::string minutes;
  };

  auto rows = readRows<Row>(*stmt, [](const Statement& s) {
    return Row{s.integer(0), s.integer(1), s.text(2)};
  });
  if (!rows) {
    return std::unexpected(rows.error());
  }
  std::map<std::pair<int64_t, int64_t>, std::array<std::optional<int64_t>, 60>> out;
  for (const Row& row : *rows) {
    auto& merged = out[{row.series_id, row.hour}];
    const auto minutes = parseMinutes(row.minutes);
    for (std::size_t i = 0; i < minutes.size(); ++i) {
      if (minutes[i]) {
        merged[i] = merged[i].value_or(0) + *minutes[i];
      }
    }
  }
  return out;
}

void addTo(MetricPoint& point, int64_t value) {
  point.minimum = point.samples == 0 ? value : std::min(point.minimum, value);
  point.maximum = point.samples == 0 ? value : std::max(point.maximum, value);
  point.sum += value;
  ++point.samples;
}

void merge(MetricPoint& into, const MetricPoint& part) {
  if (part.samples == 0) {
    return;
  }
  into.minimum = into.samples == 0 ? part.minimum : std::min(into.minimum, part.minimum);
  into.maximum = into.samples == 0 ? part.maximum : std::max(into.maximum, part.maximum);
  into.sum += part.sum;
  into.samples += part.samples;
}

}  // namespace

Result<int64_t> MirrorStore::metricSeriesId(const std::string& namespace_name,
                                            const std::string& metric_name,
                                            const std::string& dimensions) {
  auto insert = db_.prepare(
      "INSERT INTO metric_series (namespace, metric_name, dimensions) VALUES (?, ?, ?) "
      "ON CONFLICT (namespace, metric_name, dimensions) DO NOTHING");
  if (!insert) {
    return std::unexpected(insert.error());
  }
  insert->bind(1, std::string_view(namespace_name))
      .bind(2, std::string_view(metric_name))
      .bind(3, std::string_view(dimensions));
  if (auto r = insert->run(); !r) {
    return std::unexpected(r.error());
  }
  auto select = db_.prepare(
      "SELECT id FROM metric_series WHERE namespace = ? AND metric_name = ? AND dimensions = ?");
  if (!select) {
    return std::unexpected(select.error());
  }
  select->bind(1, std::string_view(namespace_name))
      .bind(2, std::string_view(metric_name))
      .bind(3, std::string_view(dimensions));
  auto row = select->step();
  if (!row) {
    return std::unexpected(row.error());
  }
  if (!*row) {
    return makeError(ErrorCode::Internal, "metric series vanished after its insert");
  }
  return select->integer(0);
}

Result<std::vector<MetricSeriesRecord>> MirrorStore::metricSeries() {
  return collect<MetricSeriesRecord>(
      db_, "SELECT id, namespace, metric_name, dimensions FROM metric_series ORDER BY id", nullptr,
      [](const Statement& s) {
        return MetricSeriesRecord{s.integer(0), s.text(1), s.text(2), s.text(3)};
      });
}

Result<std::vector<MetricSeriesRecord>> MirrorStore::metricSeriesPage(
    const std::string& namespace_name, const std::string& metric_name, int64_t after_id,
    int64_t limit) {
  auto stmt = db_.prepare(
      "SELECT id, namespace, metric_name, dimensions FROM metric_series WHERE id > ? AND "
      "(? = '' OR namespace = ?) AND (? = '' OR metric_name = ?) ORDER BY id LIMIT ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, after_id)
      .bind(2, std::string_view(namespace_name))
      .bind(3, std::string_view(namespace_name))
      .bind(4, std::string_view(metric_name))
      .bind(5, std::string_view(metric_name))
      .bind(6, limit);
  return readRows<MetricSeriesRecord>(*stmt, [](const Statement& s) {
    return MetricSeriesRecord{s.integer(0), s.text(1), s.text(2), s.text(3)};
  });
}

Result<std::optional<int64_t>> MirrorStore::findMetricSeries(const std::string& namespace_name,
                                                             const std::string& metric_name,
                                                             const std::string& dimensions) {
  auto stmt = db_.prepare(
      "SELECT id FROM metric_series WHERE namespace = ? AND metric_name = ? AND dimensions = ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(namespace_name))
      .bind(2, std::string_view(metric_name))
      .bind(3, std::string_view(dimensions));
  return first(readRows<int64_t>(*stmt, [](const Statement& s) { return s.integer(0); }));
}

Result<void> MirrorStore::putHourOfMinutes(int64_t writer, const HourOfMinutes& row) {
  auto stmt = db_.prepare(
      "INSERT INTO metric_hours (series_id, hour, writer, minutes) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (series_id, hour, writer) DO UPDATE SET minutes = excluded.minutes");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  const std::string minutes = formatMinutes(row.minutes);
  stmt->bind(1, row.series_id).bind(2, row.hour).bind(3, writer).bind(4, std::string_view(minutes));
  return stmt->run();
}

Result<void> MirrorStore::rollUpMetrics(int64_t now_seconds) {
  const int64_t now_hour = now_seconds / 3600;
  auto found = first(collect<int64_t>(
      db_, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'metric_rollup_hour'", nullptr,
      [](const Statement& s) { return s.integer(0); }));
  if (!found) {
    return std::unexpected(found.error());
  }
  // From the last rollup (the first time: the oldest hour kept), less the late window.
  const int64_t last = found->value_or(now_hour - kMinuteRetentionSeconds / 3600);
  const int64_t from_hour = std::min(last, now_hour) - kLateHours;
  auto hours = readHours(db_, 0, from_hour, now_hour + 1);
  if (!hours) {
    return std::unexpected(hours.error());
  }
  auto upsert = [&](int64_t series_id, int64_t period, const MetricPoint& p) -> Result<void> {
    auto stmt = db_.prepare(
        "INSERT INTO metric_rollups (series_id, period, start_time, sum, minimum, maximum, "
        "samples) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, period, start_time) DO "
        "UPDATE SET sum = excluded.sum, minimum = excluded.minimum, maximum = excluded.maximum, "
        "samples = excluded.samples");
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    stmt->bind(1, series_id)
        .bind(2, period)
        .bind(3, p.start_time)
        .bind(4, p.sum)
        .bind(5, p.minimum)
        .bind(6, p.maximum)
        .bind(7, p.samples);
    return stmt->run();
  };
  for (const auto& [key, minutes] : *hours) {
    const auto [series_id, hour] = key;
    MetricPoint whole{hour * 3600, 0, 0, 0, 0};
    for (int64_t bucket = 0; bucket < 12; ++bucket) {
      MetricPoint five{hour * 3600 + bucket * 300, 0, 0, 0, 0};
      for (int64_t m = bucket * 5; m < bucket * 5 + 5; ++m) {
        if (const auto& value = minutes[static_cast<std::size_t>(m)]) {
          addTo(five, *value);
        }
      }
      if (five.samples != 0) {
        if (auto r = upsert(series_id, 300, five); !r) {
          return std::unexpected(std::move(r.error()).withContext("rolling up metrics"));
        }
      }
      merge(whole, five);
    }
    if (whole.samples != 0) {
      if (auto r = upsert(series_id, 3600, whole); !r) {
        return std::unexpected(std::move(r.error()).withContext("rolling up metrics"));
      }
    }
  }

  struct Step {
    std::string_view sql;
    int64_t arg;
  };

  const Step steps[] = {
      {"DELETE FROM metric_hours WHERE hour < ?", (now_seconds - kMinuteRetentionSeconds) / 3600},
      {"DELETE FROM metric_rollups WHERE period = 300 AND start_time < ?",
       now_seconds - kFiveMinuteRetentionSeconds},
      {"DELETE FROM metric_rollups WHERE period = 3600 AND start_time < ?",
       now_seconds - kHourRetentionSeconds},
      {"INSERT INTO meta (key, value) VALUES ('metric_rollup_hour', CAST(? AS TEXT)) "
       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
       now_hour},
  };
  for (const Step& step : steps) {
    auto stmt = db_.prepare(step.sql);
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    stmt->bind(1, step.arg);
    if (auto r = stmt->run(); !r) {
      return std::unexpected(std::move(r.error()).withContext("rolling up metrics"));
    }
  }
  return {};
}

Result<std::vector<MetricPoint>> MirrorStore::metricPoints(int64_t series_id, int64_t period,
                                                           int64_t from, int64_t to) {
  std::vector<MetricPoint> out;
  if (period == 60) {
    // Minutes whose start lies in [from, to).
    const int64_t first_minute = (from + 59) / 60;
    const int64_t end_minute = (to + 59) / 60;
    auto hours = readHours(db_, series_id, first_minute / 60, (end_minute + 59) / 60);
    if (!hours) {
      return std::unexpected(hours.error());
    }
    for (const auto& [key, minutes] : *hours) {  // in hour order
      for (int64_t i = 0; i < 60; ++i) {
        const int64_t minute = key.second * 60 + i;
        const auto& value = minutes[static_cast<std::size_t>(i)];
        if (value && minute >= first_minute && minute < end_minute) {
          out.push_back({minute * 60, *value, *value, *value, 1});
        }
      }
    }
    return out;
  }
  auto stmt = db_.prepare(
      "SELECT start_time, sum, minimum, maximum, samples FROM metric_rollups "
      "WHERE series_id = ? AND period = ? AND start_time >= ? AND start_time < ? "
      "ORDER BY start_time");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, series_id).bind(2, period).bind(3, from).bind(4, to);
  return readRows<MetricPoint>(*stmt, [](const Statement& s) {
    return MetricPoint{s.integer(0), s.integer(1), s.integer(2), s.integer(3), s.integer(4)};
  });
}

}  // namespace tmirror::store
