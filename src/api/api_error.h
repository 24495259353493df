// ApiError: an EC2 Query API error. The one table mapping each code to its HTTP status is
// httpStatusOf() in api_error.cc.
#pragma once

#include <expected>
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

// HTTP status for an error code: 412 DryRunOperation, 401 AuthFailure, 403 for
// authorization and signature errors, 503 for throttling/unavailable, 500 internal,
// 400 for every other client error.
int httpStatusOf(const std::string& code);

}  // namespace tmirror::api
