// Agent: `tmirror agent`, the per-host half of tmirror.
//
//   control thread   register the host and its interfaces, long-poll the desired state,
//                    keep it on disk, apply it (build engines, hand them to the workers)
//   counters thread  push the counters to the server every second
//   HTTP thread      /metrics (Prometheus) and /counters (JSON) on a local port
//   one worker per source interface with sessions (agent/interface_worker.h)
//   run()            watches interfaces appear and vanish and workers fail
//
// With a saved desired state the agent starts mirroring at once, before the server answers,
// and goes on while the server is away.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent_report.h"
#include "agent/agent_state.h"
#include "agent/control_client.h"
#include "agent/host_interfaces.h"
#include "agent/interface_worker.h"
#include "agent/report_pacer.h"
#include "common/result.h"
#include "http/server_client.h"
#include "http/server_list.h"
#include "model/mirror_config.h"

namespace tmirror::agent {

struct AgentOptions {
  // Equivalent servers (replicas on one database): the agent talks to one until a request
  // to it fails, then to the next; its identity is the same on each.
  std::vector<std::string> server_urls;
  std::string token;
  http::ServerTrust trust;  // how the server's certificate is checked (https://)
  std::filesystem::path state_dir = "/var/lib/tmirror-agent";
  std::vector<std::string> interfaces;  // empty: every Ethernet interface but loopback
  std::optional<std::pair<std::string, uint16_t>> metrics_listen =
      std::pair<std::string, uint16_t>{"127.0.0.1", 8901};
  WorkerOptions worker;
  bool kernel_prefilter = true;  // drop frames no session can mirror in the kernel (cBPF)
  std::vector<packet::IpAddress> dns_resolvers;  // empty: /etc/resolv.conf's
  std::chrono::milliseconds counters_interval{1000};
  std::chrono::milliseconds rescan_interval{2000};
  // The long-poll's wait: under the server's longest (AgentChannelOptions::max_wait, 60 s) and
  // the 60 s idle timeout common in proxies. A change comes back at once whatever the wait; an
  // unchanged state costs one request per host per wait.
  std::chrono::seconds poll_wait{55};
};

class Agent {
 public:
  static Result<std::unique_ptr<Agent>> create(AgentOptions options);
  ~Agent();

  // Runs until `stop` becomes true. Fails only when it cannot start at all; `on_started` is called
  // once it runs (its metrics listener up, the saved desired state applied, the server asked).
  Result<void> run(const std::atomic<bool>& stop, const std::function<void()>& on_started = {});

  AgentSnapshot snapshot() const;

  // The port /metrics listens on (when asked for port 0, the one the kernel chose).
  uint16_t metricsPort() const { return metrics_port_; }

 private:
  explicit Agent(AgentOptions options, AgentState state, http::ServerList servers);

  void controlLoop();
  void countersLoop();
  // The counters report if it is due by `ahead` from now and goes by this path (nullopt: not
  // due, held back, or the other path's). A report riding a long-poll looks ahead: the poll
  // may not come back for a while.
  std::optional<model::CountersReport> dueReport(
      bool on_poll_connection, std::chrono::milliseconds ahead = std::chrono::milliseconds(0));
  void reported(const model::CountersReport& report, ReportPacer::Clock::time_point when,
                const Result<model::CountersAnswer>& answer);
  // log_failure_retry: log a failure, saying the next attempt comes after this delay.
  bool registerHost(std::optional<std::chrono::milliseconds> log_failure_retry);
  void apply(const model::HostMirrorConfig& config);
  void reapplyCurrent();
  void applyLocked(const model::HostMirrorConfig& config);  // apply_mutex_ held
  // A request to the server at `server` failed (not with "unknown instance"): the next
  // requests go to the next server, if there is one (logged once per move).
  void failOver(std::size_t server, const Error& why);
  std::vector<packet::IpAddress> resolvers() const;

  AgentOptions options_;
  AgentState state_;
  http::ServerList servers_;
  AgentIdentity identity_;

  mutable std::mutex mutex_;                                         // guards everything below
  std::optional<model::HostMirrorConfig> config_;                    // the desired state in effect
  std::vector<HostInterface> registered_;                            // as last registered
  std::vector<HostInterface> scanned_;                               // as last seen by run()
  std::map<std::string, std::string> interface_ids_;                 // name -> eni-
  std::map<std::string, std::unique_ptr<InterfaceWorker>> workers_;  // by interface name
  std::map<std::string, InterfaceReport> retired_;  // by eni-: counters of stopped workers
  std::vector<model::Problem> problems_;
  std::vector<model::ControlEndpoint> control_endpoints_;
  uint64_t generation_ = 0;
  std::atomic<bool> reregister_{true};
  std::atomic<bool> start_failed_{false};  // a worker could not start: try again

  std::mutex report_mutex_;  // guards pacer_, report_failing_ and poll_returns_by_
  ReportPacer pacer_;
  bool report_failing_ = false;
  // When the long-poll in flight comes back at the latest (none in flight: the epoch).
  ReportPacer::Clock::time_point poll_returns_by_{};

  std::mutex apply_mutex_;  // one apply at a time
  const std::atomic<bool>* stop_ = nullptr;
  std::unique_ptr<ControlClient> poll_client_;
  std::mutex poll_client_mutex_;
  bool poll_cancelled_ = false;  // guarded by poll_client_mutex_
  uint16_t metrics_port_ = 0;
  struct Http;
  std::unique_ptr<Http> http_;
};

}  // namespace tmirror::agent
