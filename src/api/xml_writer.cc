#include "api/xml_writer.h"

namespace tmirror::api {

void appendEscaped(std::string& out, std::string_view text) {
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

XmlWriter::XmlWriter(std::string_view action, std::string_view request_id) {
  out_.reserve(4096);
  out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_ += action;
  out_ += "Response xmlns=\"";
  out_ += kEc2Namespace;
  out_ += "\">";
  stack_.push_back(std::string(action) + "Response");
  text("requestId", request_id);
}

void XmlWriter::open(std::string_view name) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  stack_.emplace_back(name);
}

void XmlWriter::close() {
  if (stack_.empty()) {
    return;
  }
  out_ += "</";
  out_ += stack_.back();
  out_ += '>';
  stack_.pop_back();
}

void XmlWriter::text(std::string_view name, std::string_view value) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  appendEscaped(out_, value);
  out_ += "</";
  out_ += name;
  out_ += '>';
}

void XmlWriter::integer(std::string_view name, int64_t value) {
  text(name, std::to_string(value));
}

void XmlWriter::boolean(std::string_view name, bool value) {
  text(name, value ? "true" : "false");
}

std::string XmlWriter::finish() {
  while (!stack_.empty()) {
    close();
  }
  return std::move(out_);
}

std::string errorDocument(std::string_view code, std::string_view message,
                          std::string_view request_id) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>";
  appendEscaped(out, code);
  out += "</Code><Message>";
  appendEscaped(out, message);
  out += "</Message></Error></Errors><RequestID>";
  appendEscaped(out, request_id);
  out += "</RequestID></Response>";
  return out;
}

}  // namespace tmirror::api
