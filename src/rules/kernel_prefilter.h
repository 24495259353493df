// KernelPrefilter: a classic BPF program for the capture socket, compiled from the union of an
// interface's sessions, so that frames no session can mirror are dropped by the kernel and never
// copied into the ring.
//
// It is a superset test, never the decision: it passes a frame when some accept rule of some
// session could match it in its direction (reject rules and session order are left to the
// engine), when a filter has amazon-dns and the frame has port 53, and whenever it cannot tell
// cheaply: VLAN tags still in the data, later IPv4 fragments, IPv6 extension headers. It also
// passes what the engine counts by reason and is rare: non-IP frames, and frames too short or
// malformed for the headers it reads. It drops PACKET_OTHERHOST/LOOPBACK frames (never
// mirrored, and possibly many on a promiscuous interface; UnknownDirection no longer counts
// them) and IP frames no accept rule can match. What is mirrored does
// not change; the engine's Frames and NotMatched counters then count only what passed.
#pragma once

#include <optional>
#include <vector>

#include "model/mirror_config.h"
#include "rules/bpf_program.h"

namespace tmirror::rules {

// The program for `interface`, or nullopt when it would exceed kMaxBpfInstructions (then the
// agent captures everything and the engine alone decides).
std::optional<std::vector<BpfInstruction>> compileKernelPrefilter(
    const model::InterfaceMirrorConfig& interface);

}  // namespace tmirror::rules
