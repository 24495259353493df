#include "pcap/pcap_reader.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <utility>

#include <pcap/pcap.h>

namespace tmirror::pcap {

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

// True when the file starts with a pcapng Section Header Block. pread leaves the FILE's position
// and buffer alone, so libpcap still reads from offset 0.
bool startsWithSectionHeader(std::FILE* file) {
  std::array<unsigned char, 4> magic{};
  const ssize_t n = ::pread(::fileno(file), magic.data(), magic.size(), 0);
  // The SHB type is a byte palindrome: no byte order needed.
  return n == static_cast<ssize_t>(magic.size()) && magic[0] == 0x0A && magic[1] == 0x0D &&
         magic[2] == 0x0D && magic[3] == 0x0A;
}

}  // namespace

void PcapReader::PcapCloser::operator()(::pcap* handle) const {
  pcap_close(handle);
}

Result<PcapReader> PcapReader::open(const std::filesystem::path& path) {
  const std::string context = "opening pcap file '" + path.string() + "'";
  // fopen + pcap_fopen_offline rather than pcap_open_offline: it tells a missing file apart by
  // errno, and a file named "-" is not taken for stdin.
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return makeError(ErrorCode::NotFound, context + ": no such file");
    }
    return makeSystemError(context, err);
  }
  const bool is_pcapng = startsWithSectionHeader(file);
  std::array<char, PCAP_ERRBUF_SIZE> errbuf{};
  pcap_t* raw =
      pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf.data());
  if (raw == nullptr) {
    std::fclose(file);  // libpcap takes ownership of the FILE only on success
    return makeError(ErrorCode::InvalidArgument, context + ": " + errbuf.data());
  }
  std::unique_ptr<::pcap, PcapCloser> handle(raw);

  std::optional<PcapngDirectionWalker> walker;
  if (is_pcapng) {
    // libpcap accepted the file, so the walker can only fail if the file vanished or changed
    // under us; then directions are Unknown, which is the honest answer.
    auto opened = PcapngDirectionWalker::open(path);
    if (opened) {
      walker.emplace(std::move(*opened));
    }
  }
  return PcapReader(path, std::move(handle), is_pcapng, std::move(walker));
}

PcapReader::PcapReader(std::filesystem::path path, std::unique_ptr<::pcap, PcapCloser> handle,
                       bool is_pcapng, std::optional<PcapngDirectionWalker> walker)
    : path_(std::move(path)),
      handle_(std::move(handle)),
      is_pcapng_(is_pcapng),
      walker_(std::move(walker)) {}

int PcapReader::linkType() const {
  return pcap_datalink(handle_.get());
}

std::unexpected<Error> PcapReader::fail(const std::string& reason) {
  error_ = Error{ErrorCode::InvalidArgument, "reading pcap file '" + path_.string() +
                                                 "' at packet index " +
                                                 std::to_string(packets_read_) + ": " + reason};
  return std::unexpected(*error_);
}

Result<std::optional<PcapPacket>> PcapReader::next() {
  if (error_) {
    return std::unexpected(*error_);
  }
  if (at_end_) {
    return std::nullopt;
  }
  pcap_pkthdr* header = nullptr;
  const u_char* bytes = nullptr;
  const int rc = pcap_next_ex(handle_.get(), &header, &bytes);
  if (rc == PCAP_ERROR_BREAK) {
    at_end_ = true;
    return std::nullopt;
  }
  if (rc != 1) {
    return fail(pcap_geterr(handle_.get()));
  }
  // With nanosecond precision libpcap puts nanoseconds in tv_usec. A hostile pcapng timestamp
  // can exceed what int64 nanoseconds hold (year 2262): that is a corrupt file, not a wrap.
  int64_t timestamp_ns = 0;
  if (__builtin_mul_overflow(static_cast<int64_t>(header->ts.tv_sec), kNanosPerSecond,
                             &timestamp_ns) ||
      __builtin_add_overflow(timestamp_ns, static_cast<int64_t>(header->ts.tv_usec),
                             &timestamp_ns)) {
    return fail("timestamp of " + std::to_string(header->ts.tv_sec) +
                " s does not fit int64 nanoseconds");
  }
  PcapPacket packet;
  packet.data = std::as_bytes(std::span(bytes, header->caplen));
  packet.original_length = header->len;
  packet.timestamp_ns = timestamp_ns;
  packet.direction = walker_ ? walker_->next() : packet::PacketDirection::Unknown;
  ++packets_read_;
  return packet;
}

}  // namespace tmirror::pcap
