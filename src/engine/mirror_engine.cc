#include "engine/mirror_engine.h"

#include <algorithm>

#include "packet/flow_hash.h"

namespace tmirror::engine {

Result<MirrorEngine> MirrorEngine::create(const model::HostMirrorConfig& host,
                                          const model::InterfaceMirrorConfig& interface,
                                          EngineOptions options) {
  const auto& source = interface.interface;
  if (!interface.sessions.empty() &&
      (!source.ipv4 || source.ipv4->family != packet::IpFamily::V4)) {
    return makeError(ErrorCode::InvalidArgument,
                     source.id +
                         ": an interface with sessions needs an IPv4 address, the source "
                         "of its mirror copies");
  }
  if (interface.sessions.size() > kMaxSessionsPerInterface) {
    return makeError(ErrorCode::InvalidArgument,
                     source.id + ": " + std::to_string(interface.sessions.size()) +
                         " sessions; at most " + std::to_string(kMaxSessionsPerInterface) +
                         " can share an interface");
  }
  MirrorEngine engine;
  engine.interface_ = interface;
  engine.matcher_ = rules::SessionMatcher::compile(
      interface, rules::TrafficExclusions::forInterface(host, interface), options.matcher);
  const packet::MacAddress src_mac = options.outer_src_mac == packet::MacAddress{} && source.mac
                                         ? *source.mac
                                         : options.outer_src_mac;
  for (std::size_t index : engine.matcher_.sessionOrder()) {
    const model::Session& session = interface.sessions[index];
    if (session.target.addresses.empty()) {
      return makeError(ErrorCode::InvalidArgument,
                       session.id + ": target " + session.target.id + " has no address");
    }
    SessionPath path;
    path.port = session.target.port;
    for (const auto& address : session.target.addresses) {
      if (address.family != packet::IpFamily::V4) {
        return makeError(ErrorCode::Unsupported,
                         session.id + ": target address " + packet::formatIpAddress(address) +
                             " is IPv6; IPv6 outer transport is not supported yet");
      }
      const packet::OuterPath outer{
          .src_mac = src_mac,
          .dst_mac = options.outer_dst_mac,
          .src_ipv4 = static_cast<uint32_t>(source.ipv4->value),
          .dst_ipv4 = static_cast<uint32_t>(address.value),
          .dst_port = session.target.port,
          .mtu = session.target.mtu,
      };
      path.encapsulators.emplace_back(outer, session.virtual_network_id,
                                      session.packet_length.value_or(0));
      path.addresses.push_back(address);
    }
    engine.paths_.push_back(std::move(path));
  }
  engine.session_counters_.resize(engine.paths_.size());
  return engine;
}

void MirrorEngine::process(packet::Bytes frame, uint32_t wire_length,
                           model::TrafficDirection direction, const packet::VlanTag& tag,
                           packet::EncapSlot& slot, Decision& decision) {
  ++counters_.frames;
  packet::ParsedFrame parsed;
  packet::parseFrame(frame, parsed);
  decision.direction = direction;
  decision.match = matcher_.match(parsed, direction);
  wire_length = std::max(wire_length, static_cast<uint32_t>(frame.size()));
  decision.frame_length = wire_length + (tag.present ? 4u : 0u);
  if (decision.match.fate != rules::PacketFate::Mirrored) {
    ++counters_.fate(decision.match.fate);
    if (decision.match.fate == rules::PacketFate::Malformed) {
      ++counters_.malformed[static_cast<std::size_t>(parsed.status)];
    }
    return;
  }
  const SessionPath& path = paths_[decision.match.session_index];
  const uint32_t hash = packet::symmetricFlowHash(parsed);
  // A load-balancer target spreads flows over its members; both directions of a flow land on
  // the same member because the hash is symmetric.
  const std::size_t member = path.addresses.size() == 1 ? 0 : hash % path.addresses.size();
  decision.target = path.addresses[member];
  decision.target_port = path.port;
  path.encapsulators[member].encapsulate(frame, wire_length, tag, packet::vxlanSourcePort(hash),
                                         slot, decision.copy);
}

void MirrorEngine::recordSent(const Decision& decision) {
  ++counters_.fate(rules::PacketFate::Mirrored);
  for (MirrorCounters* c : {&counters_.mirror, &session_counters_[decision.match.session_index]}) {
    DirectionCounters& d = c->of(decision.direction);
    d.mirror_bytes += decision.frame_length;
    ++d.mirror_packets;
    if (decision.copy.truncated()) {
      ++d.truncated_packets;
    }
  }
}

void MirrorEngine::recordSkipped(const Decision& decision) {
  ++counters_.skipped;
  for (MirrorCounters* c : {&counters_.mirror, &session_counters_[decision.match.session_index]}) {
    DirectionCounters& d = c->of(decision.direction);
    d.skip_bytes += decision.frame_length;
    ++d.skip_packets;
  }
}

}  // namespace tmirror::engine
