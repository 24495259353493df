// TrafficMirrorApi: the EC2 Query API of tmirror. Parses the request (form body and query
// string), authenticates it, dispatches on Action, and answers EC2 XML or the AWS error
// envelope. Requests are serialized around the store: each is one consistent step.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "api/action_context.h"
#include "api/api_service.h"
#include "api/request_auth.h"
#include "store/mirror_store.h"

namespace tmirror::api {

class TrafficMirrorApi : public QueryApi {
 public:
  TrafficMirrorApi(store::MirrorStore& store, ApiLimits limits, Authenticator authenticate);

  HttpResponse handle(const HttpRequestView& request) override;

  // The API's own authentication of `request` (SigV4, or anonymous with --auth none): the
  // access key id. For the server's other signed routes.
  ApiResult<std::string> authenticate(const HttpRequestView& request);

  // Runs `fn` with the store under the API's lock (for other components sharing the store).
  template <typename F>
  auto withStore(F&& fn) {
    std::lock_guard lock(mutex_);
    return fn(store_);
  }

 private:
  ApiResult<std::string> dispatch(const HttpRequestView& request, const std::string& request_id,
                                  std::string& action);

  store::MirrorStore& store_;
  ApiLimits limits_;
  Authenticator authenticate_;
  std::mutex mutex_;
};

}  // namespace tmirror::api
