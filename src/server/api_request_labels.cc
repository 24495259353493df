#include "server/api_request_labels.h"

#include <string_view>

namespace tmirror::server {
namespace {

constexpr std::size_t kMaxLabelLength = 64;

bool isLabelSafe(std::string_view value) {
  if (value.empty() || value.size() > kMaxLabelLength) {
    return false;
  }
  for (char c : value) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string statusClass(int status) {
  if (status < 100 || status > 599) {
    return "other";
  }
  return std::to_string(status / 100) + "xx";
}

ApiRequestLabels apiRequestLabels(const api::HttpResponse& answer) {
  ApiRequestLabels labels;
  labels.action = isLabelSafe(answer.action) ? answer.action : "unknown";
  labels.code = answer.status >= 400 && isLabelSafe(answer.error_code) ? answer.error_code
                                                                       : statusClass(answer.status);
  return labels;
}

}  // namespace tmirror::server
