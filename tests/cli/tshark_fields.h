// Decodes a capture with tshark, an independent decoder, into per-packet field values.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tmirror::cli::testing {

inline constexpr const char* kTshark = "/usr/bin/tshark";

inline bool haveTshark() {
  return std::filesystem::exists(kTshark);
}

// One packet: each requested field's occurrences, outermost first (empty if absent).
using TsharkPacket = std::map<std::string, std::vector<std::string>>;

namespace detail {

inline std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : text) {
    if (c == separator) {
      parts.push_back(part);
      part.clear();
    } else {
      part.push_back(c);
    }
  }
  parts.push_back(part);
  return parts;
}

}  // namespace detail

// `tshark -n -r file -T fields -E occurrence=a -e f1 -e f2 ...`; nullopt if tshark fails.
// Fields are separated by '|' and occurrences by ';', neither of which appears in values.
// A personal Wireshark profile (decode-as, disabled protocols) must not change the result, so
// tshark runs with its defaults only.
inline std::optional<std::vector<TsharkPacket>> tsharkDecode(
    const std::filesystem::path& file, const std::vector<std::string>& fields) {
  std::string command = std::string("HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent ") + kTshark +
                        " -n -r '" + file.string() +
                        "' -T fields -E 'separator=|' -E occurrence=a -E 'aggregator=;'";
  for (const auto& field : fields) {
    command += " -e " + field;
  }
  command += " 2>/dev/null";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return std::nullopt;
  }
  std::string output;
  for (int c = std::fgetc(pipe); c != EOF; c = std::fgetc(pipe)) {
    output.push_back(static_cast<char>(c));
  }
  if (::pclose(pipe) != 0) {
    return std::nullopt;
  }
  std::vector<TsharkPacket> packets;
  for (const auto& line : detail::split(output, '\n')) {
    if (line.empty()) {
      continue;
    }
    const auto values = detail::split(line, '|');
    TsharkPacket packet;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const std::string value = i < values.size() ? values[i] : "";
      packet[fields[i]] = value.empty() ? std::vector<std::string>{} : detail::split(value, ';');
    }
    packets.push_back(std::move(packet));
  }
  return packets;
}

}  // namespace tmirror::cli::testing
