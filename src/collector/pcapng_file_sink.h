// PcapngFileSink: one rotating pcapng file per session under a directory.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "collector/frame_sink.h"
#include "collector/session_file.h"

namespace tmirror::collector {

class PcapngFileSink : public FrameSink {
 public:
  // Finished-looking leftovers of a crash ("*.pcapng.part", whole blocks only) are renamed to
  // ".pcapng" first: they are readable up to their last complete block.
  PcapngFileSink(FileOutputOptions options, CollectorCounters& counters, std::size_t max_sessions);
  ~PcapngFileSink() override;

  void write(Session& session, const ReceivedFrame& frame) override;
  void tick(uint64_t now_ns) override;
  void close() override;

 private:
  SessionFile* fileFor(Session& session);

  const FileOutputOptions options_;
  CollectorCounters& counters_;
  std::mutex create_mutex_;
  std::vector<std::unique_ptr<SessionFile>> owned_;
  std::unique_ptr<std::atomic<SessionFile*>[]> files_;  // by session index; lock-free lookup
  const std::size_t max_sessions_;
};

}  // namespace tmirror::collector
