// `tmirror explain`: why a packet on a source interface is, or is not, mirrored. From the
// server's current desired state for the interface's host (GET /desired-state, signed as the
// API verbs are) or from a desired-state file, it runs the agent's own MirrorEngine on the packet
// for the verdict (session, VNI, target, copy length) and traces the same decision rule by rule:
// each session in priority order, each rule tried and why it did or did not match, and the
// exclusion that applies (ARP and other non-IP, DHCP, resolver DNS, the host's own VXLAN copies,
// the agent's control channel).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "cli/aws/api_verbs.h"
#include "model/mirror_config.h"

namespace tmirror::cli {

struct ExplainOptions {
  std::string network_interface_id;
  // Unset: from the packet's addresses (--packet) or its MACs and pcapng flags (--pcap).
  std::optional<model::TrafficDirection> direction;
  std::string packet;                          // --packet 'tcp A:p > B:q'
  std::optional<std::filesystem::path> pcap;   // --pcap FILE
  std::optional<uint64_t> frame;               // --frame N (1-based); unset: every frame
  uint32_t length = 0;                         // --length: the --packet frame's bytes
  std::optional<std::filesystem::path> state;  // --desired-state FILE instead of the server
  bool json = false;                           // --output json
  ApiGlobalOptions globals;                    // --endpoint-url, --region, --profile, ...
};

// Prints the explanation; returns 0 when every packet was explained, 1 on an error (printed on
// stderr), 3 when the trace and the engine disagree (a tmirror bug, printed).
int runExplain(const ExplainOptions& options);

}  // namespace tmirror::cli
