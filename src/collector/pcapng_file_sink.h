// PcapngFileSink: one rotating pcapng file per session under a directory.
//
// It owns the sessions' files and what they share (file_resources.h): the write-buffer
// budget and the cap on files open at once. At the cap, the files written least recently
// are finished (an eighth of the cap at a time, so that a flood of new sessions costs one
// sort per batch, not one scan per file).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "collector/file_resources.h"
#include "collector/frame_sink.h"
#include "collector/session_file.h"

namespace tmirror::collector {

struct FileSinkLimits {
  std::size_t max_open_files = 4096;  // Collector::create: 0 = what the descriptor limit allows
  std::size_t buffer_budget_bytes = 64 << 20;  // write buffers beyond each file's first page
};

// What the file output holds now (for /counters and /metrics).
struct FileSinkStatistics {
  std::size_t sessions = 0;  // sessions that ever had a file
  std::size_t open_files = 0;
  std::size_t buffer_bytes = 0;  // write buffers held
  uint64_t closed_for_cap = 0;   // files finished to stay under max_open_files
};

class PcapngFileSink : public FrameSink, private FileResources {
 public:
  // Finished-looking leftovers of a crash ("*.pcapng.part", whole blocks only) are renamed to
  // ".pcapng" first: they are readable up to their last complete block.
  PcapngFileSink(FileOutputOptions options, CollectorCounters& counters, std::size_t max_sessions,
                 FileSinkLimits limits = {});
  ~PcapngFileSink() override;

  void write(ReceivedSession& session, const ReceivedFrame& frame) override;
  void tick(uint64_t now_ns) override;
  void close() override;

  FileSinkStatistics statistics() const;

 private:
  SessionFile* fileFor(ReceivedSession& session);
  std::vector<SessionFile*> allFiles() const;
  void beforeOpen(SessionFile& file) override;
  void afterClose() override;

  const FileOutputOptions options_;
  CollectorCounters& counters_;
  const FileSinkLimits limits_;
  mutable std::mutex create_mutex_;
  std::vector<std::unique_ptr<SessionFile>> owned_;
  std::unique_ptr<std::atomic<SessionFile*>[]> files_;  // by session index; lock-free lookup
  const std::size_t max_sessions_;
  std::atomic<std::size_t> open_files_{0};
  std::atomic<uint64_t> closed_for_cap_{0};
  std::mutex cap_mutex_;  // one thread at a time closes files for the cap
};

}  // namespace tmirror::collector
