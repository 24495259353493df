#include "collector/collector.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "collector/forward_sink.h"
#include "collector/pcap_stream_sink.h"
#include "collector/pcapng_file_sink.h"
#include "collector/tap_sink.h"

namespace tmirror::collector {

namespace {

// Files the output may keep open: the descriptor limit (raised to its hard limit) less room
// for sockets, the metrics server and the TAP devices.
std::size_t openFileAllowance() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 512;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    }
  }
  const auto allowed = static_cast<std::size_t>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
  return allowed > 512 ? allowed - 256 : std::max<std::size_t>(allowed / 2, 8);
}

uint64_t wallClockNs() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace

Collector::Collector(const CollectorOptions& options)
    : options_(options), sessions_(options.max_sessions, options.session_metadata) {}

Collector::~Collector() = default;

Result<std::unique_ptr<Collector>> Collector::create(const CollectorOptions& options) {
  if (options.threads < 1 || options.threads > 64) {
    return makeError(ErrorCode::InvalidArgument, "threads must be 1-64");
  }
  std::unique_ptr<Collector> c(new Collector(options));
  ReceiverOptions receiver_options{options.listen_address, options.port,
                                   options.receive_buffer_bytes};
  for (int i = 0; i < options.threads; ++i) {
    auto receiver = UdpReceiver::open(receiver_options);
    if (!receiver) {
      return std::unexpected(std::move(receiver.error()));
    }
    // Port 0: the first socket picks a port, the others join it (SO_REUSEPORT).
    receiver_options.port = receiver->localPort();
    c->receive_buffer_bytes_ = receiver->receiveBufferBytes();
    c->receivers_.push_back(std::move(*receiver));
  }
  c->port_ = receiver_options.port;

  if (options.files) {
    std::error_code ec;
    std::filesystem::create_directories(options.files->directory, ec);
    if (ec) {
      return makeError(ErrorCode::Io, "output directory " + options.files->directory.string() +
                                          ": " + ec.message());
    }
    FileSinkLimits limits = options.file_limits;
    if (limits.max_open_files == 0) {
      limits.max_open_files = openFileAllowance();
    }
    auto files = std::make_unique<PcapngFileSink>(*options.files, c->counters_,
                                                  options.max_sessions, limits);
    c->files_ = files.get();
    c->sinks_.push_back(std::move(files));
  }
  if (options.to_stdout) {
    auto stream = std::make_unique<PcapStreamSink>(STDOUT_FILENO, c->counters_);
    c->stream_ = stream.get();
    c->sinks_.push_back(std::move(stream));
  }
  if (options.tap_per_vni || options.tap_single) {
    auto tap = std::make_unique<TapSink>(options.tap_single, c->counters_);
    if (auto r = tap->start(); !r) {
      return std::unexpected(std::move(r.error()));
    }
    c->sinks_.push_back(std::move(tap));
  }
  if (options.forward) {
    auto forward =
        ForwardSink::create(options.forward->first, options.forward->second, c->counters_);
    if (!forward) {
      return std::unexpected(std::move(forward.error()));
    }
    c->sinks_.push_back(std::move(*forward));
  }
  for (auto& sink : c->sinks_) {
    c->sink_pointers_.push_back(sink.get());
  }
  return c;
}

std::optional<FileSinkStatistics> Collector::fileStatistics() const {
  if (files_ == nullptr) {
    return std::nullopt;
  }
  return files_->statistics();
}

bool Collector::outputBroken() const {
  return stream_ != nullptr && stream_->broken();
}

void Collector::run(const std::atomic<bool>& stop) {
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (auto& receiver : receivers_) {
    threads.emplace_back([this, &receiver, &done] {
      ReceivePath path(options_.admission, sessions_, counters_, sink_pointers_);
      while (!done.load(std::memory_order_relaxed)) {
        receiver.receiveBatch(path, counters_, 100);
      }
    });
  }
  while (!stop.load(std::memory_order_relaxed) && !outputBroken()) {
    ::usleep(100'000);
    const uint64_t now = wallClockNs();
    for (FrameSink* sink : sink_pointers_) {
      sink->tick(now);
    }
  }
  done = true;
  for (auto& t : threads) {
    t.join();
  }
  for (FrameSink* sink : sink_pointers_) {
    sink->close();
  }
}

}  // namespace tmirror::collector
