// PcapStreamSink: every session's frames as one classic pcap stream (nanosecond timestamps) on
// a file descriptor, usually stdout: `tmirror collect --stdout | tshark -r -`. Flushed after
// each receive batch so live readers see packets at once.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "collector/collector_counters.h"
#include "collector/frame_sink.h"

namespace tmirror::collector {

class PcapStreamSink : public FrameSink {
 public:
  PcapStreamSink(int fd, CollectorCounters& counters, uint32_t snaplen = 262144);

  void write(ReceivedSession& session, const ReceivedFrame& frame) override;
  void endBatch() override;
  void tick(uint64_t now_ns) override;
  void close() override;

  bool broken() const { return broken_.load(); }

 private:
  void flushLocked();

  const int fd_;
  CollectorCounters& counters_;
  const uint32_t snaplen_;
  std::mutex mutex_;
  std::vector<std::byte> buffer_;
  std::size_t used_ = 0;
  uint64_t buffered_packets_ = 0;
  std::atomic<bool> broken_{false};  // the reader went away
};

}  // namespace tmirror::collector
