// `tmirror mirror-pcap`: the offline twin of the agent. Frames from a capture go through the
// same MirrorEngine the agent runs; the copies go to a pcap and/or a UDP address.
#pragma once

#include <string>

#include "cli/command_line.h"
#include "common/result.h"
#include "engine/mirror_counters.h"

namespace tmirror::cli {

struct MirrorPcapReport {
  std::string json;  // counters, per interface and session, with CloudWatch names
  engine::InterfaceCounters counters;
  uint64_t copies_written = 0;
  uint64_t copies_sent = 0;
};

// Runs the whole command. On error nothing is left at the output path.
Result<MirrorPcapReport> runMirrorPcap(const MirrorPcapOptions& options);

}  // namespace tmirror::cli
