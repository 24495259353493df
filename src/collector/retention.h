// Retention of a session's finished capture files: oldest first, beyond a count or a byte total.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tmirror::collector {

struct RetentionLimits {
  uint64_t keep_files = 0;  // 0: no limit
  uint64_t keep_bytes = 0;  // 0: no limit
};

// Finished files ("<label>-*.pcapng", not ".part") of one session, oldest first (names sort by
// time, then sequence).
std::vector<std::filesystem::path> finishedFiles(const std::filesystem::path& dir,
                                                 const std::string& label);

// Deletes the oldest finished files of `label` until both limits hold; returns how many went.
int applyRetention(const std::filesystem::path& dir, const std::string& label,
                   const RetentionLimits& limits);

}  // namespace tmirror::collector
