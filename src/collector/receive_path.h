// ReceivePath: one datagram's way through the collector: VXLAN decode, admission, demux to a
// session, hand-off to every output. One per receive thread; no std::expected (fuzzed).
#pragma once

#include <cstdint>
#include <span>

#include "collector/admission.h"
#include "collector/collector_counters.h"
#include "collector/frame_sink.h"
#include "collector/session_table.h"

namespace tmirror::collector {

struct Datagram {
  packet::IpAddress sender;
  uint64_t timestamp_ns = 0;
  packet::Bytes payload;   // the UDP payload
  bool truncated = false;  // larger than the receive buffer (MSG_TRUNC)
};

class ReceivePath {
 public:
  ReceivePath(const AdmissionPolicy& admission, SessionTable& sessions, CollectorCounters& counters,
              std::span<FrameSink* const> sinks)
      : admission_(admission), sessions_(sessions), counters_(counters), sinks_(sinks) {}

  void process(const Datagram& datagram);
  void endBatch();

 private:
  const AdmissionPolicy& admission_;
  SessionTable& sessions_;
  CollectorCounters& counters_;
  std::span<FrameSink* const> sinks_;
  // Mirror traffic comes in runs of one session: remember the last one, skip the table's lock.
  SessionKey last_key_{};
  ReceivedSession* last_session_ = nullptr;
};

}  // namespace tmirror::collector
