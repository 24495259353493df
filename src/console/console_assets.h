// The web console's files (the repository's console/ folder), embedded in the binary at build
// time by cmake/embed_files.cmake.
#pragma once

#include <span>
#include <string_view>

namespace tmirror::console {

struct ConsoleAsset {
  std::string_view path;          // relative to console/, e.g. "js/sigv4.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view etag;          // quoted, e.g. "\"0123456789abcdef\""
  std::span<const unsigned char> bytes;
};

// Every embedded file, sorted by path.
std::span<const ConsoleAsset> consoleAssets();

}  // namespace tmirror::console
