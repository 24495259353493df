#include "common/aws_xml.h"

#include "common/utf8.h"

namespace tmirror {

void appendXmlEscaped(std::string& out, std::string_view text) {
  // Most text needs no escaping: copy runs of plain characters at once. Whatever the input,
  // the output is well-formed XML text: what XML 1.0 cannot carry becomes U+FFFD.
  constexpr std::string_view kReplacement = "&#xFFFD;";
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    std::string_view replacement;
    std::size_t length = 1;
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
        if (c == '\r') {
          replacement = "&#xD;";  // a raw one would be read back as a newline
        } else if (static_cast<unsigned char>(c) < 0x20) {
          // Control characters, even escaped, except tab and newline.
          if (c != '\t' && c != '\n') {
            replacement = kReplacement;
          }
        } else if (static_cast<unsigned char>(c) >= 0x80) {
          length = utf8SequenceLength(text.substr(i));
          // Not UTF-8, or U+FFFE/U+FFFF (EF BF BE/BF), which XML excludes too.
          const bool noncharacter = length == 3 && text.substr(i, 2) == "\xEF\xBF" &&
                                    static_cast<unsigned char>(text[i + 2]) >= 0xBE;
          if (length == 0 || noncharacter) {
            replacement = kReplacement;
            length = length == 0 ? 1 : length;
          }
        }
    }
    if (!replacement.empty()) {
      out.append(text.data() + run, i - run);
      out += replacement;
      run = i + length;
    }
    i += length;
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
