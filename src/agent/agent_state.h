// AgentState: what the agent keeps on disk in its state directory, so that a restart keeps
// its identity and a server outage does not stop mirroring:
//   identity.json       {"HostKey": "...", "InstanceId": "i-..."}
//   desired-state.json  the last desired state the server gave (model::HostMirrorConfig JSON)
// Files are replaced atomically (write a temporary file, fsync, rename, fsync the directory).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/result.h"
#include "model/host_identity.h"
#include "model/mirror_config.h"

namespace tmirror::agent {

using AgentIdentity = model::HostIdentity;

class AgentState {
 public:
  // Creates the directory (mode 0700) if needed.
  static Result<AgentState> open(const std::filesystem::path& directory);

  // The stored identity, or a new one with a fresh random host key (saved at once).
  Result<AgentIdentity> loadOrCreateIdentity();
  Result<void> saveIdentity(const AgentIdentity& identity);

  // The last desired state, if one was saved. A damaged file is an error (kept for a human).
  Result<std::optional<model::HostMirrorConfig>> loadDesiredState();
  Result<void> saveDesiredState(const model::HostMirrorConfig& config);

  const std::filesystem::path& directory() const { return directory_; }

 private:
  explicit AgentState(std::filesystem::path directory) : directory_(std::move(directory)) {}

  std::filesystem::path directory_;
};

}  // namespace tmirror::agent
