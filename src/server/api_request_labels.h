// Metric labels for one EC2 Query API request, chosen so that no client can mint unbounded
// label values: only characters that action names and error codes use, capped in length, and
// the action only once the API has accepted it.
#pragma once

#include <string>
#include <string_view>

namespace tmirror::server {

struct ApiRequestLabels {
  std::string action;  // "DescribeTrafficMirrorSessions", or "unknown"
  std::string code;    // "2xx" on success; the AWS error code, or "4xx"/"5xx" when there is none
};

// The raw value of the first Action parameter in the query string, then in the form body, when
// it is [A-Za-z]{1,64}; otherwise "unknown". Nothing is decoded: action names need no escaping.
std::string actionParameter(std::string_view query, std::string_view body);

// The <Code> of an AWS error envelope when it is [A-Za-z.]{1,64}; otherwise empty.
std::string envelopeErrorCode(std::string_view body);

// "2xx", "4xx", ...; "other" for statuses outside 100..599.
std::string statusClass(int status);

// Labels for a request answered with status and body. The action label falls back to "unknown"
// when the API did not accept the action (InvalidAction) or the caller was not authenticated
// (401/403): those requests carry whatever the client typed.
ApiRequestLabels apiRequestLabels(std::string_view query, std::string_view request_body, int status,
                                  std::string_view response_body);

}  // namespace tmirror::server
