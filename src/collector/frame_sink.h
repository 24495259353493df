// FrameSink: the seam between the receive path and an output (pcapng files, stdout, TAP,
// forwarding). Called from several receive threads at once: implementations lock what they share.
#pragma once

#include <cstdint>

#include "collector/session_table.h"
#include "packet/byte_reader.h"

namespace tmirror::collector {

struct ReceivedFrame {
  uint64_t timestamp_ns = 0;  // wall clock, when the batch was received
  packet::Bytes inner;        // the decapsulated Ethernet frame
  uint32_t original_length = 0;
};

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // An output that cannot take the frame counts it under a drop reason itself.
  virtual void write(ReceivedSession& session, const ReceivedFrame& frame) = 0;

  // End of a receive batch: stream outputs flush here.
  virtual void endBatch() {}

  // Periodic (about every 100 ms, also without traffic): time-based rotation, retries.
  virtual void tick(uint64_t /*now_ns*/) {}

  // Shutdown: finish files.
  virtual void close() {}
};

}  // namespace tmirror::collector
