#include "api/query_params.h"

#include <algorithm>
#include <charconv>

#include "common/utf8.h"

namespace tmirror::api {

namespace {

std::string quoted(std::string_view text) {
  std::string out = "'";
  // Keep messages readable and bounded whatever the client sent.
  for (char c : text.substr(0, 128)) {
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  if (text.size() > 128) {
    out += "...";
  }
  return out + "'";
}

}  // namespace

ApiResult<QueryParams> QueryParams::parse(std::string_view encoded) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string bad_name;
  const FormStatus status = parseForm(encoded, pairs, &bad_name);
  if (status != FormStatus::Ok) {
    return apiError("MalformedQueryString",
                    std::string(formStatusText(status)) + " (parameter " + quoted(bad_name) + ")");
  }
  QueryParams params;
  for (auto& [name, value] : pairs) {
    // Stored text goes back out in XML answers, which cannot carry what is not UTF-8.
    if (!isValidUtf8(name)) {
      return apiError("InvalidParameterValue", "A parameter name is not valid UTF-8.");
    }
    if (!isValidUtf8(value)) {
      return apiError("InvalidParameterValue",
                      "Value for parameter " + quoted(name) + " is not valid UTF-8.");
    }
    if (params.values_.contains(name)) {
      return apiError("MalformedQueryString", "parameter " + quoted(name) + " is given twice");
    }
    params.values_.emplace(std::move(name), std::move(value));
  }
  return params;
}

ApiResult<void> QueryParams::merge(const QueryParams& other) {
  for (const auto& [name, value] : other.values_) {
    if (!values_.emplace(name, value).second) {
      return apiError("MalformedQueryString", "parameter " + quoted(name) + " is given twice");
    }
  }
  return {};
}

bool QueryParams::has(std::string_view name) const {
  return values_.contains(name);
}

std::optional<std::string> QueryParams::get(std::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) {
    return std::nullopt;
  }
  used_.emplace(name);
  return it->second;
}

ApiResult<std::string> QueryParams::required(std::string_view name) const {
  auto value = get(name);
  if (!value) {
    return apiError("MissingParameter",
                    "The request must contain the parameter " + std::string(name));
  }
  return *value;
}

ApiResult<std::optional<int64_t>> QueryParams::optionalInt(std::string_view name, int64_t min,
                                                           int64_t max) const {
  const auto text = get(name);
  if (!text) {
    return std::optional<int64_t>();
  }
  int64_t value = 0;
  const char* first = text->data();
  const char* last = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (text->empty() || ec != std::errc{} || ptr != last) {
    return apiError("InvalidParameterValue", "Value (" + quoted(*text) + ") for parameter " +
                                                 std::string(name) +
                                                 " is invalid. Expected an integer.");
  }
  if (value < min || value > max) {
    return apiError("InvalidParameterValue",
                    "Value (" + std::to_string(value) + ") for parameter " + std::string(name) +
                        " is invalid. Expected a value between " + std::to_string(min) + " and " +
                        std::to_string(max) + ".");
  }
  return std::optional<int64_t>(value);
}

ApiResult<int64_t> QueryParams::requiredInt(std::string_view name, int64_t min, int64_t max) const {
  if (!has(name)) {
    return apiError("MissingParameter",
                    "The request must contain the parameter " + std::string(name));
  }
  auto value = optionalInt(name, min, max);
  if (!value) {
    return std::unexpected(value.error());
  }
  return **value;
}

ApiResult<std::optional<bool>> QueryParams::optionalBool(std::string_view name) const {
  const auto text = get(name);
  if (!text) {
    return std::optional<bool>();
  }
  std::string lower = *text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true") {
    return std::optional<bool>(true);
  }
  if (lower == "false") {
    return std::optional<bool>(false);
  }
  return apiError("InvalidParameterValue", "Value (" + quoted(*text) + ") for parameter " +
                                               std::string(name) +
                                               " is invalid. Expected 'true' or 'false'.");
}

ApiResult<std::vector<uint32_t>> QueryParams::indexes(std::string_view prefix) const {
  std::set<uint32_t> found;
  const std::string dotted = std::string(prefix) + ".";
  for (auto it = values_.lower_bound(dotted); it != values_.end(); ++it) {
    const std::string_view name = it->first;
    if (!name.starts_with(dotted)) {
      break;
    }
    std::string_view rest = name.substr(dotted.size());
    const std::size_t dot = rest.find('.');
    const std::string_view index_text = rest.substr(0, dot);
    uint32_t index = 0;
    auto [ptr, ec] =
        std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
    if (index_text.empty() || ec != std::errc{} || ptr != index_text.data() + index_text.size() ||
        index == 0) {
      return apiError("InvalidParameterValue",
                      "parameter " + quoted(name) + " has an invalid list index");
    }
    found.insert(index);
  }
  return std::vector<uint32_t>(found.begin(), found.end());
}

ApiResult<std::vector<std::string>> QueryParams::list(std::string_view prefix) const {
  auto idx = indexes(prefix);
  if (!idx) {
    return std::unexpected(idx.error());
  }
  std::vector<std::string> out;
  for (uint32_t i : *idx) {
    const std::string name = std::string(prefix) + "." + std::to_string(i);
    auto value = get(name);
    if (!value) {
      return apiError("InvalidParameterValue",
                      "parameter " + name + " must be a value, not a structure");
    }
    out.push_back(*value);
  }
  return out;
}

std::vector<std::string> QueryParams::unusedNames() const {
  std::vector<std::string> out;
  for (const auto& [name, value] : values_) {
    if (!used_.contains(name)) {
      out.push_back(name);
    }
  }
  return out;
}

}  // namespace tmirror::api
