#include "engine/mirror_engine.h"

#include <algorithm>

#include "engine/member_choice.h"
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
      path.member_keys.push_back(memberKey(address));
    }
    engine.paths_.push_back(std::move(path));
  }
  engine.session_counters_.resize(engine.paths_.size());
  return engine;
}

void MirrorEngine::begin(packet::Bytes frame, uint32_t wire_length,
                         model::TrafficDirection direction, const packet::VlanTag& tag,
                         const packet::Offload& offload, FrameWork& work) {
  packet::ParsedFrame parsed;
  packet::parseFrame(frame, parsed);
  work.frame = frame;
  work.wire_length = std::max(wire_length, static_cast<uint32_t>(frame.size()));
  work.tag = tag;
  work.direction = direction;
  work.match = matcher_.match(parsed, direction);
  work.segmented = false;
  uint32_t packets = 1;
  if (offload.any()) {
    const auto status = packet::planSegments(frame, wire_length, parsed, offload, work.plan);
    if (status == packet::SegmentStatus::Ok) {
      work.segmented = true;
      packets = work.plan.count;
      if (work.plan.segmented) {
        ++counters_.offload.super_frames;
        counters_.offload.segments += packets;
      } else {
        ++counters_.offload.checksums_completed;
      }
    } else {
      ++counters_.offload.problems[static_cast<std::size_t>(status)];
    }
  }
  counters_.frames += packets;
  if (work.match.fate != rules::PacketFate::Mirrored) {
    counters_.fate(work.match.fate) += packets;
    if (work.match.fate == rules::PacketFate::Malformed) {
      ++counters_.malformed[static_cast<std::size_t>(parsed.status)];
    }
    work.copies = 0;
    return;
  }
  const SessionPath& path = paths_[work.match.session_index];
  const uint32_t hash = packet::symmetricFlowHash(parsed);
  // A load-balancer target spreads flows over its members (member_choice.h): a change of
  // membership moves only the flows it must.
  work.member = path.member_keys.size() == 1 ? 0 : chooseMember(path.member_keys, hash);
  work.source_port = packet::vxlanSourcePort(hash);
  work.copies = packets;
}

void MirrorEngine::take(const FrameWork& work, uint32_t index, packet::EncapSlot& slot,
                        Decision& decision) {
  const SessionPath& path = paths_[work.match.session_index];
  decision.match = work.match;
  decision.direction = work.direction;
  decision.target = path.addresses[work.member];
  decision.target_port = path.port;
  const packet::VxlanEncapsulator& encapsulator = path.encapsulators[work.member];
  if (!work.segmented) {
    decision.frame_length = work.wire_length + (work.tag.present ? 4u : 0u);
    encapsulator.encapsulate(work.frame, work.wire_length, work.tag, work.source_port, slot,
                             decision.copy);
    return;
  }
  const packet::Segment segment =
      packet::writeSegment(work.frame, work.plan, index, work.tag, slot.inner_head);
  decision.frame_length = segment.length();
  encapsulator.encapsulateParts(segment.head, segment.payload, work.source_port, slot,
                                decision.copy);
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
