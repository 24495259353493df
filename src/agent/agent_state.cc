#include "agent/agent_state.h"

#include "common/durable_file.h"
#include "model/host_identity.h"
#include "model/mirror_config_json.h"

namespace tmirror::agent {

Result<AgentState> AgentState::open(const std::filesystem::path& directory) {
  if (auto made = makePrivateDirectory(directory); !made) {
    return std::unexpected(made.error());
  }
  return AgentState(directory);
}

Result<AgentIdentity> AgentState::loadOrCreateIdentity() {
  return model::loadOrCreateHostIdentity(directory_);
}

Result<void> AgentState::saveIdentity(const AgentIdentity& identity) {
  return model::saveHostIdentity(directory_, identity);
}

Result<std::optional<model::HostMirrorConfig>> AgentState::loadDesiredState() {
  const auto path = directory_ / "desired-state.json";
  if (!std::filesystem::exists(path)) {
    return std::optional<model::HostMirrorConfig>{};
  }
  auto config = model::loadHostMirrorConfig(path);
  if (!config) {
    return std::unexpected(config.error());
  }
  return std::optional<model::HostMirrorConfig>(std::move(*config));
}

Result<void> AgentState::saveDesiredState(const model::HostMirrorConfig& config) {
  return replaceFileDurably(directory_ / "desired-state.json",
                            model::hostMirrorConfigToJson(config));
}

}  // namespace tmirror::agent
