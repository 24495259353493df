#include "model/agent_protocol.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace tmirror::model {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxHostKey = 128;
constexpr std::size_t kMaxHostname = 255;
constexpr std::size_t kMaxInterfaces = 256;
constexpr std::size_t kMaxControlEndpoints = 64;
constexpr std::size_t kMaxInterfaceName = 64;
constexpr std::size_t kMaxArn = 1600;
constexpr int64_t kMinMtu = 68;
constexpr int64_t kMaxMtu = 65535;
constexpr std::size_t kMaxResourceId = 64;
constexpr std::size_t kMaxCounterName = 64;
constexpr std::size_t kMaxProblems = 1024;
constexpr std::size_t kMaxReason = 512;

// Host-side text (host and interface names, error messages) need not be UTF-8, which JSON
// must be: a byte that is not becomes U+FFFD instead of an exception.
std::string toText(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::InvalidArgument, std::move(message));
}

// The document as an object; InvalidArgument otherwise (never throws).
Result<Json> parseObject(std::string_view text) {
  Json body = Json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return invalid("the body is not a JSON object");
  }
  return body;
}

std::string stringOr(const Json& object, const char* field, std::string fallback = {}) {
  const auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

const char* roleName(HostRole role) {
  return role == HostRole::Collector ? "collector" : "agent";
}

// Bounded: a broken or hostile answer must not silence a host for ever, nor make it spin.
std::chrono::milliseconds boundedReportInterval(uint64_t ms) {
  return std::chrono::milliseconds(std::clamp<uint64_t>(ms, 1000, 300000));
}

}  // namespace

// --- register ------------------------------------------------------------------------------

std::string registerRequestToJson(const RegisterRequest& request) {
  Json body = {{"HostKey", request.host_key},
               {"Hostname", request.hostname},
               {"Role", roleName(request.role)},
               {"DnsResolvers", Json::array()},
               {"Interfaces", Json::array()}};
  for (const auto& r : request.dns_resolvers) {
    body["DnsResolvers"].push_back(packet::formatIpAddress(r));
  }
  if (!request.control_endpoints.empty()) {
    Json endpoints = Json::array();
    for (const auto& e : request.control_endpoints) {
      endpoints.push_back({{"Address", packet::formatIpAddress(e.address)}, {"Port", e.port}});
    }
    body["ControlEndpoints"] = std::move(endpoints);
  }
  for (const auto& i : request.interfaces) {
    Json item = {{"Name", i.name}, {"MacAddress", packet::formatMacAddress(i.mac)}, {"Mtu", i.mtu}};
    if (i.ipv4) {
      item["PrivateIpAddress"] = packet::formatIpAddress(*i.ipv4);
    }
    if (i.ipv6) {
      item["Ipv6Address"] = packet::formatIpAddress(*i.ipv6);
    }
    body["Interfaces"].push_back(std::move(item));
  }
  if (request.load_balancer_arn) {
    body["LoadBalancerArn"] = *request.load_balancer_arn;
  }
  return toText(body);
}

Result<RegisterRequest> parseRegisterRequest(std::string_view json_text) {
  auto parsed = parseObject(json_text);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  const Json& body = *parsed;
  RegisterRequest out;
  if (const auto hostname = body.find("Hostname");
      hostname != body.end() && !hostname->is_string()) {
    return invalid("Hostname must be a string");
  }
  out.host_key = stringOr(body, "HostKey");
  out.hostname = stringOr(body, "Hostname");
  if (out.host_key.empty() || out.host_key.size() > kMaxHostKey ||
      out.hostname.size() > kMaxHostname) {
    return invalid("HostKey (1-128 chars) is required");
  }
  const Json role = body.value("Role", Json("agent"));
  if (!role.is_string() || (role != "agent" && role != "collector")) {
    return invalid("Role must be agent or collector");
  }
  out.role = role == "collector" ? HostRole::Collector : HostRole::Agent;
  if (const auto resolvers = body.find("DnsResolvers");
      resolvers != body.end() && resolvers->is_array()) {
    for (const auto& r : *resolvers) {
      const auto address =
          r.is_string() ? packet::parseIpAddress(r.get<std::string>()) : std::nullopt;
      if (!address) {
        return invalid("DnsResolvers: not an IP address");
      }
      out.dns_resolvers.push_back(*address);
    }
  }
  if (const auto endpoints = body.find("ControlEndpoints"); endpoints != body.end()) {
    if (!endpoints->is_array() || endpoints->size() > kMaxControlEndpoints) {
      return invalid("ControlEndpoints must be a list of at most 64");
    }
    for (const auto& e : *endpoints) {
      const Json address = e.is_object() ? e.value("Address", Json()) : Json();
      const Json port = e.is_object() ? e.value("Port", Json()) : Json();
      const auto ip =
          address.is_string() ? packet::parseIpAddress(address.get<std::string>()) : std::nullopt;
      if (!ip || !port.is_number_unsigned() || port.get<uint64_t>() == 0 ||
          port.get<uint64_t>() > 65535) {
        return invalid("ControlEndpoints: each needs an Address and a Port (1-65535)");
      }
      out.control_endpoints.push_back({*ip, static_cast<uint16_t>(port.get<uint64_t>())});
    }
  }
  if (const auto arn = body.find("LoadBalancerArn"); arn != body.end()) {
    if (!arn->is_string() || !arn->get<std::string>().starts_with("arn:") ||
        arn->get<std::string>().size() > kMaxArn) {
      return invalid("LoadBalancerArn must be an ARN");
    }
    out.load_balancer_arn = arn->get<std::string>();
  }
  const Json interfaces = body.value("Interfaces", Json::array());
  if (!interfaces.is_array() || interfaces.size() > kMaxInterfaces) {
    return invalid("Interfaces must be a list of at most 256");
  }
  for (const auto& i : interfaces) {
    if (!i.is_object()) {
      return invalid("Interfaces: each must be an object");
    }
    ReportedInterface r;
    r.name = stringOr(i, "Name");
    const auto mac = packet::parseMacAddress(stringOr(i, "MacAddress"));
    if (r.name.empty() || r.name.size() > kMaxInterfaceName || !mac) {
      return invalid("Interfaces: Name and MacAddress required");
    }
    r.mac = *mac;
    for (auto [field, family, slot] :
         {std::tuple{"PrivateIpAddress", packet::IpFamily::V4, &r.ipv4},
          std::tuple{"Ipv6Address", packet::IpFamily::V6, &r.ipv6}}) {
      if (const auto value = i.find(field); value != i.end()) {
        const auto address =
            value->is_string() ? packet::parseIpAddress(value->get<std::string>()) : std::nullopt;
        if (!address || address->family != family) {
          return invalid(std::string("Interfaces: bad ") + field);
        }
        *slot = *address;
      }
    }
    const Json mtu = i.value("Mtu", Json(1500));
    if (!mtu.is_number_integer() || mtu.get<int64_t>() < kMinMtu || mtu.get<int64_t>() > kMaxMtu) {
      return invalid("Interfaces: Mtu must be 68-65535");
    }
    r.mtu = static_cast<uint32_t>(mtu.get<int64_t>());
    out.interfaces.push_back(std::move(r));
  }
  return out;
}

std::string registerResponseToJson(const RegisterResponse& response) {
  Json interfaces = Json::array();
  for (const auto& i : response.interfaces) {
    interfaces.push_back({{"Name", i.name},
                          {"MacAddress", packet::formatMacAddress(i.mac)},
                          {"NetworkInterfaceId", i.network_interface_id}});
  }
  return toText(Json{{"InstanceId", response.instance_id},
                     {"NetworkInterfaces", std::move(interfaces)},
                     {"Revision", response.revision},
                     {"ReportIntervalMs", response.report_interval.count()}});
}

Result<RegisterResponse> parseRegisterResponse(std::string_view json_text) {
  auto parsed = parseObject(json_text);
  if (!parsed || !parsed->contains("InstanceId") || !(*parsed)["InstanceId"].is_string()) {
    return invalid("the server's registration answer is not understood");
  }
  const Json& body = *parsed;
  RegisterResponse out;
  out.instance_id = body["InstanceId"].get<std::string>();
  if (const auto revision = body.find("Revision");
      revision != body.end() && revision->is_number_unsigned()) {
    out.revision = revision->get<uint64_t>();
  }
  if (const auto ms = body.find("ReportIntervalMs"); ms != body.end() && ms->is_number_unsigned()) {
    out.report_interval = boundedReportInterval(ms->get<uint64_t>());
  }
  if (const auto list = body.find("NetworkInterfaces"); list != body.end() && list->is_array()) {
    for (const auto& i : *list) {
      if (!i.is_object()) {
        continue;
      }
      out.interfaces.push_back(
          {stringOr(i, "Name"),
           packet::parseMacAddress(stringOr(i, "MacAddress")).value_or(packet::MacAddress{}),
           stringOr(i, "NetworkInterfaceId")});
    }
  }
  return out;
}

// --- counters ------------------------------------------------------------------------------

namespace {

Json resourceCountersToJson(const ResourceCounters& r, const char* id_field) {
  Json item = Json::object();
  for (const auto& [name, value] : r.counts) {
    item[name] = value;
  }
  for (const auto& [name, value] : r.values) {
    item[name] = value;
  }
  for (const auto& [name, reasons] : r.by_reason) {
    Json split = Json::object();
    for (const auto& [reason, count] : reasons) {
      split[reason] = count;
    }
    item[name] = std::move(split);
  }
  for (const auto& [name, flag] : r.flags) {
    item[name] = flag;
  }
  for (const auto& [name, note] : r.notes) {
    item[name] = note;
  }
  if (!r.name.empty()) {
    item["Name"] = r.name;
  }
  if (!r.network_interface_id.empty()) {
    item["NetworkInterfaceId"] = r.network_interface_id;
  }
  item[id_field] = r.id;
  return item;
}

Result<ResourceCounters> parseResourceCounters(const Json& item, const char* list,
                                               const char* id_field) {
  if (!item.is_object()) {
    return invalid(std::string(list) + ": objects only");
  }
  ResourceCounters r;
  r.id = stringOr(item, id_field);
  if (r.id.empty() || r.id.size() > kMaxResourceId) {
    return invalid("each item needs its resource id");
  }
  for (const auto& [name, value] : item.items()) {
    if (name == id_field || name.size() > kMaxCounterName) {
      continue;
    }
    if (value.is_number_unsigned()) {
      r.counts.emplace_back(name, value.get<uint64_t>());
    } else if (value.is_number()) {
      r.values.emplace_back(name, value.get<double>());
    } else if (value.is_boolean()) {
      r.flags.emplace_back(name, value.get<bool>());
    } else if (value.is_string() && name == "Name") {
      r.name = value.get<std::string>();
    } else if (value.is_string() && name == "NetworkInterfaceId") {
      r.network_interface_id = value.get<std::string>();
    } else if (value.is_string()) {
      r.notes.emplace_back(name, value.get<std::string>());
    } else if (value.is_object()) {
      std::vector<std::pair<std::string, uint64_t>> reasons;
      for (const auto& [reason, count] : value.items()) {
        if (count.is_number_unsigned()) {
          reasons.emplace_back(reason, count.get<uint64_t>());
        }
      }
      r.by_reason.emplace_back(name, std::move(reasons));
    }
  }
  return r;
}

}  // namespace

std::string countersReportToJson(const CountersReport& report) {
  Json out = Json::object();
  if (!report.instance_id.empty()) {
    out["InstanceId"] = report.instance_id;
  }
  if (report.revision) {
    out["Revision"] = *report.revision;
  }
  out["Interfaces"] = Json::array();
  for (const auto& r : report.interfaces) {
    out["Interfaces"].push_back(resourceCountersToJson(r, "NetworkInterfaceId"));
  }
  out["Sessions"] = Json::array();
  for (const auto& r : report.sessions) {
    out["Sessions"].push_back(resourceCountersToJson(r, "TrafficMirrorSessionId"));
  }
  if (report.problems) {
    out["Problems"] = Json::array();
    for (const auto& p : *report.problems) {
      out["Problems"].push_back({{"ResourceId", p.resource_id}, {"Reason", p.reason}});
    }
  }
  return toText(out);
}

Result<CountersReport> parseCountersReport(std::string_view json_text) {
  auto parsed = parseObject(json_text);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  const Json& body = *parsed;
  CountersReport out;
  for (auto [list, id_field, items] :
       {std::tuple{"Interfaces", "NetworkInterfaceId", &out.interfaces},
        std::tuple{"Sessions", "TrafficMirrorSessionId", &out.sessions}}) {
    const Json listed = body.value(list, Json::array());
    if (!listed.is_array() || listed.size() > kMaxCounterItems) {
      return invalid(std::string(list) + " must be a list");
    }
    for (const auto& item : listed) {
      auto counters = parseResourceCounters(item, list, id_field);
      if (!counters) {
        return std::unexpected(counters.error());
      }
      items->push_back(std::move(*counters));
    }
  }
  if (const auto problems = body.find("Problems"); problems != body.end()) {
    if (!problems->is_array() || problems->size() > kMaxProblems) {
      return invalid("Problems must be a list");
    }
    out.problems.emplace();
    for (const auto& p : *problems) {
      if (!p.is_object() || !p.value("ResourceId", Json()).is_string() ||
          !p.value("Reason", Json()).is_string()) {
        return invalid("Problems: ResourceId and Reason strings");
      }
      out.problems->push_back({p["ResourceId"].get<std::string>().substr(0, kMaxResourceId),
                               p["Reason"].get<std::string>().substr(0, kMaxReason)});
    }
  }
  out.instance_id = stringOr(body, "InstanceId").substr(0, kMaxResourceId);
  if (const auto revision = body.find("Revision");
      revision != body.end() && revision->is_number_unsigned()) {
    out.revision = revision->get<uint64_t>();
  }
  return out;
}

std::string countersAnswerToJson(const CountersAnswer& answer) {
  return toText(
      Json{{"Accepted", answer.accepted}, {"ReportIntervalMs", answer.report_interval.count()}});
}

Result<CountersAnswer> parseCountersAnswer(std::string_view json_text) {
  auto parsed = parseObject(json_text);
  if (!parsed) {
    return invalid("the server's counters answer is not understood");
  }
  CountersAnswer out;
  if (const auto n = parsed->find("Accepted"); n != parsed->end() && n->is_number_unsigned()) {
    out.accepted = n->get<std::size_t>();
  }
  if (const auto ms = parsed->find("ReportIntervalMs");
      ms != parsed->end() && ms->is_number_unsigned()) {
    out.report_interval = boundedReportInterval(ms->get<uint64_t>());
  }
  return out;
}

std::optional<std::chrono::milliseconds> parseReportInterval(std::string_view value) {
  uint64_t ms = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), ms);
  if (error != std::errc() || end != value.data() + value.size() || value.empty()) {
    return std::nullopt;
  }
  return boundedReportInterval(ms);
}

// --- collector sessions --------------------------------------------------------------------

std::string collectorSessionsToJson(const std::vector<CollectorSession>& sessions) {
  Json list = Json::array();
  for (const auto& s : sessions) {
    Json item = {{"TrafficMirrorSessionId", s.session_id},
                 {"VirtualNetworkId", s.virtual_network_id},
                 {"NetworkInterfaceId", s.network_interface_id}};
    if (s.mac) {
      item["MacAddress"] = packet::formatMacAddress(*s.mac);
    }
    if (s.private_ip) {
      item["PrivateIpAddress"] = packet::formatIpAddress(*s.private_ip);
    }
    list.push_back(std::move(item));
  }
  return toText(Json{{"Sessions", std::move(list)}});
}

Result<std::vector<CollectorSession>> parseCollectorSessions(std::string_view json_text) {
  auto parsed = parseObject(json_text);
  if (!parsed || !parsed->value("Sessions", Json()).is_array()) {
    return invalid("the server's session list is not understood");
  }
  std::vector<CollectorSession> out;
  for (const auto& item : (*parsed)["Sessions"]) {
    if (!item.is_object() || !item.value("VirtualNetworkId", Json()).is_number_unsigned() ||
        item["VirtualNetworkId"].get<uint64_t>() > 0xFFFFFF) {
      continue;
    }
    CollectorSession s;
    s.session_id = stringOr(item, "TrafficMirrorSessionId");
    s.virtual_network_id = item["VirtualNetworkId"].get<uint32_t>();
    s.network_interface_id = stringOr(item, "NetworkInterfaceId");
    s.mac = packet::parseMacAddress(stringOr(item, "MacAddress"));
    s.private_ip = packet::parseIpAddress(stringOr(item, "PrivateIpAddress"));
    out.push_back(std::move(s));
  }
  return out;
}

// --- errors --------------------------------------------------------------------------------

std::string protocolErrorToJson(const ProtocolError& error) {
  return toText(Json{{"Error", {{"Code", error.code}, {"Message", error.message}}}});
}

std::string describeRefusal(int status, std::string_view body) {
  std::string text = "HTTP " + std::to_string(status);
  if (const auto error = parseProtocolError(body)) {
    text += " " + error->code + ": " + error->message;
  }
  return text;
}

std::optional<ProtocolError> parseProtocolError(std::string_view json_text) {
  const Json body = Json::parse(json_text, nullptr, false);
  if (!body.is_object() || !body.contains("Error") || !body["Error"].is_object()) {
    return std::nullopt;
  }
  return ProtocolError{stringOr(body["Error"], "Code"), stringOr(body["Error"], "Message")};
}

}  // namespace tmirror::model
