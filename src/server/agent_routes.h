// AgentRoutes: the seam for the agent channel. The HTTP server hands it every request under
// /agent/v1/, whatever the method; the agent component implements it.
#pragma once

#include <functional>

#include "api/api_service.h"

namespace tmirror::server {

inline constexpr std::string_view kAgentPathPrefix = "/agent/v1/";
// GET /desired-state?NetworkInterfaceId=eni-...: for API users (SigV4), not agents.
inline constexpr std::string_view kDesiredStatePath = "/desired-state";

// Sends the answer to one request. Callable from any thread; the first call counts, and an
// answer for a client that has gone is dropped.
using Respond = std::function<void(api::HttpResponse)>;

class AgentRoutes {
 public:
  virtual ~AgentRoutes() = default;
  // Called on one of the server's worker threads, which it may block briefly (the store). It
  // answers through respond at once, or keeps respond and answers later from another thread
  // (a long-poll); the view only borrows the request, so a later answer copies what it needs.
  // The view's path is the raw path as sent (still percent-encoded).
  virtual void handle(const api::HttpRequestView& request, Respond respond) = 0;

  // Called first, on the I/O thread that read the request, which it must never block: answers
  // what memory alone can answer (a counters push, a long-poll that only parks) and returns
  // true, having taken respond; false leaves respond untouched and the request goes to
  // handle() on a worker. What a fleet sends most costs no hand-off between threads.
  virtual bool handleInline(const api::HttpRequestView& request, Respond& respond) {
    (void)request;
    (void)respond;
    return false;
  }

  // GET /desired-state?NetworkInterfaceId=eni-..., from an API user whose signature the HTTP
  // server checked: the desired state of the interface's host exactly as its agent receives
  // it, with what the agent registered that the state leaves to it (its control endpoints) and
  // what it reported it cannot apply. `tmirror explain` reads it. Called on a worker thread.
  virtual api::HttpResponse interfaceDesiredState(const api::HttpRequestView& request) = 0;
};

}  // namespace tmirror::server
