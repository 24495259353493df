#include "collector/pcapng_file_sink.h"

#include <cstdio>
#include <system_error>

namespace tmirror::collector {

PcapngFileSink::PcapngFileSink(FileOutputOptions options, CollectorCounters& counters,
                               std::size_t max_sessions)
    : options_(std::move(options)),
      counters_(counters),
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
      std::fprintf(stderr, "tmirror collect: recovered %s from an unfinished run\n",
                   recovered.c_str());
    }
  }
}

PcapngFileSink::~PcapngFileSink() {
  close();
}

SessionFile* PcapngFileSink::fileFor(Session& session) {
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
                                                   session.interfaceDescription(), counters_));
    file = owned_.back().get();
    files_[session.index].store(file, std::memory_order_release);
  }
  return file;
}

void PcapngFileSink::write(Session& session, const ReceivedFrame& frame) {
  SessionFile* file = fileFor(session);
  if (file == nullptr) {
    counters_.drop(DropReason::WriteError);
    return;
  }
  file->write(frame.timestamp_ns, frame.inner, frame.original_length,
              session.directionOf(frame.inner));
}

void PcapngFileSink::tick(uint64_t now_ns) {
  std::lock_guard lock(create_mutex_);
  for (auto& file : owned_) {
    file->tick(now_ns);
  }
}

void PcapngFileSink::close() {
  std::lock_guard lock(create_mutex_);
  for (auto& file : owned_) {
    file->close();
  }
}

}  // namespace tmirror::collector
