// AgentChannel: the server side of the agent protocol (JSON over HTTP under /agent/v1/).
//
//   POST /agent/v1/register        a host and its interfaces -> stable i-/eni- ids
//   GET  /agent/v1/desired-state   ?instance-id=&revision=&wait= : the host's resolved
//                                  sessions (model::HostMirrorConfig JSON), long-polled until
//                                  the revision passes the one the agent has
//   GET  /agent/v1/collector-sessions ?network-interface-id= : the sessions a collector's
//                                  interface receives (ids, VNIs, source MACs)
//   POST /agent/v1/counters        the agent's CloudWatch-named counters, and what it cannot
//                                  apply ("Problems": resource id and reason)
//
// Agents authenticate with "Authorization: Bearer <token>" from `tmirror server
// --create-agent-token`; the server keeps only the token's SHA-256.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/traffic_mirror_api.h"
#include "common/result.h"
#include "model/mirror_config.h"
#include "server/agent_routes.h"

namespace tmirror::channel {

struct AgentChannelOptions {
  std::chrono::milliseconds poll_interval{100};  // how often a long-poll rechecks the revision
  std::chrono::seconds max_wait{30};
  int max_waiters = 48;  // long-polls beyond this are answered at once
  // A load-balancer member (a collector) is healthy while it reported health this recently
  // (collectors report every 10 s by default). Checked every health_check_interval; a change
  // bumps the revision so that agents re-resolve the members.
  std::chrono::milliseconds member_health_window{30000};
  std::chrono::milliseconds health_check_interval{1000};
};

// Whether a load-balancer member (by eni- id) may receive copies.
using MemberHealth = std::function<bool(const std::string& network_interface_id)>;

class AgentChannel : public server::AgentRoutes {
 public:
  AgentChannel(api::TrafficMirrorApi& api, AgentChannelOptions options = {});
  ~AgentChannel() override;  // stops the health checker

  api::HttpResponse handle(const api::HttpRequestView& request) override;

  // The latest counters each agent pushed: (resource id, counter name) -> value.
  std::map<std::pair<std::string, std::string>, double> counterSnapshot() const;

  // What each agent (by instance id) last said it cannot apply: (resource id, reason).
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> problemSnapshot() const;

  // Hosts that registered.
  int64_t registeredAgents();

 private:
  api::HttpResponse registerHost(const api::HttpRequestView& request);
  api::HttpResponse desiredState(const api::HttpRequestView& request);
  api::HttpResponse counters(const api::HttpRequestView& request);
  api::HttpResponse collectorSessions(const api::HttpRequestView& request);
  bool memberHealthy(const std::string& network_interface_id) const;
  void checkMemberHealth();

  api::TrafficMirrorApi& api_;
  AgentChannelOptions options_;
  std::atomic<int> waiters_{0};
  mutable std::mutex counters_mutex_;
  std::map<std::pair<std::string, std::string>, double> counters_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> problems_;

  // Load-balancer members: when each last said it is healthy (registration or counters).
  mutable std::mutex health_mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> member_seen_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::vector<std::string> healthy_members_;  // as of the last check
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread health_checker_;
};

// The fully resolved desired state of one host, read from the store: its interfaces, and for
// each the sessions with their filter rules and target addresses. A load-balancer target's
// addresses are its healthy members' (sorted by interface id, so that every agent hashes a
// flow to the same member). Sessions whose target has no address yet (an interface target
// without an IPv4 address, a load-balancer target with no healthy member) are left out.
Result<model::HostMirrorConfig> resolveDesiredState(
    store::MirrorStore& store, const std::string& instance_id,
    const MemberHealth& healthy = [](const std::string&) { return true; });

// Creates an agent token, stores its hash, and returns it.
Result<std::string> createAgentToken(store::MirrorStore& store);

}  // namespace tmirror::channel
