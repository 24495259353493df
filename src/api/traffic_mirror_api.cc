#include "api/traffic_mirror_api.h"

#include <algorithm>
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
  return authenticate_(request, [this](std::string_view key) -> std::optional<std::string> {
    auto secret = store_.read([&](store::MirrorStore& s) { return s.secretFor(std::string(key)); });
    return secret ? *secret : std::nullopt;
  });
}

HttpResponse TrafficMirrorApi::handle(const HttpRequestView& request) {
  const std::string request_id = newUuid4();
  std::string action;
  auto result = dispatch(request, request_id, action);
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

ApiResult<std::string> TrafficMirrorApi::dispatch(const HttpRequestView& request,
                                                  const std::string& request_id,
                                                  std::string& action) {
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
  action = it->first;  // ours from here on, never what the client typed
  const auto version = params->get("Version");
  if (!version) {
    // EC2 runs nothing without it: the version fixes the meaning of every parameter.
    return apiError("MissingParameter", "The request must contain the parameter Version.");
  }
  if (*version != "2016-11-15") {
    return apiError("InvalidParameterValue",
                    "Version " + version->substr(0, 32) + " is not supported; use 2016-11-15.");
  }
  const auto run = [&](store::MirrorStore& s) -> ApiResult<std::string> {
    ActionContext ctx{s, limits_, *params, action, request_id, *access_key, request.remote_address};
    return it->second(ctx);
  };
  if (action.starts_with("Describe")) {
    return store_.read(run);
  }
  auto result = store_.commitGrouped([&](store::MirrorStore& s) {
    auto outcome = run(s);
    if (!outcome) {
      // Refused mutations are audited too: attempts matter where mirroring can exfiltrate.
      if (auto transaction = s.transaction()) {
        if (s.appendAudit({*access_key, action, firstResourceId(*params), outcome.error().code,
                           request_id, request.remote_address})) {
          (void)transaction->commit();
        }
      }
    }
    return outcome;
  });
  if (!result) {
    // Lost with its commit group: nothing of it was saved, so it must not be acknowledged.
    return internalError(result.error());
  }
  return std::move(*result);
}

}  // namespace tmirror::api
