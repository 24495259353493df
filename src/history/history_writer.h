// HistoryWriter: moves what CounterHistory gathered into the store every few seconds, and rolls
// the minutes up into 5-minute and hourly points once a minute (store/metric_history.cc).
//
// It keeps the current hours of the series it writes in memory, adds each drain's counts to
// their minutes, and rewrites its own row of each hour that changed (a writer id of its own:
// replicas never write one row). While the store is away (PostgreSQL down) the counts wait in
// those hours and go with the next write that succeeds; an hour still unwritten three hours
// later is dropped and counted.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/result.h"
#include "history/counter_history.h"
#include "store/shared_store.h"

namespace tmirror::history {

struct HistoryWriterOptions {
  std::chrono::milliseconds flush_interval{10000};
  std::chrono::milliseconds rollup_interval{60000};
  // The clock, for tests.
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
};

class HistoryWriter {
 public:
  HistoryWriter(store::SharedStore& store, CounterHistory& history,
                HistoryWriterOptions options = {});
  ~HistoryWriter();  // stops the thread, after a last flush

  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  void start();
  void stop();

  // One flush (and a rollup when `roll_up`), on the caller's thread.
  Result<void> flush(bool roll_up);

  // Minute counts dropped because the store stayed away too long.
  uint64_t dropped() const;

 private:
  struct Hour {
    std::array<std::optional<int64_t>, 60> minutes{};
    bool dirty = false;
  };

  void run();

  store::SharedStore& store_;
  CounterHistory& history_;
  const HistoryWriterOptions options_;
  const int64_t writer_id_;   // this process's rows
  mutable std::mutex mutex_;  // one flush at a time; guards what follows
  std::map<SeriesKey, int64_t> series_ids_;
  std::map<std::pair<SeriesKey, int64_t>, Hour> hours_;  // (series, Unix hour)
  uint64_t dropped_ = 0;
  bool failing_ = false;  // the last write failed (logged once per outage)

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tmirror::history
