// ControlClient: the agent's side of the agent channel (channel/agent_channel.h) over HTTP:
// register the host, long-poll the desired state, push counters. One client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "model/agent_protocol.h"
#include "model/mirror_config.h"

namespace httplib {
class Client;
}

namespace tmirror::agent {

struct ServerUrl {
  std::string host;  // as written (name or address)
  uint16_t port = 80;
};

// "http://host:port" (a trailing "/" allowed). https is refused: say so rather than send a
// token in clear to a TLS port.
Result<ServerUrl> parseServerUrl(const std::string& url);

class ControlClient {
 public:
  ControlClient(ServerUrl url, std::string token);
  ~ControlClient();
  ControlClient(ControlClient&&) noexcept;
  ControlClient& operator=(ControlClient&&) noexcept;

  Result<model::RegisterResponse> registerHost(const model::RegisterRequest& request);

  // The host's desired state once its revision passes `have` or `wait` ends (then the current
  // one). NotFound when the server does not know the instance (register again).
  Result<model::HostMirrorConfig> desiredState(const std::string& instance_id, uint64_t have,
                                               std::chrono::seconds wait);

  Result<void> pushCounters(const model::CountersReport& report);

  // Stops a request in progress from another thread (shutdown).
  void cancel();

 private:
  ServerUrl url_;
  std::string token_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace tmirror::agent
