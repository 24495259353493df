// ASCII case for protocol tokens (HTTP header names, hex digests): no locale, no Unicode.
#pragma once

#include <string>
#include <string_view>

namespace tmirror {

inline char asciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string asciiLower(std::string_view text);

bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b);

}  // namespace tmirror
