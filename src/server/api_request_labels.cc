#include "server/api_request_labels.h"

namespace tmirror::server {
namespace {

constexpr std::size_t kMaxLabelLength = 64;
constexpr std::string_view kUnknownAction = "unknown";

bool isAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isLabelSafe(std::string_view value, bool allow_dot) {
  if (value.empty() || value.size() > kMaxLabelLength) {
    return false;
  }
  for (char c : value) {
    if (!isAsciiLetter(c) && !(allow_dot && c == '.')) {
      return false;
    }
  }
  return true;
}

// The raw value of the first "Action=" pair in a form-encoded string; found is false when none.
std::string_view findAction(std::string_view form, bool& found) {
  constexpr std::string_view kKey = "Action=";
  std::size_t start = 0;
  while (start <= form.size()) {
    std::size_t end = form.find('&', start);
    if (end == std::string_view::npos) {
      end = form.size();
    }
    std::string_view pair = form.substr(start, end - start);
    if (pair.starts_with(kKey)) {
      found = true;
      return pair.substr(kKey.size());
    }
    start = end + 1;
  }
  found = false;
  return {};
}

}  // namespace

std::string actionParameter(std::string_view query, std::string_view body) {
  bool found = false;
  std::string_view action = findAction(query, found);
  if (!found) {
    action = findAction(body, found);
  }
  if (!found || !isLabelSafe(action, false)) {
    return std::string(kUnknownAction);
  }
  return std::string(action);
}

std::string envelopeErrorCode(std::string_view body) {
  constexpr std::string_view kOpen = "<Code>";
  constexpr std::string_view kClose = "</Code>";
  std::size_t open = body.find(kOpen);
  if (open == std::string_view::npos) {
    return {};
  }
  std::size_t start = open + kOpen.size();
  std::size_t close = body.find(kClose, start);
  if (close == std::string_view::npos) {
    return {};
  }
  std::string_view code = body.substr(start, close - start);
  return isLabelSafe(code, true) ? std::string(code) : std::string();
}

std::string statusClass(int status) {
  if (status < 100 || status > 599) {
    return "other";
  }
  return std::to_string(status / 100) + "xx";
}

ApiRequestLabels apiRequestLabels(std::string_view query, std::string_view request_body, int status,
                                  std::string_view response_body) {
  ApiRequestLabels labels;
  labels.action = actionParameter(query, request_body);
  if (status >= 400) {
    labels.code = envelopeErrorCode(response_body);
  }
  if (labels.code.empty()) {
    labels.code = statusClass(status);
  }
  if (status == 401 || status == 403 || labels.code == "InvalidAction") {
    labels.action = std::string(kUnknownAction);
  }
  return labels;
}

}  // namespace tmirror::server
