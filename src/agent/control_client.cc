#include "agent/control_client.h"

#include <httplib.h>

#include <charconv>

#include "model/agent_protocol.h"
#include "model/mirror_config_json.h"

namespace tmirror::agent {

Result<ServerUrl> parseServerUrl(const std::string& url) {
  constexpr std::string_view kHttp = "http://";
  if (url.rfind("https://", 0) == 0) {
    return makeError(ErrorCode::Unsupported,
                     "--server: https is not supported yet; use http:// on a trusted network "
                     "or a local TLS proxy");
  }
  if (url.rfind(kHttp, 0) != 0) {
    return makeError(ErrorCode::InvalidArgument, "--server must look like http://HOST:PORT");
  }
  std::string rest = url.substr(kHttp.size());
  if (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  ServerUrl out;
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) {
      return makeError(ErrorCode::InvalidArgument, "--server: unclosed [ in " + url);
    }
    out.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') {
        return makeError(ErrorCode::InvalidArgument, "--server: bad address in " + url);
      }
      port_text = rest.substr(close + 2);
    }
  } else {
    const auto colon = rest.rfind(':');
    out.host = rest.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = rest.substr(colon + 1);
    }
  }
  if (out.host.empty() || out.host.find('/') != std::string::npos) {
    return makeError(ErrorCode::InvalidArgument, "--server: no host in " + url);
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return makeError(ErrorCode::InvalidArgument, "--server: bad port in " + url);
    }
    out.port = static_cast<uint16_t>(port);
  }
  return out;
}

ControlClient::ControlClient(ServerUrl url, std::string token)
    : url_(std::move(url)), token_(std::move(token)) {
  client_ = std::make_unique<httplib::Client>(url_.host, url_.port);
  client_->set_connection_timeout(std::chrono::seconds(3));
  client_->set_read_timeout(std::chrono::seconds(10));
  client_->set_write_timeout(std::chrono::seconds(10));
  client_->set_keep_alive(true);
  client_->set_bearer_token_auth(token_);
}

ControlClient::~ControlClient() = default;
ControlClient::ControlClient(ControlClient&&) noexcept = default;
ControlClient& ControlClient::operator=(ControlClient&&) noexcept = default;

namespace {

Error httpError(const std::string& what, const httplib::Result& r) {
  if (!r) {
    return Error{ErrorCode::Io, what + ": " + httplib::to_string(r.error())};
  }
  std::string message = what + ": HTTP " + std::to_string(r->status);
  if (const auto error = model::parseProtocolError(r->body)) {
    message += " " + error->code + ": " + error->message;
  }
  return Error{r->status == 404 ? ErrorCode::NotFound : ErrorCode::Io, message};
}

}  // namespace

Result<model::RegisterResponse> ControlClient::registerHost(const model::RegisterRequest& request) {
  auto r = client_->Post("/agent/v1/register", model::registerRequestToJson(request),
                         "application/json");
  if (!r || r->status != 200) {
    return std::unexpected(httpError("register", r));
  }
  auto answer = model::parseRegisterResponse(r->body);
  if (!answer) {
    return makeError(ErrorCode::Io, "register: " + answer.error().message);
  }
  return answer;
}

Result<model::HostMirrorConfig> ControlClient::desiredState(const std::string& instance_id,
                                                            uint64_t have,
                                                            std::chrono::seconds wait) {
  client_->set_read_timeout(wait + std::chrono::seconds(10));
  const std::string path = "/agent/v1/desired-state?instance-id=" + instance_id +
                           "&revision=" + std::to_string(have) +
                           "&wait=" + std::to_string(wait.count());
  auto r = client_->Get(path);
  client_->set_read_timeout(std::chrono::seconds(10));
  if (!r || r->status != 200) {
    return std::unexpected(httpError("desired state", r));
  }
  auto config = model::parseHostMirrorConfig(r->body);
  if (!config) {
    return std::unexpected(std::move(config.error()).withContext("desired state from the server"));
  }
  return config;
}

Result<void> ControlClient::pushCounters(const model::CountersReport& report) {
  auto r =
      client_->Post("/agent/v1/counters", model::countersReportToJson(report), "application/json");
  if (!r || r->status != 200) {
    return std::unexpected(httpError("counters", r));
  }
  return {};
}

void ControlClient::cancel() {
  client_->stop();
}

}  // namespace tmirror::agent
