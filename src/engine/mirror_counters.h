// Counters of one source interface and of each of its sessions, named after CloudWatch's
// traffic-mirroring metrics (docs/mirroring.md point 8). Every frame handed to the engine lands in
// exactly one fate counter; mirrored and skipped frames also add to the In/Out counters.
#pragma once

#include <array>
#include <cstdint>

#include "model/mirror_config.h"
#include "packet/frame.h"
#include "packet/segmenter.h"
#include "rules/match_result.h"

namespace tmirror::engine {

// One direction's CloudWatch-named counters: In = ingress, Out = egress.
struct DirectionCounters {
  uint64_t mirror_bytes = 0;       // NetworkMirrorIn / NetworkMirrorOut
  uint64_t mirror_packets = 0;     // NetworkPacketsMirrorIn / Out
  uint64_t skip_bytes = 0;         // NetworkSkipMirrorIn / Out
  uint64_t skip_packets = 0;       // NetworkPacketsSkipMirrorIn / Out
  uint64_t truncated_packets = 0;  // copies shorter than the frame (packet length or MTU)
};

struct MirrorCounters {
  DirectionCounters in;
  DirectionCounters out;

  DirectionCounters& of(model::TrafficDirection d) {
    return d == model::TrafficDirection::Ingress ? in : out;
  }

  const DirectionCounters& of(model::TrafficDirection d) const {
    return d == model::TrafficDirection::Ingress ? in : out;
  }
};

// Frames the kernel handed over with offloads, and what became of them (segmenter.h).
struct OffloadCounters {
  uint64_t super_frames = 0;         // frames cut into several wire packets
  uint64_t segments = 0;             // wire packets cut from them
  uint64_t checksums_completed = 0;  // single packets whose checksum was the NIC's to fill in
  // Frames with offloads copied as captured, by reason.
  std::array<uint64_t, static_cast<std::size_t>(packet::SegmentStatus::kCount)> problems{};
};

struct InterfaceCounters {
  MirrorCounters mirror;
  OffloadCounters offload;
  // Every wire packet handed to the engine: a super-frame counts as the packets it stands
  // for. Once each mirrored packet's send was recorded:
  // frames == sum(fates) + skipped + unknown_direction.
  uint64_t frames = 0;
  uint64_t skipped = 0;  // accepted by a session but not sent (socket full, rate cap)
  std::array<uint64_t, static_cast<std::size_t>(rules::PacketFate::kCount)> fates{};
  std::array<uint64_t, static_cast<std::size_t>(packet::FrameStatus::kCount)> malformed{};
  uint64_t unknown_direction =
      0;  // frames whose direction could not be told (not counted in fates)

  uint64_t& fate(rules::PacketFate f) { return fates[static_cast<std::size_t>(f)]; }

  uint64_t fate(rules::PacketFate f) const { return fates[static_cast<std::size_t>(f)]; }
};

}  // namespace tmirror::engine
