#include "cli/explain_command.h"

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/packet_spec.h"
#include "engine/frame_direction.h"
#include "engine/mirror_engine.h"
#include "model/mirror_config_json.h"
#include "pcap/pcap_reader.h"
#include "rules/reference_evaluator.h"
#include "rules/traffic_exclusions.h"

namespace tmirror::cli {

namespace {

using Json = nlohmann::ordered_json;
using model::TrafficDirection;
using rules::PacketFate;

constexpr int kLinkTypeEthernet = 1;
constexpr int kExitError = 1;
constexpr int kExitDisagreement = 3;

// What the server (or a file) says about the interface's host.
struct HostView {
  model::HostMirrorConfig host;
  std::string instance_id;
  std::string hostname;
  bool attached = true;
  std::vector<std::pair<std::string, std::string>> problems;  // resource id, reason
};

// One packet to explain.
struct Input {
  std::vector<std::byte> frame;
  uint32_t wire_length = 0;
  uint64_t number = 0;  // frame number in the capture (1-based); 0 for --packet
  std::optional<TrafficDirection> direction;
};

Result<HostView> loadView(const ExplainOptions& options) {
  HostView view;
  if (options.state) {
    auto host = model::loadHostMirrorConfig(*options.state);
    if (!host) {
      return std::unexpected(host.error());
    }
    view.host = std::move(*host);
    return view;
  }
  auto body = getSigned(options.globals, "/desired-state",
                        "NetworkInterfaceId=" + options.network_interface_id);
  if (!body) {
    return std::unexpected(body.error());
  }
  const Json doc = Json::parse(*body, nullptr, false);
  if (!doc.is_object() || !doc.contains("DesiredState")) {
    return makeError(ErrorCode::Io, "the server's answer is not a desired-state document");
  }
  auto host = model::parseHostMirrorConfig(doc["DesiredState"].dump());
  if (!host) {
    return std::unexpected(std::move(host.error()).withContext("the server's desired state"));
  }
  view.host = std::move(*host);
  view.instance_id = doc.value("InstanceId", "");
  view.hostname = doc.value("Hostname", "");
  view.attached = doc.value("Attached", true);
  for (const auto& p : doc.value("Problems", Json::array())) {
    if (p.is_object()) {
      view.problems.emplace_back(p.value("ResourceId", ""), p.value("Reason", ""));
    }
  }
  return view;
}

const model::InterfaceMirrorConfig* findInterface(const model::HostMirrorConfig& host,
                                                  const std::string& id) {
  for (const auto& interface : host.interfaces) {
    if (interface.interface.id == id) {
      return &interface;
    }
  }
  return nullptr;
}

// Calls `each` with every packet to explain, one at a time (a capture is never read whole).
Result<void> forEachInput(const ExplainOptions& options, const model::SourceInterface& source,
                          const std::function<void(const Input&)>& each) {
  if (!options.pcap) {
    auto spec = parsePacketSpec(options.packet);
    if (!spec) {
      return std::unexpected(spec.error());
    }
    auto direction = options.direction;
    const auto own = [&](const packet::IpAddress& a) {
      return (source.ipv4 && *source.ipv4 == a) || (source.ipv6 && *source.ipv6 == a);
    };
    if (!direction && own(spec->destination) != own(spec->source)) {
      direction = own(spec->destination) ? TrafficDirection::Ingress : TrafficDirection::Egress;
    }
    if (!direction) {
      return makeError(ErrorCode::InvalidArgument,
                       "--direction ingress|egress is needed: neither address of the packet, or "
                       "both, are the interface's own");
    }
    // The interface's MAC on its side of the frame, a made-up peer on the other.
    const packet::MacAddress peer{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
    const packet::MacAddress own_mac =
        source.mac.value_or(packet::MacAddress{{0x02, 0, 0, 0, 0, 2}});
    const bool ingress = *direction == TrafficDirection::Ingress;
    Input input;
    input.frame =
        buildFrame(*spec, ingress ? peer : own_mac, ingress ? own_mac : peer, options.length);
    input.wire_length = static_cast<uint32_t>(input.frame.size());
    input.direction = direction;
    each(input);
    return {};
  }
  auto reader = pcap::PcapReader::open(*options.pcap);
  if (!reader) {
    return std::unexpected(reader.error());
  }
  if (reader->linkType() != kLinkTypeEthernet) {
    return makeError(ErrorCode::Unsupported, options.pcap->string() + ": link type " +
                                                 std::to_string(reader->linkType()) +
                                                 " is not Ethernet");
  }
  uint64_t explained = 0;
  Input input;
  for (uint64_t number = 1;; ++number) {
    auto next = reader->next();
    if (!next) {
      return std::unexpected(next.error());
    }
    if (!*next) {
      break;
    }
    if (options.frame && number != *options.frame) {
      continue;
    }
    const pcap::PcapPacket& p = **next;
    input.frame.assign(p.data.begin(), p.data.end());
    input.wire_length = p.original_length;
    input.number = number;
    input.direction = options.direction;
    if (!input.direction && p.direction == packet::PacketDirection::Inbound) {
      input.direction = TrafficDirection::Ingress;
    } else if (!input.direction && p.direction == packet::PacketDirection::Outbound) {
      input.direction = TrafficDirection::Egress;
    }
    if (!input.direction && source.mac) {
      input.direction = engine::directionByMac(p.data, *source.mac);
    }
    each(input);
    ++explained;
    if (options.frame) {
      break;
    }
  }
  if (explained == 0) {
    return makeError(
        ErrorCode::NotFound,
        options.pcap->string() + (options.frame ? ": has no frame " + std::to_string(*options.frame)
                                                : ": has no frames"));
  }
  return {};
}

std::string protocolWord(uint8_t protocol) {
  switch (protocol) {
    case packet::kProtoTcp:
      return "tcp";
    case packet::kProtoUdp:
      return "udp";
    case packet::kProtoIcmp:
      return "icmp";
    case packet::kProtoIcmpv6:
      return "icmp6";
    default:
      return std::to_string(protocol);
  }
}

std::string endpointText(const packet::IpAddress& address, std::optional<uint16_t> port) {
  const std::string text = packet::formatIpAddress(address);
  if (!port) {
    return text;
  }
  return (address.family == packet::IpFamily::V6 ? "[" + text + "]" : text) + ":" +
         std::to_string(*port);
}

// "tcp 198.51.100.1:443 > 198.51.100.2:51000", as --packet takes it.
std::string packetSummary(const packet::ParsedFrame& f) {
  if (f.status == packet::FrameStatus::NotIp) {
    char type[8];
    std::snprintf(type, sizeof type, "0x%04x", f.ether_type);
    return std::string("not IP (EtherType ") + type + ")";
  }
  if (f.status != packet::FrameStatus::Ok) {
    return std::string("unreadable (") + packet::frameStatusName(f.status) + ")";
  }
  const auto port = [&](uint16_t p) { return f.has_ports ? std::optional(p) : std::nullopt; };
  std::string text = protocolWord(f.protocol) + " " + endpointText(f.src, port(f.src_port)) +
                     " > " + endpointText(f.dst, port(f.dst_port));
  if (f.fragment == packet::Fragment::Later) {
    text += " (a non-first fragment)";
  }
  return text;
}

std::string portsText(const std::optional<model::PortRange>& range) {
  if (!range) {
    return "";
  }
  return range->from_port == range->to_port
             ? " port " + std::to_string(range->from_port)
             : " ports " + std::to_string(range->from_port) + "-" + std::to_string(range->to_port);
}

// "accept tcp 10.0.0.0/8 > 0.0.0.0/0 port 443"
std::string ruleSummary(const model::FilterRule& rule) {
  return std::string(model::actionName(rule.action)) + " " +
         (rule.protocol ? protocolWord(*rule.protocol) : std::string("all")) + " " +
         packet::formatCidr(rule.source_cidr) + portsText(rule.source_port_range) + " > " +
         packet::formatCidr(rule.destination_cidr) + portsText(rule.destination_port_range);
}

std::string addressList(const std::vector<packet::IpAddress>& list) {
  std::string out;
  for (const auto& a : list) {
    out += (out.empty() ? "" : ", ") + packet::formatIpAddress(a);
  }
  return out.empty() ? "none" : out;
}

// Why an exclusion applies, with the host's facts that make it apply.
std::string exclusionReason(PacketFate fate, const packet::ParsedFrame& f,
                            const model::HostMirrorConfig& host) {
  switch (fate) {
    case PacketFate::NotIp:
      return "only IPv4 and IPv6 are mirrored; this frame is " + packetSummary(f) +
             " (ARP, LLDP and the like never are)";
    case PacketFate::Malformed:
      return std::string("the frame claims to be IP but cannot be read: ") +
             packet::frameStatusName(f.status) + " (counted under that reason, never mirrored)";
    case PacketFate::Dhcp:
      return f.family == packet::IpFamily::V4 ? "DHCP (UDP ports 67 and 68) is never mirrored"
                                              : "DHCPv6 (UDP ports 546 and 547) is never mirrored";
    case PacketFate::OwnVxlan:
      return "it is a mirror copy this host sends to a target (VXLAN from the host's own "
             "address), or an ICMP error about one: mirroring it would loop";
    case PacketFate::ControlChannel: {
      std::string endpoints;
      for (const auto& e : host.control_endpoints) {
        endpoints += (endpoints.empty() ? "" : ", ") + endpointText(e.address, e.port);
      }
      return "it is the agent's control channel with its server (" + endpoints +
             "), which is never mirrored";
    }
    case PacketFate::ResolverDns:
      return "it is DNS with the host's resolver (" + addressList(host.dns_resolvers) +
             ") and no session's filter has the amazon-dns network service";
    default:
      return "";
  }
}

const char* outcomeName(rules::SessionOutcome outcome) {
  switch (outcome) {
    case rules::SessionOutcome::Accepted:
      return "accepted";
    case rules::SessionOutcome::Rejected:
      return "rejected";
    case rules::SessionOutcome::NoRuleMatched:
      return "no-rule-matched";
    case rules::SessionOutcome::DnsService:
      return "amazon-dns";
    case rules::SessionOutcome::NoDnsService:
      return "no-amazon-dns";
    case rules::SessionOutcome::NotReached:
      break;
  }
  return "not-reached";
}

std::string outcomeText(rules::SessionOutcome outcome, const rules::Explanation& e) {
  switch (outcome) {
    case rules::SessionOutcome::Accepted:
      return "accepted: this session mirrors the packet";
    case rules::SessionOutcome::Rejected:
      return "rejected by this session; the next session may take it";
    case rules::SessionOutcome::NoRuleMatched:
      return "no rule of this direction matched; the next session may take it";
    case rules::SessionOutcome::DnsService:
      return "resolver DNS, and this is the first filter with the amazon-dns network service: "
             "mirrored here whatever the rules say";
    case rules::SessionOutcome::NoDnsService:
      return "resolver DNS goes only to a filter with the amazon-dns network service; this one "
             "has none (its rules do not count)";
    case rules::SessionOutcome::NotReached:
      break;
  }
  return e.result.fate == PacketFate::Mirrored ? "not tried: an earlier session mirrors the packet"
                                               : "not tried: an exclusion decided";
}

struct Verdict {
  Json json;
  std::string text;
};

Verdict verdictOf(const engine::MirrorEngine& engine, const engine::Decision& decision,
                  const rules::Explanation& explanation, const packet::ParsedFrame& parsed,
                  const model::HostMirrorConfig& host) {
  Verdict v;
  const PacketFate fate = decision.match.fate;
  v.json["Mirrored"] = fate == PacketFate::Mirrored;
  v.json["Fate"] = rules::packetFateName(fate);
  if (fate != PacketFate::Mirrored) {
    std::string why;
    if (fate == PacketFate::NotMatched) {
      why = explanation.sessions.empty() ? "the interface has no traffic mirror sessions"
                                         : "no session accepted it (";
      for (std::size_t i = 0; i < explanation.sessions.size(); ++i) {
        const auto& trial = explanation.sessions[i];
        why += (i == 0 ? "session " : "; session ") +
               std::to_string(trial.session->session_number) + ": " +
               (trial.outcome == rules::SessionOutcome::Rejected
                    ? "rejected by rule " + std::to_string(trial.rules.back().rule->rule_number)
                    : std::string("no rule matched"));
      }
      why += explanation.sessions.empty() ? "" : ")";
    } else {
      why = exclusionReason(fate, parsed, host);
    }
    v.json["Reason"] = why;
    v.text = "NOT MIRRORED: " + why;
    return v;
  }
  const model::Session& session = engine.session(decision.match.session_index);
  const packet::MirrorCopy& copy = decision.copy;
  v.json["TrafficMirrorSessionId"] = session.id;
  v.json["SessionNumber"] = session.session_number;
  v.json["VirtualNetworkId"] = session.virtual_network_id;
  v.json["TrafficMirrorTargetId"] = session.target.id;
  v.json["TargetAddress"] = packet::formatIpAddress(decision.target);
  v.json["TargetPort"] = decision.target_port;
  if (session.packet_length) {
    v.json["PacketLength"] = *session.packet_length;
  }
  v.json["FrameBytes"] = copy.original_length;
  v.json["CopiedBytes"] = copy.wire_inner_length;
  std::string cut = "all " + std::to_string(copy.original_length) + " bytes of the frame";
  if (copy.truncated()) {
    const bool by_length =
        session.packet_length && copy.wire_inner_length == *session.packet_length;
    cut = "the first " + std::to_string(copy.wire_inner_length) + " of the frame's " +
          std::to_string(copy.original_length) + " bytes (" +
          (by_length ? "the session's packet length"
                     : "what fits the path MTU of " + std::to_string(session.target.mtu) +
                           " to the target") +
          ")";
  }
  const std::string by = decision.match.rule_index == rules::kNetworkServiceRule
                             ? " (amazon-dns network service)"
                             : "";
  std::string target =
      session.target.id + " at " + endpointText(decision.target, decision.target_port);
  if (session.target.addresses.size() > 1) {
    target += " (the flow's member of " + std::to_string(session.target.addresses.size()) +
              " healthy load-balancer members)";
  }
  v.text = "MIRRORED by session " + session.id + " (number " +
           std::to_string(session.session_number) + ")" + by + ", VNI " +
           std::to_string(session.virtual_network_id) + ", to target " + target +
           "; the copy carries " + cut;
  return v;
}

struct Report {
  Json json;
  std::string text;
  bool agrees = true;
};

Report explainOne(const HostView& view, const model::InterfaceMirrorConfig& interface,
                  engine::MirrorEngine& engine, const Input& input) {
  Report r;
  packet::ParsedFrame parsed;
  packet::parseFrame(input.frame, parsed);
  const std::string summary = packetSummary(parsed);
  Json packet_json;
  packet_json["Summary"] = summary;
  if (input.number != 0) {
    packet_json["Frame"] = input.number;
  }
  packet_json["Length"] = input.wire_length;
  r.json["NetworkInterfaceId"] = interface.interface.id;
  if (!view.instance_id.empty()) {
    r.json["InstanceId"] = view.instance_id;
  }
  r.json["Revision"] = view.host.revision;
  r.json["Packet"] = packet_json;
  r.text = (input.number != 0 ? "frame " + std::to_string(input.number) + ": " : "packet: ") +
           summary + ", " + std::to_string(input.wire_length) + " bytes";
  if (!input.direction) {
    r.json["Direction"] = nullptr;
    r.json["Verdict"] = {{"Mirrored", false},
                         {"Fate", "unknown_direction"},
                         {"Reason",
                          "the frame is neither from nor to the interface's MAC "
                          "address; give --direction"}};
    r.text +=
        "\n  NOT MIRRORED: the frame is neither from nor to the interface's MAC address "
        "(give --direction)\n";
    return r;
  }
  const TrafficDirection direction = *input.direction;
  r.json["Direction"] = model::directionName(direction);
  r.text += ", " + std::string(model::directionName(direction)) + "\n";

  packet::EncapSlot slot;
  engine::Decision decision;
  engine.process(input.frame, input.wire_length, direction, {}, slot, decision);
  const rules::Explanation explanation = rules::explainMatch(
      interface, rules::TrafficExclusions::forInterface(view.host, interface), parsed, direction);

  const PacketFate fate = explanation.result.fate;
  const bool excluded = fate != PacketFate::Mirrored && fate != PacketFate::NotMatched;
  if (excluded) {
    r.json["Exclusion"] = {{"Fate", rules::packetFateName(fate)},
                           {"Reason", exclusionReason(fate, parsed, view.host)}};
    r.text += "  exclusion: " + exclusionReason(fate, parsed, view.host) + "\n";
  } else {
    r.json["Exclusion"] = nullptr;
  }
  Json sessions = Json::array();
  for (const auto& trial : explanation.sessions) {
    const model::Session& s = *trial.session;
    Json sj;
    sj["TrafficMirrorSessionId"] = s.id;
    sj["SessionNumber"] = s.session_number;
    sj["VirtualNetworkId"] = s.virtual_network_id;
    sj["TrafficMirrorFilterId"] = s.filter.id;
    sj["TrafficMirrorTargetId"] = s.target.id;
    sj["Outcome"] = outcomeName(trial.outcome);
    r.text += "  session " + std::to_string(s.session_number) + " " + s.id + " (VNI " +
              std::to_string(s.virtual_network_id) + ", filter " + s.filter.id + ", target " +
              s.target.id + ")\n";
    Json rules_json = Json::array();
    for (const auto& rule_trial : trial.rules) {
      const model::FilterRule& rule = *rule_trial.rule;
      const bool matched = rule_trial.miss == rules::RuleMiss::None;
      const std::string why = rules::describeRuleMiss(rule, parsed, rule_trial.miss);
      Json rj;
      if (!rule.id.empty()) {
        rj["TrafficMirrorFilterRuleId"] = rule.id;
      }
      rj.update(Json{{"RuleNumber", rule.rule_number},
                     {"RuleAction", model::actionName(rule.action)},
                     {"Rule", ruleSummary(rule)},
                     {"Matched", matched},
                     {"Reason", why}});
      rules_json.push_back(std::move(rj));
      r.text += "    rule " + std::to_string(rule.rule_number) + " " + ruleSummary(rule) + ": " +
                (matched ? "MATCHES" : "no, " + why) + "\n";
    }
    sj["Rules"] = rules_json;
    sj["Reason"] = outcomeText(trial.outcome, explanation);
    r.text += "    => " + outcomeText(trial.outcome, explanation) + "\n";
    sessions.push_back(std::move(sj));
  }
  if (explanation.sessions.empty()) {
    r.text += "  no traffic mirror sessions on this interface\n";
  }
  r.json["Sessions"] = std::move(sessions);

  Verdict verdict = verdictOf(engine, decision, explanation, parsed, view.host);
  r.json["Verdict"] = std::move(verdict.json);
  r.text += "  " + verdict.text + "\n";
  if (decision.match != explanation.result) {
    // The trace and the agent's compiled matcher must agree; a disagreement is a bug.
    r.agrees = false;
    r.json["Disagreement"] = "the rule trace and the agent's matcher disagree (a tmirror bug)";
    r.text += "  BUG: the rule trace says " + std::string(rules::packetFateName(fate)) +
              " and the agent's matcher " + rules::packetFateName(decision.match.fate) +
              "; please report it\n";
  }
  return r;
}

}  // namespace

int runExplain(const ExplainOptions& options) {
  auto view = loadView(options);
  if (!view) {
    std::fprintf(stderr, "tmirror explain: %s\n", view.error().message.c_str());
    return kExitError;
  }
  const model::InterfaceMirrorConfig* interface =
      findInterface(view->host, options.network_interface_id);
  if (interface == nullptr) {
    std::fprintf(stderr, "tmirror explain: %s is not in %s\n", options.network_interface_id.c_str(),
                 options.state ? options.state->c_str() : "its host's desired state");
    return kExitError;
  }
  auto engine = engine::MirrorEngine::create(view->host, *interface);
  if (!engine) {
    std::fprintf(stderr,
                 "tmirror explain: the agent cannot apply %s's sessions as they stand: %s\n",
                 interface->interface.id.c_str(), engine.error().message.c_str());
    return kExitError;
  }
  // What the agent said it cannot apply, of this interface and its sessions and targets.
  std::vector<std::pair<std::string, std::string>> problems;
  for (const auto& [resource, reason] : view->problems) {
    bool concerns = resource == interface->interface.id;
    for (const auto& s : interface->sessions) {
      concerns = concerns || resource == s.id || resource == s.target.id;
    }
    if (concerns) {
      problems.emplace_back(resource, reason);
    }
  }
  std::string header = "interface " + interface->interface.id;
  if (!interface->interface.name.empty() || !view->instance_id.empty()) {
    header += " (" + interface->interface.name +
              (view->instance_id.empty() ? "" : " on " + view->instance_id) +
              (view->hostname.empty() ? "" : ", " + view->hostname) + ")";
  }
  header += ", desired-state revision " + std::to_string(view->host.revision) + "\n";
  if (!view->attached) {
    header += "  note: the host no longer reports this interface; nothing mirrors it now\n";
  }
  for (const auto& [resource, reason] : problems) {
    header += "  note: the agent reports it cannot apply " + resource + ": " + reason + "\n";
  }
  // One JSON object for one packet; a whole capture is an array, written as it is read.
  const bool array = options.pcap && !options.frame;
  bool agrees = true;
  uint64_t printed = 0;
  auto explained = forEachInput(options, interface->interface, [&](const Input& input) {
    Report report = explainOne(*view, *interface, *engine, input);
    agrees = agrees && report.agrees;
    if (options.json) {
      if (!problems.empty()) {
        Json pj = Json::array();
        for (const auto& [resource, reason] : problems) {
          pj.push_back({{"ResourceId", resource}, {"Reason", reason}});
        }
        report.json["Problems"] = std::move(pj);
      }
      std::string text = report.json.dump(2);
      if (array) {
        std::string indented;
        for (char c : text) {
          indented += c;
          if (c == '\n') {
            indented += "  ";
          }
        }
        text = (printed == 0 ? "[\n  " : ",\n  ") + indented;
      }
      std::fputs(text.c_str(), stdout);
    } else {
      std::fputs(((printed == 0 ? header : "") + "\n" + report.text).c_str(), stdout);
    }
    ++printed;
  });
  if (options.json && printed != 0) {
    std::fputs(array ? "\n]\n" : "\n", stdout);
  }
  if (!explained) {
    std::fflush(stdout);
    std::fprintf(stderr, "tmirror explain: %s\n", explained.error().message.c_str());
    return kExitError;
  }
  return agrees ? 0 : kExitDisagreement;
}

}  // namespace tmirror::cli
