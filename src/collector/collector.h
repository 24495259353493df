// Collector: `tmirror collect` as an object. Opens the receive sockets and outputs, runs one
// receive thread per socket, and ticks the outputs (time rotation, flushes) from the caller's
// thread until asked to stop.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/admission.h"
#include "collector/collector_counters.h"
#include "collector/frame_sink.h"
#include "collector/pcapng_file_sink.h"
#include "collector/session_file.h"
#include "collector/session_table.h"
#include "collector/udp_receiver.h"
#include "common/result.h"

namespace tmirror::collector {

struct CollectorOptions {
  packet::IpAddress listen_address = packet::IpAddress::v4(0);
  uint16_t port = packet::kVxlanPort;  // 0: any free port (all threads share it)
  int threads = 1;
  int receive_buffer_bytes = 32 << 20;
  AdmissionPolicy admission;
  std::size_t max_sessions = 4096;
  std::map<uint32_t, SessionMetadata> session_metadata;  // by VNI

  std::optional<FileOutputOptions> files;  // --output-dir
  FileSinkLimits file_limits{.max_open_files = 0};
  bool to_stdout = false;
  bool tap_per_vni = false;
  std::optional<std::string> tap_single;
  std::optional<std::pair<packet::IpAddress, uint16_t>> forward;
};

class Collector {
 public:
  static Result<std::unique_ptr<Collector>> create(const CollectorOptions& options);
  ~Collector();

  // Receives until `stop` becomes true, then finishes every output.
  void run(const std::atomic<bool>& stop);

  uint16_t port() const { return port_; }

  int receiveBufferBytes() const { return receive_buffer_bytes_; }

  const CollectorCounters& counters() const { return counters_; }

  const SessionTable& sessions() const { return sessions_; }

  SessionTable& sessions() { return sessions_; }

  // The file output's footprint (when there is one).
  std::optional<FileSinkStatistics> fileStatistics() const;

  // True once the stdout reader went away (the command then exits).
  bool outputBroken() const;

 private:
  explicit Collector(const CollectorOptions& options);

  CollectorOptions options_;
  CollectorCounters counters_;
  SessionTable sessions_;
  std::vector<UdpReceiver> receivers_;
  std::vector<std::unique_ptr<FrameSink>> sinks_;
  std::vector<FrameSink*> sink_pointers_;
  class PcapStreamSink* stream_ = nullptr;
  PcapngFileSink* files_ = nullptr;
  uint16_t port_ = 0;
  int receive_buffer_bytes_ = 0;
};

}  // namespace tmirror::collector
