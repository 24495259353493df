// Writes a classic pcap file (nanosecond timestamps) through libpcap, all or nothing: packets go
// to a temporary file beside the target and only commit() makes them appear under its name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "common/result.h"

struct pcap;
struct pcap_dumper;

namespace tmirror::pcap {

// The snaplen written in the file header, and the most bytes write() takes per packet:
// libpcap's readers reject larger records.
inline constexpr uint32_t kPcapWriterSnaplen = 262144;

class PcapWriter {
 public:
  // Opens "<path>.tmp-<pid>" for writing a pcap of `link_type` (DLT_*). NotFound if the
  // directory is missing, Io if the OS refuses.
  static Result<PcapWriter> create(const std::filesystem::path& path, int link_type);

  PcapWriter(PcapWriter&& other) noexcept;
  PcapWriter& operator=(PcapWriter&& other) noexcept;
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  // Without a successful commit(), removes the temporary file: nothing half-written remains.
  ~PcapWriter();

  // InvalidArgument if original_length < data.size(), data is longer than the snaplen, or the
  // timestamp does not fit the pcap header (0 .. 2^32 - 1 seconds); Io on a write error.
  Result<void> write(int64_t timestamp_ns, std::span<const std::byte> data,
                     uint32_t original_length);

  // Flushes, fsyncs and renames the temporary file over the target, then fsyncs the directory.
  // On failure the temporary file is removed. Later write()/commit() calls fail.
  Result<void> commit();

  uint64_t packetsWritten() const { return packets_written_; }

  const std::filesystem::path& path() const { return path_; }

  const std::filesystem::path& temporaryPath() const { return temp_path_; }

 private:
  struct PcapCloser {
    void operator()(::pcap* handle) const;
  };

  struct DumperCloser {
    void operator()(::pcap_dumper* dumper) const;
  };

  PcapWriter(std::filesystem::path path, std::filesystem::path temp_path,
             std::unique_ptr<::pcap, PcapCloser> handle,
             std::unique_ptr<::pcap_dumper, DumperCloser> dumper);

  // Closes the dumper and removes the temporary file, if this writer still owns one.
  void abandon();

  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  std::unique_ptr<::pcap, PcapCloser> handle_;
  std::unique_ptr<::pcap_dumper, DumperCloser> dumper_;  // null once committed or abandoned
  uint64_t packets_written_ = 0;
};

}  // namespace tmirror::pcap
