// SessionFile: one session's current pcapng file and its rotation.
//
// Crash safety: packets are formatted into a buffer (~1 MiB) that is written with whole blocks
// only, and a short write is cut back (ftruncate) to the last whole block, so a file on disk is
// always a valid pcapng up to its last complete block, even after kill -9. The file being
// written is "<name>.pcapng.part"; a finished file is flushed, fsynced, closed and only then
// renamed to "<name>.pcapng", so every ".pcapng" file is complete.
//
// A full disk pauses the file (one log line, the packets counted as disk_full) until free
// space returns; what was written stays intact.
//
// Memory: the write buffer exists only while a file is open. It starts small (a few KiB: a
// session that sends one frame costs little) and doubles, up to buffer_bytes, each time it
// fills, while the shared budget (file_resources.h) allows. A file idle for idle_seconds is
// finished and its buffer freed; the next frame opens a new file.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "collector/collector_counters.h"
#include "collector/file_resources.h"
#include "collector/pcapng_format.h"
#include "collector/retention.h"
#include "common/unique_fd.h"
#include "packet/byte_reader.h"

namespace tmirror::collector {

struct FileOutputOptions {
  std::filesystem::path directory;
  uint64_t rotate_bytes = 0;    // 0: no size rotation
  uint64_t rotate_seconds = 0;  // 0: no time rotation
  RetentionLimits retention;
  std::size_t buffer_bytes = 1 << 20;  // largest write buffer of one file
  uint64_t idle_seconds = 60;          // finish a file after this long without a frame; 0: never
  uint32_t snaplen = kPcapngSnaplen;   // longer frames are cut; their original length is kept
  uint64_t min_free_bytes = 4 << 20;   // free space needed to resume after a full disk
};

class SessionFile {
 public:
  // `resources`, when given, is shared by the files of one output (budget and open-file cap).
  SessionFile(const FileOutputOptions& options, std::string label, InterfaceDescription interface,
              CollectorCounters& counters, FileResources* resources = nullptr);
  ~SessionFile();
  SessionFile(const SessionFile&) = delete;
  SessionFile& operator=(const SessionFile&) = delete;

  void write(uint64_t timestamp_ns, packet::Bytes frame, uint32_t original_length,
             packet::PacketDirection direction);
  // Time rotation, a flush of data older than a second, a retry after a full disk.
  void tick(uint64_t now_ns);
  // Finishes the current file (if any).
  void close();

  // Finishes the current file unless another thread is using this one (then false). For the
  // open-file cap: never waits, so it cannot deadlock with a writer.
  bool closeIfFree();

  bool isOpen() const { return open_.load(std::memory_order_relaxed); }

  // When the last frame was written (0: never); for choosing which files to close.
  uint64_t lastWriteNs() const { return last_write_ns_.load(std::memory_order_relaxed); }

 private:
  bool openNext(uint64_t now_ns);
  void finishCurrent();
  bool flush();
  // Room for a block of `block` bytes: allocates, grows or flushes the buffer.
  bool makeRoom(std::size_t block, uint64_t now_ns);
  void releaseBuffer();
  void dropBuffered(DropReason reason);
  bool spaceIsBack();

  std::mutex mutex_;
  const FileOutputOptions& options_;
  const std::string label_;
  const std::vector<std::byte> preamble_;
  CollectorCounters& counters_;
  FileResources* const resources_;

  UniqueFd fd_;
  std::atomic<bool> open_{false};
  std::atomic<uint64_t> last_write_ns_{0};
  std::filesystem::path part_path_;
  std::filesystem::path final_path_;
  uint64_t opened_ns_ = 0;
  uint64_t committed_bytes_ = 0;  // whole blocks on disk in the current file
  uint64_t packets_in_file_ = 0;
  uint64_t sequence_ = 0;
  std::vector<std::byte> buffer_;
  std::size_t used_ = 0;
  uint64_t buffered_packets_ = 0;
  uint64_t last_flush_ns_ = 0;
  bool paused_ = false;
  uint64_t next_retry_ns_ = 0;
};

}  // namespace tmirror::collector
