#include "model/mirror_config_json.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/unique_fd.h"

namespace tmirror::model {
namespace {

// Ordered, so that the writer keeps the documented field order and the reader reports the
// first unknown field as it appears in the file.
using Json = nlohmann::ordered_json;

constexpr uint32_t kMinMtu = 68;
constexpr uint32_t kMaxMtu = 65535;
constexpr uint16_t kDefaultVxlanPort = 4789;
constexpr uint32_t kDefaultMtu = 1500;
constexpr uint8_t kProtocolTcp = 6;
constexpr uint8_t kProtocolUdp = 17;

std::string fieldPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) {
    return std::string(key);
  }
  return std::string(parent) + "." + std::string(key);
}

std::string elementPath(std::string_view array_path, size_t index) {
  return std::string(array_path) + "[" + std::to_string(index) + "]";
}

std::string inQuotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::unexpected<Error> invalidAt(std::string_view path, std::string_view problem) {
  const std::string_view where = path.empty() ? std::string_view("(document)") : path;
  return makeError(ErrorCode::InvalidArgument, std::string(where) + ": " + std::string(problem));
}

// --- Reading -------------------------------------------------------------------------------
//
// A converter turns one JSON value into a model value: Result<T>(const Json&, const std::string&
// path). The path is the value's own, so every message can start with it.

template <typename Convert>
using ConvertedType =
    typename std::invoke_result_t<Convert&, const Json&, const std::string&>::value_type;

// Reads the members of one JSON object. The first problem sticks (later reads return
// defaults), and finish() also rejects any member that no read asked for.
class ObjectReader {
 public:
  ObjectReader(const Json& value, std::string path) : path_(std::move(path)) {
    if (value.is_object()) {
      object_ = &value;
    } else {
      error_ = invalidAt(path_, "expected an object").error();
    }
  }

  std::string pathOf(std::string_view key) const { return fieldPath(path_, key); }

  template <typename Convert>
  ConvertedType<Convert> required(std::string_view key, Convert&& convert) {
    const Json* value = member(key);
    if (value == nullptr) {
      if (object_ != nullptr && !error_) {
        error_ = invalidAt(pathOf(key), "missing required field").error();
        missing_field_first_ = true;
      }
      return {};
    }
    return take(convert(*value, pathOf(key))).value_or(ConvertedType<Convert>{});
  }

  template <typename Convert>
  std::optional<ConvertedType<Convert>> optional(std::string_view key, Convert&& convert) {
    const Json* value = member(key);
    if (value == nullptr) {
      return std::nullopt;
    }
    return take(convert(*value, pathOf(key)));
  }

  // A problem found by comparing members; ignored when an earlier one is already recorded.
  void fail(std::string_view path, std::string_view problem) {
    if (!error_) {
      error_ = invalidAt(path, problem).error();
    }
  }

  bool ok() const { return !error_.has_value(); }

  template <typename T>
  Result<T> finish(T value) const {
    // A misspelt key reads as "missing X" plus "unknown Y"; the unknown one is the cause.
    if (object_ != nullptr && (!error_ || missing_field_first_)) {
      for (auto it = object_->begin(); it != object_->end(); ++it) {
        if (!known_.contains(it.key())) {
          return invalidAt(pathOf(it.key()), "unknown field");
        }
      }
    }
    if (error_) {
      return std::unexpected(*error_);
    }
    return value;
  }

 private:
  const Json* member(std::string_view key) {
    known_.emplace(key);
    if (object_ == nullptr) {
      return nullptr;
    }
    auto it = object_->find(std::string(key));
    return it == object_->end() ? nullptr : &*it;
  }

  template <typename T>
  std::optional<T> take(Result<T>&& converted) {
    if (!converted) {
      if (!error_) {
        error_ = std::move(converted.error());
      }
      return std::nullopt;
    }
    return std::move(*converted);
  }

  const Json* object_ = nullptr;
  std::string path_;
  std::set<std::string, std::less<>> known_;
  std::optional<Error> error_;
  bool missing_field_first_ = false;
};

Result<std::string> asString(const Json& value, const std::string& path) {
  if (!value.is_string()) {
    return invalidAt(path, "expected a string");
  }
  return value.get<std::string>();
}

// JSON integers only: 1.0 and "1" are type errors, negative numbers are out of range.
template <typename T>
auto unsignedIn(T min, T max) {
  return [min, max](const Json& value, const std::string& path) -> Result<T> {
    if (!value.is_number_integer()) {
      return invalidAt(path, "expected an integer");
    }
    const std::string range = " is out of range " + std::to_string(min) + "-" + std::to_string(max);
    uint64_t number = 0;
    if (value.is_number_unsigned()) {
      number = value.get<uint64_t>();
    } else if (const int64_t signed_number = value.get<int64_t>(); signed_number >= 0) {
      number = static_cast<uint64_t>(signed_number);  // "-0"
    } else {
      return invalidAt(path, std::to_string(signed_number) + range);
    }
    if (number < min || number > max) {
      return invalidAt(path, std::to_string(number) + range);
    }
    return static_cast<T>(number);
  };
}

template <typename Enum>
auto oneOf(std::initializer_list<std::pair<std::string_view, Enum>> names) {
  std::vector<std::pair<std::string_view, Enum>> choices(names);
  return [choices](const Json& value, const std::string& path) -> Result<Enum> {
    auto text = asString(value, path);
    if (!text) {
      return std::unexpected(std::move(text.error()));
    }
    std::string expected;
    for (const auto& [name, choice] : choices) {
      if (*text == name) {
        return choice;
      }
      expected += (expected.empty() ? "" : " or ") + inQuotes(name);
    }
    return invalidAt(path, "expected " + expected + ", got " + inQuotes(*text));
  };
}

auto idWithPrefix(std::string_view prefix) {
  return [prefix](const Json& value, const std::string& path) -> Result<std::string> {
    auto text = asString(value, path);
    if (text && (!text->starts_with(prefix) || text->size() == prefix.size())) {
      return invalidAt(
          path, "expected an id starting with " + inQuotes(prefix) + ", got " + inQuotes(*text));
    }
    return text;
  };
}

const char* familyName(packet::IpFamily family) {
  return family == packet::IpFamily::V4 ? "IPv4" : "IPv6";
}

// family None accepts either.
auto ipAddressOf(packet::IpFamily family) {
  return [family](const Json& value, const std::string& path) -> Result<IpAddress> {
    auto text = asString(value, path);
    if (!text) {
      return std::unexpected(std::move(text.error()));
    }
    auto address = packet::parseIpAddress(*text);
    if (!address) {
      return invalidAt(path, "expected an IP address, got " + inQuotes(*text));
    }
    if (family != packet::IpFamily::None && address->family != family) {
      return invalidAt(path, inQuotes(*text) + " is not an " + familyName(family) + " address");
    }
    return *address;
  };
}

Result<IpAddress> asTargetAddress(const Json& value, const std::string& path) {
  auto address = ipAddressOf(packet::IpFamily::None)(value, path);
  if (address && address->family == packet::IpFamily::V6) {
    return invalidAt(path, inQuotes(packet::formatIpAddress(*address)) +
                               ": IPv6 outer transport is not supported yet");
  }
  return address;
}

Result<MacAddress> asMacAddress(const Json& value, const std::string& path) {
  auto text = asString(value, path);
  if (!text) {
    return std::unexpected(std::move(text.error()));
  }
  auto mac = packet::parseMacAddress(*text);
  if (!mac) {
    return invalidAt(path, "expected a MAC address, got " + inQuotes(*text));
  }
  return *mac;
}

Result<Cidr> asCidr(const Json& value, const std::string& path) {
  auto text = asString(value, path);
  if (!text) {
    return std::unexpected(std::move(text.error()));
  }
  packet::CidrParseError error = packet::CidrParseError::None;
  auto cidr = packet::parseCidr(*text, &error);
  if (cidr) {
    return *cidr;
  }
  switch (error) {
    case packet::CidrParseError::PrefixOutOfRange:
      return invalidAt(path, inQuotes(*text) + " has a prefix length out of range");
    case packet::CidrParseError::HostBitsSet:
      return invalidAt(path, inQuotes(*text) + " has host bits set");
    default:
      return invalidAt(path, "expected a CIDR block, got " + inQuotes(*text));
  }
}

template <typename Convert>
auto arrayOf(Convert convert) {
  using Element = ConvertedType<Convert>;
  return [convert](const Json& value, const std::string& path) -> Result<std::vector<Element>> {
    if (!value.is_array()) {
      return invalidAt(path, "expected an array");
    }
    std::vector<Element> elements;
    elements.reserve(value.size());
    for (size_t i = 0; i < value.size(); ++i) {
      auto element = convert(value[i], elementPath(path, i));
      if (!element) {
        return std::unexpected(std::move(element.error()));
      }
      elements.push_back(std::move(*element));
    }
    return elements;
  };
}

// Tags are part of the AWS shapes; they are checked for shape and otherwise ignored.
struct IgnoredTag {};

Result<IgnoredTag> readTag(const Json& value, const std::string& path) {
  ObjectReader reader(value, path);
  reader.required("Key", asString);
  reader.optional("Value", asString);
  return reader.finish(IgnoredTag{});
}

Result<PortRange> readPortRange(const Json& value, const std::string& path) {
  ObjectReader reader(value, path);
  PortRange range;
  range.from_port = reader.required("FromPort", unsignedIn<uint16_t>(0, 65535));
  range.to_port = reader.required("ToPort", unsignedIn<uint16_t>(0, 65535));
  if (range.from_port > range.to_port) {
    reader.fail(path, "FromPort " + std::to_string(range.from_port) + " is greater than ToPort " +
                          std::to_string(range.to_port));
  }
  return reader.finish(range);
}

const char* ruleListName(TrafficDirection direction) {
  return direction == TrafficDirection::Ingress ? "IngressFilterRules" : "EgressFilterRules";
}

Result<FilterRule> readRule(const Json& value, const std::string& path, TrafficDirection direction,
                            const std::string& filter_id) {
  ObjectReader reader(value, path);
  FilterRule rule;
  rule.direction = direction;
  rule.id = reader.optional("TrafficMirrorFilterRuleId", idWithPrefix("tmfr-")).value_or("");
  if (auto owner = reader.optional("TrafficMirrorFilterId", asString);
      owner && *owner != filter_id) {
    reader.fail(reader.pathOf("TrafficMirrorFilterId"),
                inQuotes(*owner) + " is not the enclosing filter " + inQuotes(filter_id));
  }
  auto direction_field = reader.optional(
      "TrafficDirection", oneOf<TrafficDirection>({{"ingress", TrafficDirection::Ingress},
                                                   {"egress", TrafficDirection::Egress}}));
  if (direction_field && *direction_field != direction) {
    reader.fail(reader.pathOf("TrafficDirection"),
                inQuotes(directionName(*direction_field)) + " rule in " + ruleListName(direction));
  }
  rule.rule_number = reader.required("RuleNumber", unsignedIn(kMinRuleNumber, kMaxRuleNumber));
  rule.action = reader.required("RuleAction", oneOf<RuleAction>({{"accept", RuleAction::Accept},
                                                                 {"reject", RuleAction::Reject}}));
  rule.protocol = reader.optional("Protocol", unsignedIn<uint8_t>(0, 255));
  rule.source_cidr = reader.required("SourceCidrBlock", asCidr);
  rule.destination_cidr = reader.required("DestinationCidrBlock", asCidr);
  if (reader.ok() && rule.source_cidr.family() != rule.destination_cidr.family()) {
    reader.fail(reader.pathOf("DestinationCidrBlock"),
                inQuotes(packet::formatCidr(rule.destination_cidr)) + " is " +
                    familyName(rule.destination_cidr.family()) + " but SourceCidrBlock is " +
                    familyName(rule.source_cidr.family()));
  }
  rule.source_port_range = reader.optional("SourcePortRange", readPortRange);
  rule.destination_port_range = reader.optional("DestinationPortRange", readPortRange);
  const bool tcp_or_udp = rule.protocol == kProtocolTcp || rule.protocol == kProtocolUdp;
  for (const auto& [key, range] :
       {std::pair{"SourcePortRange", rule.source_port_range},
        std::pair{"DestinationPortRange", rule.destination_port_range}}) {
    if (range && !tcp_or_udp) {
      reader.fail(reader.pathOf(key), "port ranges need Protocol 6 (TCP) or 17 (UDP)");
    }
  }
  rule.description = reader.optional("Description", asString).value_or("");
  reader.optional("Tags", arrayOf(readTag));
  return reader.finish(std::move(rule));
}

auto ruleListOf(TrafficDirection direction, const std::string& filter_id) {
  return [direction, &filter_id](const Json& value,
                                 const std::string& path) -> Result<std::vector<FilterRule>> {
    auto rules = arrayOf([&](const Json& element, const std::string& element_path) {
      return readRule(element, element_path, direction, filter_id);
    })(value, path);
    if (!rules) {
      return rules;
    }
    std::unordered_set<uint32_t> seen;
    for (size_t i = 0; i < rules->size(); ++i) {
      const uint32_t number = (*rules)[i].rule_number;
      if (!seen.insert(number).second) {
        return invalidAt(fieldPath(elementPath(path, i), "RuleNumber"),
                         std::to_string(number) + " is used twice in " + directionName(direction) +
                             " rules of " + filter_id);
      }
    }
    return rules;
  };
}

Result<Filter> readFilter(const Json& value, const std::string& path) {
  ObjectReader reader(value, path);
  Filter filter;
  filter.id = reader.required("TrafficMirrorFilterId", idWithPrefix("tmf-"));
  filter.description = reader.optional("Description", asString).value_or("");
  reader.optional("Tags", arrayOf(readTag));
  const auto services =
      reader.optional("NetworkServices", arrayOf(oneOf<bool>({{"amazon-dns", true}})));
  filter.amazon_dns = services && !services->empty();
  filter.ingress_rules =
      reader.optional("IngressFilterRules", ruleListOf(TrafficDirection::Ingress, filter.id))
          .value_or(std::vector<FilterRule>{});
  filter.egress_rules =
      reader.optional("EgressFilterRules", ruleListOf(TrafficDirection::Egress, filter.id))
          .value_or(std::vector<FilterRule>{});
  return reader.finish(std::move(filter));
}

Result<Target> readTarget(const Json& value, const std::string& path) {
  ObjectReader reader(value, path);
  Target target;
  target.id = reader.required("TrafficMirrorTargetId", idWithPrefix("tmt-"));
  target.type = reader.required(
      "Type", oneOf<TargetType>({{"network-interface", TargetType::NetworkInterface},
                                 {"network-load-balancer", TargetType::NetworkLoadBalancer}}));
  target.addresses = reader.required("Addresses", arrayOf(asTargetAddress));
  if (reader.ok() && target.addresses.empty()) {
    reader.fail(reader.pathOf("Addresses"), "needs at least one address");
  }
  if (reader.ok() && target.type == TargetType::NetworkInterface && target.addresses.size() != 1) {
    reader.fail(reader.pathOf("Addresses"),
                "a network-interface target has exactly one address, got " +
                    std::to_string(target.addresses.size()));
  }
  target.port = reader.optional("Port", unsignedIn<uint16_t>(1, 65535)).value_or(kDefaultVxlanPort);
  target.mtu = reader.optional("Mtu", unsignedIn(kMinMtu, kMaxMtu)).value_or(kDefaultMtu);
  target.description = reader.optional("Description", asString).value_or("");
  reader.optional("Tags", arrayOf(readTag));
  return reader.finish(std::move(target));
}

Result<Session> readSession(const Json& value, const std::string& path,
                            const std::string& interface_id) {
  ObjectReader reader(value, path);
  Session session;
  session.id = reader.required("TrafficMirrorSessionId", idWithPrefix("tms-"));
  session.session_number =
      reader.required("SessionNumber", unsignedIn(kMinSessionNumber, kMaxSessionNumber));
  session.virtual_network_id =
      reader.required("VirtualNetworkId", unsignedIn(uint32_t{0}, kMaxVirtualNetworkId));
  session.packet_length =
      reader.optional("PacketLength", unsignedIn(kMinPacketLength, kMaxPacketLength));
  session.description = reader.optional("Description", asString).value_or("");
  reader.optional("Tags", arrayOf(readTag));
  if (auto source = reader.optional("NetworkInterfaceId", asString);
      source && *source != interface_id) {
    reader.fail(reader.pathOf("NetworkInterfaceId"),
                inQuotes(*source) + " is not the enclosing interface " + inQuotes(interface_id));
  }
  session.target = reader.required("TrafficMirrorTarget", readTarget);
  session.filter = reader.required("TrafficMirrorFilter", readFilter);
  return reader.finish(std::move(session));
}

auto sessionListOf(const std::string& interface_id) {
  return
      [&interface_id](const Json& value, const std::string& path) -> Result<std::vector<Session>> {
        auto sessions = arrayOf([&](const Json& element, const std::string& element_path) {
          return readSession(element, element_path, interface_id);
        })(value, path);
        if (!sessions) {
          return sessions;
        }
        std::unordered_set<uint32_t> seen;
        for (size_t i = 0; i < sessions->size(); ++i) {
          const uint32_t number = (*sessions)[i].session_number;
          if (!seen.insert(number).second) {
            return invalidAt(fieldPath(elementPath(path, i), "SessionNumber"),
                             std::to_string(number) + " is used twice on " + interface_id);
          }
        }
        return sessions;
      };
}

Result<InterfaceMirrorConfig> readInterface(const Json& value, const std::string& path) {
  ObjectReader reader(value, path);
  InterfaceMirrorConfig config;
  SourceInterface& source = config.interface;
  source.id = reader.required("NetworkInterfaceId", idWithPrefix("eni-"));
  source.name = reader.optional("InterfaceName", asString).value_or("");
  source.mac = reader.optional("MacAddress", asMacAddress);
  source.ipv4 = reader.optional("PrivateIpAddress", ipAddressOf(packet::IpFamily::V4));
  source.ipv6 = reader.optional("Ipv6Address", ipAddressOf(packet::IpFamily::V6));
  source.mtu = reader.optional("Mtu", unsignedIn(kMinMtu, kMaxMtu)).value_or(kDefaultMtu);
  config.sessions = reader.optional("TrafficMirrorSessions", sessionListOf(source.id))
                        .value_or(std::vector<Session>{});
  if (!config.sessions.empty() && !source.ipv4) {
    reader.fail(reader.pathOf("PrivateIpAddress"),
                "required when the interface has traffic mirror sessions (it is the outer source "
                "address of the copies)");
  }
  return reader.finish(std::move(config));
}

Result<ControlEndpoint> readControlEndpoint(const Json& value, const std::string& path) {
  ObjectReader reader(value, path);
  ControlEndpoint endpoint;
  endpoint.address = reader.required("Address", ipAddressOf(packet::IpFamily::None));
  endpoint.port = reader.required("Port", unsignedIn<uint16_t>(1, 65535));
  return reader.finish(endpoint);
}

Result<HostMirrorConfig> readHostConfig(const Json& document) {
  ObjectReader reader(document, "");
  HostMirrorConfig config;
  config.revision =
      reader.optional("Revision", unsignedIn<uint64_t>(0, std::numeric_limits<uint64_t>::max()))
          .value_or(0);
  config.dns_resolvers =
      reader.optional("DnsResolvers", arrayOf(ipAddressOf(packet::IpFamily::None)))
          .value_or(std::vector<IpAddress>{});
  config.control_endpoints = reader.optional("ControlEndpoints", arrayOf(readControlEndpoint))
                                 .value_or(std::vector<ControlEndpoint>{});
  config.interfaces = reader.required("NetworkInterfaces", arrayOf(readInterface));
  return reader.finish(std::move(config));
}

// nlohmann keeps the last of repeated keys without a word; a strict loader rejects them. The
// parser callback sees events in document order, so it can follow the path being parsed.
class DuplicateKeyDetector {
 public:
  bool observe(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start: {
        std::string path = childPath();
        open_.push_back({event == Json::parse_event_t::object_start, std::move(path), {}, {}, 0});
        break;
      }
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        open_.pop_back();
        break;
      case Json::parse_event_t::key: {
        Container& object = open_.back();
        object.key = parsed.get<std::string>();
        if (!object.keys.insert(object.key).second && !duplicate_path_) {
          duplicate_path_ = fieldPath(object.path, object.key);
        }
        break;
      }
      case Json::parse_event_t::value:
        childPath();  // counts the array element
        break;
    }
    return true;
  }

  const std::optional<std::string>& duplicatePath() const { return duplicate_path_; }

 private:
  struct Container {
    bool is_object;
    std::string path;
    std::set<std::string> keys;
    std::string key;  // the member being parsed
    size_t next_index;
  };

  std::string childPath() {
    if (open_.empty()) {
      return "";
    }
    Container& parent = open_.back();
    if (parent.is_object) {
      return fieldPath(parent.path, parent.key);
    }
    return elementPath(parent.path, parent.next_index++);
  }

  std::vector<Container> open_;
  std::optional<std::string> duplicate_path_;
};

// --- Writing -------------------------------------------------------------------------------

Json portRangeToJson(const PortRange& range) {
  return Json{{"FromPort", range.from_port}, {"ToPort", range.to_port}};
}

Json ruleToJson(const FilterRule& rule) {
  Json json = Json::object();
  if (!rule.id.empty()) {
    json["TrafficMirrorFilterRuleId"] = rule.id;
  }
  json["TrafficDirection"] = directionName(rule.direction);
  json["RuleNumber"] = rule.rule_number;
  json["RuleAction"] = actionName(rule.action);
  if (rule.protocol) {
    json["Protocol"] = *rule.protocol;
  }
  json["SourceCidrBlock"] = packet::formatCidr(rule.source_cidr);
  json["DestinationCidrBlock"] = packet::formatCidr(rule.destination_cidr);
  if (rule.source_port_range) {
    json["SourcePortRange"] = portRangeToJson(*rule.source_port_range);
  }
  if (rule.destination_port_range) {
    json["DestinationPortRange"] = portRangeToJson(*rule.destination_port_range);
  }
  if (!rule.description.empty()) {
    json["Description"] = rule.description;
  }
  return json;
}

Json rulesToJson(const std::vector<FilterRule>& rules) {
  Json json = Json::array();
  for (const FilterRule& rule : rules) {
    json.push_back(ruleToJson(rule));
  }
  return json;
}

Json filterToJson(const Filter& filter) {
  Json json = Json::object();
  json["TrafficMirrorFilterId"] = filter.id;
  if (!filter.description.empty()) {
    json["Description"] = filter.description;
  }
  if (filter.amazon_dns) {
    json["NetworkServices"] = Json::array({"amazon-dns"});
  }
  json["IngressFilterRules"] = rulesToJson(filter.ingress_rules);
  json["EgressFilterRules"] = rulesToJson(filter.egress_rules);
  return json;
}

Json targetToJson(const Target& target) {
  Json json = Json::object();
  json["TrafficMirrorTargetId"] = target.id;
  json["Type"] =
      target.type == TargetType::NetworkInterface ? "network-interface" : "network-load-balancer";
  Json addresses = Json::array();
  for (const IpAddress& address : target.addresses) {
    addresses.push_back(packet::formatIpAddress(address));
  }
  json["Addresses"] = std::move(addresses);
  json["Port"] = target.port;
  json["Mtu"] = target.mtu;
  if (!target.description.empty()) {
    json["Description"] = target.description;
  }
  return json;
}

Json sessionToJson(const Session& session) {
  Json json = Json::object();
  json["TrafficMirrorSessionId"] = session.id;
  json["SessionNumber"] = session.session_number;
  json["VirtualNetworkId"] = session.virtual_network_id;
  if (session.packet_length) {
    json["PacketLength"] = *session.packet_length;
  }
  if (!session.description.empty()) {
    json["Description"] = session.description;
  }
  json["TrafficMirrorTarget"] = targetToJson(session.target);
  json["TrafficMirrorFilter"] = filterToJson(session.filter);
  return json;
}

Json interfaceToJson(const InterfaceMirrorConfig& config) {
  const SourceInterface& source = config.interface;
  Json json = Json::object();
  json["NetworkInterfaceId"] = source.id;
  if (!source.name.empty()) {
    json["InterfaceName"] = source.name;
  }
  if (source.mac) {
    json["MacAddress"] = packet::formatMacAddress(*source.mac);
  }
  if (source.ipv4) {
    json["PrivateIpAddress"] = packet::formatIpAddress(*source.ipv4);
  }
  if (source.ipv6) {
    json["Ipv6Address"] = packet::formatIpAddress(*source.ipv6);
  }
  json["Mtu"] = source.mtu;
  Json sessions = Json::array();
  for (const Session& session : config.sessions) {
    sessions.push_back(sessionToJson(session));
  }
  json["TrafficMirrorSessions"] = std::move(sessions);
  return json;
}

Json hostConfigToJson(const HostMirrorConfig& config) {
  Json json = Json::object();
  json["Revision"] = config.revision;
  Json resolvers = Json::array();
  for (const IpAddress& resolver : config.dns_resolvers) {
    resolvers.push_back(packet::formatIpAddress(resolver));
  }
  json["DnsResolvers"] = std::move(resolvers);
  Json endpoints = Json::array();
  for (const ControlEndpoint& endpoint : config.control_endpoints) {
    endpoints.push_back(
        Json{{"Address", packet::formatIpAddress(endpoint.address)}, {"Port", endpoint.port}});
  }
  json["ControlEndpoints"] = std::move(endpoints);
  Json interfaces = Json::array();
  for (const InterfaceMirrorConfig& interface_config : config.interfaces) {
    interfaces.push_back(interfaceToJson(interface_config));
  }
  json["NetworkInterfaces"] = std::move(interfaces);
  return json;
}

Result<std::string> readWholeFile(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    auto failure = makeSystemError("cannot open", error);
    if (error == ENOENT) {
      failure.error().code = ErrorCode::NotFound;
    }
    return failure;
  }
  std::string text;
  char buffer[16384];
  while (true) {
    const ssize_t count = ::read(fd.get(), buffer, sizeof(buffer));
    if (count == 0) {
      return text;
    }
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      return makeSystemError("cannot read", errno);
    }
    text.append(buffer, static_cast<size_t>(count));
  }
}

}  // namespace

Result<HostMirrorConfig> parseHostMirrorConfig(std::string_view json_text) {
  try {
    DuplicateKeyDetector duplicates;
    const Json document =
        Json::parse(json_text.begin(), json_text.end(),
                    [&duplicates](int /*depth*/, Json::parse_event_t event, Json& parsed) {
                      return duplicates.observe(event, parsed);
                    });
    if (duplicates.duplicatePath()) {
      return invalidAt(*duplicates.duplicatePath(), "duplicate field");
    }
    return readHostConfig(document);
  } catch (const Json::parse_error& error) {
    return makeError(ErrorCode::InvalidArgument,
                     "invalid JSON at byte " + std::to_string(error.byte) + ": " + error.what());
  } catch (const Json::exception& error) {
    // Every value's type is checked before it is read, so this is a tmirror bug.
    return makeError(ErrorCode::Internal, std::string("reading JSON: ") + error.what());
  }
}

Result<HostMirrorConfig> loadHostMirrorConfig(const std::filesystem::path& path) {
  auto text = readWholeFile(path);
  if (!text) {
    return std::unexpected(std::move(text.error()).withContext(path.string()));
  }
  auto config = parseHostMirrorConfig(*text);
  if (!config) {
    return std::unexpected(std::move(config.error()).withContext(path.string()));
  }
  return config;
}

std::string hostMirrorConfigToJson(const HostMirrorConfig& config) {
  // Strings that came through the parser are valid UTF-8; `replace` keeps dump() from
  // throwing on any that did not.
  return hostConfigToJson(config).dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace tmirror::model
