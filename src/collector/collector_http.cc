#include "collector/collector_http.h"

#include <httplib.h>

#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "metrics/registry.h"

namespace tmirror::collector {

namespace {

using nlohmann::json;

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

std::string countersJson(const Collector& collector) {
  const CollectorCounters& c = collector.counters();
  json drops = json::object();
  for (std::size_t i = 0; i < static_cast<std::size_t>(DropReason::kCount); ++i) {
    const auto reason = static_cast<DropReason>(i);
    drops[dropReasonName(reason)] = c.drops(reason);
  }
  json sessions = json::array();
  for (const ReceivedSession* s : collector.sessions().snapshot()) {
    sessions.push_back({{"sender", packet::formatIpAddress(s->key.sender)},
                        {"vni", s->key.vni},
                        {"packets", s->packets.load(std::memory_order_relaxed)},
                        {"bytes", s->bytes.load(std::memory_order_relaxed)}});
  }
  json out{
      {"datagrams", c.datagrams()}, {"bytes", c.bytes()}, {"drops", drops}, {"sessions", sessions}};
  if (const auto files = collector.fileStatistics()) {
    out["files"] = {{"sessions", files->sessions},
                    {"open_files", files->open_files},
                    {"buffer_bytes", files->buffer_bytes},
                    {"closed_for_open_file_cap", files->closed_for_cap}};
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Counters live as atomics in the receive path; each scrape moves what is new into the
// registry's counters, so /metrics types them as counters.
class CollectorHttp::Impl {
 public:
  explicit Impl(const Collector& collector) : collector_(collector) {}

  Result<void> registerMetrics() {
    auto datagrams = registry_.counter("tmirror_collector_datagrams_total",
                                       "UDP datagrams received on the VXLAN port");
    auto bytes = registry_.counter("tmirror_collector_received_bytes_total",
                                   "UDP payload bytes received on the VXLAN port");
    auto drops = registry_.counter("tmirror_collector_drops_total",
                                   "Datagrams or frames not written, by reason", {"reason"});
    auto packets = registry_.counter("tmirror_collector_session_packets_total",
                                     "Inner frames received per session", {"sender", "vni"});
    auto session_bytes =
        registry_.counter("tmirror_collector_session_bytes_total",
                          "Inner frame bytes received per session", {"sender", "vni"});
    for (auto* r : {&datagrams, &bytes, &drops, &packets, &session_bytes}) {
      if (!*r) {
        return std::unexpected(r->error());
      }
    }
    datagrams_ = *datagrams;
    bytes_ = *bytes;
    drops_ = *drops;
    packets_ = *packets;
    session_bytes_ = *session_bytes;
    for (auto [name, help, field] :
         {std::tuple{"tmirror_collector_open_files", "pcapng files open now",
                     &FileSinkStatistics::open_files},
          std::tuple{"tmirror_collector_file_buffer_bytes", "Write buffers the files hold now",
                     &FileSinkStatistics::buffer_bytes}}) {
      auto added = registry_.gaugeCallback(name, help, [this, field] {
        const auto files = collector_.fileStatistics();
        return files ? static_cast<double>((*files).*field) : 0.0;
      });
      if (!added) {
        return added;
      }
    }
    return registry_.gaugeCallback(
        "tmirror_collector_sessions", "Sessions (sender, VNI) seen",
        [this] { return static_cast<double>(collector_.sessions().size()); });
  }

  std::string renderMetrics() {
    std::lock_guard lock(sync_mutex_);
    const CollectorCounters& c = collector_.counters();
    moveTo(datagrams_, {}, c.datagrams());
    moveTo(bytes_, {}, c.bytes());
    for (std::size_t i = 0; i < static_cast<std::size_t>(DropReason::kCount); ++i) {
      const auto reason = static_cast<DropReason>(i);
      moveTo(drops_, {dropReasonName(reason)}, c.drops(reason));
    }
    for (const ReceivedSession* s : collector_.sessions().snapshot()) {
      metrics::LabelValues labels{packet::formatIpAddress(s->key.sender),
                                  std::to_string(s->key.vni)};
      moveTo(packets_, labels, s->packets.load(std::memory_order_relaxed));
      moveTo(session_bytes_, labels, s->bytes.load(std::memory_order_relaxed));
    }
    return registry_.render();
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;

 private:
  void moveTo(const metrics::Counter& counter, const metrics::LabelValues& labels, uint64_t now) {
    const double current = counter.value(labels);
    if (static_cast<double>(now) > current) {
      counter.increment(labels, static_cast<double>(now) - current);
    }
  }

  const Collector& collector_;
  metrics::Registry registry_;
  std::mutex sync_mutex_;
  metrics::Counter datagrams_, bytes_, drops_, packets_, session_bytes_;
};

CollectorHttp::CollectorHttp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CollectorHttp::~CollectorHttp() {
  impl_->server_.stop();
  if (impl_->thread_.joinable()) {
    impl_->thread_.join();
  }
}

uint16_t CollectorHttp::port() const {
  return static_cast<uint16_t>(impl_->port_);
}

Result<std::unique_ptr<CollectorHttp>> CollectorHttp::start(const Collector& collector,
                                                            const std::string& address,
                                                            uint16_t port) {
  auto impl = std::make_unique<Impl>(collector);
  if (auto r = impl->registerMetrics(); !r) {
    return std::unexpected(r.error());
  }
  Impl* raw = impl.get();
  raw->server_.Get("/metrics", [raw](const httplib::Request&, httplib::Response& res) {
    res.set_content(raw->renderMetrics(), kMetricsContentType);
  });
  raw->server_.Get("/counters", [&collector](const httplib::Request&, httplib::Response& res) {
    res.set_content(countersJson(collector), "application/json");
  });
  raw->port_ = port == 0 ? raw->server_.bind_to_any_port(address)
                         : (raw->server_.bind_to_port(address, port) ? port : -1);
  if (raw->port_ <= 0) {
    return makeError(ErrorCode::Io, "cannot listen on " + address + ":" + std::to_string(port));
  }
  raw->thread_ = std::thread([raw] { raw->server_.listen_after_bind(); });
  return std::unique_ptr<CollectorHttp>(new CollectorHttp(std::move(impl)));
}

}  // namespace tmirror::collector
