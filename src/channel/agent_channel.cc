#include "channel/agent_channel.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/action_context.h"
#include "api/sigv4.h"
#include "common/random.h"
#include "model/agent_protocol.h"
#include "model/mirror_config_json.h"

namespace tmirror::channel {

namespace {

api::HttpResponse jsonResponse(int status, std::string body) {
  api::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

api::HttpResponse jsonError(int status, std::string_view code, std::string_view message) {
  return jsonResponse(status,
                      model::protocolErrorToJson({std::string(code), std::string(message)}));
}

// A store failure as the channel answers it: 503 while the database is away (agents retry and
// keep mirroring on the state they hold), 500 for anything else.
api::HttpResponse storeError(const Error& e) {
  return e.code == ErrorCode::Unavailable ? jsonError(503, "ServiceUnavailable", e.message)
                                          : jsonError(500, "InternalError", e.message);
}

std::string queryValue(std::string_view query, std::string_view name) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (api::parseForm(query, pairs) != api::FormStatus::Ok) {
    return "";
  }
  for (auto& [k, v] : pairs) {
    if (k == name) {
      return v;
    }
  }
  return "";
}

std::optional<int64_t> toInt(const std::string& text) {
  if (text.empty() || text.size() > 18) {
    return std::nullopt;
  }
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

std::vector<std::string> splitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (end > start) {
      out.push_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return out;
}

// "192.0.2.1:8900", "[2001:db8::1]:8900": how the store keeps a control endpoint.
std::string formatEndpoint(const model::ControlEndpoint& e) {
  const std::string address = packet::formatIpAddress(e.address);
  return (e.address.family == packet::IpFamily::V6 ? "[" + address + "]" : address) + ":" +
         std::to_string(e.port);
}

std::optional<model::ControlEndpoint> parseEndpoint(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return std::nullopt;
  }
  std::string address = text.substr(0, colon);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  const auto parsed = packet::parseIpAddress(address);
  unsigned port = 0;
  const char* digits = text.data() + colon + 1;
  const auto [end, ec] = std::from_chars(digits, text.data() + text.size(), port);
  if (!parsed || ec != std::errc{} || end != text.data() + text.size() || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  return model::ControlEndpoint{*parsed, static_cast<uint16_t>(port)};
}

model::FilterRule toModelRule(const store::RuleRecord& r) {
  model::FilterRule rule;
  rule.id = r.id;
  rule.direction =
      r.direction == "ingress" ? model::TrafficDirection::Ingress : model::TrafficDirection::Egress;
  rule.rule_number = static_cast<uint32_t>(r.rule_number);
  rule.action = r.action == "accept" ? model::RuleAction::Accept : model::RuleAction::Reject;
  if (r.protocol) {
    rule.protocol = static_cast<uint8_t>(*r.protocol);
  }
  // The API validated both CIDRs when the rule was written.
  rule.source_cidr = packet::parseCidr(r.source_cidr).value_or(packet::Cidr{});
  rule.destination_cidr = packet::parseCidr(r.destination_cidr).value_or(packet::Cidr{});
  if (r.source_from_port) {
    rule.source_port_range = model::PortRange{static_cast<uint16_t>(*r.source_from_port),
                                              static_cast<uint16_t>(*r.source_to_port)};
  }
  if (r.destination_from_port) {
    rule.destination_port_range = model::PortRange{static_cast<uint16_t>(*r.destination_from_port),
                                                   static_cast<uint16_t>(*r.destination_to_port)};
  }
  rule.description = r.description.value_or("");
  return rule;
}

}  // namespace

Result<model::HostMirrorConfig> resolveDesiredState(store::MirrorStore& store,
                                                    const std::string& instance_id,
                                                    const MemberHealth& healthy) {
  auto instance = store.instance(instance_id);
  if (!instance) {
    return std::unexpected(instance.error());
  }
  if (!*instance) {
    return makeError(ErrorCode::NotFound, "instance " + instance_id + " is not registered");
  }
  auto revision = store.hostRevision(instance_id);
  auto interfaces = store.interfacesOf(instance_id);
  if (!revision || !interfaces) {
    return makeError(ErrorCode::Io, "reading the desired state failed");
  }
  model::HostMirrorConfig config;
  // The host's own revision: it moves only when a change concerns this host.
  config.revision = static_cast<uint64_t>(revision->value_or(0));
  for (const auto& text : splitCommas((*instance)->dns_resolvers)) {
    if (auto address = packet::parseIpAddress(text)) {
      config.dns_resolvers.push_back(*address);
    }
  }
  for (const auto& eni : *interfaces) {
    model::InterfaceMirrorConfig ic;
    ic.interface.id = eni.id;
    ic.interface.name = eni.device_name.value_or("");
    ic.interface.mac = packet::parseMacAddress(eni.mac);
    if (eni.private_ip) {
      ic.interface.ipv4 = packet::parseIpAddress(*eni.private_ip);
    }
    if (eni.ipv6) {
      ic.interface.ipv6 = packet::parseIpAddress(*eni.ipv6);
    }
    ic.interface.mtu = static_cast<uint32_t>(eni.mtu);
    auto sessions = store.sessionsOf(eni.id);
    if (!sessions) {
      return makeError(ErrorCode::Io, "reading the desired state failed");
    }
    for (const auto& s : *sessions) {
      auto target = store.target(s.target_id);
      auto filter = store.filter(s.filter_id);
      auto rules = store.rulesOf(s.filter_id);
      if (!target || !*target || !filter || !*filter || !rules) {
        continue;
      }
      model::Session session;
      session.id = s.id;
      session.session_number = static_cast<uint32_t>(s.session_number);
      session.virtual_network_id = static_cast<uint32_t>(s.virtual_network_id);
      if (s.packet_length) {
        session.packet_length = static_cast<uint32_t>(*s.packet_length);
      }
      session.description = s.description.value_or("");
      session.target.id = (*target)->id;
      session.target.type = (*target)->type == "network-interface"
                                ? model::TargetType::NetworkInterface
                                : model::TargetType::NetworkLoadBalancer;
      if ((*target)->network_interface_id) {
        auto target_eni = store.networkInterface(*(*target)->network_interface_id);
        if (target_eni && *target_eni && (*target_eni)->private_ip) {
          if (auto address = packet::parseIpAddress(*(*target_eni)->private_ip)) {
            session.target.addresses.push_back(*address);
          }
          session.target.mtu = static_cast<uint32_t>((*target_eni)->mtu);
        }
      }
      if ((*target)->network_load_balancer_arn) {
        auto members = store.loadBalancerMembers(*(*target)->network_load_balancer_arn);
        uint32_t mtu = 0;
        for (const auto& member : members ? *members : std::vector<std::string>{}) {
          auto m = store.networkInterface(member);
          if (!m || !*m || !(*m)->private_ip || !(*m)->attached || !healthy(member)) {
            continue;
          }
          if (auto address = packet::parseIpAddress(*(*m)->private_ip)) {
            session.target.addresses.push_back(*address);
            const auto member_mtu = static_cast<uint32_t>((*m)->mtu);
            mtu = mtu == 0 ? member_mtu : std::min(mtu, member_mtu);
          }
        }
        if (mtu != 0) {
          session.target.mtu = mtu;  // every member must take every copy
        }
      }
      if (session.target.addresses.empty()) {
        continue;  // nowhere to send copies yet
      }
      session.filter.id = (*filter)->id;
      session.filter.amazon_dns = (*filter)->amazon_dns;
      for (const auto& r : *rules) {
        auto rule = toModelRule(r);
        (rule.direction == model::TrafficDirection::Ingress ? session.filter.ingress_rules
                                                            : session.filter.egress_rules)
            .push_back(std::move(rule));
      }
      ic.sessions.push_back(std::move(session));
    }
    config.interfaces.push_back(std::move(ic));
  }
  return config;
}

Result<std::string> createAgentToken(store::MirrorStore& store) {
  const std::string token = "tma-" + secureRandomHex(40);
  if (auto r = store.insertAgentToken(api::sha256Hex(token)); !r) {
    return std::unexpected(r.error());
  }
  return token;
}

namespace {

constexpr std::chrono::milliseconds kMinTickGap{10};

}  // namespace

AgentChannel::AgentChannel(api::TrafficMirrorApi& api, AgentChannelOptions options)
    : api_(api), options_(options) {
  hosts_ = registeredAgents();
  // A commit (here, or on another replica of a PostgreSQL store) wakes the ticker at once:
  // the long-polls it concerns are answered without waiting for the next tick.
  api_.store().onCommitted([this] {
    {
      std::lock_guard lock(stop_mutex_);
      committed_ = true;
    }
    stop_cv_.notify_all();
  });
  ticker_ = std::thread([this] {
    auto next_health_check = std::chrono::steady_clock::now() + options_.health_check_interval;
    std::unique_lock lock(stop_mutex_);
    auto last_pass = std::chrono::steady_clock::now();
    for (;;) {
      // One pass per poll interval, or sooner after a commit; but not more often than every
      // kMinTickGap, however fast commits come (each pass reads the store).
      stop_cv_.wait_until(lock, last_pass + kMinTickGap, [this] { return stopping_; });
      stop_cv_.wait_until(lock, last_pass + options_.poll_interval,
                          [this] { return stopping_ || committed_; });
      if (stopping_) {
        break;
      }
      committed_ = false;
      last_pass = std::chrono::steady_clock::now();
      lock.unlock();
      if (std::chrono::steady_clock::now() >= next_health_check) {
        hosts_ = registeredAgents();
        checkMemberHealth();
        next_health_check = std::chrono::steady_clock::now() + options_.health_check_interval;
      }
      answerDueWaiters();
      lock.lock();
    }
  });
}

AgentChannel::~AgentChannel() {
  api_.store().onCommitted(nullptr);
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  ticker_.join();
}

std::size_t AgentChannel::parkedLongPolls() const {
  std::lock_guard lock(waiters_mutex_);
  return waiters_.size();
}

std::chrono::milliseconds AgentChannel::reportInterval() const {
  // The flag allows 0.01 and up; the floor here only guards a division by zero.
  const double spread_ms = static_cast<double>(hosts_.load()) * 1000.0 /
                           std::max(options_.fleet_reports_per_second, 0.01);
  return std::clamp(std::chrono::milliseconds(static_cast<int64_t>(spread_ms)),
                    std::chrono::milliseconds(1000), options_.max_report_interval);
}

bool AgentChannel::memberHealthy(const std::string& network_interface_id) const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(health_mutex_);
  const auto it = member_seen_.find(network_interface_id);
  if (it == member_seen_.end()) {
    // Not heard of since this server started: give it one window to report.
    return now - started_ < options_.member_health_window;
  }
  return now - it->second < options_.member_health_window;
}

// When the set of healthy members changes, agents must re-resolve load-balancer targets:
// bump the revision their long-polls wait on.
void AgentChannel::checkMemberHealth() {
  auto members =
      api_.store().read([](store::MirrorStore& s) { return s.allLoadBalancerMembers(); });
  if (!members) {
    return;
  }
  std::vector<std::string> healthy;
  for (const auto& [arn, eni] : *members) {
    if (memberHealthy(eni)) {
      healthy.push_back(arn + " " + eni);
    }
  }
  std::sort(healthy.begin(), healthy.end());
  if (healthy == healthy_members_) {
    return;
  }
  // The hosts mirroring to a load balancer whose healthy members changed.
  std::vector<std::string> changed;
  std::set_symmetric_difference(healthy.begin(), healthy.end(), healthy_members_.begin(),
                                healthy_members_.end(), std::back_inserter(changed));
  std::set<std::string> balancers;
  for (const std::string& member : changed) {
    balancers.insert(member.substr(0, member.find(' ')));
  }
  auto marked = api_.store().commitGrouped([&](store::MirrorStore& s) -> Result<void> {
    std::vector<std::string> affected;
    for (const std::string& arn : balancers) {
      auto hosts = s.hostsAffectedBy(arn);
      if (!hosts) {
        return std::unexpected(hosts.error());
      }
      affected.insert(affected.end(), hosts->begin(), hosts->end());
    }
    auto transaction = s.transaction();
    if (!transaction) {
      return std::unexpected(transaction.error());
    }
    if (auto r = s.bumpRevision(); !r) {
      return r;
    }
    if (auto r = s.markHostsChanged(affected); !r) {
      return r;
    }
    return transaction->commit();
  });
  if (marked && *marked) {
    healthy_members_ = std::move(healthy);  // else tried again at the next check
  }
}

void AgentChannel::handle(const api::HttpRequestView& request, server::Respond respond) {
  if (auto refused = authenticate(request)) {
    respond(std::move(*refused));
    return;
  }
  std::string_view path = request.path;
  if (path == "/agent/v1/register" && request.method == "POST") {
    respond(registerHost(request));
  } else if (path == "/agent/v1/desired-state" &&
             (request.method == "GET" || request.method == "POST")) {
    desiredState(request, std::move(respond));
  } else if (path == "/agent/v1/counters" && request.method == "POST") {
    respond(counters(request));
  } else if (path == "/agent/v1/collector-sessions" && request.method == "GET") {
    respond(collectorSessions(request));
  } else {
    respond(jsonError(404, "NotFound", "no such agent endpoint"));
  }
}

namespace {

// The SHA-256 (hex) of the request's bearer token, as the store keeps tokens; nullopt when the
// request carries none.
std::optional<std::string> bearerDigest(const api::HttpRequestView& request) {
  const auto auth = request.headers.find("authorization");
  if (auth == request.headers.end() || !auth->second.starts_with("Bearer ")) {
    return std::nullopt;
  }
  return api::sha256Hex(auth->second.substr(7));
}

}  // namespace

bool AgentChannel::knownToken(const api::HttpRequestView& request) const {
  const auto digest = bearerDigest(request);
  std::lock_guard lock(tokens_mutex_);
  return digest && known_tokens_.contains(*digest);
}

std::optional<api::HttpResponse> AgentChannel::authenticate(const api::HttpRequestView& request) {
  const auto bearer = bearerDigest(request);
  if (!bearer) {
    return jsonError(401, "AuthFailure", "an agent token is required (Authorization: Bearer)");
  }
  const std::string& digest = *bearer;
  {
    std::lock_guard lock(tokens_mutex_);
    if (known_tokens_.contains(digest)) {
      return std::nullopt;
    }
  }
  // Not seen yet: `tmirror server --create-agent-token` may have added it since.
  auto known = api_.store().read([&](store::MirrorStore& s) { return s.hasAgentToken(digest); });
  if (!known) {
    return storeError(known.error());  // not a verdict on the token
  }
  if (!*known) {
    return jsonError(401, "AuthFailure", "the agent token is not valid");
  }
  std::lock_guard lock(tokens_mutex_);
  known_tokens_.insert(digest);
  return std::nullopt;
}

api::HttpResponse AgentChannel::registerHost(const api::HttpRequestView& request) {
  auto parsed = model::parseRegisterRequest(request.body);
  if (!parsed) {
    return jsonError(400, "InvalidParameterValue", parsed.error().message);
  }
  const model::RegisterRequest& body = *parsed;
  const std::string& host_key = body.host_key;
  const std::string& hostname = body.hostname;
  // A collector registers its receiving interface as a would-be target; on a host that also
  // runs an agent the same NIC is then known twice, so the description says which is which.
  const std::string role_note = body.role == model::HostRole::Collector
                                    ? " (tmirror collector: receives VXLAN, a target)"
                                    : "";
  std::string resolvers;
  for (const auto& r : body.dns_resolvers) {
    resolvers += (resolvers.empty() ? "" : ",") + packet::formatIpAddress(r);
  }
  std::string endpoints;
  for (const auto& e : body.control_endpoints) {
    endpoints += (endpoints.empty() ? "" : ",") + formatEndpoint(e);
  }
  const std::optional<std::string>& load_balancer = body.load_balancer_arn;
  const std::vector<model::ReportedInterface>& reported = body.interfaces;

  auto registered = api_.store().commitGrouped([&](store::MirrorStore& s) -> api::HttpResponse {
    auto transaction = s.transaction();
    if (!transaction) {
      return storeError(transaction.error());
    }
    // An early return drops the transaction, which rolls it back.
    auto fail = [&](const Error& e) { return storeError(e); };
    auto existing = s.instanceByHostKey(host_key);
    if (!existing) {
      return fail(existing.error());
    }
    store::InstanceRecord instance = existing->value_or(store::InstanceRecord{});
    const bool new_host = instance.id.empty();
    if (new_host) {
      instance.id = api::newResourceId("i");
      instance.host_key = host_key;
    }
    auto known = s.interfacesOf(instance.id);
    if (!known) {
      return fail(known.error());
    }
    if (auto clash = liveHostWithKey(*known, reported)) {
      return jsonError(409, "DuplicateHostKey",
                       "Host key of " + (hostname.empty() ? std::string("this host") : hostname) +
                           " is in use by a live host, " + instance.id + " (" + *clash +
                           "), that reports interfaces this one does not have: two hosts share "
                           "one state directory (copied?). Give each agent and collector its "
                           "own --state-dir, or delete identity.json in the copy. If the other "
                           "host has stopped, this one is accepted once it has been silent "
                           "for " +
                           std::to_string(duplicateWindow().count() / 1000) + " s.");
    }
    instance.hostname = hostname;
    instance.dns_resolvers = resolvers;
    instance.control_endpoints = endpoints;
    if (auto r = s.upsertInstance(instance); !r) {
      return fail(r.error());
    }
    // Interfaces the host no longer has stay known (ids, sessions) but are detached.
    for (auto k : *known) {
      const bool still = std::any_of(reported.begin(), reported.end(), [&](const auto& r) {
        return packet::formatMacAddress(r.mac) == k.mac;
      });
      if (!still && k.attached) {
        k.attached = false;
        if (auto written = s.updateNetworkInterface(k); !written) {
          return fail(written.error());
        }
      }
    }
    model::RegisterResponse answer;
    answer.instance_id = instance.id;
    for (const auto& r : reported) {
      const std::string mac = packet::formatMacAddress(r.mac);
      // An interface keeps its id across restarts: it is known by host and MAC.
      auto it =
          std::find_if(known->begin(), known->end(), [&](const auto& k) { return k.mac == mac; });
      store::NetworkInterfaceRecord eni;
      if (it != known->end()) {
        eni = *it;
      } else {
        eni.id = api::newResourceId("eni");
        eni.subnet_id = "subnet-00000000";
        eni.mac = mac;
        eni.instance_id = instance.id;
        eni.description = r.name + " on " + (hostname.empty() ? instance.id : hostname) + role_note;
      }
      eni.private_ip =
          r.ipv4 ? std::optional(packet::formatIpAddress(*r.ipv4)) : std::optional<std::string>();
      eni.ipv6 =
          r.ipv6 ? std::optional(packet::formatIpAddress(*r.ipv6)) : std::optional<std::string>();
      eni.mtu = r.mtu;
      eni.device_name = r.name;
      eni.attached = true;
      auto written =
          it != known->end() ? s.updateNetworkInterface(eni) : s.insertNetworkInterface(eni);
      if (!written) {
        return fail(written.error());
      }
      if (auto member = s.setLoadBalancerMembership(eni.id, load_balancer); !member) {
        return fail(member.error());
      }
      {
        std::lock_guard lock(health_mutex_);
        interface_seen_[eni.id] = std::chrono::steady_clock::now();
        if (load_balancer) {
          member_seen_[eni.id] = std::chrono::steady_clock::now();
        }
      }
      answer.interfaces.push_back({r.name, r.mac, eni.id});
    }
    // This host, the hosts mirroring to its interfaces (their addresses may have changed), and
    // those of its load balancer (the members are the addresses).
    std::vector<std::string> affected;
    std::vector<std::string> changed{instance.id};
    for (const auto& item : answer.interfaces) {
      changed.push_back(item.network_interface_id);
    }
    if (load_balancer) {
      changed.push_back(*load_balancer);
    }
    for (const std::string& resource : changed) {
      auto hosts = s.hostsAffectedBy(resource);
      if (!hosts) {
        return fail(hosts.error());
      }
      affected.insert(affected.end(), hosts->begin(), hosts->end());
    }
    if (auto r = s.bumpRevision(); !r) {
      return fail(r.error());
    }
    if (auto r = s.markHostsChanged(affected); !r) {
      return fail(r.error());
    }
    if (auto r = s.appendAudit({"agent:" + instance.id, "RegisterAgent", instance.id, "ok",
                                newUuid4(), request.remote_address});
        !r) {
      return fail(r.error());
    }
    if (auto r = transaction->commit(); !r) {
      return fail(r.error());
    }
    answer.revision = static_cast<uint64_t>(s.revision().value_or(0));
    if (new_host) {
      // Counted at once (the health check recounts): the pace a fleet registering together
      // is told must already include it.
      hosts_.fetch_add(1);
    }
    answer.report_interval = reportInterval();
    return jsonResponse(200, model::registerResponseToJson(answer));
  });
  if (!registered) {
    // Lost with its commit group: the agent registers again.
    return jsonError(503, "ServiceUnavailable", registered.error().message);
  }
  return std::move(*registered);
}

AgentChannel::PollRequest AgentChannel::pollRequest(const api::HttpRequestView& request) const {
  PollRequest poll;
  poll.instance_id = queryValue(request.query, "instance-id");
  poll.have = toInt(queryValue(request.query, "revision")).value_or(-1);
  const auto wait_s = toInt(queryValue(request.query, "wait")).value_or(0);
  poll.wait = std::chrono::seconds(std::clamp<int64_t>(wait_s, 0, options_.max_wait.count()));
  // Cut by up to a tenth at random, so that agents that all polled at once do not all come
  // back at once.
  poll.wait -=
      std::chrono::milliseconds(jitterBetween(0, static_cast<uint64_t>(poll.wait.count() / 10)));
  return poll;
}

int64_t AgentChannel::noteRevisionLocked(const std::string& instance_id, int64_t revision) {
  auto [it, inserted] = revisions_.try_emplace(instance_id, revision);
  if (!inserted && it->second < revision) {
    it->second = revision;
  }
  return it->second;
}

bool AgentChannel::parkLocked(const PollRequest& poll, server::Respond& respond) {
  const auto known = revisions_.find(poll.instance_id);
  if (known == revisions_.end() || known->second > poll.have || poll.wait.count() <= 0 ||
      waiters_.size() >= options_.max_waiters) {
    return false;
  }
  // Parked without a thread until the ticker raises this host's revision past the agent's,
  // or the wait ends.
  const uint64_t ticket = ++next_ticket_;
  const auto deadline = std::chrono::steady_clock::now() + poll.wait;
  waiters_.emplace(poll.instance_id,
                   Waiter{ticket, poll.have, deadline, std::exchange(respond, nullptr)});
  deadlines_.emplace(deadline, std::make_pair(poll.instance_id, ticket));
  return true;
}

bool AgentChannel::handleInline(const api::HttpRequestView& request, server::Respond& respond) {
  if (!knownToken(request)) {
    return false;  // a first request, or a refusal: the worker path reads the store
  }
  if (request.path == "/agent/v1/counters" && request.method == "POST") {
    std::exchange(respond, nullptr)(counters(request));
    return true;
  }
  if (request.path == "/agent/v1/desired-state" &&
      (request.method == "GET" || request.method == "POST")) {
    const PollRequest poll = pollRequest(request);
    if (poll.instance_id.empty()) {
      return false;
    }
    std::optional<model::CountersReport> report;
    if (!request.body.empty()) {
      auto parsed = model::parseCountersReport(request.body);
      if (!parsed) {
        return false;  // refused on the worker, with the reason
      }
      report = std::move(*parsed);
    }
    {
      std::lock_guard lock(waiters_mutex_);
      if (!parkLocked(poll, respond)) {
        return false;  // the worker takes it all, the report included
      }
    }
    if (report) {
      reports_on_poll_.fetch_add(1, std::memory_order_relaxed);
      applyCounters(std::move(*report));
    }
    return true;
  }
  return false;
}

void AgentChannel::desiredState(const api::HttpRequestView& request, server::Respond respond) {
  const PollRequest poll = pollRequest(request);
  if (poll.instance_id.empty()) {
    respond(jsonError(400, "MissingParameter", "instance-id is required"));
    return;
  }
  if (!request.body.empty()) {
    // The host's counters report, riding its poll.
    auto report = model::parseCountersReport(request.body);
    if (!report) {
      respond(jsonError(400, "InvalidParameterValue", report.error().message));
      return;
    }
    reports_on_poll_.fetch_add(1, std::memory_order_relaxed);
    applyCounters(std::move(*report));
  }
  auto revision =
      api_.store().read([&](store::MirrorStore& s) { return s.hostRevision(poll.instance_id); });
  if (!revision) {
    respond(storeError(revision.error()));
    return;
  }
  bool full = false;
  if (*revision) {
    std::lock_guard lock(waiters_mutex_);
    // A change the ticker saw after this read is in the known revision already, and one it
    // has not seen yet it will answer: no change can slip between the read and the parking.
    const int64_t known = noteRevisionLocked(poll.instance_id, **revision);
    if (parkLocked(poll, respond)) {
      return;
    }
    full = known <= poll.have && poll.wait.count() > 0;
  }
  if (full) {
    // An unchanged answer now would bring the agent straight back; a refusal makes it back
    // off.
    respond(jsonError(503, "ServiceUnavailable", "too many agents are waiting; retry later"));
    return;
  }
  respond(desiredStateNow(poll.instance_id));
}

api::HttpResponse AgentChannel::desiredStateNow(const std::string& instance_id) {
  return api_.store().read([&](store::MirrorStore& s) {
    auto config = resolveDesiredState(
        s, instance_id, [this](const std::string& eni) { return memberHealthy(eni); });
    if (!config) {
      return config.error().code == ErrorCode::NotFound
                 ? jsonError(404, "InvalidInstanceID.NotFound", config.error().message)
                 : storeError(config.error());
    }
    return withReportInterval(jsonResponse(200, model::hostMirrorConfigToJson(*config)));
  });
}

api::HttpResponse AgentChannel::interfaceDesiredState(const api::HttpRequestView& request) {
  const std::string eni = queryValue(request.query, "NetworkInterfaceId");
  if (eni.empty()) {
    return jsonError(400, "MissingParameter",
                     "The request must contain the parameter NetworkInterfaceId");
  }
  const auto problems = problemSnapshot();
  return api_.store().read([&](store::MirrorStore& s) -> api::HttpResponse {
    auto record = s.networkInterface(eni);
    if (!record) {
      return storeError(record.error());
    }
    if (!*record) {
      return jsonError(400, "InvalidNetworkInterfaceID.NotFound",
                       "The networkInterface ID '" + eni + "' does not exist");
    }
    const auto& instance_id = (*record)->instance_id;
    if (!instance_id) {
      return jsonError(400, "IncorrectState",
                       "The network interface " + eni +
                           " is not on a host that runs a tmirror agent: nothing mirrors its "
                           "traffic");
    }
    auto instance = s.instance(*instance_id);
    auto config = resolveDesiredState(
        s, *instance_id, [this](const std::string& member) { return memberHealthy(member); });
    if (!instance || !config) {
      return storeError(!instance ? instance.error() : config.error());
    }
    // What the agent adds to the state itself: its connections to its servers.
    for (const auto& text : splitCommas(*instance ? (**instance).control_endpoints : "")) {
      if (auto endpoint = parseEndpoint(text)) {
        config->control_endpoints.push_back(*endpoint);
      }
    }
    nlohmann::json body = {
        {"NetworkInterfaceId", eni},
        {"InstanceId", *instance_id},
        {"Hostname", *instance ? (**instance).hostname : ""},
        {"Attached", (*record)->attached},
        {"DesiredState", nlohmann::json::parse(model::hostMirrorConfigToJson(*config))},
        {"Problems", nlohmann::json::array()}};
    if (const auto reported = problems.find(*instance_id); reported != problems.end()) {
      for (const auto& [resource, reason] : reported->second) {
        body["Problems"].push_back({{"ResourceId", resource}, {"Reason", reason}});
      }
    }
    return jsonResponse(200, body.dump(2) + "\n");
  });
}

void AgentChannel::answerDueWaiters() {
  // Hosts whose revision moved since the last tick: one query, however many agents wait.
  std::map<std::string, int64_t> changed;
  api_.store().read([&](store::MirrorStore& s) {
    const auto revision = s.revision();
    if (revision && *revision != seen_revision_) {
      if (const auto hosts = s.hostsChangedAfter(seen_revision_)) {
        changed.insert(hosts->begin(), hosts->end());
        seen_revision_ = *revision;
      }
    }
    return 0;
  });
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, Waiter>> due;  // the host's state moved on
  std::vector<Waiter> unchanged;                    // the wait ended, nothing changed
  {
    // Only the changed hosts' waiters and the expired deadlines are looked at: a tick costs
    // what it answers, not the number of agents waiting.
    std::lock_guard lock(waiters_mutex_);
    for (const auto& [instance_id, revision] : changed) {
      noteRevisionLocked(instance_id, revision);
      auto [it, end] = waiters_.equal_range(instance_id);
      while (it != end) {
        if (revision > it->second.have) {
          due.emplace_back(it->first, std::move(it->second));
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const auto& [instance_id, ticket] = deadlines_.begin()->second;
      auto [it, end] = waiters_.equal_range(instance_id);
      for (; it != end; ++it) {
        if (it->second.ticket == ticket) {
          unchanged.push_back(std::move(it->second));
          waiters_.erase(it);
          break;
        }
      }
      deadlines_.erase(deadlines_.begin());  // answered already if its waiter is gone
    }
  }
  for (auto& waiter : unchanged) {
    // The agent holds the current revision (else it would not have been parked, nor left
    // here by a tick): "no content" costs neither the store nor the agent anything. Not 304:
    // clients that read a 304 without a length to the end of the connection (cpp-httplib
    // 0.11, the agent's) would wait for the server to close it.
    api::HttpResponse nothing_new;
    nothing_new.status = 204;
    nothing_new.content_type.clear();
    waiter.respond(withReportInterval(std::move(nothing_new)));
  }
  for (auto& [instance_id, waiter] : due) {
    try {
      waiter.respond(desiredStateNow(instance_id));
    } catch (...) {
      // The ticker must outlive one bad answer (out of memory): the agent retries.
    }
  }
}

api::HttpResponse AgentChannel::counters(const api::HttpRequestView& request) {
  auto report = model::parseCountersReport(request.body);
  if (!report) {
    return jsonError(400, "InvalidParameterValue", report.error().message);
  }
  reports_pushed_.fetch_add(1, std::memory_order_relaxed);
  const std::size_t accepted = applyCounters(std::move(*report));
  return jsonResponse(200, model::countersAnswerToJson({accepted, reportInterval()}));
}

AgentChannel::ReportsReceived AgentChannel::reportsReceived() const {
  return {reports_pushed_.load(std::memory_order_relaxed),
          reports_on_poll_.load(std::memory_order_relaxed)};
}

std::size_t AgentChannel::applyCounters(model::CountersReport report) {
  if (options_.on_counters) {
    options_.on_counters(report);
  }
  // Every number of every item, keyed by the item's own resource id (a session's item also
  // names its source interface, which is not its key).
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> update;
  std::vector<std::string> healthy;  // collectors' interfaces that say they are healthy
  // A collector's (no instance id) session items are what it received: under its interface's
  // id, not the session's, which holds what the session's agent sent.
  const bool collector = report.instance_id.empty();
  const std::string collector_id =
      collector && !report.interfaces.empty() ? report.interfaces.front().id : std::string();
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> received;
  std::size_t taken = 0;
  for (auto* items : {&report.interfaces, &report.sessions}) {
    const bool receipts = collector && items == &report.sessions;
    if (receipts && collector_id.empty()) {
      continue;  // no interface to tell this collector's receipts from another's
    }
    for (auto& item : *items) {
      std::vector<std::pair<std::string, double>> values;
      values.reserve(item.counts.size() + item.values.size());
      for (const auto& [name, value] : item.counts) {
        values.emplace_back(name, static_cast<double>(value));
      }
      for (const auto& [name, value] : item.values) {
        values.emplace_back(name, value);
      }
      for (const auto& [name, value] : values) {
        if (name == "CollectorHealthy" && value == 1.0) {
          healthy.push_back(item.id);
        }
      }
      taken += values.size();
      (receipts ? received : update).emplace_back(std::move(item.id), std::move(values));
    }
  }
  // What the agent could not apply, with its reasons: replaces what it said before.
  std::vector<std::pair<std::string, std::string>> problems;
  for (const auto& p : report.problems.value_or(std::vector<model::Problem>{})) {
    problems.emplace_back(p.resource_id, p.reason);
  }
  {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(health_mutex_);
    for (const std::string& id : healthy) {
      member_seen_[id] = now;
    }
    for (const auto& item : report.interfaces) {
      if (auto it = interface_seen_.find(item.id); it != interface_seen_.end()) {
        it->second = now;  // only registered ones: a report cannot grow the map
      }
    }
  }
  std::lock_guard lock(counters_mutex_);
  for (auto& [id, values] : update) {
    counters_.insert_or_assign(std::move(id), std::move(values));
  }
  if (!report.instance_id.empty()) {
    problems_[report.instance_id] = std::move(problems);
  }
  if (!collector_id.empty() && received.empty()) {
    collector_sessions_.erase(collector_id);
  } else if (!collector_id.empty()) {
    collector_sessions_.insert_or_assign(collector_id, std::move(received));
  }
  return taken;
}

std::chrono::milliseconds AgentChannel::duplicateWindow() const {
  // Three reports of the slowest: a collector reports every 10 s by default, a large fleet's
  // agents up to every minute.
  return std::max<std::chrono::milliseconds>(std::chrono::seconds(30), 3 * reportInterval());
}

std::optional<std::string> AgentChannel::liveHostWithKey(
    const std::vector<store::NetworkInterfaceRecord>& known,
    const std::vector<model::ReportedInterface>& reported) const {
  // The same host again (a restart, a re-registration) reports at least one interface it had;
  // a copy of its state directory on another host reports none of them.
  std::vector<const store::NetworkInterfaceRecord*> attached;
  for (const auto& k : known) {
    if (!k.attached) {
      continue;
    }
    const bool shared = std::any_of(reported.begin(), reported.end(), [&](const auto& r) {
      return packet::formatMacAddress(r.mac) == k.mac;
    });
    if (shared) {
      return std::nullopt;
    }
    attached.push_back(&k);
  }
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(health_mutex_);
  for (const auto* k : attached) {
    const auto it = interface_seen_.find(k->id);
    if (it != interface_seen_.end() && now - it->second < duplicateWindow()) {
      return k->id + " " + k->mac + (k->private_ip ? " " + *k->private_ip : "");
    }
  }
  return std::nullopt;
}

api::HttpResponse AgentChannel::withReportInterval(api::HttpResponse answer) const {
  answer.headers.emplace_back(model::kReportIntervalHeader,
                              std::to_string(reportInterval().count()));
  return answer;
}

std::map<std::pair<std::string, std::string>, double> AgentChannel::counterSnapshot() const {
  std::map<std::pair<std::string, std::string>, double> out;
  std::lock_guard lock(counters_mutex_);
  for (const auto& [id, values] : counters_) {
    for (const auto& [name, value] : values) {
      out[{id, name}] = value;
    }
  }
  return out;
}

std::map<std::tuple<std::string, std::string, std::string>, double>
AgentChannel::collectorSessionSnapshot() const {
  std::map<std::tuple<std::string, std::string, std::string>, double> out;
  std::lock_guard lock(counters_mutex_);
  for (const auto& [collector_id, sessions] : collector_sessions_) {
    for (const auto& [session_id, values] : sessions) {
      for (const auto& [name, value] : values) {
        out[{session_id, collector_id, name}] = value;
      }
    }
  }
  return out;
}

// The sessions whose copies a collector's interface receives (as an interface target, or as a
// member of a load-balancer target): what the collector names its files and interfaces after,
// and the source MAC that tells the direction of each copy.
api::HttpResponse AgentChannel::collectorSessions(const api::HttpRequestView& request) {
  const std::string eni = queryValue(request.query, "network-interface-id");
  if (eni.empty()) {
    return jsonError(400, "MissingParameter", "network-interface-id is required");
  }
  return api_.store().read([&](store::MirrorStore& s) -> api::HttpResponse {
    auto targets = s.targets();
    auto sessions = s.sessions();
    auto members = s.allLoadBalancerMembers();
    if (!targets || !sessions || !members) {
      return storeError(!targets    ? targets.error()
                        : !sessions ? sessions.error()
                                    : members.error());
    }
    std::set<std::string> mine;
    for (const auto& t : *targets) {
      const bool direct = t.network_interface_id && *t.network_interface_id == eni;
      const bool member = t.network_load_balancer_arn &&
                          std::any_of(members->begin(), members->end(), [&](const auto& m) {
                            return m.first == *t.network_load_balancer_arn && m.second == eni;
                          });
      if (direct || member) {
        mine.insert(t.id);
      }
    }
    std::vector<model::CollectorSession> out;
    for (const auto& session : *sessions) {
      if (!mine.contains(session.target_id)) {
        continue;
      }
      model::CollectorSession item;
      item.session_id = session.id;
      item.virtual_network_id = static_cast<uint32_t>(session.virtual_network_id);
      item.network_interface_id = session.network_interface_id;
      if (auto source = s.networkInterface(session.network_interface_id); source && *source) {
        item.mac = packet::parseMacAddress((*source)->mac);
        if ((*source)->private_ip) {
          item.private_ip = packet::parseIpAddress(*(*source)->private_ip);
        }
      }
      out.push_back(std::move(item));
    }
    return jsonResponse(200, model::collectorSessionsToJson(out));
  });
}

std::map<std::string, std::vector<std::pair<std::string, std::string>>>
AgentChannel::problemSnapshot() const {
  std::lock_guard lock(counters_mutex_);
  return problems_;
}

int64_t AgentChannel::registeredAgents() {
  return api_.store().read(
      [](store::MirrorStore& s) -> int64_t { return s.count("instances").value_or(0); });
}

}  // namespace tmirror::channel
