// MirrorEngine: the per-packet pipeline of one source interface, shared by the agent and by
// `tmirror mirror-pcap`: parse -> match the sessions -> pick the target -> encapsulate.
// It owns the compiled matcher, one encapsulator per (session, target endpoint) and the
// counters. process() allocates nothing and makes no system call; sending is the caller's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/mirror_counters.h"
#include "model/mirror_config.h"
#include "packet/encapsulation.h"
#include "packet/frame.h"
#include "rules/session_matcher.h"

namespace tmirror::engine {

// Far above AWS's quota of 3; bounds the per-packet session walk and the session index.
inline constexpr std::size_t kMaxSessionsPerInterface = 1024;

struct EngineOptions {
  // Outer Ethernet addresses. The agent fills in the next hop; offline output keeps defaults.
  packet::MacAddress outer_src_mac{};  // default: the source interface's MAC
  packet::MacAddress outer_dst_mac{};
  rules::MatcherOptions matcher;  // tests and benchmarks
};

// The outcome for one frame. When `match.fate` is Mirrored, `copy` holds the VXLAN packet
// (views into the frame and the slot) and `target` the endpoint it goes to.
struct Decision {
  rules::MatchResult match;
  model::TrafficDirection direction = model::TrafficDirection::Ingress;
  packet::MirrorCopy copy;
  packet::IpAddress target;
  uint16_t target_port = 0;
  uint32_t frame_length = 0;  // frame length on the wire (with a restored tag), for counters
};

class MirrorEngine {
 public:
  // Compiles `interface`'s sessions. Fails when the configuration cannot be mirrored (a
  // session without a target address, an IPv6 target, no IPv4 source address).
  static Result<MirrorEngine> create(const model::HostMirrorConfig& host,
                                     const model::InterfaceMirrorConfig& interface,
                                     EngineOptions options = {});

  // Decides the fate of one frame and counts it, except for mirrored frames, whose send
  // the caller records with recordSent() or recordSkipped().
  // `wire_length` is the frame's length on the wire when `frame` holds only the captured
  // prefix (a pcap cut by its snapshot length); counters count wire bytes.
  void process(packet::Bytes frame, uint32_t wire_length, model::TrafficDirection direction,
               const packet::VlanTag& tag, packet::EncapSlot& slot, Decision& decision);

  void process(packet::Bytes frame, model::TrafficDirection direction, const packet::VlanTag& tag,
               packet::EncapSlot& slot, Decision& decision) {
    process(frame, static_cast<uint32_t>(frame.size()), direction, tag, slot, decision);
  }

  // A frame whose direction is unknown (neither to nor from the interface).
  void recordUnknownDirection() {
    ++counters_.frames;
    ++counters_.unknown_direction;
  }

  void recordSent(const Decision& decision);
  void recordSkipped(const Decision& decision);

  const InterfaceCounters& counters() const { return counters_; }

  // Counters of the session at `session_index` in evaluation order.
  const MirrorCounters& sessionCounters(std::size_t session_index) const {
    return session_counters_[session_index];
  }

  // The session at `session_index` in evaluation (session-number) order.
  const model::Session& session(std::size_t session_index) const {
    return interface_.sessions[matcher_.sessionOrder()[session_index]];
  }

  std::size_t sessionCount() const { return matcher_.sessionCount(); }

 private:
  struct SessionPath {
    std::vector<packet::VxlanEncapsulator> encapsulators;  // one per target address
    std::vector<packet::IpAddress> addresses;
    uint16_t port = 0;
  };

  model::InterfaceMirrorConfig interface_;
  rules::SessionMatcher matcher_;
  std::vector<SessionPath> paths_;  // evaluation order
  InterfaceCounters counters_;
  std::vector<MirrorCounters> session_counters_;
};

}  // namespace tmirror::engine
