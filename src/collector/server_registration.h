// ServerRegistration: `tmirror collect --server URL --token T` registers the collector host's
// receiving interface through the agent channel (POST /agent/v1/register), so it gets an eni-
// id and can be chosen as a mirror target, then reports its health and counters, and what it
// received per mirror session, every `interval` (POST /agent/v1/counters) until stopped.
// Retries while the server is away.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "collector/session_table.h"
#include "common/result.h"
#include "http/server_client.h"
#include "http/server_list.h"
#include "model/agent_protocol.h"
#include "packet/ip_address.h"

namespace tmirror::collector {

// The collector's receiving interface as the agent protocol reports it.
using LocalInterface = model::ReportedInterface;

// The interface that holds `address`; for a wildcard address, the first interface that is up,
// not loopback, and has an IPv4 address.
Result<LocalInterface> findLocalInterface(const packet::IpAddress& address);

// The registration request body.
std::string registrationBody(const std::string& host_key, const std::string& hostname,
                             const LocalInterface& interface,
                             const std::string& load_balancer_arn = "");

struct RegistrationState {
  std::string instance_id;
  std::string network_interface_id;
  int64_t health_reports = 0;
};

class ServerRegistration {
 public:
  using CounterSource = std::function<std::map<std::string, double>()>;

  // servers: one, or replicas on one database (the next is used when one fails). host_key:
  // the collector's own identity (model::HostIdentity): the server knows it by that alone.
  ServerRegistration(http::ServerList servers, http::ServerTrust trust, std::string token,
                     std::string host_key, LocalInterface interface, uint16_t vxlan_port,
                     CounterSource counters,
                     std::chrono::milliseconds interval = std::chrono::seconds(10),
                     std::string load_balancer_arn = "");
  ~ServerRegistration();  // stops

  // Called with what the server knows of this interface's sessions (by VNI), after each
  // registration and health report. Set before start().
  void onSessions(std::function<void(std::map<uint32_t, SessionMetadata>)> callback) {
    on_sessions_ = std::move(callback);
  }

  // What the collector received per mirror session (the session table's totalsBySessionId, at
  // most max_ids of them), reported beside the interface's counters so that the server can set
  // what each session's agent sent beside what arrived. Set before start().
  using SessionTotalsSource =
      std::function<std::map<std::string, SessionTotals>(std::size_t max_ids)>;

  void reportSessions(SessionTotalsSource source) { session_totals_ = std::move(source); }

  void start();
  RegistrationState state() const;

 private:
  void loop();
  std::string load_balancer_arn_;
  // retry: when the next attempt comes if this one fails (said in the log).
  bool registerOnce(std::chrono::milliseconds retry);
  bool reportOnce();
  void fetchSessions();
  std::function<void(std::map<uint32_t, SessionMetadata>)> on_sessions_;
  SessionTotalsSource session_totals_;

  // The client of the server requests go to now (made again when the list moves on), and a
  // failed request's move to the next server. Only the registration thread uses them.
  http::ServerClient& client();
  void failed(const std::string& why);

  http::ServerList servers_;
  const http::ServerTrust trust_;
  const std::string token_;
  const std::string host_key_;
  std::unique_ptr<http::ServerClient> client_;
  std::size_t client_server_ = 0;
  const LocalInterface interface_;
  const uint16_t vxlan_port_;
  const CounterSource counters_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  RegistrationState state_;
  std::string last_error_;  // only the registration thread touches it
  std::thread thread_;
};

}  // namespace tmirror::collector
