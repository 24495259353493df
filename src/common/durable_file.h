// Small state files that must survive a crash whole: written to a temporary file, fsynced,
// renamed over the old one, and the directory fsynced, so a reader sees the old content or the
// new, never a part.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/result.h"

namespace tmirror {

// Writes `content` to `path` atomically and durably (mode 0600).
Result<void> replaceFileDurably(const std::filesystem::path& path, const std::string& content);

// Creates `directory` and its parents when missing, and makes it private (mode 0700): a
// state directory holds a host's identity.
Result<void> makePrivateDirectory(const std::filesystem::path& directory);

// The whole file, or nullopt when it cannot be opened (missing).
std::optional<std::string> readWholeFile(const std::filesystem::path& path);

}  // namespace tmirror
