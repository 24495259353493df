// AgentChannel: the server side of the agent protocol (JSON over HTTP under /agent/v1/).
//
//   POST /agent/v1/register        a host and its interfaces -> stable i-/eni- ids
//   GET  /agent/v1/desired-state   ?instance-id=&revision=&wait= : the host's resolved
//                                  sessions (model::HostMirrorConfig JSON), long-polled until
//                                  the revision passes the one the agent has
//   POST /agent/v1/counters        the agent's CloudWatch-named counters, and what it cannot
//                                  apply ("Problems": resource id and reason)
//
// Agents authenticate with "Authorization: Bearer <token>" from `tmirror server
// --create-agent-token`; the server keeps only the token's SHA-256.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
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
};

class AgentChannel : public server::AgentRoutes {
 public:
  AgentChannel(api::TrafficMirrorApi& api, AgentChannelOptions options = {});

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

  api::TrafficMirrorApi& api_;
  AgentChannelOptions options_;
  std::atomic<int> waiters_{0};
  mutable std::mutex counters_mutex_;
  std::map<std::pair<std::string, std::string>, double> counters_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> problems_;
};

// The fully resolved desired state of one host, read from the store: its interfaces, and for
// each the sessions with their filter rules and target addresses. Sessions whose target has
// no address yet (an interface target without an IPv4 address, a load-balancer target with
// no registered collector) are left out.
Result<model::HostMirrorConfig> resolveDesiredState(store::MirrorStore& store,
                                                    const std::string& instance_id);

// Creates an agent token, stores its hash, and returns it.
Result<std::string> createAgentToken(store::MirrorStore& store);

}  // namespace tmirror::channel
