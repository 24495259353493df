// TrafficMirrorApi: the EC2 Query API of tmirror. Parses the request (form body and query
// string), authenticates it, dispatches on Action, and answers EC2 XML or the AWS error
// envelope. Describe* actions read on a read-only connection of their own, concurrently;
// mutations are group-committed (store/shared_store.h): each one consistent step,
// acknowledged once durable.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/action_context.h"
#include "api/api_service.h"
#include "api/request_auth.h"
#include "store/shared_store.h"

namespace tmirror::api {

class TrafficMirrorApi : public QueryApi {
 public:
  TrafficMirrorApi(store::SharedStore& store, ApiLimits limits, Authenticator authenticate);

  // Waits for handleAsync's answer (tests and in-process callers).
  HttpResponse handle(const HttpRequestView& request) override;

  // Parses and authenticates on the calling thread; a refusal or a Describe is answered
  // before this returns, a mutation from the store's commit thread once it is durable.
  void handleAsync(const HttpRequestView& request, Answer answer) override;

  // The API's own authentication of `request` (SigV4, or anonymous with --auth none): the
  // access key id. For the server's other signed routes.
  ApiResult<std::string> authenticate(const HttpRequestView& request);
  // The same with another authenticator (another service's SigV4 scope), on the API's keys.
  ApiResult<std::string> authenticate(const HttpRequestView& request,
                                      const Authenticator& authenticator);

  // The store the API serves (for other components sharing it).
  store::SharedStore& store() { return store_; }

 private:
  struct Call;

  // Parses, authenticates and finds the action: fills `call`, or says why not.
  ApiResult<void> prepare(const HttpRequestView& request, Call& call);
  ApiResult<std::string> run(Call& call, store::MirrorStore& store);

  // The secret of an access key, from the cache or the store (then cached).
  Result<std::optional<std::string>> secretFor(std::string_view access_key_id);

  store::SharedStore& store_;
  ApiLimits limits_;
  Authenticator authenticate_;
  // Secrets found (keys are never deleted, so one found stays valid): a signed request costs
  // no store read to authenticate, which on PostgreSQL is a round trip. Unknown keys are not
  // kept (`--create-access-key` may add one while the server runs).
  std::mutex secrets_mutex_;
  std::unordered_map<std::string, std::string> secrets_;
};

}  // namespace tmirror::api
