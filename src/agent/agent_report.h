// The agent's counters as one snapshot, and its two renderings: the JSON the agent pushes to
// the server and serves on GET /counters, and Prometheus text for GET /metrics. Counter names
// are CloudWatch's traffic-mirroring metrics (docs/mirroring.md point 8) plus the agent's own:
// every frame's fate, skip reasons, kernel ring drops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/interface_worker.h"
#include "model/agent_protocol.h"

namespace tmirror::agent {

struct AgentSnapshot {
  std::string instance_id;
  uint64_t revision = 0;  // desired-state revision in effect
  std::vector<InterfaceReport> interfaces;
  std::vector<model::Problem> problems;
};

// The counters report the agent pushes (model/agent_protocol.h), and its JSON.
model::CountersReport snapshotToReport(const AgentSnapshot& snapshot);
std::string snapshotToJson(const AgentSnapshot& snapshot);
std::string snapshotToPrometheus(const AgentSnapshot& snapshot);

}  // namespace tmirror::agent
