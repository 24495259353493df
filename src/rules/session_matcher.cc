#include "rules/session_matcher.h"

#include <algorithm>
#include <numeric>

namespace tmirror::rules {

namespace {

using model::FilterRule;
using packet::IpFamily;

RuleRanges toRanges(const FilterRule& rule) {
  RuleRanges r;
  r.src_lo = rule.source_cidr.first();
  r.src_hi = rule.source_cidr.last();
  r.dst_lo = rule.destination_cidr.first();
  r.dst_hi = rule.destination_cidr.last();
  if (rule.protocol) {
    r.protocol_lo = r.protocol_hi = *rule.protocol;
  }
  if (rule.source_port_range) {
    r.src_port_lo = rule.source_port_range->from_port;
    r.src_port_hi = rule.source_port_range->to_port;
  }
  if (rule.destination_port_range) {
    r.dst_port_lo = rule.destination_port_range->from_port;
    r.dst_port_hi = rule.destination_port_range->to_port;
  }
  // No protocol restriction is needed for port ranges: makeKey() gives every packet that is
  // not TCP/UDP with ports the port kNoPort, which no range contains.
  return r;
}

template <typename Addr>
RuleKey<Addr> makeKey(const packet::ParsedFrame& f) {
  RuleKey<Addr> key;
  key.src = static_cast<Addr>(f.src.value);
  key.dst = static_cast<Addr>(f.dst.value);
  key.protocol = f.protocol;
  const bool tcp_or_udp = f.protocol == packet::kProtoTcp || f.protocol == packet::kProtoUdp;
  if (tcp_or_udp && f.has_ports && f.fragment != packet::Fragment::Later) {
    key.src_port = f.src_port;
    key.dst_port = f.dst_port;
  }
  return key;
}

}  // namespace

SessionMatcher SessionMatcher::compile(const model::InterfaceMirrorConfig& interface,
                                       TrafficExclusions exclusions, MatcherOptions options) {
  SessionMatcher m;
  m.exclusions_ = std::move(exclusions);
  m.order_.resize(interface.sessions.size());
  std::iota(m.order_.begin(), m.order_.end(), std::size_t{0});
  std::stable_sort(m.order_.begin(), m.order_.end(), [&](std::size_t a, std::size_t b) {
    return interface.sessions[a].session_number < interface.sessions[b].session_number;
  });

  auto compileDirection = [&](const std::vector<FilterRule>& unsorted, DirectionRules& out) {
    std::vector<const FilterRule*> sorted;
    for (const auto& rule : unsorted) {
      sorted.push_back(&rule);
    }
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto* a, const auto* b) { return a->rule_number < b->rule_number; });
    std::vector<RuleRanges> v4;
    std::vector<RuleRanges> v6;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      const FilterRule& rule = *sorted[i];
      // A rule whose CIDRs disagree in family matches nothing; the loader rejects it anyway.
      if (rule.source_cidr.family() != rule.destination_cidr.family()) {
        continue;
      }
      const bool accept = rule.action == model::RuleAction::Accept;
      if (rule.source_cidr.family() == IpFamily::V4) {
        v4.push_back(toRanges(rule));
        out.v4.accept.push_back(accept);
        out.v4.rule_index.push_back(static_cast<int16_t>(i));
      } else if (rule.source_cidr.family() == IpFamily::V6) {
        v6.push_back(toRanges(rule));
        out.v6.accept.push_back(accept);
        out.v6.rule_index.push_back(static_cast<int16_t>(i));
      }
    }
    const auto mode = options.force_bitsets  ? ClassifierMode::Bitset
                      : options.force_linear ? ClassifierMode::Linear
                                             : ClassifierMode::Auto;
    out.v4.classifier = RuleClassifier<uint32_t>(v4, mode);
    out.v6.classifier = RuleClassifier<packet::Uint128>(v6, mode);
  };

  for (std::size_t index : m.order_) {
    const model::Session& session = interface.sessions[index];
    CompiledSession compiled;
    compiled.amazon_dns = session.filter.amazon_dns;
    compileDirection(session.filter.ingress_rules, compiled.ingress);
    compileDirection(session.filter.egress_rules, compiled.egress);
    m.sessions_.push_back(std::move(compiled));
  }
  return m;
}

MatchResult SessionMatcher::match(const packet::ParsedFrame& frame,
                                  model::TrafficDirection direction) const {
  if (frame.status != packet::FrameStatus::Ok) [[unlikely]] {
    return {frame.status == packet::FrameStatus::NotIp ? PacketFate::NotIp : PacketFate::Malformed};
  }
  // One port-bitmap test keeps ordinary traffic clear of every exclusion check.
  if (exclusions_.mayBeExcluded(frame)) [[unlikely]] {
    if (const PacketFate never = exclusions_.neverMirrored(frame); never != PacketFate::Mirrored) {
      return {never};
    }
    if (exclusions_.isResolverDns(frame)) {
      for (std::size_t i = 0; i < sessions_.size(); ++i) {
        if (sessions_[i].amazon_dns) {
          return {PacketFate::Mirrored, static_cast<uint16_t>(i), kNetworkServiceRule};
        }
      }
      return {PacketFate::ResolverDns};
    }
  }
  const bool ingress = direction == model::TrafficDirection::Ingress;
  if (frame.family == IpFamily::V4) {
    const RuleKey<uint32_t> key = makeKey<uint32_t>(frame);
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      const auto& rules = ingress ? sessions_[i].ingress.v4 : sessions_[i].egress.v4;
      const int pos = rules.classifier.firstMatch(key);
      if (pos >= 0 && rules.accept[static_cast<std::size_t>(pos)]) {
        return {PacketFate::Mirrored, static_cast<uint16_t>(i),
                rules.rule_index[static_cast<std::size_t>(pos)]};
      }
    }
  } else {
    const RuleKey<packet::Uint128> key = makeKey<packet::Uint128>(frame);
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      const auto& rules = ingress ? sessions_[i].ingress.v6 : sessions_[i].egress.v6;
      const int pos = rules.classifier.firstMatch(key);
      if (pos >= 0 && rules.accept[static_cast<std::size_t>(pos)]) {
        return {PacketFate::Mirrored, static_cast<uint16_t>(i),
                rules.rule_index[static_cast<std::size_t>(pos)]};
      }
    }
  }
  return {PacketFate::NotMatched};
}

}  // namespace tmirror::rules
