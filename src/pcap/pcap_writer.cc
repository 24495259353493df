#include "pcap/pcap_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include <pcap/pcap.h>

#include "common/unique_fd.h"

namespace tmirror::pcap {

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
// The pcap record header stores seconds as an unsigned 32-bit field.
constexpr int64_t kMaxTimestampNs =
    (int64_t{std::numeric_limits<uint32_t>::max()} + 1) * kNanosPerSecond - 1;

std::string quoted(const std::filesystem::path& path) {
  return "'" + path.string() + "'";
}

// Makes a completed rename durable. Some filesystems cannot fsync a directory (EINVAL); the
// rename is then as durable as they allow.
Result<void> syncDirectory(const std::filesystem::path& file) {
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) {
    dir = ".";
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return makeSystemError("opening directory " + quoted(dir), errno);
  }
  if (::fsync(fd.get()) != 0 && errno != EINVAL) {
    return makeSystemError("syncing directory " + quoted(dir), errno);
  }
  return {};
}

}  // namespace

void PcapWriter::PcapCloser::operator()(::pcap* handle) const {
  pcap_close(handle);
}

void PcapWriter::DumperCloser::operator()(::pcap_dumper* dumper) const {
  pcap_dump_close(dumper);
}

Result<PcapWriter> PcapWriter::create(const std::filesystem::path& path, int link_type) {
  const std::filesystem::path temp_path = path.string() + ".tmp-" + std::to_string(::getpid());
  const std::string context = "creating pcap file " + quoted(path);

  std::unique_ptr<::pcap, PcapCloser> handle(pcap_open_dead_with_tstamp_precision(
      link_type, static_cast<int>(kPcapWriterSnaplen), PCAP_TSTAMP_PRECISION_NANO));
  if (handle == nullptr) {
    return makeError(ErrorCode::Internal, context + ": pcap_open_dead failed");
  }
  // Our own FILE rather than pcap_dump_open: errno tells a missing directory apart, and the
  // FILE is opened close-on-exec.
  std::FILE* file = std::fopen(temp_path.c_str(), "wbe");
  if (file == nullptr) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return makeError(ErrorCode::NotFound,
                       context + ": no such directory " + quoted(path.parent_path()));
    }
    return makeSystemError(context + ": opening " + quoted(temp_path), err);
  }
  std::unique_ptr<::pcap_dumper, DumperCloser> dumper(pcap_dump_fopen(handle.get(), file));
  if (dumper == nullptr) {
    // pcap_dump_fopen leaves the FILE to us when it fails (e.g. a link type pcap cannot hold).
    std::fclose(file);
    ::unlink(temp_path.c_str());
    return makeError(ErrorCode::InvalidArgument, context + ": " + pcap_geterr(handle.get()));
  }
  return PcapWriter(path, temp_path, std::move(handle), std::move(dumper));
}

PcapWriter::PcapWriter(std::filesystem::path path, std::filesystem::path temp_path,
                       std::unique_ptr<::pcap, PcapCloser> handle,
                       std::unique_ptr<::pcap_dumper, DumperCloser> dumper)
    : path_(std::move(path)),
      temp_path_(std::move(temp_path)),
      handle_(std::move(handle)),
      dumper_(std::move(dumper)) {}

// The moved-from writer's dumper_ is null, so its destructor leaves the temporary file alone.
PcapWriter::PcapWriter(PcapWriter&& other) noexcept = default;

PcapWriter& PcapWriter::operator=(PcapWriter&& other) noexcept {
  if (this != &other) {
    abandon();
    path_ = std::move(other.path_);
    temp_path_ = std::move(other.temp_path_);
    handle_ = std::move(other.handle_);
    dumper_ = std::move(other.dumper_);
    packets_written_ = std::exchange(other.packets_written_, 0);
  }
  return *this;
}

PcapWriter::~PcapWriter() {
  abandon();
}

void PcapWriter::abandon() {
  if (dumper_ != nullptr) {
    dumper_.reset();
    ::unlink(temp_path_.c_str());
  }
}

Result<void> PcapWriter::write(int64_t timestamp_ns, std::span<const std::byte> data,
                               uint32_t original_length) {
  const std::string context = "writing pcap file " + quoted(path_);
  if (dumper_ == nullptr) {
    return makeError(ErrorCode::InvalidArgument, context + ": writer already committed or failed");
  }
  if (original_length < data.size()) {
    return makeError(ErrorCode::InvalidArgument,
                     context + ": original length " + std::to_string(original_length) +
                         " is shorter than the " + std::to_string(data.size()) + " captured bytes");
  }
  if (data.size() > kPcapWriterSnaplen) {
    return makeError(ErrorCode::InvalidArgument, context + ": " + std::to_string(data.size()) +
                                                     " captured bytes exceed the snaplen " +
                                                     std::to_string(kPcapWriterSnaplen));
  }
  if (timestamp_ns < 0 || timestamp_ns > kMaxTimestampNs) {
    return makeError(
        ErrorCode::InvalidArgument,
        context + ": timestamp " + std::to_string(timestamp_ns) + " ns does not fit a pcap record");
  }
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<time_t>(timestamp_ns / kNanosPerSecond);
  // A nanosecond-precision dumper stores tv_usec as nanoseconds.
  header.ts.tv_usec = static_cast<suseconds_t>(timestamp_ns % kNanosPerSecond);
  header.caplen = static_cast<bpf_u_int32>(data.size());
  header.len = original_length;
  pcap_dump(reinterpret_cast<u_char*>(dumper_.get()), &header,
            reinterpret_cast<const u_char*>(data.data()));
  if (std::ferror(pcap_dump_file(dumper_.get())) != 0) {
    const int err = errno;
    abandon();
    return makeSystemError(context + " (via " + quoted(temp_path_) + ")", err);
  }
  ++packets_written_;
  return {};
}

Result<void> PcapWriter::commit() {
  const std::string context = "committing pcap file " + quoted(path_);
  if (dumper_ == nullptr) {
    return makeError(ErrorCode::InvalidArgument, context + ": writer already committed or failed");
  }
  std::FILE* file = pcap_dump_file(dumper_.get());
  if (pcap_dump_flush(dumper_.get()) != 0 || std::ferror(file) != 0) {
    const int err = errno;
    abandon();
    return makeSystemError(context + ": flushing " + quoted(temp_path_), err);
  }
  if (::fsync(::fileno(file)) != 0) {
    const int err = errno;
    abandon();
    return makeSystemError(context + ": syncing " + quoted(temp_path_), err);
  }
  // Flushed and synced, so closing cannot lose data; the temporary file now stays until renamed.
  dumper_.reset();
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_path_.c_str());
    return makeSystemError(context + ": renaming " + quoted(temp_path_), err);
  }
  if (auto synced = syncDirectory(path_); !synced) {
    return std::unexpected(std::move(synced.error()).withContext(context));
  }
  return {};
}

}  // namespace tmirror::pcap
