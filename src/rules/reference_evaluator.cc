#include "rules/reference_evaluator.h"

#include <algorithm>
#include <vector>

namespace tmirror::rules {

namespace {

bool inRange(const model::PortRange& range, uint16_t port) {
  return port >= range.from_port && port <= range.to_port;
}

}  // namespace

bool ruleMatches(const model::FilterRule& rule, const packet::ParsedFrame& frame) {
  if (rule.source_cidr.family() != frame.family || rule.destination_cidr.family() != frame.family) {
    return false;
  }
  if (!rule.source_cidr.contains(frame.src) || !rule.destination_cidr.contains(frame.dst)) {
    return false;
  }
  if (rule.protocol && *rule.protocol != frame.protocol) {
    return false;
  }
  const bool needs_ports = rule.source_port_range || rule.destination_port_range;
  if (!needs_ports) {
    return true;
  }
  // Ports exist only for TCP and UDP, and not on a non-first fragment.
  const bool tcp_or_udp =
      frame.protocol == packet::kProtoTcp || frame.protocol == packet::kProtoUdp;
  if (!tcp_or_udp || !frame.has_ports || frame.fragment == packet::Fragment::Later) {
    return false;
  }
  if (rule.source_port_range && !inRange(*rule.source_port_range, frame.src_port)) {
    return false;
  }
  if (rule.destination_port_range && !inRange(*rule.destination_port_range, frame.dst_port)) {
    return false;
  }
  return true;
}

MatchResult evaluateReference(const model::InterfaceMirrorConfig& interface,
                              const TrafficExclusions& exclusions, const packet::ParsedFrame& frame,
                              model::TrafficDirection direction) {
  if (frame.status == packet::FrameStatus::NotIp) {
    return {PacketFate::NotIp};
  }
  if (frame.status != packet::FrameStatus::Ok) {
    return {PacketFate::Malformed};
  }
  if (const PacketFate never = exclusions.neverMirrored(frame); never != PacketFate::Mirrored) {
    return {never};
  }
  std::vector<const model::Session*> sessions;
  for (const auto& session : interface.sessions) {
    sessions.push_back(&session);
  }
  std::stable_sort(sessions.begin(), sessions.end(), [](const auto* a, const auto* b) {
    return a->session_number < b->session_number;
  });

  if (exclusions.isResolverDns(frame)) {
    // Resolver DNS is mirrored by the first session whose filter has amazon-dns, both
    // directions, whatever its rules say; without one it is never mirrored.
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      if (sessions[i]->filter.amazon_dns) {
        return {PacketFate::Mirrored, static_cast<uint16_t>(i), kNetworkServiceRule};
      }
    }
    return {PacketFate::ResolverDns};
  }

  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const auto& filter = sessions[i]->filter;
    const auto& listed =
        direction == model::TrafficDirection::Ingress ? filter.ingress_rules : filter.egress_rules;
    std::vector<const model::FilterRule*> rules;
    for (const auto& rule : listed) {
      rules.push_back(&rule);
    }
    std::stable_sort(rules.begin(), rules.end(),
                     [](const auto* a, const auto* b) { return a->rule_number < b->rule_number; });
    for (std::size_t r = 0; r < rules.size(); ++r) {
      if (!ruleMatches(*rules[r], frame)) {
        continue;
      }
      if (rules[r]->action == model::RuleAction::Accept) {
        return {PacketFate::Mirrored, static_cast<uint16_t>(i), static_cast<int16_t>(r)};
      }
      break;  // reject: this session does not mirror it; the next session may
    }
  }
  return {PacketFate::NotMatched};
}

}  // namespace tmirror::rules
