// ForwardSink: re-encapsulates decapsulated frames (same VNI, flags 0x08) and sends them as UDP
// to another collector; the kernel builds the outer IP/UDP headers.
#pragma once

#include <memory>
#include <mutex>

#include "collector/collector_counters.h"
#include "collector/frame_sink.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "packet/ip_address.h"

namespace tmirror::collector {

class ForwardSink : public FrameSink {
 public:
  static Result<std::unique_ptr<ForwardSink>> create(const packet::IpAddress& address,
                                                     uint16_t port, CollectorCounters& counters);

  void write(ReceivedSession& session, const ReceivedFrame& frame) override;

 private:
  ForwardSink(UniqueFd fd, CollectorCounters& counters) : fd_(std::move(fd)), counters_(counters) {}

  UniqueFd fd_;
  CollectorCounters& counters_;
};

}  // namespace tmirror::collector
