// ReportPacer: when the agent sends its next counters report. The server sets the interval (it
// spreads a fleet's reports: more hosts, longer interval; model::CountersAnswer), never shorter
// than the agent's own; each wait is drawn within +-10 % of it, so that hosts started together
// drift apart. A report equal to the last one sent is held back until a heartbeat is due, so an
// idle fleet costs the server almost nothing.
//
// From an interval of kOnPollConnectionFrom on (a large fleet), the report travels on the
// long-poll's connection, between two polls, instead of on one of its own: a connection kept
// open that long costs the server memory, and one opened for each report a TLS handshake. The
// report then waits for the poll to end (at most the poll's wait), which at such intervals
// matters little.
#pragma once

#include <chrono>
#include <optional>

#include "model/agent_protocol.h"

namespace tmirror::agent {

class ReportPacer {
 public:
  using Clock = std::chrono::steady_clock;

  ReportPacer(std::chrono::milliseconds floor, std::chrono::milliseconds heartbeat);

  static constexpr std::chrono::seconds kOnPollConnectionFrom{10};

  // The interval in effect (the server's, bounded below by the agent's own).
  std::chrono::milliseconds interval() const { return interval_; }

  // Whether reports go on the long-poll's connection (see above).
  bool onPollConnection() const { return interval_ >= kOnPollConnectionFrom; }

  // Looks again one interval from `now`, sending nothing.
  void skip(Clock::time_point now) { schedule(now); }

  // When to look at the counters next.
  Clock::time_point nextCheck() const { return next_; }

  // Whether `report`, read at `now` (at or after nextCheck()), should be sent; if not, the next
  // check is scheduled.
  bool shouldSend(const model::CountersReport& report, Clock::time_point now);

  // After a send: `answer` is the server's (nullopt when the send failed, which keeps the
  // report to be sent again at the next check).
  void sent(const model::CountersReport& report, Clock::time_point now,
            const std::optional<model::CountersAnswer>& answer);

 private:
  void schedule(Clock::time_point now);

  std::chrono::milliseconds floor_;
  std::chrono::milliseconds heartbeat_;
  std::chrono::milliseconds interval_;
  Clock::time_point next_;
  std::optional<model::CountersReport> last_sent_;
  Clock::time_point last_sent_at_;
};

}  // namespace tmirror::agent
