#include "http/message.h"

#include "common/ascii.h"

namespace tmirror::http {

std::string_view Request::header(std::string_view name) const {
  for (const Header& header : headers) {
    if (equalsIgnoreAsciiCase(header.name, name)) {
      return header.value;
    }
  }
  return {};
}

bool Request::isGetOrHead() const {
  return method == "GET" || method == "HEAD";
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
