// FileResources: what the pcapng output's per-session files share, so that 65,536 sessions
// fit in a bounded footprint: a budget for write buffers beyond each file's first small one,
// and a cap on files open at once (the process's descriptor limit), kept by closing the files
// written least recently. A closed file is finished like a rotated one; the session's next
// frame starts a new file.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tmirror::collector {

class SessionFile;

class FileResources {
 public:
  virtual ~FileResources() = default;

  // Bytes of write buffer a file may add to what it holds; false: stay as it is.
  bool takeBufferBytes(std::size_t n) {
    std::size_t used = buffer_bytes_.load(std::memory_order_relaxed);
    do {
      if (used + n > buffer_limit_) {
        return false;
      }
    } while (!buffer_bytes_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }

  // Buffer bytes that are allocated whatever the budget (a file's first buffer, one frame).
  void chargeBufferBytes(std::size_t n) { buffer_bytes_.fetch_add(n, std::memory_order_relaxed); }

  void giveBufferBytes(std::size_t n) { buffer_bytes_.fetch_sub(n, std::memory_order_relaxed); }

  std::size_t bufferBytes() const { return buffer_bytes_.load(std::memory_order_relaxed); }

  // Called by `file` (holding its own lock) before it opens a file: makes room under the cap
  // by closing other files. Must not block on another file's lock.
  virtual void beforeOpen(SessionFile& file) = 0;
  // Called after a file was closed.
  virtual void afterClose() = 0;

 protected:
  explicit FileResources(std::size_t buffer_limit) : buffer_limit_(buffer_limit) {}

 private:
  const std::size_t buffer_limit_;
  std::atomic<std::size_t> buffer_bytes_{0};
};

}  // namespace tmirror::collector
