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
#include "packet/segmenter.h"
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

// One captured frame between MirrorEngine::begin() and its last take(): the verdict, and how
// the frame becomes wire packets. Caller-owned, reused from frame to frame.
struct FrameWork {
  uint32_t copies = 0;  // copies to take with take(), 0 .. copies - 1; 0: nothing to send

  // The engine's (private to it).
  packet::Bytes frame;
  uint32_t wire_length = 0;
  packet::VlanTag tag;
  model::TrafficDirection direction = model::TrafficDirection::Ingress;
  rules::MatchResult match;
  bool segmented = false;  // copies come from `plan`, not the frame as captured
  packet::SegmentPlan plan;
  uint16_t source_port = 0;
  uint32_t member = 0;
};

class MirrorEngine {
 public:
  // Compiles `interface`'s sessions. Fails when the configuration cannot be mirrored (a
  // session without a target address, an IPv6 target, no IPv4 source address).
  static Result<MirrorEngine> create(const model::HostMirrorConfig& host,
                                     const model::InterfaceMirrorConfig& interface,
                                     EngineOptions options = {});

  // Decides the fate of one captured frame and counts it, except for mirrored packets,
  // whose send the caller records with recordSent() or recordSkipped() after take().
  // `offload` says what the kernel left undone: a super-frame (TSO/GSO/GRO) stands for the
  // wire packets a NIC would send, each matched, counted and copied on its own, and a
  // checksum left to the NIC is completed in the copy (docs/mirroring.md point 5). A frame that
  // cannot be cut as it claims is counted by reason and copied as captured.
  void begin(packet::Bytes frame, uint32_t wire_length, model::TrafficDirection direction,
             const packet::VlanTag& tag, const packet::Offload& offload, FrameWork& work);

  // Copy `index` (< work.copies) of a frame begin() found mirrored: its headers and the
  // outer header go to `slot`, the payload stays in the frame.
  void take(const FrameWork& work, uint32_t index, packet::EncapSlot& slot, Decision& decision);

  // begin() and take() for a frame without offloads, which is one wire packet.
  // `wire_length` is the frame's length on the wire when `frame` holds only the captured
  // prefix (a pcap cut by its snapshot length); counters count wire bytes.
  void process(packet::Bytes frame, uint32_t wire_length, model::TrafficDirection direction,
               const packet::VlanTag& tag, packet::EncapSlot& slot, Decision& decision) {
    FrameWork work;
    begin(frame, wire_length, direction, tag, packet::Offload{}, work);
    decision.match = work.match;
    decision.direction = direction;
    decision.frame_length = work.wire_length + (tag.present ? 4u : 0u);
    if (work.copies != 0) {
      take(work, 0, slot, decision);
    }
  }

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
    std::vector<uint64_t> member_keys;  // memberKey() of each address
    uint16_t port = 0;
  };

  model::InterfaceMirrorConfig interface_;
  rules::SessionMatcher matcher_;
  std::vector<SessionPath> paths_;  // evaluation order
  InterfaceCounters counters_;
  std::vector<MirrorCounters> session_counters_;
};

}  // namespace tmirror::engine
