#include "http/message.h"

namespace tmirror::http {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const Header& header : headers) {
    if (equalsIgnoreCase(header.name, name)) {
      return header.value;
    }
  }
  return {};
}

std::string_view Request::path() const {
  return std::string_view(target).substr(0, std::string_view(target).find('?'));
}

std::string_view Request::query() const {
  const std::size_t question = target.find('?');
  return question == std::string::npos ? std::string_view()
                                       : std::string_view(target).substr(question + 1);
}

}  // namespace tmirror::http
