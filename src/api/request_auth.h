// SigV4 authentication of an incoming EC2 Query API request, as an ApiResult: each failure
// becomes the AWS error code and message a client of real EC2 would see.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "api/api_error.h"
#include "api/api_service.h"
#include "api/sigv4.h"

namespace tmirror::api {

inline constexpr std::string_view kEc2SigningService = "ec2";
// The region clients sign for unless the server is told another (tmirror server --region).
inline constexpr std::string_view kDefaultRegion = "us-east-1";

// The AWS error for a failed verification; `parsed` supplies names for the message.
ApiError authError(SigV4Status status, const SigV4Parsed& parsed,
                   std::chrono::system_clock::time_point now);

// Verifies the request's SigV4 signature for service "ec2" in `region`; returns the access
// key id. A credential scoped to another region is refused as EC2 refuses it.
ApiResult<std::string> authenticateRequest(const HttpRequestView& request,
                                           const SecretLookup& secret_for,
                                           std::chrono::system_clock::time_point now,
                                           std::string_view region = kDefaultRegion,
                                           std::string_view service = kEc2SigningService);

// Returns the caller's access key id, or the AWS error to answer. `secret_for` looks a
// secret key up in the API's store, under the API's lock.
using Authenticator =
    std::function<ApiResult<std::string>(const HttpRequestView&, const SecretLookup& secret_for)>;

// The server's two ways (TrafficMirrorApi's Authenticator): SigV4 against the store's
// access keys, and everyone as "anonymous" (--auth none, loopback only).
// `service`: the SigV4 scope's service ("ec2"; "monitoring" for the CloudWatch API).
Authenticator sigV4Authenticator(std::string region = std::string(kDefaultRegion),
                                 std::string service = std::string(kEc2SigningService));
ApiResult<std::string> anonymousAuthenticator(const HttpRequestView& request,
                                              const SecretLookup& secret_for);

}  // namespace tmirror::api
