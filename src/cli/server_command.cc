#include "cli/server_command.h"

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "api/request_auth.h"
#include "api/traffic_mirror_api.h"
#include "channel/agent_channel.h"
#include "channel/channel_metrics.h"
#include "cli/service_manager.h"
#include "cloudwatch/cloudwatch_api.h"
#include "common/log.h"
#include "common/loopback.h"
#include "common/random.h"
#include "history/counter_history.h"
#include "history/history_writer.h"
#include "metrics/registry.h"
#include "server/http_server.h"
#include "server/private_ca.h"
#include "store/mirror_store.h"
#include "store/shared_store.h"

namespace tmirror::cli {

namespace {

spdlog::logger& logger() {
  static const auto server = log::logger("server");
  return *server;
}

// Every connection is a descriptor: lift the soft limit (often 1024) toward what the caps
// allow, as far as the hard limit lets.
void raiseOpenFileLimit(std::size_t connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  constexpr rlim_t kOtherDescriptors = 256;  // the store, logs, the listener
  const rlim_t wanted = std::min<rlim_t>(limit.rlim_max, connections + kOtherDescriptors);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return;
    }
  }
  if (limit.rlim_cur < connections + kOtherDescriptors) {
    logger().warn(
        "only {} file descriptors allowed (ulimit -n); --max-connections {} may not be "
        "reached",
        static_cast<unsigned long long>(limit.rlim_cur), connections);
  }
}

// An answer of a few hundred KiB (a Describe of a hundred sessions) is built on a worker and
// freed on an I/O thread. With glibc's adaptive defaults that pattern returns the worker's
// heap top to the kernel (madvise, and a TLB flush on every core) and faults it back in on the
// next request: measured, it cost DescribeTrafficMirrorSessions 40 % of its throughput. Fixed
// thresholds keep up to 8 MiB free per heap for reuse; only allocations of 1 MiB or more get
// their own mapping.
void keepFreedMemoryForReuse() {
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
}

store::StoreLocation storeLocation(const ServerOptions& options) {
  return {options.data_dir, options.database_url};
}

}  // namespace

int createAccessKey(const ServerOptions& options) {
  auto store = store::MirrorStore::open(storeLocation(options));
  if (!store) {
    std::fprintf(stderr, "tmirror server: %s\n", store.error().message.c_str());
    return 1;
  }
  // The shapes aws configure expects: AKIA + 16 upper-case alphanumerics, 40-char secret.
  const std::string id = "AKIA" + secureRandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
  const std::string secret =
      secureRandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
  if (auto r = store->insertAccessKey(id, secret); !r) {
    std::fprintf(stderr, "tmirror server: %s\n", r.error().message.c_str());
    return 1;
  }
  nlohmann::ordered_json j;
  j["AccessKeyId"] = id;
  j["SecretAccessKey"] = secret;
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

int createAgentToken(const ServerOptions& options) {
  auto store = store::MirrorStore::open(storeLocation(options));
  if (!store) {
    std::fprintf(stderr, "tmirror server: %s\n", store.error().message.c_str());
    return 1;
  }
  auto token = channel::createAgentToken(*store);
  if (!token) {
    std::fprintf(stderr, "tmirror server: %s\n", token.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

int migrateStore(const ServerOptions& options) {
  const auto file = options.data_dir / "tmirror.db";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    std::fprintf(stderr, "tmirror server migrate: no SQLite store at %s\n", file.c_str());
    return 1;
  }
  auto from = store::MirrorStore::open(options.data_dir);
  if (!from) {
    std::fprintf(stderr, "tmirror server migrate: %s\n", from.error().message.c_str());
    return 1;
  }
  auto to = store::MirrorStore::openPostgres(options.database_url);
  if (!to) {
    std::fprintf(stderr, "tmirror server migrate: %s\n", to.error().message.c_str());
    return 1;
  }
  auto copied = from->copyInto(*to);
  if (!copied) {
    std::fprintf(stderr, "tmirror server migrate: %s\n", copied.error().message.c_str());
    return 1;
  }
  // Read back through the target's own statements: every kind must be what the source holds.
  auto check = [&](const char* kind, auto read) -> bool {
    auto a = read(*from);
    auto b = read(*to);
    if (!a || !b || *a != *b) {
      std::fprintf(stderr, "tmirror server migrate: the copy's %s differ from the source's\n",
                   kind);
      return false;
    }
    return true;
  };
  using S = store::MirrorStore;
  const bool same =
      check("network interfaces", [](S& s) { return s.networkInterfaces(); }) &&
      check("targets", [](S& s) { return s.targets(); }) &&
      check("filters", [](S& s) { return s.filters(); }) &&
      check("filter rules", [](S& s) { return s.rules(); }) &&
      check("sessions", [](S& s) { return s.sessions(); }) &&
      check("tags", [](S& s) { return s.allTags(); }) &&
      check("hosts", [](S& s) { return s.instances(); }) &&
      check("load-balancer members", [](S& s) { return s.allLoadBalancerMembers(); }) &&
      check("audit log", [](S& s) { return s.auditLog(); }) &&
      check("revision", [](S& s) { return s.revision(); });
  if (!same) {
    return 1;
  }
  nlohmann::ordered_json j;
  j["from"] = file.string();
  j["to"] = to->where();
  j["account"] = to->accountId();
  for (const auto& [table, rows] : *copied) {
    j["rows"][table] = rows;
  }
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

int runServer(const ServerOptions& options) {
  if (options.migrate) {
    return migrateStore(options);
  }
  if (options.create_access_key) {
    return createAccessKey(options);
  }
  if (options.create_agent_token) {
    return createAgentToken(options);
  }
  if (options.auth_none && !isLoopbackHost(options.listen_address)) {
    logger().error("--auth none is only allowed on a loopback listener, not {}",
                   options.listen_address);
    return 2;
  }
  keepFreedMemoryForReuse();
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  store::SharedStoreOptions store_options;
  if (!options.database_url.empty()) {
    store_options.readers = static_cast<std::size_t>(options.database_connections - 1);
  }
  auto store = store::SharedStore::open(storeLocation(options), store_options);
  if (!store) {
    logger().error("{}", store.error().message);
    return 1;
  }
  const api::ApiLimits limits{.rules_per_filter = options.rules_per_filter,
                              .sessions_per_interface = options.sessions_per_interface,
                              .sources_per_target = options.sources_per_target,
                              .resources_per_kind = options.resources_per_kind};
  api::TrafficMirrorApi api(**store, limits,
                            options.auth_none ? api::Authenticator(api::anonymousAuthenticator)
                                              : api::sigV4Authenticator(options.region));

  // Every counters report also becomes metric history (CloudWatch's resolutions, in the store).
  history::CounterHistory counter_history;
  history::HistoryWriter history_writer(
      **store, counter_history,
      {.flush_interval =
           std::chrono::milliseconds(static_cast<int64_t>(options.history_flush_seconds * 1000))});
  channel::AgentChannel agents(
      api, {.fleet_reports_per_second = options.fleet_reports_per_second,
            .on_counters = [&counter_history](const model::CountersReport& report) {
              counter_history.record(report, std::chrono::system_clock::now());
            }});
  metrics::Registry metrics;
  (void)metrics.gaugeCallback("tmirror_resources", "Resources in the store, by kind", {"kind"},
                              [&api]() {
                                std::vector<metrics::GaugeSample> out;
                                api.store().read([&](store::MirrorStore& s) {
                                  if (auto counts = s.countsByKind()) {
                                    for (const auto& [kind, n] : *counts) {
                                      out.push_back({{kind}, static_cast<double>(n)});
                                    }
                                  }
                                  return 0;
                                });
                                return out;
                              });
  // Group commit at work: members per group is how many mutations share one fsync.
  (void)metrics.gaugeCallback(
      "tmirror_store_commit_groups", "Mutation transactions committed since start (one fsync each)",
      [&api]() { return static_cast<double>(api.store().groupStats().groups); });
  (void)metrics.gaugeCallback(
      "tmirror_store_commit_group_members", "Mutations those transactions carried since start",
      [&api]() { return static_cast<double>(api.store().groupStats().members); });
  (void)metrics.gaugeCallback(
      "tmirror_store_commit_groups_lost",
      "Transactions lost as a whole (I/O error, full disk): none of their mutations was answered",
      [&api]() { return static_cast<double>(api.store().groupStats().lost); });
  if (!options.database_url.empty()) {
    // PostgreSQL's round trips: rate(seconds) / rate(statements) is the mean latency.
    (void)metrics.gaugeCallback(
        "tmirror_database_statements", "Statements and commands sent to PostgreSQL since start",
        [] { return static_cast<double>(store::databaseStats().statements.load()); });
    (void)metrics.gaugeCallback(
        "tmirror_database_seconds", "Seconds those statements took, round trip, summed",
        [] { return static_cast<double>(store::databaseStats().nanoseconds.load()) / 1e9; });
    (void)metrics.gaugeCallback(
        "tmirror_database_change_notifications",
        "Commits of any replica announced to this one (LISTEN/NOTIFY) since start",
        [&api] { return static_cast<double>(api.store().changeNotifications()); });
    (void)metrics.gaugeCallback(
        "tmirror_database_errors",
        "Statements that failed since start, by why: refused by the database, or unreachable",
        {"kind"}, [] {
          return std::vector<metrics::GaugeSample>{
              {{"refused"}, static_cast<double>(store::databaseStats().errors.load())},
              {{"unavailable"}, static_cast<double>(store::databaseStats().unavailable.load())}};
        });
  }
  // Reports, registered hosts, hosts' counters and problems, collectors' receipts per session.
  (void)channel::addAgentChannelMetrics(metrics, agents);

  // The CloudWatch API on the same endpoint, over the metric history: the same access keys,
  // signed for the service "monitoring".
  const api::Authenticator monitoring = options.auth_none
                                            ? api::Authenticator(api::anonymousAuthenticator)
                                            : api::sigV4Authenticator(options.region, "monitoring");
  cloudwatch::CloudWatchApi cloudwatch_api(
      **store, [&api, &monitoring](const api::HttpRequestView& request) {
        return api.authenticate(request, monitoring);
      });

  server::HttpServerOptions http;
  http.other_api = [&cloudwatch_api](const api::HttpRequestView& request) {
    return cloudwatch_api.handle(request);
  };
  http.captures_dir = options.captures_dir;
  http.authorize = [&api](const api::HttpRequestView& request) {
    return api.authenticate(request).has_value();
  };
  http.listen_address = options.listen_address;
  http.port = options.port;
  http.max_connections = static_cast<std::size_t>(options.max_connections);
  http.max_connections_per_address = static_cast<std::size_t>(options.max_connections_per_address);
  http.header_timeout = std::chrono::seconds(options.header_timeout_seconds);
  http.keep_alive_timeout = std::chrono::seconds(options.idle_timeout_seconds);
  raiseOpenFileLimit(http.max_connections);
  std::optional<server::ServerIdentity> identity;
  if (options.tls_auto) {
    auto made = server::ensurePrivateCa(options.data_dir / "tls",
                                        server::serverNames(options.listen_address));
    if (!made) {
      logger().error("--tls auto: {}", made.error().message);
      return 1;
    }
    identity = *made;
    http.tls = http::TlsFiles{identity->certificate_chain, identity->private_key};
  } else if (!options.tls_cert.empty()) {
    http.tls = http::TlsFiles{options.tls_cert, options.tls_key};
  }
  auto server = server::HttpServer::create(http, api, metrics, &agents);
  if (!server) {
    logger().error("{}", server.error().message);
    return 1;
  }
  if (auto started = (*server)->start(); !started) {
    logger().error("{}", started.error().message);
    return 1;
  }
  const bool v6 = options.listen_address.find(':') != std::string::npos;
  if (identity) {
    // What agents, collectors and API clients need to trust this server.
    logger().info("TLS: private CA {} ({}); agents: --ca-file {} or --server-fingerprint {}",
                  identity->ca_certificate.string(), identity->ca_fingerprint,
                  identity->ca_certificate.string(), identity->ca_fingerprint);
  }
  logger().info("store: {}", api.store().where());
  const std::string url = fmt::format("{}://{}{}{}:{}", http.tls ? "https" : "http", v6 ? "[" : "",
                                      options.listen_address, v6 ? "]" : "", (*server)->port());
  logger().info("listening on {}", url);
  history_writer.start();
  notifyReady("listening on " + url + ", store " + api.store().where());
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  notifyStopping();
  logger().info("{}: stopping", strsignal(signal_number));
  (*server)->stop();
  history_writer.stop();  // the last minutes counted go to the store
  logger().info("stopped");
  return 0;
}

}  // namespace tmirror::cli
