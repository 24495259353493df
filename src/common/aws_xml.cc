#include "common/aws_xml.h"

namespace tmirror {

void appendXmlEscaped(std::string& out, std::string_view text) {
  // Most text needs no escaping: copy runs of plain characters at once.
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char* replacement = nullptr;
    switch (c) {
      case '&':
        replacement = "&amp;";
        break;
      case '<':
        replacement = "&lt;";
        break;
      case '>':
        replacement = "&gt;";
        break;
      case '"':
        replacement = "&quot;";
        break;
      case '\'':
        replacement = "&apos;";
        break;
      default:
        // XML 1.0 cannot carry most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          replacement = "&#xFFFD;";
        }
    }
    if (replacement != nullptr) {
      out.append(text.data() + run, i - run);
      out += replacement;
      run = i + 1;
    }
  }
  out.append(text.data() + run, text.size() - run);
}

std::string awsErrorDocument(std::string_view code, std::string_view message,
                             std::string_view request_id) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>";
  appendXmlEscaped(out, code);
  out += "</Code><Message>";
  appendXmlEscaped(out, message);
  out += "</Message></Error></Errors><RequestID>";
  appendXmlEscaped(out, request_id);
  out += "</RequestID></Response>";
  return out;
}

}  // namespace tmirror
