// ReportPacer: when the agent sends its next counters report. The server sets the interval (it
// spreads a fleet's reports: more hosts, longer interval; model::CountersAnswer), never shorter
// than the agent's own; each wait is drawn within +-10 % of it, so that hosts started together
// drift apart. A report equal to the last one sent is held back until a heartbeat is due, so an
// idle fleet costs the server almost nothing.
//
// From an interval of kOnPollConnectionFrom on (a large fleet), the report rides the long-poll
// (a POST carrying it) instead of a request of its own, and the poll waits one interval at
// most, so that it comes back when the next report is due: an idle host then costs the server
// one request per interval, and the fleet's requests keep to the server's budget. Below that
// (a small fleet, reports every few seconds) the reports keep a connection of their own, which
// stays open because the interval is under the server's idle timeout (5 s by default); between
// the two, each report would have paid a TLS handshake.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

#include "model/agent_protocol.h"

namespace tmirror::agent {

class ReportPacer {
 public:
  using Clock = std::chrono::steady_clock;

  ReportPacer(std::chrono::milliseconds floor, std::chrono::milliseconds heartbeat);

  static constexpr std::chrono::seconds kOnPollConnectionFrom{4};

  // The interval in effect (the server's, bounded below by the agent's own).
  std::chrono::milliseconds interval() const { return interval_; }

  // Whether reports ride the long-poll (see above).
  bool onPollConnection() const { return interval_ >= kOnPollConnectionFrom; }

  // The long-poll's wait: `longest`, or one interval when reports ride the poll.
  std::chrono::seconds pollWait(std::chrono::seconds longest) const {
    if (!onPollConnection()) {
      return longest;
    }
    return std::clamp(std::chrono::duration_cast<std::chrono::seconds>(interval_),
                      std::chrono::seconds(1), longest);
  }

  // Looks again one interval from `now`, sending nothing.
  void skip(Clock::time_point now) { schedule(now); }

  // Takes the interval the server gave outside a counters answer (at registration), and
  // looks again within it: the first report of a host in a large fleet then rides its poll.
  void adopt(std::chrono::milliseconds interval, Clock::time_point now) {
    interval_ = std::max(floor_, interval);
    schedule(now);
  }

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
