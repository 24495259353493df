// Runs tshark on a capture file, for tests that let an independent decoder confirm our bytes.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tmirror::pcap::testing {

inline constexpr const char* kTsharkPath = "/usr/bin/tshark";

inline bool haveTshark() {
  return std::filesystem::exists(kTsharkPath);
}

// One line of output per packet: `tshark -r <file> [-Y <filter>] -T fields -e <field>`.
// nullopt if tshark failed (non-zero exit).
inline std::optional<std::vector<std::string>> tsharkFields(const std::filesystem::path& file,
                                                            const std::string& field,
                                                            const std::string& filter = "") {
  const std::string command = std::string(kTsharkPath) + " -n -r '" + file.string() + "'" +
                              (filter.empty() ? "" : " -Y '" + filter + "'") + " -T fields -e " +
                              field + " 2>/dev/null";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return std::nullopt;
  }
  std::vector<std::string> lines;
  std::string line;
  for (int c = std::fgetc(pipe); c != EOF; c = std::fgetc(pipe)) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line.push_back(static_cast<char>(c));
    }
  }
  if (::pclose(pipe) != 0) {
    return std::nullopt;
  }
  return lines;
}

}  // namespace tmirror::pcap::testing
