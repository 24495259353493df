#include "server/error_envelope.h"

#include <cstdint>
#include <random>

namespace tmirror::server {
namespace {

void appendXmlEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 cannot carry most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "&#xFFFD;";
        } else {
          out += c;
        }
    }
  }
}

}  // namespace

std::string newRequestId() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  uint64_t high = generator();
  uint64_t low = generator();
  high = (high & ~uint64_t{0xF000}) | 0x4000;                    // version 4
  low = (low & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // RFC 4122 variant
  constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) {
      id += '-';
    }
    const uint64_t word = i < 16 ? high : low;
    const int shift = 60 - 4 * (i % 16);
    id += kHex[(word >> shift) & 0xF];
  }
  return id;
}

std::string errorEnvelope(std::string_view code, std::string_view message) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>";
  appendXmlEscaped(out, code);
  out += "</Code><Message>";
  appendXmlEscaped(out, message);
  out += "</Message></Error></Errors><RequestID>";
  out += newRequestId();
  out += "</RequestID></Response>";
  return out;
}

}  // namespace tmirror::server
