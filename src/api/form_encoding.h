// application/x-www-form-urlencoded decoding and RFC 3986 encoding. Plain status values, no
// std::expected: this faces hostile bytes and is also built by clang for the fuzzers.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tmirror::api {

inline constexpr std::size_t kMaxParameters = 2000;
inline constexpr std::size_t kMaxParameterBytes = 64 * 1024;
inline constexpr std::size_t kMaxParameterNameBytes = 256;

enum class FormStatus {
  Ok,
  BadEscape,  // '%' not followed by two hex digits
  EmptyName,
  NameTooLong,
  ValueTooLong,
  TooManyParameters,
};

const char* formStatusText(FormStatus status);

// Percent-decodes form text ('+' is a space); nullopt on a malformed escape.
std::optional<std::string> formDecode(std::string_view text);

// Splits and decodes "a=1&b=2" into pairs, in order. Empty pairs ("a=1&&b=2") are skipped;
// a name without '=' has an empty value. On error, `bad_name` holds the raw offending name.
FormStatus parseForm(std::string_view encoded,
                     std::vector<std::pair<std::string, std::string>>& out,
                     std::string* bad_name = nullptr);

// Percent-encodes for SigV4 canonical strings: RFC 3986 unreserved characters are kept.
std::string uriEncode(std::string_view text, bool encode_slash = true);

}  // namespace tmirror::api
