// UTF-8 as RFC 3629 defines it: no overlong forms, no UTF-16 surrogates, nothing past
// U+10FFFF. The API refuses parameters that are not (an XML answer could not carry them).
#pragma once

#include <cstddef>
#include <string_view>

namespace tmirror {

// The length (1-4) of the well-formed UTF-8 sequence at the start of `text`; 0 when `text`
// is empty or does not start with one.
std::size_t utf8SequenceLength(std::string_view text);

bool isValidUtf8(std::string_view text);

}  // namespace tmirror
