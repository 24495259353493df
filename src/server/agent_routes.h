// AgentRoutes: the seam for the agent channel. The HTTP server hands it every request under
// /agent/v1/, whatever the method; the agent component implements it.
#pragma once

#include "api/api_service.h"

namespace tmirror::server {

inline constexpr std::string_view kAgentPathPrefix = "/agent/v1/";

class AgentRoutes {
 public:
  virtual ~AgentRoutes() = default;
  // Thread-safe: called from the server's worker threads. The view's path is the raw path as
  // sent (still percent-encoded).
  virtual api::HttpResponse handle(const api::HttpRequestView& request) = 0;
};

}  // namespace tmirror::server
