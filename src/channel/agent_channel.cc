#include "channel/agent_channel.h"

#include <algorithm>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/action_context.h"
#include "api/sigv4.h"
#include "common/random.h"
#include "model/mirror_config_json.h"

namespace tmirror::channel {

namespace {

using nlohmann::json;

api::HttpResponse jsonResponse(int status, const json& body) {
  api::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  return r;
}

api::HttpResponse jsonError(int status, std::string_view code, std::string_view message) {
  return jsonResponse(status, json{{"Error", {{"Code", code}, {"Message", message}}}});
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
  auto revision = store.revision();
  auto interfaces = store.interfacesOf(instance_id);
  auto sessions = store.sessions();
  if (!revision || !interfaces || !sessions) {
    return makeError(ErrorCode::Io, "reading the desired state failed");
  }
  model::HostMirrorConfig config;
  config.revision = static_cast<uint64_t>(*revision);
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
    for (const auto& s : *sessions) {
      if (s.network_interface_id != eni.id) {
        continue;
      }
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

AgentChannel::AgentChannel(api::TrafficMirrorApi& api, AgentChannelOptions options)
    : api_(api), options_(options) {
  health_checker_ = std::thread([this] {
    std::unique_lock lock(stop_mutex_);
    while (!stop_cv_.wait_for(lock, options_.health_check_interval, [this] { return stopping_; })) {
      lock.unlock();
      checkMemberHealth();
      lock.lock();
    }
  });
}

AgentChannel::~AgentChannel() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  health_checker_.join();
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
  api_.withStore([&](store::MirrorStore& s) -> int {
    auto members = s.allLoadBalancerMembers();
    if (!members) {
      return 0;
    }
    std::vector<std::string> healthy;
    for (const auto& [arn, eni] : *members) {
      if (memberHealthy(eni)) {
        healthy.push_back(arn + " " + eni);
      }
    }
    if (healthy != healthy_members_) {
      healthy_members_ = std::move(healthy);
      (void)s.bumpRevision();
    }
    return 0;
  });
}

api::HttpResponse AgentChannel::handle(const api::HttpRequestView& request) {
  const auto auth = request.headers.find("authorization");
  if (auth == request.headers.end() || !auth->second.starts_with("Bearer ")) {
    return jsonError(401, "AuthFailure", "an agent token is required (Authorization: Bearer)");
  }
  const std::string digest = api::sha256Hex(auth->second.substr(7));
  const bool known = api_.withStore([&](store::MirrorStore& s) {
    auto found = s.hasAgentToken(digest);
    return found && *found;
  });
  if (!known) {
    return jsonError(401, "AuthFailure", "the agent token is not valid");
  }
  std::string_view path = request.path;
  if (path == "/agent/v1/register" && request.method == "POST") {
    return registerHost(request);
  }
  if (path == "/agent/v1/desired-state" && request.method == "GET") {
    return desiredState(request);
  }
  if (path == "/agent/v1/counters" && request.method == "POST") {
    return counters(request);
  }
  if (path == "/agent/v1/collector-sessions" && request.method == "GET") {
    return collectorSessions(request);
  }
  return jsonError(404, "NotFound", "no such agent endpoint");
}

api::HttpResponse AgentChannel::registerHost(const api::HttpRequestView& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return jsonError(400, "InvalidParameterValue", "the body is not a JSON object");
  }
  const std::string host_key = body.value("HostKey", "");
  const std::string hostname = body.value("Hostname", "");
  if (host_key.empty() || host_key.size() > 128 || hostname.size() > 255) {
    return jsonError(400, "InvalidParameterValue", "HostKey (1-128 chars) is required");
  }
  // A collector registers its receiving interface as a would-be target; on a host that also
  // runs an agent the same NIC is then known twice, so the description says which is which.
  const json role = body.value("Role", json("agent"));
  if (!role.is_string() || (role != "agent" && role != "collector")) {
    return jsonError(400, "InvalidParameterValue", "Role must be agent or collector");
  }
  const std::string role_note =
      role == "collector" ? " (tmirror collector: receives VXLAN, a target)" : "";
  std::string resolvers;
  if (body.contains("DnsResolvers") && body["DnsResolvers"].is_array()) {
    for (const auto& r : body["DnsResolvers"]) {
      if (!r.is_string() || !packet::parseIpAddress(r.get<std::string>())) {
        return jsonError(400, "InvalidParameterValue", "DnsResolvers: not an IP address");
      }
      resolvers += (resolvers.empty() ? "" : ",") + r.get<std::string>();
    }
  }

  struct Reported {
    std::string name, mac;
    std::optional<std::string> ipv4, ipv6;
    int64_t mtu = 1500;
  };

  std::vector<Reported> reported;
  // A collector that serves a network load balancer's target says which one.
  std::optional<std::string> load_balancer;
  if (body.contains("LoadBalancerArn")) {
    const json& arn = body["LoadBalancerArn"];
    if (!arn.is_string() || !arn.get<std::string>().starts_with("arn:") ||
        arn.get<std::string>().size() > 1600) {
      return jsonError(400, "InvalidParameterValue", "LoadBalancerArn must be an ARN");
    }
    load_balancer = arn.get<std::string>();
  }
  const json interfaces = body.value("Interfaces", json::array());
  if (!interfaces.is_array() || interfaces.size() > 256) {
    return jsonError(400, "InvalidParameterValue", "Interfaces must be a list of at most 256");
  }
  for (const auto& i : interfaces) {
    if (!i.is_object()) {
      return jsonError(400, "InvalidParameterValue", "Interfaces: each must be an object");
    }
    Reported r;
    r.name = i.value("Name", "");
    const auto mac = packet::parseMacAddress(i.value("MacAddress", ""));
    if (r.name.empty() || r.name.size() > 64 || !mac) {
      return jsonError(400, "InvalidParameterValue", "Interfaces: Name and MacAddress required");
    }
    r.mac = packet::formatMacAddress(*mac);
    for (auto [field, family, out] : {std::tuple{"PrivateIpAddress", packet::IpFamily::V4, &r.ipv4},
                                      std::tuple{"Ipv6Address", packet::IpFamily::V6, &r.ipv6}}) {
      if (i.contains(field)) {
        const auto address = i[field].is_string()
                                 ? packet::parseIpAddress(i[field].get<std::string>())
                                 : std::nullopt;
        if (!address || address->family != family) {
          return jsonError(400, "InvalidParameterValue", std::string("Interfaces: bad ") + field);
        }
        *out = packet::formatIpAddress(*address);
      }
    }
    const json mtu = i.value("Mtu", json(1500));
    if (!mtu.is_number_integer() || mtu.get<int64_t>() < 68 || mtu.get<int64_t>() > 65535) {
      return jsonError(400, "InvalidParameterValue", "Interfaces: Mtu must be 68-65535");
    }
    r.mtu = mtu.get<int64_t>();
    reported.push_back(std::move(r));
  }

  return api_.withStore([&](store::MirrorStore& s) -> api::HttpResponse {
    if (auto r = s.db().begin(); !r) {
      return jsonError(500, "InternalError", r.error().message);
    }
    auto fail = [&](const Error& e) {
      s.db().rollback();
      return jsonError(500, "InternalError", e.message);
    };
    auto existing = s.instanceByHostKey(host_key);
    if (!existing) {
      return fail(existing.error());
    }
    store::InstanceRecord instance = existing->value_or(store::InstanceRecord{});
    if (instance.id.empty()) {
      instance.id = api::newResourceId("i");
      instance.host_key = host_key;
    }
    instance.hostname = hostname;
    instance.dns_resolvers = resolvers;
    if (auto r = s.upsertInstance(instance); !r) {
      return fail(r.error());
    }
    auto known = s.interfacesOf(instance.id);
    if (!known) {
      return fail(known.error());
    }
    // Interfaces the host no longer has stay known (ids, sessions) but are detached.
    for (auto k : *known) {
      const bool still = std::any_of(reported.begin(), reported.end(),
                                     [&](const auto& r) { return r.mac == k.mac; });
      if (!still && k.attached) {
        k.attached = false;
        if (auto written = s.updateNetworkInterface(k); !written) {
          return fail(written.error());
        }
      }
    }
    json out_interfaces = json::array();
    for (const auto& r : reported) {
      // An interface keeps its id across restarts: it is known by host and MAC.
      auto it =
          std::find_if(known->begin(), known->end(), [&](const auto& k) { return k.mac == r.mac; });
      store::NetworkInterfaceRecord eni;
      if (it != known->end()) {
        eni = *it;
      } else {
        eni.id = api::newResourceId("eni");
        eni.subnet_id = "subnet-00000000";
        eni.mac = r.mac;
        eni.instance_id = instance.id;
        eni.description = r.name + " on " + (hostname.empty() ? instance.id : hostname) + role_note;
      }
      eni.private_ip = r.ipv4;
      eni.ipv6 = r.ipv6;
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
      if (load_balancer) {
        std::lock_guard lock(health_mutex_);
        member_seen_[eni.id] = std::chrono::steady_clock::now();
      }
      out_interfaces.push_back(
          {{"Name", r.name}, {"MacAddress", r.mac}, {"NetworkInterfaceId", eni.id}});
    }
    if (auto r = s.bumpRevision(); !r) {
      return fail(r.error());
    }
    if (auto r = s.appendAudit({"agent:" + instance.id, "RegisterAgent", instance.id, "ok",
                                newUuid4(), request.remote_address});
        !r) {
      return fail(r.error());
    }
    if (auto r = s.db().commit(); !r) {
      return fail(r.error());
    }
    auto revision = s.revision();
    return jsonResponse(200, {{"InstanceId", instance.id},
                              {"NetworkInterfaces", out_interfaces},
                              {"Revision", revision.value_or(0)}});
  });
}

api::HttpResponse AgentChannel::desiredState(const api::HttpRequestView& request) {
  const std::string instance_id = queryValue(request.query, "instance-id");
  const auto have = toInt(queryValue(request.query, "revision")).value_or(-1);
  const auto wait_s = toInt(queryValue(request.query, "wait")).value_or(0);
  if (instance_id.empty()) {
    return jsonError(400, "MissingParameter", "instance-id is required");
  }
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::min<std::chrono::seconds>(std::chrono::seconds(wait_s), options_.max_wait);
  // Long-poll: recheck the revision until it passes the agent's or the wait ends. Waiters
  // are capped so that they cannot take every server thread.
  const bool may_wait = ++waiters_ <= options_.max_waiters;
  while (true) {
    auto answer = api_.withStore([&](store::MirrorStore& s) -> std::optional<api::HttpResponse> {
      auto revision = s.revision();
      if (!revision) {
        return jsonError(500, "InternalError", revision.error().message);
      }
      if (*revision <= have && may_wait && std::chrono::steady_clock::now() < deadline) {
        return std::nullopt;
      }
      auto config = resolveDesiredState(
          s, instance_id, [this](const std::string& eni) { return memberHealthy(eni); });
      if (!config) {
        return jsonError(config.error().code == ErrorCode::NotFound ? 404 : 500,
                         config.error().code == ErrorCode::NotFound ? "InvalidInstanceID.NotFound"
                                                                    : "InternalError",
                         config.error().message);
      }
      api::HttpResponse r;
      r.content_type = "application/json";
      r.body = model::hostMirrorConfigToJson(*config);
      return r;
    });
    if (answer) {
      --waiters_;
      return *answer;
    }
    std::this_thread::sleep_for(options_.poll_interval);
  }
}

api::HttpResponse AgentChannel::counters(const api::HttpRequestView& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return jsonError(400, "InvalidParameterValue", "the body is not a JSON object");
  }
  std::map<std::pair<std::string, std::string>, double> update;
  // A session's item also names its source interface: the key is the list's own id field.
  for (const auto& [list, id_field] : {std::pair{"Interfaces", "NetworkInterfaceId"},
                                       std::pair{"Sessions", "TrafficMirrorSessionId"}}) {
    const json items = body.value(list, json::array());
    if (!items.is_array() || items.size() > 4096) {
      return jsonError(400, "InvalidParameterValue", std::string(list) + " must be a list");
    }
    for (const auto& item : items) {
      if (!item.is_object()) {
        return jsonError(400, "InvalidParameterValue", std::string(list) + ": objects only");
      }
      const std::string id = item.value(id_field, "");
      if (id.empty() || id.size() > 64) {
        return jsonError(400, "InvalidParameterValue", "each item needs its resource id");
      }
      for (const auto& [name, value] : item.items()) {
        if (value.is_number() && name.size() <= 64) {
          update[{id, name}] = value.get<double>();
        }
      }
    }
  }
  // What the agent could not apply, with its reasons: replaces what it said before.
  std::vector<std::pair<std::string, std::string>> problems;
  const json reported = body.value("Problems", json::array());
  if (!reported.is_array() || reported.size() > 1024) {
    return jsonError(400, "InvalidParameterValue", "Problems must be a list");
  }
  for (const auto& p : reported) {
    if (!p.is_object() || !p.value("ResourceId", json()).is_string() ||
        !p.value("Reason", json()).is_string()) {
      return jsonError(400, "InvalidParameterValue", "Problems: ResourceId and Reason strings");
    }
    problems.emplace_back(p["ResourceId"].get<std::string>().substr(0, 64),
                          p["Reason"].get<std::string>().substr(0, 512));
  }
  const std::string instance = body.value("InstanceId", json()).is_string()
                                   ? body["InstanceId"].get<std::string>().substr(0, 64)
                                   : std::string();
  {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(health_mutex_);
    for (const auto& [key, value] : update) {
      if (key.second == "CollectorHealthy" && value == 1.0) {
        member_seen_[key.first] = now;
      }
    }
  }
  std::lock_guard lock(counters_mutex_);
  for (auto& [key, value] : update) {
    counters_[key] = value;
  }
  if (!instance.empty()) {
    problems_[instance] = std::move(problems);
  }
  return jsonResponse(200, {{"Accepted", update.size()}});
}

std::map<std::pair<std::string, std::string>, double> AgentChannel::counterSnapshot() const {
  std::lock_guard lock(counters_mutex_);
  return counters_;
}

// The sessions whose copies a collector's interface receives (as an interface target, or as a
// member of a load-balancer target): what the collector names its files and interfaces after,
// and the source MAC that tells the direction of each copy.
api::HttpResponse AgentChannel::collectorSessions(const api::HttpRequestView& request) {
  const std::string eni = queryValue(request.query, "network-interface-id");
  if (eni.empty()) {
    return jsonError(400, "MissingParameter", "network-interface-id is required");
  }
  return api_.withStore([&](store::MirrorStore& s) -> api::HttpResponse {
    auto targets = s.targets();
    auto sessions = s.sessions();
    auto members = s.allLoadBalancerMembers();
    if (!targets || !sessions || !members) {
      return jsonError(500, "InternalError", "reading sessions failed");
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
    json out = json::array();
    for (const auto& session : *sessions) {
      if (!mine.contains(session.target_id)) {
        continue;
      }
      json item = {{"TrafficMirrorSessionId", session.id},
                   {"VirtualNetworkId", session.virtual_network_id},
                   {"NetworkInterfaceId", session.network_interface_id}};
      if (auto source = s.networkInterface(session.network_interface_id); source && *source) {
        item["MacAddress"] = (*source)->mac;
        if ((*source)->private_ip) {
          item["PrivateIpAddress"] = *(*source)->private_ip;
        }
      }
      out.push_back(std::move(item));
    }
    return jsonResponse(200, {{"Sessions", out}});
  });
}

std::map<std::string, std::vector<std::pair<std::string, std::string>>>
AgentChannel::problemSnapshot() const {
  std::lock_guard lock(counters_mutex_);
  return problems_;
}

int64_t AgentChannel::registeredAgents() {
  return api_.withStore([](store::MirrorStore& s) -> int64_t {
    auto all = s.instances();
    return all ? static_cast<int64_t>(all->size()) : 0;
  });
}

}  // namespace tmirror::channel
