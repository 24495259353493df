// TrafficMirrorApi: the EC2 Query API of tmirror. Parses the request (form body and query
// string), authenticates it, dispatches on Action, and answers EC2 XML or the AWS error
// envelope. Describe* actions read on a read-only connection of their own, concurrently;
// mutations are group-committed (store/shared_store.h): each one consistent step,
// acknowledged once durable.
#pragma once

#include <functional>
#include <string>

#include "api/action_context.h"
#include "api/api_service.h"
#include "api/request_auth.h"
#include "store/shared_store.h"

namespace tmirror::api {

class TrafficMirrorApi : public QueryApi {
 public:
  TrafficMirrorApi(store::SharedStore& store, ApiLimits limits, Authenticator authenticate);

  HttpResponse handle(const HttpRequestView& request) override;

  // The API's own authentication of `request` (SigV4, or anonymous with --auth none): the
  // access key id. For the server's other signed routes.
  ApiResult<std::string> authenticate(const HttpRequestView& request);

  // The store the API serves (for other components sharing it).
  store::SharedStore& store() { return store_; }

 private:
  ApiResult<std::string> dispatch(const HttpRequestView& request, const std::string& request_id,
                                  std::string& action);

  store::SharedStore& store_;
  ApiLimits limits_;
  Authenticator authenticate_;
};

}  // namespace tmirror::api
