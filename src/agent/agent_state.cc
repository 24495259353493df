#include "agent/agent_state.h"

#include <sys/stat.h>

#include "common/durable_file.h"
#include "model/host_identity.h"
#include "model/mirror_config_json.h"

namespace tmirror::agent {

Result<AgentState> AgentState::open(const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return makeError(ErrorCode::Io,
                     "state directory " + directory.string() + ": " + error.message());
  }
  ::chmod(directory.c_str(), 0700);
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
