#include "common/ascii.h"

#include <algorithm>

namespace tmirror {

std::string asciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    c = asciiLower(c);
  }
  return lower;
}

bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return asciiLower(x) == asciiLower(y);
         });
}

}  // namespace tmirror
