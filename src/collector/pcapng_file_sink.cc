#include "collector/pcapng_file_sink.h"

#include <algorithm>
#include <system_error>

#include "collector/collector_log.h"

namespace tmirror::collector {

PcapngFileSink::PcapngFileSink(FileOutputOptions options, CollectorCounters& counters,
                               std::size_t max_sessions, FileSinkLimits limits)
    : FileResources(limits.buffer_budget_bytes),
      options_(std::move(options)),
      counters_(counters),
      limits_(limits),
      files_(new std::atomic<SessionFile*>[max_sessions]()),
      max_sessions_(max_sessions) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".pcapng.part")) {
      auto recovered = entry.path();
      recovered.replace_extension();  // drop ".part"
      std::error_code rename_error;
      std::filesystem::rename(entry.path(), recovered, rename_error);
      logger().info("recovered {} from an unfinished run", recovered.string());
    }
  }
}

PcapngFileSink::~PcapngFileSink() {
  close();
}

SessionFile* PcapngFileSink::fileFor(ReceivedSession& session) {
  if (session.index >= max_sessions_) {
    return nullptr;
  }
  SessionFile* file = files_[session.index].load(std::memory_order_acquire);
  if (file != nullptr) {
    return file;
  }
  std::lock_guard lock(create_mutex_);
  file = files_[session.index].load(std::memory_order_acquire);
  if (file == nullptr) {
    owned_.push_back(std::make_unique<SessionFile>(options_, session.label(),
                                                   session.interfaceDescription(), counters_,
                                                   static_cast<FileResources*>(this)));
    file = owned_.back().get();
    files_[session.index].store(file, std::memory_order_release);
  }
  return file;
}

void PcapngFileSink::write(ReceivedSession& session, const ReceivedFrame& frame) {
  SessionFile* file = fileFor(session);
  if (file == nullptr) {
    counters_.drop(DropReason::WriteError);
    return;
  }
  file->write(frame.timestamp_ns, frame.inner, frame.original_length,
              session.directionOf(frame.inner));
}

std::vector<SessionFile*> PcapngFileSink::allFiles() const {
  // Files live as long as the sink: the pointers stay valid without the lock, and no file's
  // own lock is ever taken under create_mutex_ (a writer holding its file's lock may be
  // waiting for create_mutex_ in beforeOpen()).
  std::lock_guard lock(create_mutex_);
  std::vector<SessionFile*> out;
  out.reserve(owned_.size());
  for (const auto& file : owned_) {
    out.push_back(file.get());
  }
  return out;
}

void PcapngFileSink::tick(uint64_t now_ns) {
  for (SessionFile* file : allFiles()) {
    if (file->isOpen()) {
      file->tick(now_ns);
    }
  }
}

void PcapngFileSink::close() {
  for (SessionFile* file : allFiles()) {
    file->close();
  }
}

void PcapngFileSink::beforeOpen(SessionFile& opening) {
  if (open_files_.fetch_add(1, std::memory_order_relaxed) < limits_.max_open_files) {
    return;
  }
  // Over the cap: finish the files written least recently, an eighth of the cap at a time.
  std::lock_guard cap(cap_mutex_);
  if (open_files_.load(std::memory_order_relaxed) <= limits_.max_open_files) {
    return;  // another thread made room meanwhile
  }
  std::vector<std::pair<uint64_t, SessionFile*>> candidates;
  for (SessionFile* file : allFiles()) {
    if (file != &opening && file->isOpen()) {
      candidates.emplace_back(file->lastWriteNs(), file);
    }
  }
  const std::size_t batch =
      std::min(candidates.size(), std::max<std::size_t>(1, limits_.max_open_files / 8));
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<long>(batch),
                    candidates.end());
  for (std::size_t i = 0; i < batch; ++i) {
    // A file in use by another thread is skipped, never waited for.
    if (candidates[i].second->closeIfFree()) {
      closed_for_cap_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void PcapngFileSink::afterClose() {
  open_files_.fetch_sub(1, std::memory_order_relaxed);
}

FileSinkStatistics PcapngFileSink::statistics() const {
  FileSinkStatistics s;
  {
    std::lock_guard lock(create_mutex_);
    s.sessions = owned_.size();
  }
  s.open_files = open_files_.load(std::memory_order_relaxed);
  s.buffer_bytes = bufferBytes();
  s.closed_for_cap = closed_for_cap_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tmirror::collector
