#include "metrics/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace tmirror::metrics {
namespace {

bool isAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

bool isValidMetricName(std::string_view name) {
  if (name.empty() || isAsciiDigit(name.front())) {
    return false;
  }
  for (char c : name) {
    if (!isAsciiLetter(c) && !isAsciiDigit(c) && c != '_' && c != ':') {
      return false;
    }
  }
  return true;
}

bool isValidLabelName(std::string_view name) {
  if (name.empty() || isAsciiDigit(name.front()) || name.starts_with("__")) {
    return false;
  }
  for (char c : name) {
    if (!isAsciiLetter(c) && !isAsciiDigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

void appendEscapedLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void appendEscapedHelp(std::string& out, std::string_view help) {
  for (char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void appendSampleValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  // Shortest round-trip text; scientific notation only for exponents outside [-4, 21), so
  // bucket bounds read "0.0005" rather than "5e-04".
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  const std::string_view shortest(buffer, ec == std::errc{} ? end : buffer);
  const std::size_t e = shortest.find('e');
  if (e != std::string_view::npos) {
    int exponent = 0;
    std::from_chars(shortest.data() + e + (shortest[e + 1] == '+' ? 2 : 1),
                    shortest.data() + shortest.size(), exponent);
    if (exponent >= -4 && exponent < 21) {
      auto fixed = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
      if (fixed.ec == std::errc{}) {
        out.append(buffer, fixed.ptr);
        return;
      }
    }
  }
  out += shortest;
}

}  // namespace tmirror::metrics
