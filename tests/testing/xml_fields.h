// Small helpers for tests that read EC2 XML answers and AWS-style IDs without std::regex
// (whose GCC 12 implementation trips -Wmaybe-uninitialized in sanitizer builds).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace tmirror::testing {

// Text of the first <name>...</name> in `xml`, or "".
inline std::string xmlField(std::string_view xml, std::string_view name) {
  const std::string open = "<" + std::string(name) + ">";
  const auto start = xml.find(open);
  if (start == std::string_view::npos) {
    return "";
  }
  const auto from = start + open.size();
  const auto end = xml.find('<', from);
  return std::string(xml.substr(from, end == std::string_view::npos ? 0 : end - from));
}

// Texts of every <name>...</name> in `xml`, in order.
inline std::vector<std::string> xmlFields(std::string_view xml, std::string_view name) {
  std::vector<std::string> out;
  const std::string open = "<" + std::string(name) + ">";
  for (auto at = xml.find(open); at != std::string_view::npos; at = xml.find(open, at + 1)) {
    const auto from = at + open.size();
    out.emplace_back(xml.substr(from, xml.find('<', from) - from));
  }
  return out;
}

// True for prefix + "-" + 17 lower-case hex digits (an AWS long ID).
inline bool isLongId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 18 || !id.starts_with(prefix) || id[prefix.size()] != '-') {
    return false;
  }
  return std::all_of(id.begin() + static_cast<std::ptrdiff_t>(prefix.size()) + 1, id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace tmirror::testing
