// Metric labels for one EC2 Query API request, taken from what the API says it did
// (api::HttpResponse's action and error code), never from what the client typed: only the
// API's own action names and error codes become label values.
#pragma once

#include <string>

#include "api/api_service.h"

namespace tmirror::server {

struct ApiRequestLabels {
  std::string action;  // "DescribeTrafficMirrorSessions", or "unknown"
  std::string code;    // "2xx" on success; the AWS error code, or "4xx"/"5xx" when there is none
};

// "2xx", "4xx", ...; "other" for statuses outside 100..599.
std::string statusClass(int status);

// The action is "unknown" when the API accepted none (InvalidAction, MissingAction, a caller
// it could not authenticate). As a second guard a value that is not [A-Za-z.]{1,64} is
// replaced too.
ApiRequestLabels apiRequestLabels(const api::HttpResponse& answer);

}  // namespace tmirror::server
