#include "collector/session_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>

#include "collector/collector_log.h"

namespace tmirror::collector {

namespace {

constexpr uint64_t kSecond = 1'000'000'000;
// A file's first write buffer: one page holds a few small frames.
constexpr std::size_t kFirstBufferBytes = 4096;

std::size_t roundUpToPage(std::size_t n) {
  return (n + kFirstBufferBytes - 1) / kFirstBufferBytes * kFirstBufferBytes;
}

std::string utcStamp(uint64_t ns) {
  const std::time_t seconds = static_cast<std::time_t>(ns / kSecond);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

void fsyncDirectory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) {
    ::fsync(fd.get());
  }
}

}  // namespace

SessionFile::SessionFile(const FileOutputOptions& options, std::string label,
                         InterfaceDescription interface, CollectorCounters& counters,
                         FileResources* resources)
    : options_(options),
      label_(std::move(label)),
      preamble_(pcapngPreamble(interface)),
      counters_(counters),
      resources_(resources) {}

SessionFile::~SessionFile() {
  close();
}

bool SessionFile::openNext(uint64_t now_ns) {
  if (resources_ != nullptr) {
    resources_->beforeOpen(*this);
  }
  for (int attempt = 0; attempt < 1000; ++attempt) {
    char seq[16];
    std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(sequence_++));
    final_path_ = options_.directory / (label_ + "-" + utcStamp(now_ns) + "-" + seq + ".pcapng");
    part_path_ = final_path_;
    part_path_ += ".part";
    if (std::filesystem::exists(final_path_)) {
      continue;  // a file from before a restart, same second
    }
    fd_ = UniqueFd(::open(part_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd_.valid()) {
      break;
    }
    if (errno != EEXIST) {
      break;
    }
  }
  if (!fd_.valid()) {
    const int error = errno;
    if (resources_ != nullptr) {
      resources_->afterClose();  // the slot beforeOpen() made is not used
    }
    if (error == ENOSPC || error == EDQUOT) {
      paused_ = true;
      next_retry_ns_ = now_ns + kSecond;
      logger().warn("{}: disk full, pausing file output", part_path_.string());
    } else {
      logger().error("cannot create {}: {}", part_path_.string(), std::strerror(error));
    }
    return false;
  }
  // The header goes to disk at once: a file never exists without it.
  errno = 0;  // a short write leaves errno alone: treat it as a full disk
  if (::write(fd_.get(), preamble_.data(), preamble_.size()) !=
      static_cast<ssize_t>(preamble_.size())) {
    const int error = errno;
    fd_.reset();
    if (resources_ != nullptr) {
      resources_->afterClose();
    }
    std::error_code ec;
    std::filesystem::remove(part_path_, ec);
    if (error == ENOSPC || error == EDQUOT || error == 0) {
      if (!paused_) {
        logger().warn("{}: disk full, pausing file output", part_path_.string());
      }
      paused_ = true;
      next_retry_ns_ = now_ns + kSecond;
    }
    return false;
  }
  open_.store(true, std::memory_order_relaxed);
  opened_ns_ = now_ns;
  last_flush_ns_ = now_ns;
  committed_bytes_ = preamble_.size();
  packets_in_file_ = 0;
  used_ = 0;
  return true;
}

void SessionFile::dropBuffered(DropReason reason) {
  counters_.drop(reason, buffered_packets_);
  packets_in_file_ -= buffered_packets_;
  buffered_packets_ = 0;
}

bool SessionFile::flush() {
  std::size_t done = 0;
  while (done < used_) {
    const ssize_t n = ::write(fd_.get(), buffer_.data() + done, used_ - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    const int error = n < 0 ? errno : ENOSPC;
    // Cut back to the last whole block, so the file stays readable to its end.
    if (::ftruncate(fd_.get(), static_cast<off_t>(committed_bytes_)) != 0 ||
        ::lseek(fd_.get(), static_cast<off_t>(committed_bytes_), SEEK_SET) < 0) {
      // The file may now end in a partial block; finish it where it is: readers stop there.
    }
    if (error == ENOSPC || error == EDQUOT) {
      if (!paused_) {
        logger().warn(
            "{}: disk full, pausing file output (packets counted as disk_full) until space "
            "returns",
            part_path_.string());
      }
      paused_ = true;
      dropBuffered(DropReason::DiskFull);
    } else {
      logger().error("write {}: {}", part_path_.string(), std::strerror(error));
      dropBuffered(DropReason::WriteError);
    }
    used_ = 0;
    return false;
  }
  committed_bytes_ += used_;
  used_ = 0;
  buffered_packets_ = 0;
  return true;
}

void SessionFile::finishCurrent() {
  if (!fd_.valid()) {
    return;
  }
  flush();
  ::fdatasync(fd_.get());
  fd_.reset();
  open_.store(false, std::memory_order_relaxed);
  releaseBuffer();
  if (resources_ != nullptr) {
    resources_->afterClose();
  }
  std::error_code ec;
  if (packets_in_file_ == 0 && committed_bytes_ <= preamble_.size()) {
    std::filesystem::remove(part_path_, ec);
  } else {
    std::filesystem::rename(part_path_, final_path_, ec);
    if (ec) {
      logger().error("rename {}: {}", part_path_.string(), ec.message());
    }
    fsyncDirectory(options_.directory);
  }
  used_ = 0;
  applyRetention(options_.directory, label_, options_.retention);
}

bool SessionFile::spaceIsBack() {
  struct statvfs vfs {};

  if (::statvfs(options_.directory.c_str(), &vfs) != 0) {
    return false;
  }
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize >= options_.min_free_bytes;
}

void SessionFile::write(uint64_t timestamp_ns, packet::Bytes frame, uint32_t original_length,
                        packet::PacketDirection direction) {
  std::lock_guard lock(mutex_);
  if (paused_) {
    if (timestamp_ns < next_retry_ns_ || !spaceIsBack()) {
      next_retry_ns_ = timestamp_ns + kSecond;
      counters_.drop(DropReason::DiskFull);
      return;
    }
    paused_ = false;
    logger().info("{}: disk space is back, resuming file output", label_);
  }
  const packet::Bytes captured = frame.first(std::min<std::size_t>(frame.size(), options_.snaplen));
  const std::size_t block = enhancedPacketBlockSize(captured.size(), direction);
  if (fd_.valid() && packets_in_file_ > 0) {
    const bool too_big =
        options_.rotate_bytes != 0 && committed_bytes_ + used_ + block > options_.rotate_bytes;
    const bool too_old = options_.rotate_seconds != 0 &&
                         timestamp_ns >= opened_ns_ + options_.rotate_seconds * kSecond;
    if (too_big || too_old) {
      finishCurrent();
    }
  }
  if (!fd_.valid() && !openNext(timestamp_ns)) {
    counters_.drop(paused_ ? DropReason::DiskFull : DropReason::WriteError);
    return;
  }
  if (!makeRoom(block, timestamp_ns)) {
    counters_.drop(DropReason::DiskFull);
    return;
  }
  const std::size_t written = writeEnhancedPacketBlock(
      std::span(buffer_).subspan(used_), timestamp_ns, captured, original_length, direction);
  if (written == 0) {
    counters_.drop(DropReason::WriteError);  // larger than the buffer: cannot happen by default
    return;
  }
  used_ += written;
  ++buffered_packets_;
  ++packets_in_file_;
  last_write_ns_.store(timestamp_ns, std::memory_order_relaxed);
}

bool SessionFile::makeRoom(std::size_t block, uint64_t now_ns) {
  if (buffer_.empty()) {
    const std::size_t size = std::max(kFirstBufferBytes, roundUpToPage(block));
    buffer_.resize(size);
    if (resources_ != nullptr) {
      resources_->chargeBufferBytes(size);
    }
  }
  if (used_ + block <= buffer_.size()) {
    return true;
  }
  if (!flush() && paused_) {
    return false;
  }
  last_flush_ns_ = now_ns;
  // It filled up: a busy session gets a larger buffer (fewer, larger writes), one doubling
  // per fill while the budget allows; a frame larger than the buffer always gets room.
  const std::size_t size = buffer_.size();
  if (block > size) {
    const std::size_t next = std::max(size * 2, roundUpToPage(block));
    if (resources_ != nullptr) {
      resources_->chargeBufferBytes(next - size);
    }
    buffer_.resize(next);
  } else if (size * 2 <= options_.buffer_bytes &&
             (resources_ == nullptr || resources_->takeBufferBytes(size))) {
    buffer_.resize(size * 2);
  }
  return true;
}

void SessionFile::releaseBuffer() {
  if (resources_ != nullptr) {
    resources_->giveBufferBytes(buffer_.size());
  }
  std::vector<std::byte>().swap(buffer_);
  used_ = 0;
}

void SessionFile::tick(uint64_t now_ns) {
  std::lock_guard lock(mutex_);
  if (paused_ || !fd_.valid()) {
    return;
  }
  if (options_.rotate_seconds != 0 && packets_in_file_ > 0 &&
      now_ns >= opened_ns_ + options_.rotate_seconds * kSecond) {
    finishCurrent();
    return;
  }
  const uint64_t last = std::max(last_write_ns_.load(std::memory_order_relaxed), opened_ns_);
  if (options_.idle_seconds != 0 && now_ns >= last + options_.idle_seconds * kSecond) {
    finishCurrent();  // idle: the file is finished and its buffer freed
    return;
  }
  if (buffered_packets_ > 0 && now_ns >= last_flush_ns_ + kSecond) {
    flush();
    last_flush_ns_ = now_ns;
  }
}

void SessionFile::close() {
  std::lock_guard lock(mutex_);
  finishCurrent();
}

bool SessionFile::closeIfFree() {
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    return false;
  }
  if (!fd_.valid()) {
    return false;
  }
  finishCurrent();
  return true;
}

}  // namespace tmirror::collector
