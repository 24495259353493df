// ApiError: an EC2 Query API error. The one table mapping each code to its HTTP status is
// httpStatusOf() in api_error.cc.
#pragma once

#include <expected>
#include <optional>
#include <string>

namespace tmirror::api {

struct ApiError {
  std::string code;     // e.g. "InvalidParameterValue", "InvalidTrafficMirrorSessionId.NotFound"
  std::string message;  // names the parameter or resource
};

template <typename T>
using ApiResult = std::expected<T, ApiError>;

inline std::unexpected<ApiError> apiError(std::string code, std::string message) {
  return std::unexpected<ApiError>(ApiError{std::move(code), std::move(message)});
}

// The first error among parameters already read, in the order given: AWS reports one fault
// per request, the first it meets. Empty when every result holds a value.
//   if (auto e = firstError(id, number, dry)) { return std::unexpected(*e); }
template <typename... Results>
std::optional<ApiError> firstError(const Results&... results) {
  std::optional<ApiError> first;
  ((first || results.has_value() ? void() : void(first = results.error())), ...);
  return first;
}

// HTTP status for an error code: 412 DryRunOperation, 401 AuthFailure, 403 for
// authorization and signature errors, 503 for throttling/unavailable, 500 internal,
// 400 for every other client error.
int httpStatusOf(const std::string& code);

}  // namespace tmirror::api
