// The agent channel's series in the server's /metrics: the reports it took, the hosts that
// registered, the counters hosts pushed, what agents cannot apply, and what collectors received
// per mirror session (beside what the session's agent sent, so that a copy lost on the way
// shows).
#pragma once

#include "channel/agent_channel.h"
#include "common/result.h"
#include "metrics/registry.h"

namespace tmirror::channel {

// The series read `channel` at each render: it must outlive the registry's renders.
Result<void> addAgentChannelMetrics(metrics::Registry& registry, AgentChannel& channel);

}  // namespace tmirror::channel
