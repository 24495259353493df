#include "history/history_writer.h"

#include "common/log.h"
#include "common/random.h"

namespace tmirror::history {

namespace {

// Hours kept in memory: the current one and the one before (a late flush), and unwritten ones
// while the store is away, up to this age.
constexpr int64_t kKeepHours = 3;

spdlog::logger& logger() {
  static const auto server = log::logger("server");
  return *server;
}

}  // namespace

HistoryWriter::HistoryWriter(store::SharedStore& store, CounterHistory& history,
                             HistoryWriterOptions options)
    : store_(store),
      history_(history),
      options_(std::move(options)),
      writer_id_(static_cast<int64_t>(secureRandomU64() >> 1)) {}

HistoryWriter::~HistoryWriter() {
  stop();
}

void HistoryWriter::start() {
  thread_ = std::thread([this] { run(); });
}

void HistoryWriter::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  (void)flush(false);
}

uint64_t HistoryWriter::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void HistoryWriter::run() {
  auto next_rollup = std::chrono::steady_clock::now() + options_.rollup_interval;
  std::unique_lock lock(stop_mutex_);
  while (!stop_cv_.wait_for(lock, options_.flush_interval, [this] { return stopping_; })) {
    lock.unlock();
    const bool roll_up = std::chrono::steady_clock::now() >= next_rollup;
    if (roll_up) {
      next_rollup = std::chrono::steady_clock::now() + options_.rollup_interval;
    }
    (void)flush(roll_up);
    lock.lock();
  }
}

Result<void> HistoryWriter::flush(bool roll_up) {
  std::lock_guard lock(mutex_);
  for (const PendingValue& v : history_.drain()) {
    Hour& hour = hours_[{v.series, v.minute / 60}];
    auto& slot = hour.minutes[static_cast<std::size_t>(v.minute % 60)];
    slot = slot.value_or(0) + v.value;
    hour.dirty = true;
  }
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(options_.now().time_since_epoch()).count();
  bool any_dirty = false;
  for (const auto& [key, hour] : hours_) {
    any_dirty = any_dirty || hour.dirty;
  }
  Result<void> written;
  if (any_dirty || roll_up) {
    written = store_.write([&](store::MirrorStore& s) -> Result<void> {
      auto tx = s.transaction();
      if (!tx) {
        return std::unexpected(tx.error());
      }
      std::map<SeriesKey, int64_t> created;  // ids of series new in this transaction
      for (const auto& [key, hour] : hours_) {
        if (!hour.dirty) {
          continue;
        }
        const SeriesKey& series = key.first;
        int64_t id = 0;
        if (auto known = series_ids_.find(series); known != series_ids_.end()) {
          id = known->second;
        } else if (auto fresh = created.find(series); fresh != created.end()) {
          id = fresh->second;
        } else {
          auto made =
              s.metricSeriesId(series.namespace_name, series.metric_name, series.dimensions);
          if (!made) {
            return std::unexpected(made.error());
          }
          id = created[series] = *made;
        }
        if (auto put = s.putHourOfMinutes(writer_id_, {id, key.second, hour.minutes}); !put) {
          return std::unexpected(put.error());
        }
      }
      if (roll_up) {
        if (auto rolled = s.rollUpMetrics(now); !rolled) {
          return std::unexpected(rolled.error());
        }
      }
      if (auto committed = tx->commit(); !committed) {
        return std::unexpected(committed.error());
      }
      series_ids_.merge(created);  // only once they are durable
      return {};
    });
  }
  if (written) {
    for (auto& [key, hour] : hours_) {
      hour.dirty = false;
    }
    if (failing_) {
      logger().info("metric history: the store takes counts again");
    }
    failing_ = false;
  } else if (!failing_) {
    logger().warn("metric history: writing to the store failed: {}; the counts wait",
                  written.error().message);
    failing_ = true;
  }
  // Hours past keeping: written ones are done; unwritten ones are lost.
  const int64_t oldest = now / 3600 - kKeepHours;
  for (auto it = hours_.begin(); it != hours_.end();) {
    if (it->first.second < oldest) {
      if (it->second.dirty) {
        for (const auto& minute : it->second.minutes) {
          dropped_ += minute.has_value();
        }
      }
      it = hours_.erase(it);
    } else {
      ++it;
    }
  }
  return written;
}

}  // namespace tmirror::history
