// Reads classic pcap and pcapng files through libpcap, with nanosecond timestamps and, for
// pcapng, each packet's direction from its EPB epb_flags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "packet/packet_direction.h"
#include "pcap/pcapng_walker.h"

struct pcap;

namespace tmirror::pcap {

struct PcapPacket {
  std::span<const std::byte> data;  // the captured bytes (may be shorter than the packet)
  uint32_t original_length = 0;     // length on the wire
  int64_t timestamp_ns = 0;         // since the Unix epoch
  packet::PacketDirection direction = packet::PacketDirection::Unknown;
};

class PcapReader {
 public:
  // NotFound if the file is missing; InvalidArgument (with libpcap's message) if it is not a
  // readable pcap/pcapng file; Io if the OS refuses. Errors name the file.
  static Result<PcapReader> open(const std::filesystem::path& path);

  PcapReader(PcapReader&&) noexcept = default;
  PcapReader& operator=(PcapReader&&) noexcept = default;
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;
  ~PcapReader() = default;

  int linkType() const;  // DLT_*

  bool isPcapng() const { return is_pcapng_; }

  // The next packet; std::nullopt at end of file. A corrupt or truncated file (or a timestamp
  // beyond int64 nanoseconds) is an InvalidArgument error naming the file and the 0-based packet
  // index, returned again on every later call. The packet's data stays valid until the next call.
  Result<std::optional<PcapPacket>> next();

  // Packets returned so far.
  uint64_t packetsRead() const { return packets_read_; }

 private:
  struct PcapCloser {
    void operator()(::pcap* handle) const;
  };

  PcapReader(std::filesystem::path path, std::unique_ptr<::pcap, PcapCloser> handle, bool is_pcapng,
             std::optional<PcapngDirectionWalker> walker);

  // Records a sticky InvalidArgument error naming the file and packet index.
  std::unexpected<Error> fail(const std::string& reason);

  std::filesystem::path path_;
  std::unique_ptr<::pcap, PcapCloser> handle_;
  bool is_pcapng_ = false;
  std::optional<PcapngDirectionWalker> walker_;  // pcapng only
  uint64_t packets_read_ = 0;
  std::optional<Error> error_;  // sticky: a broken file stays broken
  bool at_end_ = false;
};

}  // namespace tmirror::pcap
