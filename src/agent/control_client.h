// ControlClient: the agent's side of the agent channel (channel/agent_channel.h) over HTTP or
// HTTPS (http::ServerClient): register the host, long-poll the desired state, push counters.
// One client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/report_pacer.h"
#include "common/result.h"
#include "http/server_client.h"
#include "model/agent_protocol.h"
#include "model/mirror_config.h"

namespace tmirror::agent {

using http::ServerTrust;
using http::ServerUrl;

class ControlClient {
 public:
  ControlClient(ServerUrl url, ServerTrust trust, std::string token);
  ~ControlClient();
  ControlClient(ControlClient&&) noexcept;
  ControlClient& operator=(ControlClient&&) noexcept;

  Result<model::RegisterResponse> registerHost(const model::RegisterRequest& request);

  // What a long-poll brings back.
  struct Poll {
    std::optional<model::HostMirrorConfig> config;  // nullopt: `have` is still current (204)
    std::optional<std::chrono::milliseconds> report_interval;  // the server's ask, if it said

    // What a report that rode this poll got back, as a counters answer says it. No interval
    // (an older server) keeps reports on the poll.
    model::CountersAnswer reportAnswer() const {
      return {.report_interval = report_interval.value_or(
                  std::chrono::milliseconds(ReportPacer::kOnPollConnectionFrom))};
    }
  };

  // The host's desired state once its revision passes `have`; no config when `wait` ends
  // first. With a report, the poll carries it (a POST) instead of a request of its own.
  // NotFound when the server does not know the instance (register again).
  Result<Poll> desiredState(const std::string& instance_id, uint64_t have,
                            std::chrono::seconds wait,
                            const model::CountersReport* report = nullptr);

  // The server's answer says how often it wants the next report.
  Result<model::CountersAnswer> pushCounters(const model::CountersReport& report);

  // Stops a request in progress from another thread (shutdown).
  void cancel();

 private:
  http::ServerClient client_;
};

}  // namespace tmirror::agent
