#include "agent/agent_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/random.h"
#include "common/unique_fd.h"
#include "model/mirror_config_json.h"

namespace tmirror::agent {

using json = nlohmann::json;

Result<void> replaceFileDurably(const std::filesystem::path& path, const std::string& content) {
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      return makeSystemError("creating " + temp.string(), errno);
    }
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return makeSystemError("writing " + temp.string(), errno);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      return makeSystemError("fsync " + temp.string(), errno);
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return makeSystemError("renaming to " + path.string(), errno);
  }
  UniqueFd dir(::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                      O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid() && ::fsync(dir.get()) != 0 && errno != EINVAL) {
    return makeSystemError("fsync of " + path.parent_path().string(), errno);
  }
  return {};
}

namespace {

std::optional<std::string> readFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string randomHostKey() {
  return secureRandomHex(32);
}

}  // namespace

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
  const auto path = directory_ / "identity.json";
  if (auto text = readFile(path)) {
    const json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("HostKey") || !j["HostKey"].is_string() ||
        j["HostKey"].get<std::string>().size() < 16) {
      return makeError(ErrorCode::InvalidArgument, path.string() + " is damaged");
    }
    AgentIdentity identity;
    identity.host_key = j["HostKey"].get<std::string>();
    if (j.contains("InstanceId") && j["InstanceId"].is_string()) {
      identity.instance_id = j["InstanceId"].get<std::string>();
    }
    return identity;
  }
  AgentIdentity identity{randomHostKey(), ""};
  if (auto saved = saveIdentity(identity); !saved) {
    return std::unexpected(saved.error());
  }
  return identity;
}

Result<void> AgentState::saveIdentity(const AgentIdentity& identity) {
  json j = {{"HostKey", identity.host_key}, {"InstanceId", identity.instance_id}};
  return replaceFileDurably(directory_ / "identity.json", j.dump(2) + "\n");
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
