#include "agent/report_pacer.h"

#include <algorithm>

#include "common/random.h"

namespace tmirror::agent {

ReportPacer::ReportPacer(std::chrono::milliseconds floor, std::chrono::milliseconds heartbeat)
    : floor_(floor), heartbeat_(std::max(heartbeat, floor)), interval_(floor) {
  schedule(Clock::now());
}

void ReportPacer::schedule(Clock::time_point now) {
  const auto tenth = static_cast<uint64_t>(interval_.count() / 10);
  const auto jitter =
      static_cast<int64_t>(jitterBetween(0, 2 * tenth)) - static_cast<int64_t>(tenth);
  next_ = now + interval_ + std::chrono::milliseconds(jitter);
}

bool ReportPacer::shouldSend(const model::CountersReport& report, Clock::time_point now) {
  const bool unchanged = last_sent_ && *last_sent_ == report;
  if (unchanged && now - last_sent_at_ < heartbeat_) {
    schedule(now);
    return false;
  }
  return true;
}

void ReportPacer::sent(const model::CountersReport& report, Clock::time_point now,
                       const std::optional<model::CountersAnswer>& answer) {
  if (answer) {
    interval_ = std::max(floor_, answer->report_interval);
    last_sent_ = report;
    last_sent_at_ = now;
  }
  schedule(now);
}

}  // namespace tmirror::agent
