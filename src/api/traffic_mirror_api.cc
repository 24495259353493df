#include "api/traffic_mirror_api.h"

#include <algorithm>
#include <future>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "common/aws_xml.h"
#include "common/random.h"

namespace tmirror::api {

namespace {

constexpr std::pair<std::string_view, ActionHandler> kActions[] = {
    {"CreateNetworkInterface", createNetworkInterface},
    {"DescribeNetworkInterfaces", describeNetworkInterfaces},
    {"DeleteNetworkInterface", deleteNetworkInterface},
    {"DescribeInstances", describeInstances},
    {"CreateTrafficMirrorTarget", createTrafficMirrorTarget},
    {"DescribeTrafficMirrorTargets", describeTrafficMirrorTargets},
    {"DeleteTrafficMirrorTarget", deleteTrafficMirrorTarget},
    {"CreateTrafficMirrorFilter", createTrafficMirrorFilter},
    {"DescribeTrafficMirrorFilters", describeTrafficMirrorFilters},
    {"DeleteTrafficMirrorFilter", deleteTrafficMirrorFilter},
    {"ModifyTrafficMirrorFilterNetworkServices", modifyTrafficMirrorFilterNetworkServices},
    {"CreateTrafficMirrorFilterRule", createTrafficMirrorFilterRule},
    {"DescribeTrafficMirrorFilterRules", describeTrafficMirrorFilterRules},
    {"ModifyTrafficMirrorFilterRule", modifyTrafficMirrorFilterRule},
    {"DeleteTrafficMirrorFilterRule", deleteTrafficMirrorFilterRule},
    {"CreateTrafficMirrorSession", createTrafficMirrorSession},
    {"DescribeTrafficMirrorSessions", describeTrafficMirrorSessions},
    {"ModifyTrafficMirrorSession", modifyTrafficMirrorSession},
    {"DeleteTrafficMirrorSession", deleteTrafficMirrorSession},
    {"CreateTags", createTags},
    {"DeleteTags", deleteTags},
    {"DescribeTags", describeTags},
};

// The resource a refused request was about, for the audit log: the first *Id parameter.
std::string firstResourceId(const QueryParams& params) {
  for (const auto& [name, value] : params.all()) {
    if (name.ends_with("Id") || name.ends_with("Id.1")) {
      return value.substr(0, 64);
    }
  }
  return "";
}

bool isFormBody(const HttpRequestView& request) {
  const auto it = request.headers.find("content-type");
  return it == request.headers.end() || it->second.starts_with("application/x-www-form-urlencoded");
}

}  // namespace

TrafficMirrorApi::TrafficMirrorApi(store::SharedStore& store, ApiLimits limits,
                                   Authenticator authenticate)
    : store_(store), limits_(limits), authenticate_(std::move(authenticate)) {}

ApiResult<std::string> TrafficMirrorApi::authenticate(const HttpRequestView& request) {
  return authenticate(request, authenticate_);
}

ApiResult<std::string> TrafficMirrorApi::authenticate(const HttpRequestView& request,
                                                      const Authenticator& authenticator) {
  std::optional<Error> store_error;
  auto access_key = authenticator(request, [&](std::string_view key) -> std::optional<std::string> {
    auto secret = secretFor(key);
    if (!secret) {
      store_error = secret.error();
      return std::nullopt;
    }
    return *secret;
  });
  if (!access_key && store_error) {
    // The key could not be looked up, which is not the client's fault: ServiceUnavailable
    // while the database is away, never an authentication failure.
    return internalError(*store_error);
  }
  return access_key;
}

Result<std::optional<std::string>> TrafficMirrorApi::secretFor(std::string_view access_key_id) {
  const std::string key(access_key_id);
  {
    std::lock_guard lock(secrets_mutex_);
    if (const auto it = secrets_.find(key); it != secrets_.end()) {
      return std::optional<std::string>(it->second);
    }
  }
  auto secret = store_.read([&](store::MirrorStore& s) { return s.secretFor(key); });
  if (secret && *secret) {
    std::lock_guard lock(secrets_mutex_);
    secrets_.emplace(key, **secret);
  }
  return secret;
}

// One request from its parse to its answer. A mutation outlives the HTTP request that carried
// it (the commit thread runs it later), so everything it needs is owned here.
struct TrafficMirrorApi::Call {
  std::string request_id = newUuid4();
  std::string remote_address;
  std::string action;  // ours once the action is known, never what the client typed
  std::optional<QueryParams> params;
  std::string access_key;
  ActionHandler handler = nullptr;
  ApiResult<std::string> outcome;
};

namespace {

HttpResponse answerOf(std::string action, const std::string& request_id,
                      ApiResult<std::string> result) {
  HttpResponse response;
  response.action = std::move(action);
  if (result) {
    response.body = std::move(*result);
    return response;
  }
  response.status = httpStatusOf(result.error().code);
  response.error_code = result.error().code;
  response.body = awsErrorDocument(result.error().code, result.error().message, request_id);
  return response;
}

}  // namespace

HttpResponse TrafficMirrorApi::handle(const HttpRequestView& request) {
  std::promise<HttpResponse> answered;
  auto answer = answered.get_future();
  handleAsync(request,
              [&answered](HttpResponse response) { answered.set_value(std::move(response)); });
  return answer.get();
}

void TrafficMirrorApi::handleAsync(const HttpRequestView& request, Answer answer) {
  auto call = std::make_shared<Call>();
  call->remote_address = request.remote_address;
  if (auto ready = prepare(request, *call); !ready) {
    answer(answerOf(std::move(call->action), call->request_id, std::unexpected(ready.error())));
    return;
  }
  if (call->action.starts_with("Describe")) {
    auto result = store_.read([&](store::MirrorStore& s) { return run(*call, s); });
    answer(answerOf(std::move(call->action), call->request_id, std::move(result)));
    return;
  }
  store_.commitAsync(
      [this, call](store::MirrorStore& s) {
        call->outcome = run(*call, s);
        if (!call->outcome) {
          // Refused mutations are audited too: attempts matter where mirroring can exfiltrate.
          if (auto transaction = s.transaction()) {
            if (s.appendAudit({call->access_key, call->action, firstResourceId(*call->params),
                               call->outcome.error().code, call->request_id,
                               call->remote_address})) {
              (void)transaction->commit();
            }
          }
        }
      },
      [call, answer = std::move(answer)](const std::optional<Error>& lost) {
        // Lost with its commit group: nothing of it was saved, so it must not be acknowledged.
        answer(answerOf(
            std::move(call->action), call->request_id,
            lost ? ApiResult<std::string>(internalError(*lost)) : std::move(call->outcome)));
      });
}

ApiResult<std::string> TrafficMirrorApi::run(Call& call, store::MirrorStore& store) {
  ActionContext ctx{store,           limits_,         *call.params,       call.action,
                    call.request_id, call.access_key, call.remote_address};
  return call.handler(ctx);
}

ApiResult<void> TrafficMirrorApi::prepare(const HttpRequestView& request, Call& call) {
  if (request.method != "POST" && request.method != "GET") {
    return apiError("InvalidAction", "The EC2 Query API takes GET or POST requests.");
  }
  auto params = QueryParams::parse(request.query);
  if (!params) {
    return std::unexpected(params.error());
  }
  if (request.method == "POST" && isFormBody(request)) {
    auto body = QueryParams::parse(request.body);
    if (!body) {
      return std::unexpected(body.error());
    }
    if (auto merged = params->merge(*body); !merged) {
      return std::unexpected(merged.error());
    }
  }
  auto access_key = authenticate(request);
  if (!access_key) {
    return std::unexpected(access_key.error());
  }
  const auto action_name = params->get("Action");
  if (!action_name || action_name->empty()) {
    return apiError("MissingAction", "The request must contain the parameter Action.");
  }
  const auto it = std::find_if(std::begin(kActions), std::end(kActions),
                               [&](const auto& entry) { return entry.first == *action_name; });
  if (it == std::end(kActions)) {
    return apiError("InvalidAction", "The action " + action_name->substr(0, 64) +
                                         " is not valid for "
                                         "this web service.");
  }
  call.action = it->first;
  const auto version = params->get("Version");
  if (!version) {
    // EC2 runs nothing without it: the version fixes the meaning of every parameter.
    return apiError("MissingParameter", "The request must contain the parameter Version.");
  }
  if (*version != "2016-11-15") {
    return apiError("InvalidParameterValue",
                    "Version " + version->substr(0, 32) + " is not supported; use 2016-11-15.");
  }
  call.params = std::move(*params);
  call.access_key = std::move(*access_key);
  call.handler = it->second;
  return {};
}

}  // namespace tmirror::api
