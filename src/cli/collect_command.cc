#include "cli/collect_command.h"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "cli/service_manager.h"
#include "collector/collector.h"
#include "collector/collector_http.h"
#include "collector/collector_log.h"
#include "collector/server_registration.h"
#include "model/host_identity.h"

namespace tmirror::cli {

namespace {

std::atomic<bool> g_stop{false};

using collector::logger;

extern "C" void onStopSignal(int) {
  g_stop.store(true);
}

}  // namespace

int runCollect(const CollectOptions& options) {
  // A stdout reader that goes away must not kill us with SIGPIPE: the stream output notices
  // EPIPE and the command finishes its files.
  ::signal(SIGPIPE, SIG_IGN);

  struct sigaction action {};

  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  auto collector = collector::Collector::create(options.collector);
  if (!collector) {
    logger().error("{}", collector.error().message);
    return 1;
  }
  const auto& c = options.collector;
  logger().info("listening on udp {} port {}, {} thread(s), rcvbuf {} bytes{}{}{}{}",
                packet::formatIpAddress(c.listen_address), (*collector)->port(), c.threads,
                (*collector)->receiveBufferBytes(),
                c.files ? ", files in " + c.files->directory.string() : std::string(),
                c.to_stdout ? ", pcap on stdout" : "",
                c.tap_per_vni ? ", TAP per VNI" : (c.tap_single ? ", one TAP" : ""),
                c.forward ? ", forwarding" : "");

  std::unique_ptr<collector::CollectorHttp> http;
  if (options.metrics_listen) {
    auto started = collector::CollectorHttp::start(**collector, options.metrics_listen->first,
                                                   options.metrics_listen->second);
    if (!started) {
      logger().error("metrics: {}", started.error().message);
      return 1;
    }
    http = std::move(*started);
    logger().info("metrics on http {} port {}", options.metrics_listen->first, http->port());
  }

  std::unique_ptr<collector::ServerRegistration> registration;
  if (!options.server_urls.empty()) {
    auto interface = collector::findLocalInterface(c.listen_address);
    if (!interface) {
      logger().error("--server: {}", interface.error().message);
      return 1;
    }
    auto servers = http::ServerList::parse(options.server_urls, options.trust);
    if (!servers) {
      logger().error("{}", servers.error().message);
      return 1;
    }
    auto identity = model::loadOrCreateHostIdentity(options.state_dir);
    if (!identity) {
      logger().error("--state-dir: {}", identity.error().message);
      return 1;
    }
    const collector::Collector* raw = collector->get();
    registration = std::make_unique<collector::ServerRegistration>(
        *servers, options.trust, options.token, identity->host_key, *interface,
        (*collector)->port(),
        [raw] {
          const auto& counters = raw->counters();
          std::map<std::string, double> out{
              {"CollectorDatagrams", static_cast<double>(counters.datagrams())},
              {"CollectorBytes", static_cast<double>(counters.bytes())},
              {"CollectorSessions", static_cast<double>(raw->sessions().size())}};
          uint64_t dropped = 0;
          for (std::size_t i = 0; i < static_cast<std::size_t>(collector::DropReason::kCount);
               ++i) {
            dropped += counters.drops(static_cast<collector::DropReason>(i));
          }
          out["CollectorDrops"] = static_cast<double>(dropped);
          return out;
        },
        std::chrono::seconds(options.health_interval_seconds), options.load_balancer_arn);
    collector::Collector* sessions_of = collector->get();
    registration->onSessions([sessions_of](std::map<uint32_t, collector::SessionMetadata> m) {
      sessions_of->sessions().setServerMetadata(std::move(m));
    });
    registration->reportSessions(
        [raw](std::size_t max_ids) { return raw->sessions().totalsBySessionId(max_ids); });
    registration->start();
  }

  notifyReady("receiving VXLAN on udp port " + std::to_string((*collector)->port()));
  (*collector)->run(g_stop);
  notifyStopping();
  if ((*collector)->outputBroken()) {
    logger().warn("the stdout reader went away; stopping");
  }
  registration.reset();
  http.reset();
  logger().info("stopped after {} datagrams", (*collector)->counters().datagrams());
  return 0;
}

}  // namespace tmirror::cli
