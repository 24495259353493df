#include "agent/agent.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "agent/host_interfaces.h"
#include "agent/next_hop.h"
#include "agent/report_pacer.h"
#include "common/log.h"
#include "common/random.h"
#include "engine/mirror_engine.h"
#include "http/listener.h"
#include "model/mirror_config_json.h"
#include "packet/encapsulation.h"
#include "rules/kernel_prefilter.h"

namespace tmirror::agent {

// GET /metrics, /counters and /healthz on --metrics-listen: quick reads of the snapshot,
// answered on the listener's one I/O thread.
struct Agent::Http final : http::Handler {
  explicit Http(const Agent& owner) : agent(owner) {}

  void serve(http::Request request, http::Responder respond) override {
    const bool get = request.isGetOrHead();
    if (get && request.path() == "/metrics") {
      respond({.status = 200,
               .content_type = "text/plain; version=0.0.4; charset=utf-8",
               .body = snapshotToPrometheus(agent.snapshot())});
    } else if (get && request.path() == "/counters") {
      respond({.status = 200,
               .content_type = "application/json",
               .body = snapshotToJson(agent.snapshot())});
    } else if (get && request.path() == "/healthz") {
      respond({.status = 200, .content_type = "text/plain", .body = "ok\n"});
    } else {
      respond({.status = 404, .content_type = "text/plain", .body = "not found\n"});
    }
  }

  http::Response refusal(http::Refusal) override {
    return {.status = 400, .content_type = "text/plain", .body = "bad request\n", .close = true};
  }

  const Agent& agent;
  std::unique_ptr<http::HttpListener> listener;
};

namespace {

void addControlEndpoints(const ServerUrl& url, std::vector<model::ControlEndpoint>& out) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (::getaddrinfo(url.host.c_str(), nullptr, &hints, &list) != 0) {
    return;
  }
  for (const addrinfo* a = list; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr, text,
                  sizeof text);
    } else if (a->ai_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr, text,
                  sizeof text);
    }
    if (auto address = packet::parseIpAddress(text)) {
      model::ControlEndpoint endpoint{*address, url.port};
      if (std::none_of(out.begin(), out.end(), [&](const auto& e) {
            return e.address == endpoint.address && e.port == endpoint.port;
          })) {
        out.push_back(endpoint);
      }
    }
  }
  ::freeaddrinfo(list);
}

// Every address of every server: the agent's own control traffic to any of them is never
// mirrored.
std::vector<model::ControlEndpoint> resolveControlEndpoints(const std::vector<ServerUrl>& urls) {
  std::vector<model::ControlEndpoint> out;
  for (const ServerUrl& url : urls) {
    addControlEndpoints(url, out);
  }
  return out;
}

std::string hostName() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

spdlog::logger& logger() {
  static const auto agent = log::logger("agent");
  return *agent;
}

double seconds(std::chrono::milliseconds d) {
  return static_cast<double>(d.count()) / 1000.0;
}

// An unchanged counters report is still sent this often: the server sees the host alive.
constexpr std::chrono::seconds kCountersHeartbeat{60};

constexpr uint32_t kMinTargetMtu =
    packet::kIpv4MtuOverhead + packet::kOuterEthernetSize + 20;  // an inner Ethernet + IPv4

}  // namespace

Agent::Agent(AgentOptions options, AgentState state, http::ServerList servers)
    : options_(std::move(options)),
      state_(std::move(state)),
      servers_(std::move(servers)),
      pacer_(options_.counters_interval, kCountersHeartbeat) {}

Agent::~Agent() {
  if (http_ && http_->listener) {
    http_->listener->stop();
  }
  std::lock_guard lock(mutex_);
  for (auto& [name, worker] : workers_) {
    worker->stop();
  }
}

Result<std::unique_ptr<Agent>> Agent::create(AgentOptions options) {
  auto servers = http::ServerList::parse(options.server_urls, options.trust);
  if (!servers) {
    return std::unexpected(servers.error());
  }
  if (options.token.empty()) {
    return makeError(ErrorCode::InvalidArgument,
                     "--token is required (tmirror server --create-agent-token makes one)");
  }
  auto state = AgentState::open(options.state_dir);
  if (!state) {
    return std::unexpected(state.error());
  }
  auto identity = state->loadOrCreateIdentity();
  if (!identity) {
    return std::unexpected(identity.error());
  }
  std::unique_ptr<Agent> agent(
      new Agent(std::move(options), std::move(*state), std::move(*servers)));
  agent->identity_ = std::move(*identity);
  agent->control_endpoints_ = resolveControlEndpoints(agent->servers_.all());
  return agent;
}

void Agent::failOver(std::size_t server, const Error& why) {
  if (why.code == ErrorCode::NotFound) {
    return;  // the server answered: it does not know this host (the control loop registers)
  }
  if (servers_.failedAt(server)) {
    logger().warn("{}: {}; going on with {}", servers_.text(server), why.message,
                  servers_.text(servers_.index()));
  }
}

std::vector<packet::IpAddress> Agent::resolvers() const {
  return options_.dns_resolvers.empty() ? readResolvers("/etc/resolv.conf")
                                        : options_.dns_resolvers;
}

bool Agent::registerHost(std::optional<std::chrono::milliseconds> log_failure_retry) {
  const auto interfaces = listHostInterfaces(options_.interfaces);
  const std::size_t server = servers_.index();
  ControlClient client(servers_.url(server), options_.trust, options_.token);
  model::RegisterRequest request;
  request.host_key = identity_.host_key;
  request.hostname = hostName();
  request.dns_resolvers = resolvers();
  // Resolved again at each registration: a name that did not resolve at start does now.
  if (auto endpoints = resolveControlEndpoints(servers_.all()); !endpoints.empty()) {
    std::lock_guard lock(mutex_);
    control_endpoints_ = std::move(endpoints);
  }
  {
    std::lock_guard lock(mutex_);
    request.control_endpoints = control_endpoints_;
  }
  for (const auto& i : interfaces) {
    request.interfaces.push_back({i.name, i.mac, i.ipv4, i.ipv6, i.mtu});
  }
  auto registration = client.registerHost(request);
  if (!registration) {
    if (log_failure_retry) {
      logger().warn("registering with {} failed: {}; retrying in {:.1f} s", servers_.text(server),
                    registration.error().message, seconds(*log_failure_retry));
    }
    failOver(server, registration.error());
    return false;
  }
  std::string line = "registered as " + registration->instance_id + ":";
  {
    std::lock_guard lock(mutex_);
    registered_ = interfaces;
    interface_ids_.clear();
    for (const auto& i : registration->interfaces) {
      interface_ids_[i.name] = i.network_interface_id;
      line += " " + i.name + "=" + i.network_interface_id;
    }
  }
  bool new_identity = false;
  AgentIdentity identity;
  {
    std::lock_guard lock(mutex_);
    new_identity = identity_.instance_id != registration->instance_id;
    identity_.instance_id = registration->instance_id;
    identity = identity_;
  }
  if (new_identity) {
    if (auto saved = state_.saveIdentity(identity); !saved) {
      logger().error("saving identity: {}", saved.error().message);
    }
  }
  {
    std::lock_guard lock(report_mutex_);
    pacer_.adopt(registration->report_interval, ReportPacer::Clock::now());
  }
  logger().info("{}", line);
  return true;
}

void Agent::apply(const model::HostMirrorConfig& desired) {
  std::lock_guard apply_lock(apply_mutex_);
  applyLocked(desired);
}

void Agent::reapplyCurrent() {
  // Read under apply_mutex_: a newer desired state applied meanwhile is the one re-applied.
  std::lock_guard apply_lock(apply_mutex_);
  std::optional<model::HostMirrorConfig> current;
  {
    std::lock_guard lock(mutex_);
    current = config_;
  }
  if (current) {
    applyLocked(*current);
  }
}

void Agent::applyLocked(const model::HostMirrorConfig& desired) {
  model::HostMirrorConfig host = desired;
  {
    std::lock_guard lock(mutex_);
    for (const auto& endpoint : control_endpoints_) {
      host.control_endpoints.push_back(endpoint);
    }
  }
  if (!options_.dns_resolvers.empty()) {
    host.dns_resolvers = options_.dns_resolvers;
  }
  const auto local = listHostInterfaces(options_.interfaces);
  std::vector<model::Problem> problems;

  struct Wanted {
    std::string eni;
    std::unique_ptr<engine::MirrorEngine> engine;
    std::vector<rules::BpfInstruction> prefilter;  // empty: capture everything
  };

  std::map<std::string, Wanted> wanted;  // by local interface name
  for (const auto& interface : host.interfaces) {
    if (interface.sessions.empty()) {
      continue;
    }
    const model::SourceInterface& source = interface.interface;
    auto found = std::find_if(local.begin(), local.end(), [&](const HostInterface& h) {
      return source.mac ? h.mac == *source.mac : h.name == source.name;
    });
    if (found == local.end()) {
      problems.push_back({source.id, "interface " + source.name + " (" +
                                         (source.mac ? packet::formatMacAddress(*source.mac) : "") +
                                         ") is not on this host; its sessions are not mirrored"});
      continue;
    }
    // Check each session alone, so that one that cannot be applied does not stop the others.
    model::InterfaceMirrorConfig usable{interface.interface, {}};
    for (const auto& session : interface.sessions) {
      if (session.target.mtu < kMinTargetMtu) {
        problems.push_back({session.id, "target " + session.target.id + " MTU " +
                                            std::to_string(session.target.mtu) +
                                            " is too small for a mirror copy (needs at least " +
                                            std::to_string(kMinTargetMtu) + ")"});
        continue;
      }
      auto alone = engine::MirrorEngine::create(host, {interface.interface, {session}});
      if (!alone) {
        problems.push_back({session.id, alone.error().message});
        continue;
      }
      // Copies must fit the path, not just the target: clamp to the egress interface's MTU.
      model::Session checked = session;
      for (const auto& address : session.target.addresses) {
        if (address.family != packet::IpFamily::V4) {
          continue;
        }
        auto route = lookupRoute(static_cast<uint32_t>(address.value));
        if (!route) {
          problems.push_back({session.id, "target " + packet::formatIpAddress(address) +
                                              " is unreachable (" + route.error().message +
                                              "); its copies are skipped until it is"});
          continue;
        }
        if (const uint32_t mtu = interfaceMtu(route->ifindex);
            mtu >= kMinTargetMtu && mtu < checked.target.mtu) {
          checked.target.mtu = mtu;
        }
      }
      usable.sessions.push_back(std::move(checked));
    }
    if (usable.sessions.empty()) {
      continue;
    }
    auto built = engine::MirrorEngine::create(host, usable);
    if (!built) {
      problems.push_back({source.id, built.error().message});
      continue;
    }
    std::vector<rules::BpfInstruction> prefilter;
    if (options_.kernel_prefilter) {
      // Too many rules for one cBPF program: no prefilter, the engine alone decides.
      prefilter =
          rules::compileKernelPrefilter(usable).value_or(std::vector<rules::BpfInstruction>{});
    }
    wanted[found->name] = {source.id, std::make_unique<engine::MirrorEngine>(std::move(*built)),
                           std::move(prefilter)};
  }

  uint64_t generation = 0;
  std::vector<InterfaceWorker*> to_wait;
  {
    std::lock_guard lock(mutex_);
    generation = ++generation_;
    // Stop workers that are no longer wanted (or died); keep their counters.
    for (auto it = workers_.begin(); it != workers_.end();) {
      const auto w = wanted.find(it->first);
      const bool same_eni =
          w != wanted.end() && w->second.eni == it->second->report().network_interface_id;
      if (w == wanted.end() || !same_eni || !it->second->running()) {
        it->second->stop();
        const InterfaceReport final_report = it->second->report();
        InterfaceReport& retired = retired_[final_report.network_interface_id];
        retired.name = final_report.name;
        retired.network_interface_id = final_report.network_interface_id;
        addReport(retired, final_report);
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [name, w] : wanted) {
      auto existing = workers_.find(name);
      if (existing != workers_.end()) {
        existing->second->apply(std::move(w.engine), generation, std::move(w.prefilter));
        to_wait.push_back(existing->second.get());
        continue;
      }
      auto worker = std::make_unique<InterfaceWorker>(name, w.eni, options_.worker);
      if (auto started = worker->start(std::move(w.engine), generation, std::move(w.prefilter));
          !started) {
        problems.push_back({w.eni, started.error().message + " (retrying)"});
        start_failed_ = true;
        continue;
      }
      workers_[name] = std::move(worker);
    }
    config_ = desired;
    problems_ = problems;
  }
  // In effect when every worker has swapped its engine in (each checks between blocks and at
  // least every 50 ms).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (InterfaceWorker* worker : to_wait) {
    while (worker->appliedGeneration() < generation && worker->running() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  for (const auto& p : problems) {
    logger().warn("problem: {}: {}", p.resource_id, p.reason);
  }
  logger().info("applied revision {}", desired.revision);
}

void Agent::controlLoop() {
  uint64_t have = 0;
  {
    std::lock_guard lock(mutex_);
    have = config_ ? config_->revision : 0;
  }
  bool registered = false;
  int failures = 0;
  // Kept across polls: one kept-alive connection (and one TLS handshake) instead of one per
  // poll; made afresh after an error.
  std::unique_ptr<ControlClient> client;
  std::size_t client_server = 0;  // the server `client` talks to
  while (!stop_->load()) {
    if (reregister_.exchange(false) || !registered) {
      const auto delay = retryDelay(failures + 1);
      // The first failure is logged, and then every tenth (about one a minute).
      registered = registerHost(failures % 10 == 0 ? std::optional(delay) : std::nullopt);
      if (registered) {
        // Revisions are the server's: after a new registration (perhaps a new database)
        // take whatever it has now.
        have = 0;
        failures = 0;
      }
      if (!registered) {
        reregister_ = true;
        ++failures;
        std::this_thread::sleep_for(delay);
        continue;
      }
    }
    if (!client || client_server != servers_.index()) {
      client_server = servers_.index();
      client = std::make_unique<ControlClient>(servers_.url(client_server), options_.trust,
                                               options_.token);
    }
    ControlClient* raw = client.get();
    {
      std::lock_guard lock(poll_client_mutex_);
      if (poll_cancelled_) {
        break;  // run() is stopping: do not start a long-poll it cannot cancel
      }
      poll_client_ = std::move(client);
    }
    std::string instance_id;
    {
      std::lock_guard lock(mutex_);
      instance_id = identity_.instance_id;
    }
    // A large fleet's report rides the poll (ReportPacer::onPollConnection), which then waits
    // one report interval at most; the report goes if it falls due within half that wait.
    std::chrono::seconds wait = options_.poll_wait;
    {
      std::lock_guard lock(report_mutex_);
      wait = pacer_.pollWait(options_.poll_wait);
      poll_returns_by_ = ReportPacer::Clock::now() + wait;
    }
    const auto report = dueReport(true, wait / 2);
    if (report) {
      // This poll carries the due report; the pacer moves on when it comes back.
      std::lock_guard lock(report_mutex_);
      poll_returns_by_ = {};
    }
    const auto polled_at = ReportPacer::Clock::now();
    auto desired = raw->desiredState(instance_id, have, wait, report ? &*report : nullptr);
    {
      std::lock_guard lock(report_mutex_);
      poll_returns_by_ = {};
    }
    if (report && !stop_->load()) {  // a poll stop() cancelled is no failed report
      reported(*report, polled_at,
               desired ? Result<model::CountersAnswer>(desired->reportAnswer())
                       : Result<model::CountersAnswer>(std::unexpected(desired.error())));
    }
    {
      std::lock_guard lock(poll_client_mutex_);
      client = std::move(poll_client_);
    }
    if (!desired) {
      client.reset();
      if (stop_->load()) {
        break;
      }
      if (desired.error().code == ErrorCode::NotFound) {
        registered = false;  // the server lost us (a new database): register again
      } else if (!reregister_.load()) {
        failOver(client_server, desired.error());
        const auto delay = retryDelay(failures + 1);
        if (failures % 10 == 0) {
          logger().warn(
              "desired state from {}: {}; mirroring goes on with revision {}; "
              "retrying in {:.1f} s",
              servers_.text(client_server), desired.error().message, have, seconds(delay));
        }
        ++failures;
        std::this_thread::sleep_for(delay);
      }
      continue;
    }
    if (failures > 0) {
      logger().info("{} reachable again", servers_.text(client_server));
    }
    failures = 0;
    if (!desired->config) {
      continue;  // nothing new: poll again
    }
    const model::HostMirrorConfig& fresh = *desired->config;
    bool changed = false;
    {
      std::lock_guard lock(mutex_);
      changed = !config_ || config_->revision != fresh.revision ||
                model::hostMirrorConfigToJson(*config_) != model::hostMirrorConfigToJson(fresh);
    }
    if (!changed) {
      continue;
    }
    if (auto saved = state_.saveDesiredState(fresh); !saved) {
      logger().error("saving the desired state: {}", saved.error().message);
    }
    have = fresh.revision;
    apply(fresh);
  }
}

AgentSnapshot Agent::snapshot() const {
  AgentSnapshot out;
  std::lock_guard lock(mutex_);
  out.instance_id = identity_.instance_id;
  out.revision = config_ ? config_->revision : 0;
  out.problems = problems_;
  std::map<std::string, InterfaceReport> by_eni = retired_;
  for (const auto& [name, worker] : workers_) {
    const InterfaceReport live = worker->report();
    InterfaceReport& total = by_eni[live.network_interface_id];
    total.name = live.name;
    total.network_interface_id = live.network_interface_id;
    addReport(total, live);
    total.applied_generation = live.applied_generation;
    total.ring_bytes = live.ring_bytes;
    total.prefilter_instructions = live.prefilter_instructions;
    total.offload_headers = live.offload_headers;
    if (!live.prefilter_error.empty()) {
      out.problems.push_back({live.network_interface_id, "kernel prefilter on " + live.name +
                                                             " refused (" + live.prefilter_error +
                                                             "); capturing every frame"});
    }
    if (!live.error.empty()) {
      total.error = live.error;
      out.problems.push_back(
          {live.network_interface_id, "capture on " + live.name + " stopped: " + live.error});
    }
  }
  for (auto& [eni, report] : by_eni) {
    out.interfaces.push_back(std::move(report));
  }
  return out;
}

std::optional<model::CountersReport> Agent::dueReport(bool on_poll_connection,
                                                      std::chrono::milliseconds ahead) {
  const auto now = ReportPacer::Clock::now() + ahead;
  {
    std::lock_guard lock(report_mutex_);
    if (now < pacer_.nextCheck()) {
      return std::nullopt;
    }
    // Each loop sends the reports of its mode, except that a poll parked before the server
    // lengthened the interval (one crossing kOnPollConnectionFrom) may come back up to a whole
    // long wait late: until it does, reports go on their own.
    const bool poll_too_late = pacer_.onPollConnection() && !on_poll_connection &&
                               poll_returns_by_ > pacer_.nextCheck() + pacer_.interval() / 2;
    if (pacer_.onPollConnection() != on_poll_connection && !poll_too_late) {
      return std::nullopt;  // the other loop sends it
    }
  }
  const AgentSnapshot s = snapshot();
  std::lock_guard lock(report_mutex_);
  if (s.instance_id.empty()) {
    pacer_.skip(now);  // not registered yet: look again later
    return std::nullopt;
  }
  model::CountersReport report = snapshotToReport(s);
  if (!pacer_.shouldSend(report, now)) {
    return std::nullopt;
  }
  return report;
}

void Agent::reported(const model::CountersReport& report, ReportPacer::Clock::time_point when,
                     const Result<model::CountersAnswer>& answer) {
  std::lock_guard lock(report_mutex_);
  if (!answer && !report_failing_) {
    logger().warn("counters report: {} (will keep trying at each report)", answer.error().message);
  }
  report_failing_ = !answer;
  pacer_.sent(report, when, answer ? std::optional(*answer) : std::nullopt);
}

void Agent::countersLoop() {
  std::size_t server = servers_.index();
  auto client =
      std::make_unique<ControlClient>(servers_.url(server), options_.trust, options_.token);
  while (!stop_->load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (server != servers_.index()) {  // the control loop moved on: follow it
      server = servers_.index();
      client =
          std::make_unique<ControlClient>(servers_.url(server), options_.trust, options_.token);
    }
    if (auto report = dueReport(false)) {
      const auto now = ReportPacer::Clock::now();
      auto answer = client->pushCounters(*report);
      if (!answer) {
        failOver(server, answer.error());
      }
      reported(*report, now, answer);
    }
  }
}

Result<void> Agent::run(const std::atomic<bool>& stop, const std::function<void()>& on_started) {
  stop_ = &stop;
  if (options_.metrics_listen) {
    http_ = std::make_unique<Http>(*this);
    const auto& [address, port] = *options_.metrics_listen;
    auto listener = http::HttpListener::create({.address = address,
                                                .port = port,
                                                .io_threads = 1,
                                                .max_connections = 64,
                                                .max_connections_per_address = 32,
                                                .max_body_bytes = 4096},
                                               *http_);
    if (!listener) {
      return std::unexpected(std::move(listener.error()).withContext("--metrics-listen"));
    }
    http_->listener = std::move(*listener);
    if (auto started = http_->listener->start(); !started) {
      return std::unexpected(std::move(started.error()).withContext("--metrics-listen"));
    }
    metrics_port_ = http_->listener->port();
    logger().info("metrics on http://{}:{}/metrics", address, metrics_port_);
  }
  // Mirror at once with what the server said last time.
  auto saved = state_.loadDesiredState();
  if (!saved) {
    logger().warn("ignoring the saved desired state: {}", saved.error().message);
  } else if (*saved) {
    logger().info("starting with the saved desired state (revision {})", (*saved)->revision);
    apply(**saved);
  }
  {
    std::lock_guard lock(mutex_);
    scanned_ = listHostInterfaces(options_.interfaces);
  }
  std::thread control([this] { controlLoop(); });
  std::thread counters([this] { countersLoop(); });
  if (on_started) {
    on_started();
  }

  auto last_scan = std::chrono::steady_clock::now();
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = std::chrono::steady_clock::now();
    if (now - last_scan < options_.rescan_interval) {
      continue;
    }
    last_scan = now;
    // Interfaces that appeared, vanished or changed: register again; a worker whose
    // interface died, or an interface that came back: apply the desired state again.
    const auto local = listHostInterfaces(options_.interfaces);
    bool changed = false;
    bool reapply = false;
    std::optional<model::HostMirrorConfig> config;
    {
      std::lock_guard lock(mutex_);
      changed = local != scanned_;
      scanned_ = local;
      for (const auto& [name, worker] : workers_) {
        reapply = reapply || !worker->running();
      }
      config = config_;
    }
    if (changed) {
      logger().info("interfaces changed; registering again");
      reregister_ = true;
      std::lock_guard lock(poll_client_mutex_);
      if (poll_client_) {
        poll_client_->cancel();
      }
    }
    if ((changed || reapply || start_failed_.exchange(false)) && config) {
      reapplyCurrent();
    }
  }
  {
    std::lock_guard lock(poll_client_mutex_);
    poll_cancelled_ = true;
    if (poll_client_) {
      poll_client_->cancel();
    }
  }
  control.join();
  counters.join();
  if (http_ && http_->listener) {
    http_->listener->stop();
  }
  std::lock_guard lock(mutex_);
  for (auto& [name, worker] : workers_) {
    worker->stop();
  }
  return {};
}

}  // namespace tmirror::agent
