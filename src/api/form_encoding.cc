#include "api/form_encoding.h"

namespace tmirror::api {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

const char* formStatusText(FormStatus status) {
  switch (status) {
    case FormStatus::Ok:
      return "ok";
    case FormStatus::BadEscape:
      return "bad percent-encoding";
    case FormStatus::EmptyName:
      return "a parameter has an empty name";
    case FormStatus::NameTooLong:
      return "a parameter name is longer than 256 bytes";
    case FormStatus::ValueTooLong:
      return "a parameter value is longer than 64 KiB";
    case FormStatus::TooManyParameters:
      return "more than 2000 parameters";
  }
  return "unknown";
}

std::optional<std::string> formDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) {
        return std::nullopt;
      }
      const int hi = hexValue(text[i + 1]);
      const int lo = hexValue(text[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

FormStatus parseForm(std::string_view encoded,
                     std::vector<std::pair<std::string, std::string>>& out, std::string* bad_name) {
  auto fail = [&](FormStatus status, std::string_view name) {
    if (bad_name != nullptr) {
      *bad_name = std::string(name.substr(0, kMaxParameterNameBytes));
    }
    return status;
  };
  std::size_t start = 0;
  while (start < encoded.size()) {
    std::size_t end = encoded.find('&', start);
    if (end == std::string_view::npos) {
      end = encoded.size();
    }
    const std::string_view pair = encoded.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) {
      continue;
    }
    const std::size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (raw_name.size() > 3 * kMaxParameterNameBytes) {
      return fail(FormStatus::NameTooLong, raw_name);
    }
    if (raw_value.size() > 3 * kMaxParameterBytes) {
      return fail(FormStatus::ValueTooLong, raw_name);
    }
    auto name = formDecode(raw_name);
    auto value = formDecode(raw_value);
    if (!name || !value) {
      return fail(FormStatus::BadEscape, raw_name);
    }
    if (name->empty()) {
      return fail(FormStatus::EmptyName, raw_name);
    }
    if (name->size() > kMaxParameterNameBytes) {
      return fail(FormStatus::NameTooLong, raw_name);
    }
    if (value->size() > kMaxParameterBytes) {
      return fail(FormStatus::ValueTooLong, raw_name);
    }
    if (out.size() == kMaxParameters) {
      return fail(FormStatus::TooManyParameters, raw_name);
    }
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return FormStatus::Ok;
}

std::string uriEncode(std::string_view text, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

}  // namespace tmirror::api
