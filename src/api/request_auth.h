// SigV4 authentication of an incoming EC2 Query API request, as an ApiResult: each failure
// becomes the AWS error code and message a client of real EC2 would see.
#pragma once

#include <chrono>
#include <string>

#include "api/api_error.h"
#include "api/api_service.h"
#include "api/sigv4.h"

namespace tmirror::api {

inline constexpr std::string_view kEc2SigningService = "ec2";

// The AWS error for a failed verification; `parsed` supplies names for the message.
ApiError authError(SigV4Status status, const SigV4Parsed& parsed,
                   std::chrono::system_clock::time_point now);

// Verifies the request's SigV4 signature for service "ec2"; returns the access key id.
ApiResult<std::string> authenticateRequest(const HttpRequestView& request,
                                           const SecretLookup& secret_for,
                                           std::chrono::system_clock::time_point now);

// The server's two ways (TrafficMirrorApi's Authenticator): SigV4 against the store's
// access keys, and everyone as "anonymous" (--auth none, loopback only).
ApiResult<std::string> sigV4Authenticator(const HttpRequestView& request,
                                          const SecretLookup& secret_for);
ApiResult<std::string> anonymousAuthenticator(const HttpRequestView& request,
                                              const SecretLookup& secret_for);

}  // namespace tmirror::api
