#include "server/error_envelope.h"

#include <cstdint>

#include "common/random.h"

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

std::string errorEnvelope(std::string_view code, std::string_view message) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>";
  appendXmlEscaped(out, code);
  out += "</Code><Message>";
  appendXmlEscaped(out, message);
  out += "</Message></Error></Errors><RequestID>";
  out += newUuid4();
  out += "</RequestID></Response>";
  return out;
}

}  // namespace tmirror::server
