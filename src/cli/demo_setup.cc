#include "cli/demo_setup.h"

#include <chrono>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/child_process.h"

namespace tmirror::cli {

namespace {

using json = nlohmann::json;

// The server's API: its URL, and the CA file that verifies it (https, tmirror server --tls auto).
struct ApiEndpoint {
  std::string url;
  std::string ca_bundle;
};

Result<json> call(const ApiEndpoint& endpoint, std::vector<std::string> args) {
  args.push_back("--endpoint-url");
  args.push_back(endpoint.url);
  if (!endpoint.ca_bundle.empty()) {
    args.push_back("--ca-bundle");
    args.push_back(endpoint.ca_bundle);
  }
  std::vector<std::string> failure;
  auto lines = runSelf(args, &failure);
  if (!lines) {
    std::string message = args[0] + " failed";
    for (const auto& l : failure) {
      message += "\n  " + l;
    }
    return makeError(ErrorCode::Io, message);
  }
  std::string text;
  for (const auto& l : *lines) {
    text += l + "\n";
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return makeError(ErrorCode::Io, args[0] + ": output is not JSON");
  }
  return j;
}

Result<std::string> idOf(Result<json> answer, const char* object, const char* field) {
  if (!answer) {
    return std::unexpected(answer.error());
  }
  if (!answer->contains(object) || !(*answer)[object].contains(field)) {
    return makeError(ErrorCode::Io, std::string("no ") + field + " in the answer");
  }
  return (*answer)[object][field].get<std::string>();
}

std::string nameTag(const char* type, const char* name) {
  return std::string("ResourceType=") + type + ",Tags=[{Key=Name,Value=" + name + "}]";
}

}  // namespace

Result<DemoResources> createDemoResources(const std::string& url, const std::string& ca_bundle,
                                          const std::string& source_mac,
                                          const std::string& collector_mac) {
  const ApiEndpoint endpoint{url, ca_bundle};
  // The agent and the collector register their interfaces when they start: wait for them.
  auto findByMac = [&](const std::string& mac) -> Result<std::string> {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto found = call(
          endpoint, {"describe-network-interfaces", "--filters", "Name=mac-address,Values=" + mac});
      if (found && found->contains("NetworkInterfaces") && !(*found)["NetworkInterfaces"].empty()) {
        return (*found)["NetworkInterfaces"][0]["NetworkInterfaceId"].get<std::string>();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return makeError(ErrorCode::NotFound, "no interface with MAC " + mac + " registered in 30 s");
  };
  auto source_eni = findByMac(source_mac);
  if (!source_eni) {
    return std::unexpected(source_eni.error());
  }
  auto collector = findByMac(collector_mac);
  if (!collector) {
    return std::unexpected(collector.error());
  }
  const std::string collector_eni = *collector;
  DemoResources out;
  auto target =
      idOf(call(endpoint,
                {"create-traffic-mirror-target", "--network-interface-id", collector_eni,
                 "--description", "tmirror demo collector", "--client-token", "tmirror-demo-target",
                 "--tag-specifications", nameTag("traffic-mirror-target", "demo-collector")}),
           "TrafficMirrorTarget", "TrafficMirrorTargetId");
  if (!target) {
    return std::unexpected(target.error());
  }
  out.target_id = *target;
  auto filter =
      idOf(call(endpoint, {"create-traffic-mirror-filter", "--description", "web, not SSH",
                           "--client-token", "tmirror-demo-filter", "--tag-specifications",
                           nameTag("traffic-mirror-filter", "web-not-ssh")}),
           "TrafficMirrorFilter", "TrafficMirrorFilterId");
  if (!filter) {
    return std::unexpected(filter.error());
  }
  out.filter_id = *filter;

  // Rule 10 rejects SSH, rule 20 accepts the rest of TCP: first match wins.
  struct Rule {
    const char* direction;
    const char* number;
    const char* action;
    const char* port_option;
    const char* description;
  };

  const Rule rules[] = {
      {"ingress", "10", "reject", "--destination-port-range", "no SSH"},
      {"ingress", "20", "accept", nullptr, "all other TCP"},
      {"egress", "10", "reject", "--source-port-range", "no SSH"},
      {"egress", "20", "accept", nullptr, "all other TCP"},
  };
  for (const Rule& r : rules) {
    std::vector<std::string> args{"create-traffic-mirror-filter-rule",
                                  "--traffic-mirror-filter-id",
                                  out.filter_id,
                                  "--traffic-direction",
                                  r.direction,
                                  "--rule-number",
                                  r.number,
                                  "--rule-action",
                                  r.action,
                                  "--protocol",
                                  "6",
                                  "--source-cidr-block",
                                  "0.0.0.0/0",
                                  "--destination-cidr-block",
                                  "0.0.0.0/0",
                                  "--description",
                                  r.description,
                                  "--client-token",
                                  std::string("tmirror-demo-rule-") + r.direction + r.number};
    if (r.port_option != nullptr) {
      args.push_back(r.port_option);
      args.push_back("FromPort=22,ToPort=22");
    }
    if (auto rule = call(endpoint, args); !rule) {
      return std::unexpected(rule.error());
    }
  }
  auto session =
      idOf(call(endpoint, {"create-traffic-mirror-session", "--network-interface-id", *source_eni,
                           "--traffic-mirror-target-id", out.target_id,
                           "--traffic-mirror-filter-id", out.filter_id, "--session-number", "1",
                           "--virtual-network-id", std::to_string(out.vni), "--description",
                           "web server to the collector", "--client-token", "tmirror-demo-session",
                           "--tag-specifications", nameTag("traffic-mirror-session", "demo-web")}),
           "TrafficMirrorSession", "TrafficMirrorSessionId");
  if (!session) {
    return std::unexpected(session.error());
  }
  out.session_id = *session;
  return out;
}

}  // namespace tmirror::cli
