#include "model/host_identity.h"

#include <nlohmann/json.hpp>

#include "common/durable_file.h"
#include "common/random.h"

namespace tmirror::model {

using json = nlohmann::json;

namespace {

constexpr const char* kFileName = "identity.json";

}  // namespace

Result<HostIdentity> loadOrCreateHostIdentity(const std::filesystem::path& directory) {
  if (auto made = makePrivateDirectory(directory); !made) {
    return std::unexpected(made.error());
  }
  const auto path = directory / kFileName;
  if (auto text = readWholeFile(path)) {
    const json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("HostKey") || !j["HostKey"].is_string() ||
        j["HostKey"].get<std::string>().size() < 16) {
      return makeError(ErrorCode::InvalidArgument, path.string() + " is damaged");
    }
    HostIdentity identity;
    identity.host_key = j["HostKey"].get<std::string>();
    if (j.contains("InstanceId") && j["InstanceId"].is_string()) {
      identity.instance_id = j["InstanceId"].get<std::string>();
    }
    return identity;
  }
  HostIdentity identity{secureRandomHex(32), ""};
  if (auto saved = saveHostIdentity(directory, identity); !saved) {
    return std::unexpected(saved.error());
  }
  return identity;
}

Result<void> saveHostIdentity(const std::filesystem::path& directory,
                              const HostIdentity& identity) {
  json j = {{"HostKey", identity.host_key}, {"InstanceId", identity.instance_id}};
  return replaceFileDurably(directory / kFileName, j.dump(2) + "\n");
}

}  // namespace tmirror::model
