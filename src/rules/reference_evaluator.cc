#include "rules/reference_evaluator.h"

#include <algorithm>

namespace tmirror::rules {

namespace {

bool inRange(const model::PortRange& range, uint16_t port) {
  return port >= range.from_port && port <= range.to_port;
}

std::string protocolText(uint8_t protocol) {
  const char* name = protocol == packet::kProtoTcp   ? "TCP"
                     : protocol == packet::kProtoUdp ? "UDP"
                     : protocol == 1                 ? "ICMP"
                     : protocol == 58                ? "ICMPv6"
                                                     : nullptr;
  return name == nullptr ? "protocol " + std::to_string(protocol)
                         : std::string(name) + " (" + std::to_string(protocol) + ")";
}

std::string rangeText(const model::PortRange& range) {
  return range.from_port == range.to_port
             ? std::to_string(range.from_port)
             : std::to_string(range.from_port) + "-" + std::to_string(range.to_port);
}

template <typename T>
std::vector<const T*> sortedBy(const std::vector<T>& items, uint32_t T::*number) {
  std::vector<const T*> out;
  for (const auto& item : items) {
    out.push_back(&item);
  }
  std::stable_sort(out.begin(), out.end(),
                   [number](const T* a, const T* b) { return a->*number < b->*number; });
  return out;
}

}  // namespace

RuleMiss ruleMiss(const model::FilterRule& rule, const packet::ParsedFrame& frame) {
  if (rule.source_cidr.family() != frame.family || rule.destination_cidr.family() != frame.family) {
    return RuleMiss::Family;
  }
  if (!rule.source_cidr.contains(frame.src)) {
    return RuleMiss::Source;
  }
  if (!rule.destination_cidr.contains(frame.dst)) {
    return RuleMiss::Destination;
  }
  if (rule.protocol && *rule.protocol != frame.protocol) {
    return RuleMiss::Protocol;
  }
  if (!rule.source_port_range && !rule.destination_port_range) {
    return RuleMiss::None;
  }
  // Ports exist only for TCP and UDP, and not on a non-first fragment.
  const bool tcp_or_udp =
      frame.protocol == packet::kProtoTcp || frame.protocol == packet::kProtoUdp;
  if (!tcp_or_udp || !frame.has_ports || frame.fragment == packet::Fragment::Later) {
    return RuleMiss::NoPorts;
  }
  if (rule.source_port_range && !inRange(*rule.source_port_range, frame.src_port)) {
    return RuleMiss::SourcePort;
  }
  if (rule.destination_port_range && !inRange(*rule.destination_port_range, frame.dst_port)) {
    return RuleMiss::DestinationPort;
  }
  return RuleMiss::None;
}

std::string describeRuleMiss(const model::FilterRule& rule, const packet::ParsedFrame& frame,
                             RuleMiss miss) {
  switch (miss) {
    case RuleMiss::None:
      return "matches";
    case RuleMiss::Family:
      return std::string("the packet is ") +
             (frame.family == packet::IpFamily::V4 ? "IPv4" : "IPv6") + "; the rule's CIDRs are " +
             (frame.family == packet::IpFamily::V4 ? "IPv6" : "IPv4");
    case RuleMiss::Source:
      return "source " + packet::formatIpAddress(frame.src) + " is outside " +
             packet::formatCidr(rule.source_cidr);
    case RuleMiss::Destination:
      return "destination " + packet::formatIpAddress(frame.dst) + " is outside " +
             packet::formatCidr(rule.destination_cidr);
    case RuleMiss::Protocol:
      return "the packet is " + protocolText(frame.protocol) + "; the rule wants " +
             protocolText(*rule.protocol);
    case RuleMiss::NoPorts:
      if (frame.protocol != packet::kProtoTcp && frame.protocol != packet::kProtoUdp) {
        return "the rule has port ranges and " + protocolText(frame.protocol) + " has no ports";
      }
      return frame.fragment == packet::Fragment::Later
                 ? "the rule has port ranges and a non-first fragment carries no ports"
                 : "the rule has port ranges and the packet's header is cut before its ports";
    case RuleMiss::SourcePort:
      return "source port " + std::to_string(frame.src_port) + " is outside " +
             rangeText(*rule.source_port_range);
    case RuleMiss::DestinationPort:
      return "destination port " + std::to_string(frame.dst_port) + " is outside " +
             rangeText(*rule.destination_port_range);
  }
  return "unknown";
}

Explanation explainMatch(const model::InterfaceMirrorConfig& interface,
                         const TrafficExclusions& exclusions, const packet::ParsedFrame& frame,
                         model::TrafficDirection direction) {
  Explanation out;
  for (const model::Session* session :
       sortedBy(interface.sessions, &model::Session::session_number)) {
    out.sessions.push_back({session, SessionOutcome::NotReached, {}});
  }
  if (frame.status == packet::FrameStatus::NotIp) {
    out.result = {PacketFate::NotIp};
    return out;
  }
  if (frame.status != packet::FrameStatus::Ok) {
    out.result = {PacketFate::Malformed};
    return out;
  }
  if (const PacketFate never = exclusions.neverMirrored(frame); never != PacketFate::Mirrored) {
    out.result = {never};
    return out;
  }

  if (exclusions.isResolverDns(frame)) {
    // Resolver DNS is mirrored by the first session whose filter has amazon-dns, both
    // directions, whatever its rules say; without one it is never mirrored.
    for (std::size_t i = 0; i < out.sessions.size(); ++i) {
      if (out.sessions[i].session->filter.amazon_dns) {
        out.sessions[i].outcome = SessionOutcome::DnsService;
        out.result = {PacketFate::Mirrored, static_cast<uint16_t>(i), kNetworkServiceRule};
        return out;
      }
      out.sessions[i].outcome = SessionOutcome::NoDnsService;
    }
    out.result = {PacketFate::ResolverDns};
    return out;
  }

  for (std::size_t i = 0; i < out.sessions.size(); ++i) {
    SessionTrial& trial = out.sessions[i];
    const auto& filter = trial.session->filter;
    const auto& listed =
        direction == model::TrafficDirection::Ingress ? filter.ingress_rules : filter.egress_rules;
    const auto rules = sortedBy(listed, &model::FilterRule::rule_number);
    trial.outcome = SessionOutcome::NoRuleMatched;
    for (std::size_t r = 0; r < rules.size(); ++r) {
      const RuleMiss miss = ruleMiss(*rules[r], frame);
      trial.rules.push_back({rules[r], miss});
      if (miss != RuleMiss::None) {
        continue;
      }
      if (rules[r]->action == model::RuleAction::Accept) {
        trial.outcome = SessionOutcome::Accepted;
        out.result = {PacketFate::Mirrored, static_cast<uint16_t>(i), static_cast<int16_t>(r)};
        return out;
      }
      trial.outcome = SessionOutcome::Rejected;  // this session does not mirror it; the next may
      break;
    }
  }
  out.result = {PacketFate::NotMatched};
  return out;
}

}  // namespace tmirror::rules
