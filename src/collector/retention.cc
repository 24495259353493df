#include "collector/retention.h"

#include <algorithm>
#include <cstdio>
#include <system_error>

namespace tmirror::collector {

std::vector<std::filesystem::path> finishedFiles(const std::filesystem::path& dir,
                                                 const std::string& label) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  const std::string prefix = label + "-";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".pcapng") &&
        name.find("-vni", prefix.size()) == std::string::npos) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

int applyRetention(const std::filesystem::path& dir, const std::string& label,
                   const RetentionLimits& limits) {
  if (limits.keep_files == 0 && limits.keep_bytes == 0) {
    return 0;
  }
  const auto files = finishedFiles(dir, label);
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (const auto& f : files) {
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(f, ec);
    sizes.push_back(ec ? 0 : size);
    total += sizes.back();
  }
  int removed = 0;
  uint64_t count = files.size();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const bool too_many = limits.keep_files != 0 && count > limits.keep_files;
    const bool too_big = limits.keep_bytes != 0 && total > limits.keep_bytes;
    if (!too_many && !too_big) {
      break;
    }
    std::error_code ec;
    if (std::filesystem::remove(files[i], ec)) {
      ++removed;
      --count;
      total -= sizes[i];
    }
  }
  return removed;
}

}  // namespace tmirror::collector
