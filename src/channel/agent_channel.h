// AgentChannel: the server side of the agent protocol (JSON over HTTP under /agent/v1/).
//
//   POST /agent/v1/register        a host and its interfaces -> stable i-/eni- ids
//   GET  /agent/v1/desired-state   ?instance-id=&revision=&wait= : the host's resolved
//                                  sessions (model::HostMirrorConfig JSON), long-polled until
//                                  the revision passes the one the agent has; 204 No
//                                  Content when the wait ends without a change
//   GET  /agent/v1/collector-sessions ?network-interface-id= : the sessions a collector's
//                                  interface receives (ids, VNIs, source MACs)
//   POST /agent/v1/counters        the agent's CloudWatch-named counters, and what it cannot
//                                  apply ("Problems": resource id and reason); a collector's
//                                  health, counters, and copies received per session
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
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api/traffic_mirror_api.h"
#include "common/result.h"
#include "model/agent_protocol.h"
#include "model/mirror_config.h"
#include "server/agent_routes.h"

namespace tmirror::channel {

struct AgentChannelOptions {
  // How often parked long-polls are checked when no commit wakes the check sooner (a commit
  // here, or on another replica of a PostgreSQL store, does at once).
  std::chrono::milliseconds poll_interval{100};
  std::chrono::seconds max_wait{60};  // a long-poll's longest wait
  // Parked long-polls hold no thread, only a few hundred bytes each; beyond this many they
  // are answered at once.
  std::size_t max_waiters = 65536;
  // A load-balancer member (a collector) is healthy while it reported health this recently
  // (collectors report every 10 s by default). Checked every health_check_interval; a change
  // bumps the revision so that agents re-resolve the members.
  std::chrono::milliseconds member_health_window{30000};
  std::chrono::milliseconds health_check_interval{1000};
  // Counter reports the whole fleet may send per second: each host is told to report every
  // hosts / this many seconds (at least every second, at most every max_report_interval).
  double fleet_reports_per_second = 170;  // 10,000 hosts: every 59 s
  std::chrono::milliseconds max_report_interval{60000};
  // Sees every counters report the channel takes (before it is kept), on the thread that took
  // it, which may be an I/O thread: it must not block.
  std::function<void(const model::CountersReport&)> on_counters;
};

// Whether a load-balancer member (by eni- id) may receive copies.
using MemberHealth = std::function<bool(const std::string& network_interface_id)>;

class AgentChannel : public server::AgentRoutes {
 public:
  AgentChannel(api::TrafficMirrorApi& api, AgentChannelOptions options = {});
  ~AgentChannel() override;  // stops the ticker; parked long-polls are dropped unanswered

  void handle(const api::HttpRequestView& request, server::Respond respond) override;
  // Counters pushes, and long-polls of hosts whose revision is known and held, from a known
  // token: no store, no waiting.
  bool handleInline(const api::HttpRequestView& request, server::Respond& respond) override;
  api::HttpResponse interfaceDesiredState(const api::HttpRequestView& request) override;

  // The latest counters each agent pushed: (resource id, counter name) -> value.
  std::map<std::pair<std::string, std::string>, double> counterSnapshot() const;

  // What collectors last said they received per mirror session: (session id, the collector's
  // interface id, counter name) -> value. Apart from counterSnapshot(), whose session entries
  // are what the session's agent sent, and per collector: a load balancer's members receive
  // shares of one session.
  std::map<std::tuple<std::string, std::string, std::string>, double> collectorSessionSnapshot()
      const;

  // What each agent (by instance id) last said it cannot apply: (resource id, reason).
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> problemSnapshot() const;

  // Hosts that registered.
  int64_t registeredAgents();

  // Long-polls parked now.
  std::size_t parkedLongPolls() const;

  // How often each host is asked to report its counters now.
  std::chrono::milliseconds reportInterval() const;

  // Counters reports taken since start: pushed on their own (POST counters), and riding a
  // long-poll (a fleet past ReportPacer's switch point sends them so).
  struct ReportsReceived {
    uint64_t pushed = 0;
    uint64_t on_poll = 0;
  };

  ReportsReceived reportsReceived() const;

 private:
  // A desired-state long-poll waiting for the revision to pass `have`.
  struct Waiter {
    uint64_t ticket = 0;  // tells two polls of one host apart
    int64_t have = 0;     // the host revision the agent holds
    std::chrono::steady_clock::time_point deadline;
    server::Respond respond;
  };

  // A desired-state request's parameters.
  struct PollRequest {
    std::string instance_id;
    int64_t have = -1;                  // the revision the agent holds
    std::chrono::milliseconds wait{0};  // capped, and already cut at random
  };

  PollRequest pollRequest(const api::HttpRequestView& request) const;

  // The refusal when the request carries no valid agent token.
  std::optional<api::HttpResponse> authenticate(const api::HttpRequestView& request);
  // Whether the request's token is one already found valid (memory only).
  bool knownToken(const api::HttpRequestView& request) const;
  api::HttpResponse registerHost(const api::HttpRequestView& request);
  void desiredState(const api::HttpRequestView& request, server::Respond respond);
  api::HttpResponse desiredStateNow(const std::string& instance_id);
  api::HttpResponse counters(const api::HttpRequestView& request);
  // Takes a host's report (memory only): the number of values taken.
  std::size_t applyCounters(model::CountersReport report);
  // A desired-state answer, with the report interval in its kReportIntervalHeader.
  api::HttpResponse withReportInterval(api::HttpResponse answer) const;
  // How long after its last report a host counts as live, for a host key's owner.
  std::chrono::milliseconds duplicateWindow() const;
  // "eni-… MAC address" of an interface of `known` that a live host still reports, when the
  // registration reports none of `known`'s attached interfaces (the key is another host's).
  std::optional<std::string> liveHostWithKey(
      const std::vector<store::NetworkInterfaceRecord>& known,
      const std::vector<model::ReportedInterface>& reported) const;
  api::HttpResponse collectorSessions(const api::HttpRequestView& request);
  bool memberHealthy(const std::string& network_interface_id) const;
  void checkMemberHealth();
  // Answers the parked long-polls whose host revision passed or whose wait ended.
  void answerDueWaiters();
  // With waiters_mutex_ held: records that the host's revision is at least `revision` and
  // returns the highest known.
  int64_t noteRevisionLocked(const std::string& instance_id, int64_t revision);
  // With waiters_mutex_ held: parks the poll if the host's known revision is the agent's and
  // there is room; false leaves respond untouched.
  bool parkLocked(const PollRequest& poll, server::Respond& respond);

  api::TrafficMirrorApi& api_;
  AgentChannelOptions options_;
  mutable std::mutex waiters_mutex_;
  std::unordered_multimap<std::string, Waiter> waiters_;  // by instance id
  // When each waiter's wait ends: (instance id, ticket); entries of waiters answered earlier
  // stay until their time comes and are then dropped.
  std::multimap<std::chrono::steady_clock::time_point, std::pair<std::string, uint64_t>> deadlines_;
  uint64_t next_ticket_ = 0;
  // Each host's revision as far as this server has seen it (from the store, by a poll or the
  // ticker; only ever raised), under waiters_mutex_. The ticker raises it and answers the
  // host's waiters under one lock, so a poll that parks on what it finds here cannot miss a
  // change.
  std::unordered_map<std::string, int64_t> revisions_;
  int64_t seen_revision_ = 0;  // the global revision the ticker last looked at (its thread only)
  // Token digests found valid (tokens are never revoked while the server runs): a host's
  // requests cost no store read to authenticate.
  mutable std::mutex tokens_mutex_;
  std::unordered_set<std::string> known_tokens_;
  std::atomic<int64_t> hosts_ = 0;  // registered hosts, as of the last health check
  std::atomic<uint64_t> reports_pushed_ = 0;
  std::atomic<uint64_t> reports_on_poll_ = 0;
  mutable std::mutex counters_mutex_;
  // Resource id -> its counters as last reported. A report carries each item's whole set, so
  // it replaces the item's entry: a few hash lookups per report, however large the fleet.
  std::unordered_map<std::string, std::vector<std::pair<std::string, double>>> counters_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> problems_;
  // A collector's interface id -> (session id, its counters) as that collector last reported
  // them: each report carries every session the collector receives, so it replaces its entry.
  std::unordered_map<
      std::string, std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>>>
      collector_sessions_;

  // Load-balancer members: when each last said it is healthy (registration or counters).
  mutable std::mutex health_mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> member_seen_;
  // Every registered interface: when its host last registered or reported it. A host key that
  // registers with none of the interfaces of a host still reporting is someone else's copy.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> interface_seen_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::vector<std::string> healthy_members_;  // as of the last check
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  bool committed_ = false;  // a commit since the ticker last looked (under stop_mutex_)
  std::thread ticker_;      // answers due long-polls; checks member health
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
