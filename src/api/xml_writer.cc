#include "api/xml_writer.h"

#include "common/aws_xml.h"

namespace tmirror::api {

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
  appendXmlEscaped(out_, value);
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

}  // namespace tmirror::api
