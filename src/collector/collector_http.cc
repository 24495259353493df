#include "collector/collector_http.h"

#include <map>
#include <mutex>
#include <tuple>

#include <nlohmann/json.hpp>

#include "http/listener.h"
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
class CollectorHttp::Impl final : public http::Handler {
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

  // http::Handler. Both answers are quick reads of atomics: served on the I/O thread.
  void serve(http::Request request, http::Responder respond) override {
    const bool get = request.isGetOrHead();
    if (get && request.path() == "/metrics") {
      respond({.status = 200, .content_type = kMetricsContentType, .body = renderMetrics()});
    } else if (get && request.path() == "/counters") {
      respond(
          {.status = 200, .content_type = "application/json", .body = countersJson(collector_)});
    } else {
      respond({.status = 404, .content_type = "text/plain", .body = "not found\n"});
    }
  }

  http::Response refusal(http::Refusal why) override {
    const int status = why == http::Refusal::BodyTooLarge       ? 413
                       : why == http::Refusal::Timeout          ? 408
                       : why == http::Refusal::UriTooLong       ? 414
                       : why == http::Refusal::HeadersTooLarge  ? 431
                       : why == http::Refusal::MethodNotAllowed ? 405
                       : why == http::Refusal::InternalError    ? 500
                                                                : 400;
    return {.status = status, .content_type = "text/plain", .body = "refused\n", .close = true};
  }

  std::unique_ptr<http::HttpListener> listener_;

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
  impl_->listener_->stop();
}

uint16_t CollectorHttp::port() const {
  return impl_->listener_->port();
}

Result<std::unique_ptr<CollectorHttp>> CollectorHttp::start(const Collector& collector,
                                                            const std::string& address,
                                                            uint16_t port) {
  auto impl = std::make_unique<Impl>(collector);
  if (auto r = impl->registerMetrics(); !r) {
    return std::unexpected(r.error());
  }
  // Scrapers and scripts: one I/O thread, a few connections, small requests.
  auto listener = http::HttpListener::create({.address = address,
                                              .port = port,
                                              .io_threads = 1,
                                              .max_connections = 256,
                                              .max_connections_per_address = 64,
                                              .max_body_bytes = 64 * 1024},
                                             *impl);
  if (!listener) {
    return std::unexpected(listener.error());
  }
  impl->listener_ = std::move(*listener);
  if (auto started = impl->listener_->start(); !started) {
    return std::unexpected(started.error());
  }
  return std::unique_ptr<CollectorHttp>(new CollectorHttp(std::move(impl)));
}

}  // namespace tmirror::collector
