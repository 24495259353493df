#include "collector/pcap_stream_sink.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace tmirror::collector {

namespace {

constexpr uint32_t kPcapNanosecondMagic = 0xA1B23C4D;
constexpr std::size_t kRecordHeader = 16;

}  // namespace

PcapStreamSink::PcapStreamSink(int fd, CollectorCounters& counters, uint32_t snaplen)
    : fd_(fd), counters_(counters), snaplen_(snaplen), buffer_(1 << 20) {
  const uint32_t header[6] = {kPcapNanosecondMagic, 2 | (4u << 16), 0, 0, snaplen_, 1};
  std::memcpy(buffer_.data(), header, sizeof header);
  used_ = sizeof header;
}

void PcapStreamSink::write(ReceivedSession&, const ReceivedFrame& frame) {
  std::lock_guard lock(mutex_);
  if (broken_) {
    counters_.drop(DropReason::WriteError);
    return;
  }
  const std::size_t captured = std::min<std::size_t>(frame.inner.size(), snaplen_);
  if (used_ + kRecordHeader + captured > buffer_.size()) {
    flushLocked();
    if (broken_) {
      counters_.drop(DropReason::WriteError);
      return;
    }
  }
  const uint32_t record[4] = {
      static_cast<uint32_t>(frame.timestamp_ns / 1'000'000'000),
      static_cast<uint32_t>(frame.timestamp_ns % 1'000'000'000), static_cast<uint32_t>(captured),
      std::max<uint32_t>(frame.original_length, static_cast<uint32_t>(captured))};
  std::memcpy(buffer_.data() + used_, record, sizeof record);
  std::memcpy(buffer_.data() + used_ + kRecordHeader, frame.inner.data(), captured);
  used_ += kRecordHeader + captured;
  ++buffered_packets_;
}

void PcapStreamSink::flushLocked() {
  std::size_t done = 0;
  while (done < used_ && !broken_) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, used_ - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      broken_ = true;  // EPIPE: the reader is gone; the rest is counted, not retried
      counters_.drop(DropReason::WriteError, buffered_packets_);
    }
  }
  used_ = 0;
  buffered_packets_ = 0;
}

void PcapStreamSink::endBatch() {
  std::lock_guard lock(mutex_);
  flushLocked();
}

void PcapStreamSink::tick(uint64_t) {
  endBatch();
  // A pipe whose reader has gone shows POLLERR on our end: notice it without traffic too.
  pollfd p{fd_, 0, 0};
  if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)) != 0) {
    std::lock_guard lock(mutex_);
    broken_ = true;
  }
}

void PcapStreamSink::close() {
  endBatch();
}

}  // namespace tmirror::collector
