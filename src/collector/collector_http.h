// CollectorHttp: the collector's own small HTTP listener: GET /metrics (Prometheus text, through
// the project's metrics::Registry) and GET /counters (the same numbers as JSON, for tests/scripts).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "collector/collector.h"
#include "common/result.h"

namespace tmirror::collector {

class CollectorHttp {
 public:
  // Binds now (port 0: any free port) and serves on a thread of its own until destroyed.
  static Result<std::unique_ptr<CollectorHttp>> start(const Collector& collector,
                                                      const std::string& address, uint16_t port);
  ~CollectorHttp();

  uint16_t port() const;

  class Impl;

 private:
  explicit CollectorHttp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The counters as a JSON document: totals, drops by reason, sessions.
std::string countersJson(const Collector& collector);

}  // namespace tmirror::collector
