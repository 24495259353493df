// A host's identity with the server, kept in its state directory (identity.json: {"HostKey":
// "...", "InstanceId": "i-..."}). The key is random and made once: the server knows a host,
// agent or collector, by it alone; host names and ports are only descriptions (cloned VMs,
// containers and namespaces share those). A copied state directory copies the identity: the
// server refuses the second live host that registers with it.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace tmirror::model {

struct HostIdentity {
  std::string host_key;     // random, made once
  std::string instance_id;  // i-..., once registered
};

// Creates `directory` (mode 0700) when missing, and reads its identity.json, or makes a new
// identity with a fresh key and saves it at once. A damaged file is an error (kept for a
// human: a new key would register as a new host).
Result<HostIdentity> loadOrCreateHostIdentity(const std::filesystem::path& directory);

Result<void> saveHostIdentity(const std::filesystem::path& directory, const HostIdentity& identity);

}  // namespace tmirror::model
