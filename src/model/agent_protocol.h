// The agent protocol's messages (docs/architecture.md, "The agent protocol"): what agents and
// collectors send to the server's agent channel under /agent/v1/ and what it answers, each
// with its one JSON form. Both ends use these functions: the hosts write requests and read
// answers, the server reads requests (checking everything it must not trust) and writes
// answers. The desired state, the largest message, has its own file (mirror_config_json.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "model/mirror_config.h"
#include "packet/ip_address.h"

namespace tmirror::model {

// --- POST /agent/v1/register ---------------------------------------------------------------

enum class HostRole { Agent, Collector };

// One interface as its host reports it.
struct ReportedInterface {
  std::string name;  // the device, 1-64 characters
  packet::MacAddress mac{};
  std::optional<packet::IpAddress> ipv4;
  std::optional<packet::IpAddress> ipv6;
  uint32_t mtu = 1500;  // 68-65535

  friend bool operator==(const ReportedInterface&, const ReportedInterface&) = default;
};

struct RegisterRequest {
  std::string host_key;  // stable per host and role, 1-128 characters
  std::string hostname;  // at most 255 characters
  HostRole role = HostRole::Agent;
  std::vector<packet::IpAddress> dns_resolvers;
  // The agent's connections to its servers (never mirrored); at most 64. Kept so that `tmirror
  // explain` knows them.
  std::vector<ControlEndpoint> control_endpoints;
  std::vector<ReportedInterface> interfaces;  // at most 256
  // A collector serving a network load balancer's target: the load balancer's ARN.
  std::optional<std::string> load_balancer_arn;

  friend bool operator==(const RegisterRequest&, const RegisterRequest&) = default;
};

struct RegisteredInterface {
  std::string name;
  packet::MacAddress mac{};
  std::string network_interface_id;  // eni-..., stable across registrations

  friend bool operator==(const RegisteredInterface&, const RegisteredInterface&) = default;
};

struct RegisterResponse {
  std::string instance_id;  // i-...
  std::vector<RegisteredInterface> interfaces;
  uint64_t revision = 0;  // of the desired state, after this registration
  // How often the server wants this host's counters, as a CountersAnswer says it: a fleet
  // that registers at once learns its pace before its first report. A missing value (an
  // older server) reads as one second.
  std::chrono::milliseconds report_interval{1000};

  friend bool operator==(const RegisterResponse&, const RegisterResponse&) = default;
};

std::string registerRequestToJson(const RegisterRequest& request);
// InvalidArgument with a message fit for the client when a field is missing or out of range.
Result<RegisterRequest> parseRegisterRequest(std::string_view json_text);

std::string registerResponseToJson(const RegisterResponse& response);
Result<RegisterResponse> parseRegisterResponse(std::string_view json_text);

// --- POST /agent/v1/counters ---------------------------------------------------------------

// One resource's counters. Names are CloudWatch's traffic-mirroring metrics and tmirror's own.
struct ResourceCounters {
  std::string id;                                        // interfaces: eni-...; sessions: tms-...
  std::string network_interface_id;                      // sessions: their source interface
  std::string name;                                      // interfaces: the device, when known
  std::vector<std::pair<std::string, uint64_t>> counts;  // whole numbers
  std::vector<std::pair<std::string, double>> values;    // other numbers
  // A count split by reason, e.g. MalformedReasons: {"TruncatedIpv4": 3}.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, uint64_t>>>> by_reason;
  std::vector<std::pair<std::string, bool>> flags;
  std::vector<std::pair<std::string, std::string>> notes;  // e.g. LastSendError, Error

  friend bool operator==(const ResourceCounters&, const ResourceCounters&) = default;
};

// Something the host cannot apply, and why.
struct Problem {
  std::string resource_id;  // eni-..., tms-..., tmt-... (or the instance); at most 64 kept
  std::string reason;       // at most 512 characters kept

  friend bool operator==(const Problem&, const Problem&) = default;
};

// The most items a report's list may hold (interfaces, sessions).
inline constexpr std::size_t kMaxCounterItems = 4096;

// A collector's report (no instance id) has its interface's item, and a sessions item per mirror
// session it receives: CollectorDatagrams and CollectorBytes received for it since it started.
struct CountersReport {
  std::string instance_id;                   // empty for a collector
  std::optional<uint64_t> revision;          // the desired-state revision in effect (agents)
  std::vector<ResourceCounters> interfaces;  // at most kMaxCounterItems
  std::vector<ResourceCounters> sessions;    // at most kMaxCounterItems
  // What the host cannot apply (agents; at most 1024). Replaces what it said before.
  std::optional<std::vector<Problem>> problems;

  friend bool operator==(const CountersReport&, const CountersReport&) = default;
};

// Each number is written as it is (a count as an integer). Keys come out sorted.
std::string countersReportToJson(const CountersReport& report);
// Unknown fields of an item are kept by type (numbers, objects of counts, flags, strings);
// fields with names longer than 64 characters are dropped.
Result<CountersReport> parseCountersReport(std::string_view json_text);

// The server's answer: how many numbers it took, and how often it wants this host's report.
// The server spreads a fleet's reports over time (more hosts, longer interval); the host keeps
// to it until the next answer.
struct CountersAnswer {
  std::size_t accepted = 0;
  std::chrono::milliseconds report_interval{1000};

  friend bool operator==(const CountersAnswer&, const CountersAnswer&) = default;
};

std::string countersAnswerToJson(const CountersAnswer& answer);
// A missing interval (an older server) reads as one second.
Result<CountersAnswer> parseCountersAnswer(std::string_view json_text);

// A large fleet's reports ride its long-polls: POST /agent/v1/desired-state carries a
// CountersReport as its body (GET: none), and every desired-state answer, 200 or 204, says in
// this header how often the server wants the host's report (milliseconds).
inline constexpr std::string_view kReportIntervalHeader = "Tmirror-Report-Interval-Ms";
// The header's value, bounded as ReportIntervalMs is; nullopt when it is not a number.
std::optional<std::chrono::milliseconds> parseReportInterval(std::string_view value);

// --- GET /agent/v1/collector-sessions ------------------------------------------------------

// A session whose copies a collector's interface receives.
struct CollectorSession {
  std::string session_id;  // tms-...
  uint32_t virtual_network_id = 0;
  std::string network_interface_id;             // the session's source
  std::optional<packet::MacAddress> mac;        // the source's MAC: tells a copy's direction
  std::optional<packet::IpAddress> private_ip;  // the source's IPv4 address

  friend bool operator==(const CollectorSession&, const CollectorSession&) = default;
};

std::string collectorSessionsToJson(const std::vector<CollectorSession>& sessions);
// Items without a VNI (0 to 2^24-1) are skipped (an older or newer server's extras).
Result<std::vector<CollectorSession>> parseCollectorSessions(std::string_view json_text);

// --- Errors --------------------------------------------------------------------------------

// Every refusal: {"Error": {"Code": ..., "Message": ...}}, with EC2-style codes.
struct ProtocolError {
  std::string code;
  std::string message;
};

std::string protocolErrorToJson(const ProtocolError& error);
// nullopt when the body is not an error document.
std::optional<ProtocolError> parseProtocolError(std::string_view json_text);

// A refusal as an operator reads it: "HTTP 401 AuthFailure: the agent token is not valid" (the
// code and message when the body carries them).
std::string describeRefusal(int status, std::string_view body);

}  // namespace tmirror::model
