#include "agent/control_client.h"

#include "model/agent_protocol.h"
#include "model/mirror_config_json.h"

namespace tmirror::agent {

namespace {

constexpr std::chrono::seconds kRequestTimeout{10};

// A refusal from the server: its status and, when it sent one, its error code and message.
Error refusal(const std::string& what, const http::ClientResponse& response) {
  return Error{response.status == 404 ? ErrorCode::NotFound : ErrorCode::Io,
               what + ": " + model::describeRefusal(response.status, response.body)};
}

}  // namespace

ControlClient::ControlClient(ServerUrl url, ServerTrust trust, std::string token)
    : client_(std::move(url), std::move(trust), std::move(token)) {}

ControlClient::~ControlClient() = default;
ControlClient::ControlClient(ControlClient&&) noexcept = default;
ControlClient& ControlClient::operator=(ControlClient&&) noexcept = default;

Result<model::RegisterResponse> ControlClient::registerHost(const model::RegisterRequest& request) {
  auto r = client_.postJson("/agent/v1/register", model::registerRequestToJson(request),
                            kRequestTimeout);
  if (!r) {
    return std::unexpected(std::move(r.error()).withContext("register"));
  }
  if (r->status != 200) {
    return std::unexpected(refusal("register", *r));
  }
  auto answer = model::parseRegisterResponse(r->body);
  if (!answer) {
    return makeError(ErrorCode::Io, "register: " + answer.error().message);
  }
  return answer;
}

Result<ControlClient::Poll> ControlClient::desiredState(const std::string& instance_id,
                                                        uint64_t have, std::chrono::seconds wait,
                                                        const model::CountersReport* report) {
  const std::string path = "/agent/v1/desired-state?instance-id=" + instance_id +
                           "&revision=" + std::to_string(have) +
                           "&wait=" + std::to_string(wait.count());
  auto r = report != nullptr ? client_.postJson(path, model::countersReportToJson(*report),
                                                wait + kRequestTimeout)
                             : client_.get(path, wait + kRequestTimeout);
  if (!r) {
    return std::unexpected(std::move(r.error()).withContext("desired state"));
  }
  Poll poll;
  poll.report_interval = model::parseReportInterval(r->header(model::kReportIntervalHeader));
  if (r->status == 204) {
    return poll;  // the wait ended and the revision held is still the current one
  }
  if (r->status != 200) {
    return std::unexpected(refusal("desired state", *r));
  }
  auto config = model::parseHostMirrorConfig(r->body);
  if (!config) {
    return std::unexpected(std::move(config.error()).withContext("desired state from the server"));
  }
  poll.config = std::move(*config);
  return poll;
}

Result<model::CountersAnswer> ControlClient::pushCounters(const model::CountersReport& report) {
  auto r =
      client_.postJson("/agent/v1/counters", model::countersReportToJson(report), kRequestTimeout);
  if (!r) {
    return std::unexpected(std::move(r.error()).withContext("counters"));
  }
  if (r->status != 200) {
    return std::unexpected(refusal("counters", *r));
  }
  auto answer = model::parseCountersAnswer(r->body);
  if (!answer) {
    return std::unexpected(std::move(answer.error()).withContext("counters"));
  }
  return *answer;
}

void ControlClient::cancel() {
  client_.cancel();
}

}  // namespace tmirror::agent
