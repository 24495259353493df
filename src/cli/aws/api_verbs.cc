#include "cli/aws/api_verbs.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "api/sigv4.h"
#include "cli/aws/aws_shorthand.h"
#include "common/durable_file.h"
#include "common/random.h"

namespace tmirror::cli {

namespace {

using Json = nlohmann::ordered_json;

// --- The verb table ------------------------------------------------------------------------
// Generated from botocore's ec2 2016-11-15 service-2.json (botocore 1.43.11): every input
// member of each action as aws names the option (botocore's xform_name), with its query name
// (queryName, else locationName with a capital, else the member name) and shape. Shapes stand
// for the option kinds: kString, kInteger, kBoolean, kStringList, structures such as
// kTrafficMirrorPortRangeRequest, kFilterList (filters), kTagSpecificationList (tag specs) and
// kTagList (tags). Result keys come from paginators-1.json.

constexpr Member kTagMembers[] = {
    {"Key", {}, &kString},
    {"Value", {}, &kString},
};
constexpr Shape kTag = structureShape(kTagMembers);
constexpr Shape kTagList = listShape(&kTag);
constexpr Member kTagSpecificationMembers[] = {
    {"ResourceType", {}, &kString},
    {"Tags", "Tag", &kTagList},
};
constexpr Shape kTagSpecification = structureShape(kTagSpecificationMembers);
constexpr Shape kTagSpecificationList = listShape(&kTagSpecification);
constexpr Member kFilterMembers[] = {
    {"Name", {}, &kString},
    {"Values", "Value", &kStringList},
};
constexpr Shape kFilter = structureShape(kFilterMembers);
constexpr Shape kFilterList = listShape(&kFilter);
constexpr Shape kTrafficMirroringMaxResults = integerShape(5);
constexpr Member kTrafficMirrorPortRangeRequestMembers[] = {
    {"FromPort", {}, &kInteger},
    {"ToPort", {}, &kInteger},
};
constexpr Shape kTrafficMirrorPortRangeRequest =
    structureShape(kTrafficMirrorPortRangeRequestMembers);
constexpr Member kIpv4PrefixSpecificationRequestMembers[] = {
    {"Ipv4Prefix", {}, &kString},
};
constexpr Shape kIpv4PrefixSpecificationRequest =
    structureShape(kIpv4PrefixSpecificationRequestMembers);
constexpr Shape kIpv4PrefixList = listShape(&kIpv4PrefixSpecificationRequest);
constexpr Member kIpv6PrefixSpecificationRequestMembers[] = {
    {"Ipv6Prefix", {}, &kString},
};
constexpr Shape kIpv6PrefixSpecificationRequest =
    structureShape(kIpv6PrefixSpecificationRequestMembers);
constexpr Shape kIpv6PrefixList = listShape(&kIpv6PrefixSpecificationRequest);
constexpr Member kConnectionTrackingSpecificationRequestMembers[] = {
    {"TcpEstablishedTimeout", {}, &kInteger},
    {"UdpStreamTimeout", {}, &kInteger},
    {"UdpTimeout", {}, &kInteger},
};
constexpr Shape kConnectionTrackingSpecificationRequest =
    structureShape(kConnectionTrackingSpecificationRequestMembers);
constexpr Member kOperatorRequestMembers[] = {
    {"Principal", {}, &kString},
};
constexpr Shape kOperatorRequest = structureShape(kOperatorRequestMembers);
constexpr Member kPrivateIpAddressSpecificationMembers[] = {
    {"Primary", {}, &kBoolean},
    {"PrivateIpAddress", {}, &kString},
};
constexpr Shape kPrivateIpAddressSpecification =
    structureShape(kPrivateIpAddressSpecificationMembers);
constexpr Shape kPrivateIpAddressSpecificationList = listShape(&kPrivateIpAddressSpecification);
constexpr Member kInstanceIpv6AddressMembers[] = {
    {"Ipv6Address", {}, &kString},
    {"IsPrimaryIpv6", {}, &kBoolean},
};
constexpr Shape kInstanceIpv6Address = structureShape(kInstanceIpv6AddressMembers);
constexpr Shape kInstanceIpv6AddressList = listShape(&kInstanceIpv6Address);
constexpr Shape kDescribeNetworkInterfacesMaxResults = integerShape(5);
constexpr VerbOption kCreateTrafficMirrorTargetOptions[] = {
    {"network-interface-id", {"NetworkInterfaceId", {}, &kString}},
    {"network-load-balancer-arn", {"NetworkLoadBalancerArn", {}, &kString}},
    {"description", {"Description", {}, &kString}},
    {"tag-specifications", {"TagSpecifications", "TagSpecification", &kTagSpecificationList}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"client-token", {"ClientToken", {}, &kString}, OptionUse::IdempotencyToken},
    {"gateway-load-balancer-endpoint-id", {"GatewayLoadBalancerEndpointId", {}, &kString}},
};
constexpr VerbOption kDescribeTrafficMirrorTargetsOptions[] = {
    {"traffic-mirror-target-ids",
     {"TrafficMirrorTargetIds", "TrafficMirrorTargetId", &kStringList}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"filters", {"Filters", "Filter", &kFilterList}},
    {"max-results", {"MaxResults", {}, &kTrafficMirroringMaxResults}},
    {"next-token", {"NextToken", {}, &kString}},
};
constexpr VerbOption kDeleteTrafficMirrorTargetOptions[] = {
    {"traffic-mirror-target-id", {"TrafficMirrorTargetId", {}, &kString}, OptionUse::Required},
    {"dry-run", {"DryRun", {}, &kBoolean}},
};
constexpr VerbOption kCreateTrafficMirrorFilterOptions[] = {
    {"description", {"Description", {}, &kString}},
    {"tag-specifications", {"TagSpecifications", "TagSpecification", &kTagSpecificationList}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"client-token", {"ClientToken", {}, &kString}, OptionUse::IdempotencyToken},
};
constexpr VerbOption kDescribeTrafficMirrorFiltersOptions[] = {
    {"traffic-mirror-filter-ids",
     {"TrafficMirrorFilterIds", "TrafficMirrorFilterId", &kStringList}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"filters", {"Filters", "Filter", &kFilterList}},
    {"max-results", {"MaxResults", {}, &kTrafficMirroringMaxResults}},
    {"next-token", {"NextToken", {}, &kString}},
};
constexpr VerbOption kDeleteTrafficMirrorFilterOptions[] = {
    {"traffic-mirror-filter-id", {"TrafficMirrorFilterId", {}, &kString}, OptionUse::Required},
    {"dry-run", {"DryRun", {}, &kBoolean}},
};
constexpr VerbOption kModifyTrafficMirrorFilterNetworkServicesOptions[] = {
    {"traffic-mirror-filter-id", {"TrafficMirrorFilterId", {}, &kString}, OptionUse::Required},
    {"add-network-services", {"AddNetworkServices", "AddNetworkService", &kStringList}},
    {"remove-network-services", {"RemoveNetworkServices", "RemoveNetworkService", &kStringList}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
};
constexpr VerbOption kCreateTrafficMirrorFilterRuleOptions[] = {
    {"traffic-mirror-filter-id", {"TrafficMirrorFilterId", {}, &kString}, OptionUse::Required},
    {"traffic-direction", {"TrafficDirection", {}, &kString}, OptionUse::Required},
    {"rule-number", {"RuleNumber", {}, &kInteger}, OptionUse::Required},
    {"rule-action", {"RuleAction", {}, &kString}, OptionUse::Required},
    {"destination-port-range", {"DestinationPortRange", {}, &kTrafficMirrorPortRangeRequest}},
    {"source-port-range", {"SourcePortRange", {}, &kTrafficMirrorPortRangeRequest}},
    {"protocol", {"Protocol", {}, &kInteger}},
    {"destination-cidr-block", {"DestinationCidrBlock", {}, &kString}, OptionUse::Required},
    {"source-cidr-block", {"SourceCidrBlock", {}, &kString}, OptionUse::Required},
    {"description", {"Description", {}, &kString}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"client-token", {"ClientToken", {}, &kString}, OptionUse::IdempotencyToken},
    {"tag-specifications", {"TagSpecifications", "TagSpecification", &kTagSpecificationList}},
};
constexpr VerbOption kDescribeTrafficMirrorFilterRulesOptions[] = {
    {"traffic-mirror-filter-rule-ids",
     {"TrafficMirrorFilterRuleIds", "TrafficMirrorFilterRuleId", &kStringList}},
    {"traffic-mirror-filter-id", {"TrafficMirrorFilterId", {}, &kString}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"filters", {"Filters", "Filter", &kFilterList}},
    {"max-results", {"MaxResults", {}, &kTrafficMirroringMaxResults}},
    {"next-token", {"NextToken", {}, &kString}},
};
constexpr VerbOption kModifyTrafficMirrorFilterRuleOptions[] = {
    {"traffic-mirror-filter-rule-id",
     {"TrafficMirrorFilterRuleId", {}, &kString},
     OptionUse::Required},
    {"traffic-direction", {"TrafficDirection", {}, &kString}},
    {"rule-number", {"RuleNumber", {}, &kInteger}},
    {"rule-action", {"RuleAction", {}, &kString}},
    {"destination-port-range", {"DestinationPortRange", {}, &kTrafficMirrorPortRangeRequest}},
    {"source-port-range", {"SourcePortRange", {}, &kTrafficMirrorPortRangeRequest}},
    {"protocol", {"Protocol", {}, &kInteger}},
    {"destination-cidr-block", {"DestinationCidrBlock", {}, &kString}},
    {"source-cidr-block", {"SourceCidrBlock", {}, &kString}},
    {"description", {"Description", {}, &kString}},
    {"remove-fields", {"RemoveFields", "RemoveField", &kStringList}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
};
constexpr VerbOption kDeleteTrafficMirrorFilterRuleOptions[] = {
    {"traffic-mirror-filter-rule-id",
     {"TrafficMirrorFilterRuleId", {}, &kString},
     OptionUse::Required},
    {"dry-run", {"DryRun", {}, &kBoolean}},
};
constexpr VerbOption kCreateTrafficMirrorSessionOptions[] = {
    {"network-interface-id", {"NetworkInterfaceId", {}, &kString}, OptionUse::Required},
    {"traffic-mirror-target-id", {"TrafficMirrorTargetId", {}, &kString}, OptionUse::Required},
    {"traffic-mirror-filter-id", {"TrafficMirrorFilterId", {}, &kString}, OptionUse::Required},
    {"packet-length", {"PacketLength", {}, &kInteger}},
    {"session-number", {"SessionNumber", {}, &kInteger}, OptionUse::Required},
    {"virtual-network-id", {"VirtualNetworkId", {}, &kInteger}},
    {"description", {"Description", {}, &kString}},
    {"tag-specifications", {"TagSpecifications", "TagSpecification", &kTagSpecificationList}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"client-token", {"ClientToken", {}, &kString}, OptionUse::IdempotencyToken},
};
constexpr VerbOption kDescribeTrafficMirrorSessionsOptions[] = {
    {"traffic-mirror-session-ids",
     {"TrafficMirrorSessionIds", "TrafficMirrorSessionId", &kStringList}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"filters", {"Filters", "Filter", &kFilterList}},
    {"max-results", {"MaxResults", {}, &kTrafficMirroringMaxResults}},
    {"next-token", {"NextToken", {}, &kString}},
};
constexpr VerbOption kModifyTrafficMirrorSessionOptions[] = {
    {"traffic-mirror-session-id", {"TrafficMirrorSessionId", {}, &kString}, OptionUse::Required},
    {"traffic-mirror-target-id", {"TrafficMirrorTargetId", {}, &kString}},
    {"traffic-mirror-filter-id", {"TrafficMirrorFilterId", {}, &kString}},
    {"packet-length", {"PacketLength", {}, &kInteger}},
    {"session-number", {"SessionNumber", {}, &kInteger}},
    {"virtual-network-id", {"VirtualNetworkId", {}, &kInteger}},
    {"description", {"Description", {}, &kString}},
    {"remove-fields", {"RemoveFields", "RemoveField", &kStringList}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
};
constexpr VerbOption kDeleteTrafficMirrorSessionOptions[] = {
    {"traffic-mirror-session-id", {"TrafficMirrorSessionId", {}, &kString}, OptionUse::Required},
    {"dry-run", {"DryRun", {}, &kBoolean}},
};
constexpr VerbOption kCreateTagsOptions[] = {
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"resources", {"Resources", "ResourceId", &kStringList}, OptionUse::Required},
    {"tags", {"Tags", "Tag", &kTagList}, OptionUse::Required},
};
constexpr VerbOption kDeleteTagsOptions[] = {
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"resources", {"Resources", "ResourceId", &kStringList}, OptionUse::Required},
    {"tags", {"Tags", "Tag", &kTagList}},
};
constexpr VerbOption kDescribeTagsOptions[] = {
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"filters", {"Filters", "Filter", &kFilterList}},
    {"max-results", {"MaxResults", {}, &kInteger}},
    {"next-token", {"NextToken", {}, &kString}},
};
constexpr VerbOption kCreateNetworkInterfaceOptions[] = {
    {"ipv4-prefixes", {"Ipv4Prefixes", "Ipv4Prefix", &kIpv4PrefixList}},
    {"ipv4-prefix-count", {"Ipv4PrefixCount", {}, &kInteger}},
    {"ipv6-prefixes", {"Ipv6Prefixes", "Ipv6Prefix", &kIpv6PrefixList}},
    {"ipv6-prefix-count", {"Ipv6PrefixCount", {}, &kInteger}},
    {"interface-type", {"InterfaceType", {}, &kString}},
    {"tag-specifications", {"TagSpecifications", "TagSpecification", &kTagSpecificationList}},
    {"client-token", {"ClientToken", {}, &kString}, OptionUse::IdempotencyToken},
    {"enable-primary-ipv6", {"EnablePrimaryIpv6", {}, &kBoolean}},
    {"connection-tracking-specification",
     {"ConnectionTrackingSpecification", {}, &kConnectionTrackingSpecificationRequest}},
    {"operator", {"Operator", {}, &kOperatorRequest}},
    {"subnet-id", {"SubnetId", {}, &kString}, OptionUse::Required},
    {"description", {"Description", {}, &kString}},
    {"private-ip-address", {"PrivateIpAddress", {}, &kString}},
    {"groups", {"Groups", "SecurityGroupId", &kStringList}},
    {"private-ip-addresses", {"PrivateIpAddresses", {}, &kPrivateIpAddressSpecificationList}},
    {"secondary-private-ip-address-count", {"SecondaryPrivateIpAddressCount", {}, &kInteger}},
    {"ipv6-addresses", {"Ipv6Addresses", {}, &kInstanceIpv6AddressList}},
    {"ipv6-address-count", {"Ipv6AddressCount", {}, &kInteger}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
};
constexpr VerbOption kDescribeNetworkInterfacesOptions[] = {
    {"next-token", {"NextToken", {}, &kString}},
    {"max-results", {"MaxResults", {}, &kDescribeNetworkInterfacesMaxResults}},
    {"include-managed-resources", {"IncludeManagedResources", {}, &kBoolean}},
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"network-interface-ids", {"NetworkInterfaceIds", "NetworkInterfaceId", &kStringList}},
    {"filters", {"Filters", "Filter", &kFilterList}},
};
constexpr VerbOption kDeleteNetworkInterfaceOptions[] = {
    {"dry-run", {"DryRun", {}, &kBoolean}},
    {"network-interface-id", {"NetworkInterfaceId", {}, &kString}, OptionUse::Required},
};
constexpr VerbSpec kVerbs[] = {
    {"create-traffic-mirror-target", "CreateTrafficMirrorTarget", kCreateTrafficMirrorTargetOptions,
     ""},
    {"describe-traffic-mirror-targets", "DescribeTrafficMirrorTargets",
     kDescribeTrafficMirrorTargetsOptions, "TrafficMirrorTargets"},
    {"delete-traffic-mirror-target", "DeleteTrafficMirrorTarget", kDeleteTrafficMirrorTargetOptions,
     ""},
    {"create-traffic-mirror-filter", "CreateTrafficMirrorFilter", kCreateTrafficMirrorFilterOptions,
     ""},
    {"describe-traffic-mirror-filters", "DescribeTrafficMirrorFilters",
     kDescribeTrafficMirrorFiltersOptions, "TrafficMirrorFilters"},
    {"delete-traffic-mirror-filter", "DeleteTrafficMirrorFilter", kDeleteTrafficMirrorFilterOptions,
     ""},
    {"modify-traffic-mirror-filter-network-services", "ModifyTrafficMirrorFilterNetworkServices",
     kModifyTrafficMirrorFilterNetworkServicesOptions, ""},
    {"create-traffic-mirror-filter-rule", "CreateTrafficMirrorFilterRule",
     kCreateTrafficMirrorFilterRuleOptions, ""},
    {"describe-traffic-mirror-filter-rules", "DescribeTrafficMirrorFilterRules",
     kDescribeTrafficMirrorFilterRulesOptions, ""},
    {"modify-traffic-mirror-filter-rule", "ModifyTrafficMirrorFilterRule",
     kModifyTrafficMirrorFilterRuleOptions, ""},
    {"delete-traffic-mirror-filter-rule", "DeleteTrafficMirrorFilterRule",
     kDeleteTrafficMirrorFilterRuleOptions, ""},
    {"create-traffic-mirror-session", "CreateTrafficMirrorSession",
     kCreateTrafficMirrorSessionOptions, ""},
    {"describe-traffic-mirror-sessions", "DescribeTrafficMirrorSessions",
     kDescribeTrafficMirrorSessionsOptions, "TrafficMirrorSessions"},
    {"modify-traffic-mirror-session", "ModifyTrafficMirrorSession",
     kModifyTrafficMirrorSessionOptions, ""},
    {"delete-traffic-mirror-session", "DeleteTrafficMirrorSession",
     kDeleteTrafficMirrorSessionOptions, ""},
    {"create-tags", "CreateTags", kCreateTagsOptions, ""},
    {"delete-tags", "DeleteTags", kDeleteTagsOptions, ""},
    {"describe-tags", "DescribeTags", kDescribeTagsOptions, "Tags"},
    {"create-network-interface", "CreateNetworkInterface", kCreateNetworkInterfaceOptions, ""},
    {"describe-network-interfaces", "DescribeNetworkInterfaces", kDescribeNetworkInterfacesOptions,
     "NetworkInterfaces"},
    {"delete-network-interface", "DeleteNetworkInterface", kDeleteNetworkInterfaceOptions, ""},
};

constexpr std::string_view kApiVersion = "2016-11-15";
constexpr std::string_view kContentType = "application/x-www-form-urlencoded; charset=utf-8";
constexpr std::string_view kDefaultEndpoint = "http://127.0.0.1:8900";
constexpr std::string_view kDefaultRegion = "us-east-1";
constexpr int kMaxAttempts = 3;  // botocore's standard retry mode

constexpr int kExitUsage = 252;
constexpr int kExitNoCredentials = 253;
constexpr int kExitServiceError = 254;
constexpr int kExitOther = 255;

constexpr std::string_view kUsage =
    "\nusage: tmirror [options] <command> [parameters]\n"
    "To see help text, you can run:\n\n"
    "  tmirror --help\n"
    "  tmirror <command> help\n\n";

VerbUsage usageError(std::string_view message) {
  return {std::string(kUsage) + "tmirror: error: " + std::string(message) + "\n\n", kExitUsage};
}

VerbUsage usageOf(ArgumentError error) {
  return {std::move(error.text), error.exit_code};
}

// --- Options -------------------------------------------------------------------------------

enum class GlobalArity { Flag, Value };

struct GlobalOptionName {
  std::string_view name;
  GlobalArity arity;
};

constexpr GlobalOptionName kGlobalOptions[] = {
    {"endpoint-url", GlobalArity::Value},
    {"region", GlobalArity::Value},
    {"profile", GlobalArity::Value},
    {"output", GlobalArity::Value},
    {"query", GlobalArity::Value},
    {"ca-bundle", GlobalArity::Value},
    {"cli-read-timeout", GlobalArity::Value},
    {"cli-connect-timeout", GlobalArity::Value},
    {"color", GlobalArity::Value},
    {"cli-binary-format", GlobalArity::Value},
    {"no-sign-request", GlobalArity::Flag},
    {"no-paginate", GlobalArity::Flag},
    {"debug", GlobalArity::Flag},
    {"no-verify-ssl", GlobalArity::Flag},
    {"no-cli-pager", GlobalArity::Flag},
    {"no-cli-auto-prompt", GlobalArity::Flag},
};

const GlobalOptionName* findGlobal(std::string_view name) {
  for (const auto& g : kGlobalOptions) {
    if (g.name == name) {
      return &g;
    }
  }
  return nullptr;
}

// argparse's test: "-x..." is an option unless it is a negative number or has a space.
bool looksLikeOption(std::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-') {
    return false;
  }
  if (arg.find(' ') != std::string_view::npos) {
    return false;
  }
  std::string_view rest = arg.substr(1);
  const auto dot = rest.find('.');
  const auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const bool negative_number =
      dot == std::string_view::npos
          ? digits(rest)
          : digits(rest.substr(0, dot)) && rest.size() > dot + 1 && digits(rest.substr(dot + 1));
  return !negative_number;
}

bool isList(const Shape& shape) {
  return shape.kind == ShapeKind::List;
}

std::string shapeDoc(const Shape& shape, bool top);

std::string structureDoc(const Shape& shape) {
  std::string out;
  for (const auto& m : shape.members) {
    out += (out.empty() ? "" : ",") + std::string(m.name) + "=" + shapeDoc(*m.shape, false);
  }
  return out;
}

// The shorthand synopsis aws shows in help ("Key=string,Value=string ...").
std::string shapeDoc(const Shape& shape, bool top) {
  switch (shape.kind) {
    case ShapeKind::String:
      return "string";
    case ShapeKind::Integer:
      return "integer";
    case ShapeKind::Boolean:
      return "boolean";
    case ShapeKind::Timestamp:
      return "timestamp";
    case ShapeKind::Structure:
      return top ? structureDoc(shape) : "{" + structureDoc(shape) + "}";
    case ShapeKind::List:
      if (top) {
        return shapeDoc(*shape.element, true) + " ...";
      }
      return "[" + shapeDoc(*shape.element, false) + ",...]";
  }
  return {};
}

std::string verbHelp(const VerbSpec& verb) {
  std::string out = "tmirror " + std::string(verb.verb) + ": the EC2 action " +
                    std::string(verb.operation) +
                    ", with the options and JSON output of 'aws ec2 " + std::string(verb.verb) +
                    "'.\n\nOptions:\n";
  for (const auto& o : verb.options) {
    std::string line = "  --" + std::string(o.option);
    if (o.member.shape->kind == ShapeKind::Boolean) {
      line += " | --no-" + std::string(o.option);
    } else {
      line += " " + shapeDoc(*o.member.shape, true);
    }
    if (o.use == OptionUse::Required) {
      line += "  (required)";
    } else if (o.use == OptionUse::IdempotencyToken) {
      line += "  (default: a new UUID)";
    }
    out += line + "\n";
  }
  out +=
      "\nStructures take aws's shorthand (Key=a,Value=b) or JSON ('{\"Key\": \"a\"}'); lists "
      "take several values or one JSON array; file://PATH reads a value from a file.\n"
      "\nGlobal options:\n"
      "  --endpoint-url URL     default $TMIRROR_ENDPOINT, $AWS_ENDPOINT_URL_EC2, "
      "$AWS_ENDPOINT_URL or http://127.0.0.1:8900\n"
      "  --region REGION        default $AWS_DEFAULT_REGION, $AWS_REGION, the profile's, "
      "us-east-1\n"
      "  --profile NAME         credentials from ~/.aws/credentials (default: "
      "$AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY, else [default])\n"
      "  --no-sign-request      send no SigV4 signature\n"
      "  --output json          the only output format\n"
      "  --debug                print the request and the response on stderr\n"
      "  --cli-connect-timeout N, --cli-read-timeout N, --no-verify-ssl, --ca-bundle FILE\n";
  if (!verb.result_key.empty()) {
    out +=
        "  --no-paginate          one request only (also implied by --max-results or "
        "--next-token)\n"
        "  --page-size N          MaxResults of each request while paginating\n";
  }
  return out;
}

struct OptionValue {
  bool present = false;
  bool flag = false;                // booleans
  std::vector<std::string> values;  // one for scalars and structures, any number for lists
};

void serialize(const Json& value, const Shape& shape, const std::string& prefix,
               std::vector<std::pair<std::string, std::string>>& out) {
  switch (shape.kind) {
    case ShapeKind::String:
    case ShapeKind::Timestamp:
      out.emplace_back(prefix, value.is_string() ? value.get<std::string>() : value.dump());
      return;
    case ShapeKind::Integer:
      out.emplace_back(prefix, value.dump());
      return;
    case ShapeKind::Boolean:
      out.emplace_back(prefix, value.is_boolean() && value.get<bool>() ? "true" : "false");
      return;
    case ShapeKind::List:
      for (std::size_t i = 0; i < value.size(); ++i) {
        serialize(value[i], *shape.element, prefix + "." + std::to_string(i + 1), out);
      }
      return;
    case ShapeKind::Structure:
      for (const auto& m : shape.members) {
        const std::string key(m.name);
        if (value.contains(key)) {
          serialize(value[key], *m.shape, prefix + "." + std::string(m.wireName()), out);
        }
      }
      return;
  }
}

// --- Settings ------------------------------------------------------------------------------

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// A key of one section of an INI file (configparser's rules: '=' or ':', keys lower-cased).
std::optional<std::string> iniValue(std::string_view text, std::string_view section,
                                    std::string_view key) {
  std::istringstream lines{std::string(text)};
  std::string line;
  bool in_section = false;
  while (std::getline(lines, line)) {
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') {
      continue;
    }
    if (t.front() == '[' && t.back() == ']') {
      in_section = trim(std::string_view(t).substr(1, t.size() - 2)) == section;
      continue;
    }
    if (!in_section) {
      continue;
    }
    const auto split = t.find_first_of("=:");
    if (split == std::string::npos) {
      continue;
    }
    std::string name = trim(std::string_view(t).substr(0, split));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name == key) {
      return trim(std::string_view(t).substr(split + 1));
    }
  }
  return std::nullopt;
}

Result<ClientSettings> parseEndpoint(const std::string& url) {
  ClientSettings s;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return makeError(ErrorCode::InvalidArgument,
                     "Bad value for --endpoint-url \"" + url +
                         "\": scheme is missing.  Must be of the form http://<hostname>/ or "
                         "https://<hostname>/");
  }
  s.scheme = url.substr(0, scheme_end);
  std::transform(s.scheme.begin(), s.scheme.end(), s.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto invalid = [&]() { return makeError(ErrorCode::Unsupported, "Invalid endpoint: " + url); };
  if (s.scheme != "http" && s.scheme != "https") {
    return invalid();
  }
  std::string_view rest = std::string_view(url).substr(scheme_end + 3);
  const auto path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos && rest[path_start] == '/') {
    s.path =
        std::string(rest.substr(path_start, rest.find_first_of("?#", path_start) - path_start));
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return invalid();
    }
    s.host = std::string(authority.substr(0, close + 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return invalid();
      }
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.find(':');
    s.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (s.host.empty() || s.host == "[]") {
    return invalid();
  }
  const uint16_t default_port = s.scheme == "https" ? 443 : 80;
  s.port = default_port;
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return invalid();
    }
    s.port = static_cast<uint16_t>(port);
  }
  s.host_header = s.port == default_port ? s.host : s.host + ":" + std::to_string(s.port);
  return s;
}

// --- Transport -----------------------------------------------------------------------------

struct HttpReply {
  int status = 0;
  std::string reason;
  std::string body;
};

enum class TransportFailure { Connect, ConnectTimeout, Read, Other };

struct TransportError {
  TransportFailure kind = TransportFailure::Other;
  std::string detail;
};

// POST of a form body to the endpoint's path, or GET of `get_path`?`get_query` (no body).
std::expected<HttpReply, TransportError> sendOnce(const ClientSettings& settings,
                                                  const ApiGlobalOptions& globals,
                                                  const std::string& body,
                                                  std::optional<std::string> get_path = {},
                                                  const std::string& get_query = "") {
  // cpp-httplib may throw (allocation, regex); nothing escapes this boundary.
  try {
    httplib::Client client(settings.scheme + "://" + settings.host + ":" +
                           std::to_string(settings.port));
    client.set_connection_timeout(static_cast<time_t>(globals.connect_timeout_seconds), 0);
    client.set_read_timeout(static_cast<time_t>(globals.read_timeout_seconds), 0);
    client.set_write_timeout(static_cast<time_t>(globals.read_timeout_seconds), 0);
    client.set_decompress(false);
    if (settings.scheme == "https") {
      client.enable_server_certificate_verification(globals.verify_ssl);
      if (globals.ca_bundle) {
        client.set_ca_cert_path(globals.ca_bundle->c_str());
      }
    }
    httplib::Headers headers{{"User-Agent", "tmirror/" TMIRROR_CLI_VERSION},
                             {"Accept-Encoding", "identity"}};
    const bool get = get_path.has_value();
    if (globals.sign_request && settings.credentials) {
      const auto signed_headers = api::signHeaders(
          get ? "GET" : "POST", settings.host_header, get ? *get_path : settings.path, get_query,
          body, get ? "" : kContentType, settings.credentials->access_key_id,
          settings.credentials->secret_access_key, settings.region, "ec2",
          std::chrono::system_clock::now());
      for (const auto& [name, value] : signed_headers) {
        if (name != "Content-Type") {  // httplib adds it from the content type argument
          headers.emplace(name, value);
        }
      }
    } else {
      headers.emplace("Host", settings.host_header);
    }
    auto result = get ? client.Get(*get_path + (get_query.empty() ? "" : "?" + get_query), headers)
                      : client.Post(settings.path, headers, body, std::string(kContentType));
    if (!result) {
      const auto error = result.error();
      TransportError failure{TransportFailure::Other, httplib::to_string(error)};
      if (error == httplib::Error::Connection) {
        failure.kind = TransportFailure::Connect;
      } else if (error == httplib::Error::ConnectionTimeout) {
        failure.kind = TransportFailure::ConnectTimeout;
      } else if (error == httplib::Error::Read) {
        failure.kind = TransportFailure::Read;
      }
      return std::unexpected(failure);
    }
    return HttpReply{result->status, result->reason, result->body};
  } catch (const std::exception& e) {
    return std::unexpected(TransportError{TransportFailure::Other, e.what()});
  }
}

// botocore's standard retry mode: transient statuses and throttling codes.
bool retryableReply(const HttpReply& reply) {
  if (reply.status == 500 || reply.status == 502 || reply.status == 503 || reply.status == 504) {
    return true;
  }
  if (reply.status < 300) {
    return false;
  }
  static constexpr std::string_view kRetryableCodes[] = {"Throttling",
                                                         "ThrottlingException",
                                                         "ThrottledException",
                                                         "RequestThrottledException",
                                                         "TooManyRequestsException",
                                                         "ProvisionedThroughputExceededException",
                                                         "TransactionInProgressException",
                                                         "RequestLimitExceeded",
                                                         "BandwidthLimitExceeded",
                                                         "LimitExceededException",
                                                         "RequestThrottled",
                                                         "SlowDown",
                                                         "PriorRequestNotComplete",
                                                         "EC2ThrottledException",
                                                         "RequestTimeout",
                                                         "RequestTimeoutException"};
  const auto error = parseEc2Error(reply.body);
  return error && std::find(std::begin(kRetryableCodes), std::end(kRetryableCodes), error->code) !=
                      std::end(kRetryableCodes);
}

std::string reasonPhrase(int status, const std::string& reason) {
  if (!reason.empty()) {
    return reason;
  }
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

struct CallFailure {
  std::string text;  // printed on stderr as is
  int exit_code = kExitOther;
};

std::expected<Json, CallFailure> callOnce(const ClientSettings& settings,
                                          const ApiGlobalOptions& globals, const VerbSpec& verb,
                                          const Json& input) {
  const std::string body = formEncode(ec2QueryParameters(verb, input));
  std::expected<HttpReply, TransportError> reply;
  int attempt = 1;
  std::mt19937_64 jitter{secureRandomU64()};
  for (;; ++attempt) {
    if (globals.debug) {
      std::fprintf(stderr, "tmirror: POST %s (attempt %d)\n%s\n", settings.endpointText().c_str(),
                   attempt, body.c_str());
    }
    reply = sendOnce(settings, globals, body);
    if (globals.debug) {
      if (reply) {
        std::fprintf(stderr, "tmirror: HTTP %d\n%s\n", reply->status, reply->body.c_str());
      } else {
        std::fprintf(stderr, "tmirror: %s\n", reply.error().detail.c_str());
      }
    }
    const bool retry = !reply || retryableReply(*reply);
    if (!retry || attempt >= kMaxAttempts) {
      break;
    }
    const double delay = std::min(20.0, std::uniform_real_distribution<double>(0, 1)(jitter) *
                                            static_cast<double>(1 << (attempt - 1)));
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
  const std::string endpoint = settings.endpointText();
  if (!reply) {
    switch (reply.error().kind) {
      case TransportFailure::ConnectTimeout:
        return std::unexpected(
            CallFailure{"\nConnect timeout on endpoint URL: \"" + endpoint + "\"\n"});
      case TransportFailure::Read:
        return std::unexpected(CallFailure{
            "\nConnection was closed before we received a valid response from endpoint URL: \"" +
            endpoint + "\".\n"});
      default:
        return std::unexpected(
            CallFailure{"\nCould not connect to the endpoint URL: \"" + endpoint + "\"\n"});
    }
  }
  if (reply->status >= 300) {
    auto error = parseEc2Error(reply->body);
    const std::string code = error ? error->code : std::to_string(reply->status);
    const std::string message = error ? error->message : reasonPhrase(reply->status, reply->reason);
    const std::string retries =
        attempt >= kMaxAttempts && retryableReply(*reply)
            ? " (reached max retries: " + std::to_string(kMaxAttempts - 1) + ")"
            : "";
    return std::unexpected(CallFailure{"\nAn error occurred (" + code + ") when calling the " +
                                           std::string(verb.operation) + " operation" + retries +
                                           ": " + message + "\n",
                                       kExitServiceError});
  }
  const auto shape = ec2OutputShape(verb.operation);
  auto json = ec2XmlToJson(reply->body, shape.value_or(nullptr));
  if (!json) {
    return std::unexpected(CallFailure{"\nUnable to parse response (" + json.error().message +
                                       "), invalid XML received. Further retries may succeed:\n" +
                                       reply->body + "\n"});
  }
  return std::move(*json);
}

std::optional<std::string> environment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace

std::span<const VerbSpec> apiVerbs() {
  return kVerbs;
}

const VerbSpec* findApiVerb(std::string_view verb) {
  for (const auto& v : kVerbs) {
    if (v.verb == verb) {
      return &v;
    }
  }
  return nullptr;
}

bool isApiVerbCommand(std::span<const std::string> args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.starts_with("--")) {
      const auto* global = findGlobal(std::string_view(arg).substr(2));
      if (global != nullptr && global->arity == GlobalArity::Value) {
        ++i;
      }
      continue;
    }
    return findApiVerb(arg) != nullptr;
  }
  return false;
}

std::expected<ApiCall, VerbUsage> parseApiVerbCommand(std::span<const std::string> args) {
  ApiCall call;
  ApiGlobalOptions& globals = call.globals;
  std::vector<OptionValue> values;
  std::vector<std::string> unknown;
  bool help = false;
  bool no_paginate = false;
  std::optional<std::string> output;
  std::optional<std::string> page_size;
  std::optional<std::string> unsupported;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--") || arg == "--") {
      if (call.verb == nullptr) {
        call.verb = findApiVerb(arg);
        if (call.verb == nullptr) {
          return std::unexpected(usageError("argument command: Invalid choice: '" + arg + "'"));
        }
        values.resize(call.verb->options.size());
      } else if (arg == "help" || arg == "-h") {
        help = true;
      } else {
        unknown.push_back(arg);
      }
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto takeValue = [&]() -> std::expected<std::string, VerbUsage> {
      if (inline_value) {
        return *inline_value;
      }
      if (i + 1 < args.size() && !looksLikeOption(args[i + 1])) {
        return args[++i];
      }
      return std::unexpected(usageError("argument --" + name + ": expected one argument"));
    };
    auto noExplicitValue = [&]() -> std::optional<VerbUsage> {
      if (inline_value) {
        return usageError("argument --" + name + ": ignored explicit argument '" + *inline_value +
                          "'");
      }
      return std::nullopt;
    };
    if (name == "help") {
      help = true;
      continue;
    }
    if (const auto* global = findGlobal(name)) {
      if (global->arity == GlobalArity::Flag) {
        if (auto failed = noExplicitValue()) {
          return std::unexpected(*failed);
        }
        globals.sign_request = globals.sign_request && name != "no-sign-request";
        no_paginate = no_paginate || name == "no-paginate";
        globals.debug = globals.debug || name == "debug";
        globals.verify_ssl = globals.verify_ssl && name != "no-verify-ssl";
        continue;
      }
      auto value = takeValue();
      if (!value) {
        return std::unexpected(value.error());
      }
      if (name == "endpoint-url") {
        globals.endpoint_url = *value;
      } else if (name == "region") {
        globals.region = *value;
      } else if (name == "profile") {
        globals.profile = *value;
      } else if (name == "ca-bundle") {
        globals.ca_bundle = *value;
      } else if (name == "output") {
        output = *value;
      } else if (name == "query") {
        unsupported = "--query (JMESPath) is not supported by tmirror; pipe the JSON to jq";
      } else if (name == "cli-read-timeout" || name == "cli-connect-timeout") {
        auto seconds = pythonInt(*value);
        if (!seconds) {
          return std::unexpected(usageOf(invalidIntLiteral(*value)));
        }
        // aws: 0 means no timeout; a day stands for that here.
        const int64_t effective = *seconds <= 0 ? 86400 : *seconds;
        (name == "cli-read-timeout" ? globals.read_timeout_seconds
                                    : globals.connect_timeout_seconds) = effective;
      }
      continue;
    }
    if (call.verb == nullptr) {
      unknown.push_back(arg);
      continue;
    }
    const bool paginated = !call.verb->result_key.empty();
    if (paginated && name == "page-size") {
      auto value = takeValue();
      if (!value) {
        return std::unexpected(value.error());
      }
      page_size = *value;
      continue;
    }
    if (paginated && (name == "max-items" || name == "starting-token")) {
      auto value = takeValue();
      if (!value) {
        return std::unexpected(value.error());
      }
      unsupported =
          "--" + name + " is not supported by tmirror; use --max-results and --next-token";
      continue;
    }
    const auto& options = call.verb->options;
    auto it = std::find_if(options.begin(), options.end(),
                           [&](const VerbOption& o) { return o.option == name; });
    bool negated = false;
    if (it == options.end() && name.starts_with("no-")) {
      it = std::find_if(options.begin(), options.end(), [&](const VerbOption& o) {
        return o.member.shape->kind == ShapeKind::Boolean && o.option == name.substr(3);
      });
      negated = it != options.end();
    }
    if (it == options.end()) {
      unknown.push_back(arg);
      continue;
    }
    OptionValue& value = values[static_cast<std::size_t>(it - options.begin())];
    value = OptionValue{};
    value.present = true;
    const Shape& shape = *it->member.shape;
    if (shape.kind == ShapeKind::Boolean) {
      if (auto failed = noExplicitValue()) {
        return std::unexpected(*failed);
      }
      value.flag = !negated;
    } else if (isList(shape)) {
      if (inline_value) {
        value.values.push_back(*inline_value);
      } else {
        while (i + 1 < args.size() && !looksLikeOption(args[i + 1])) {
          value.values.push_back(args[++i]);
        }
      }
    } else {
      auto text = takeValue();
      if (!text) {
        return std::unexpected(text.error());
      }
      value.values.push_back(*text);
    }
  }

  if (call.verb == nullptr) {
    return std::unexpected(usageError("the following arguments are required: command"));
  }
  const VerbSpec& verb = *call.verb;
  if (help) {
    return std::unexpected(VerbUsage{verbHelp(verb), 0});
  }
  if (output && *output != "json") {
    return std::unexpected(
        usageError("argument --output: Invalid choice, tmirror prints only:\n\njson"));
  }
  std::string missing;
  for (std::size_t k = 0; k < verb.options.size(); ++k) {
    if (verb.options[k].use == OptionUse::Required && !values[k].present) {
      missing += (missing.empty() ? "--" : ", --") + std::string(verb.options[k].option);
    }
  }
  if (!missing.empty()) {
    return std::unexpected(usageError("the following arguments are required: " + missing));
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) {
      list += (list.empty() ? "" : ", ") + u;
    }
    return std::unexpected(
        VerbUsage{std::string(kUsage) + "Unknown options: " + list + "\n\n", kExitUsage});
  }
  if (unsupported) {
    return std::unexpected(usageError(*unsupported));
  }

  for (std::size_t k = 0; k < verb.options.size(); ++k) {
    const VerbOption& option = verb.options[k];
    OptionValue& raw = values[k];
    if (!raw.present) {
      continue;
    }
    if (option.member.shape->kind == ShapeKind::Boolean) {
      call.input[std::string(option.member.name)] = raw.flag;
      continue;
    }
    // aws's paramfile: file://PATH is the file's content (for a list, its only value).
    if (raw.values.size() == 1 && raw.values.front().starts_with("file://")) {
      const std::string path = raw.values.front().substr(7);
      auto content = readWholeFile(path);
      if (!content) {
        return std::unexpected(usageOf(argumentError(
            option.option, "Unable to load paramfile " + raw.values.front() +
                               ": [Errno 2] No such file or directory: " + pythonRepr(path))));
      }
      raw.values.front() = std::move(*content);
    }
    if (raw.values.empty() && !isList(*option.member.shape)) {
      return std::unexpected(
          usageError("argument --" + std::string(option.option) + ": expected one argument"));
    }
    auto value = unpackArgument(option.option, *option.member.shape, raw.values);
    if (!value) {
      return std::unexpected(usageOf(std::move(value.error())));
    }
    call.input[std::string(option.member.name)] = std::move(*value);
  }

  call.paginate = !verb.result_key.empty() && !no_paginate && !call.input.contains("MaxResults") &&
                  !call.input.contains("NextToken");
  if (call.paginate && page_size) {
    auto size = pythonInt(*page_size);
    if (!size) {
      return std::unexpected(usageOf(invalidIntLiteral(*page_size)));
    }
    call.input["MaxResults"] = *size;
  }

  std::vector<std::string> errors;
  for (const auto& [key, value] : call.input.items()) {
    const auto option = std::find_if(verb.options.begin(), verb.options.end(),
                                     [&](const VerbOption& o) { return o.member.name == key; });
    if (option != verb.options.end()) {
      validateArgument(value, *option->member.shape, key, errors);
    }
  }
  if (!errors.empty()) {
    std::string text = "\nParameter validation failed:\n";
    for (const auto& e : errors) {
      text += e + "\n";
    }
    return std::unexpected(VerbUsage{text, kExitUsage});
  }
  return call;
}

std::vector<std::pair<std::string, std::string>> ec2QueryParameters(const VerbSpec& verb,
                                                                    const Json& input) {
  std::vector<std::pair<std::string, std::string>> out{{"Action", std::string(verb.operation)},
                                                       {"Version", std::string(kApiVersion)}};
  for (const auto& option : verb.options) {
    const std::string key(option.member.name);
    if (input.contains(key)) {
      serialize(input[key], *option.member.shape, std::string(option.member.wireName()), out);
    }
  }
  return out;
}

std::string formEncode(const std::vector<std::pair<std::string, std::string>>& parameters) {
  auto quotePlus = [](std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-' || c == '~') {
        out += static_cast<char>(c);
      } else if (c == ' ') {
        out += '+';
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      }
    }
    return out;
  };
  std::string body;
  for (const auto& [name, value] : parameters) {
    body += (body.empty() ? "" : "&") + quotePlus(name) + "=" + quotePlus(value);
  }
  return body;
}

std::string ClientSettings::endpointText() const {
  const uint16_t default_port = scheme == "https" ? 443 : 80;
  return scheme + "://" + host + (port == default_port ? "" : ":" + std::to_string(port)) + path;
}

Result<ClientSettings> resolveClientSettings(const ApiGlobalOptions& globals, const EnvLookup& env,
                                             const FileReader& read) {
  auto nonEmpty = [&](std::string_view name) -> std::optional<std::string> {
    auto value = env(name);
    return value && !value->empty() ? value : std::nullopt;
  };
  std::string url = std::string(kDefaultEndpoint);
  if (globals.endpoint_url) {
    url = *globals.endpoint_url;
  } else if (auto v = nonEmpty("TMIRROR_ENDPOINT")) {
    url = *v;
  } else if (auto v2 = nonEmpty("AWS_ENDPOINT_URL_EC2")) {
    url = *v2;
  } else if (auto v3 = nonEmpty("AWS_ENDPOINT_URL")) {
    url = *v3;
  }
  auto settings = parseEndpoint(url);
  if (!settings) {
    return settings;
  }

  const std::string profile =
      globals.profile ? *globals.profile : nonEmpty("AWS_PROFILE").value_or("default");
  const std::optional<std::string> home = nonEmpty("HOME");
  auto fileText = [&](std::string_view variable,
                      std::string_view default_name) -> std::optional<std::string> {
    if (auto path = nonEmpty(variable)) {
      return read(*path);
    }
    if (home) {
      return read(std::filesystem::path(*home) / ".aws" / default_name);
    }
    return std::nullopt;
  };
  const auto credentials_file = fileText("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const auto config_file = fileText("AWS_CONFIG_FILE", "config");
  const std::string config_section = profile == "default" ? profile : "profile " + profile;

  if (globals.region) {
    settings->region = *globals.region;
  } else if (auto r = nonEmpty("AWS_DEFAULT_REGION")) {
    settings->region = *r;
  } else if (auto r2 = nonEmpty("AWS_REGION")) {
    settings->region = *r2;
  } else if (auto r3 =
                 config_file ? iniValue(*config_file, config_section, "region") : std::nullopt) {
    settings->region = *r3;
  } else {
    settings->region = std::string(kDefaultRegion);
  }

  // botocore skips the environment's keys when a profile is named on the command line.
  if (!globals.profile) {
    auto id = nonEmpty("AWS_ACCESS_KEY_ID");
    auto secret = nonEmpty("AWS_SECRET_ACCESS_KEY");
    if (id && secret) {
      settings->credentials = Credentials{*id, *secret};
      return settings;
    }
  }
  for (const auto& [text, section] :
       {std::pair{credentials_file, profile}, std::pair{config_file, config_section}}) {
    if (!text) {
      continue;
    }
    auto id = iniValue(*text, section, "aws_access_key_id");
    auto secret = iniValue(*text, section, "aws_secret_access_key");
    if (id && secret && !id->empty()) {
      settings->credentials = Credentials{*id, *secret};
      break;
    }
  }
  return settings;
}

Result<std::string> getSigned(const ApiGlobalOptions& globals, std::string_view path,
                              std::string_view query) {
  auto settings = resolveClientSettings(globals, environment, readWholeFile);
  if (!settings) {
    return std::unexpected(settings.error());
  }
  if (globals.sign_request && !settings->credentials) {
    return makeError(ErrorCode::InvalidArgument,
                     "no credentials: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or run "
                     "'aws configure' (keys from 'tmirror server --create-access-key')");
  }
  // Beside the API's own path: /desired-state under an endpoint of /, or of /prefix/.
  std::string full = settings->path;
  if (!full.ends_with('/')) {
    full += '/';
  }
  full += path.starts_with('/') ? path.substr(1) : path;
  auto reply = sendOnce(*settings, globals, "", full, std::string(query));
  if (!reply) {
    const std::string endpoint = settings->endpointText();
    switch (reply.error().kind) {
      case TransportFailure::Connect:
        return makeError(ErrorCode::Io, "could not connect to the endpoint URL " + endpoint);
      case TransportFailure::ConnectTimeout:
        return makeError(ErrorCode::Io, "connect timeout on the endpoint URL " + endpoint);
      case TransportFailure::Read:
        return makeError(ErrorCode::Io,
                         "the connection to " + endpoint + " closed before a whole answer arrived");
      case TransportFailure::Other:
        break;
    }
    return makeError(ErrorCode::Io, endpoint + ": " + reply.error().detail);
  }
  if (reply->status >= 300) {
    // The JSON refusal ({"Error": {"Code", "Message"}}), else an EC2 XML envelope.
    std::string text = "HTTP " + std::to_string(reply->status) + " ";
    const Json refusal = Json::parse(reply->body, nullptr, false);
    if (refusal.is_object() && refusal.contains("Error") && refusal["Error"].is_object()) {
      text += refusal["Error"].value("Code", "") + ": " + refusal["Error"].value("Message", "");
    } else if (const auto ec2 = parseEc2Error(reply->body)) {
      text += ec2->code + ": " + ec2->message;
    } else {
      text += reasonPhrase(reply->status, reply->reason);
    }
    return makeError(
        reply->status == 400 || reply->status == 404 ? ErrorCode::NotFound : ErrorCode::Io,
        std::move(text));
  }
  return std::move(reply->body);
}

int runApiVerb(const ApiCall& call) {
  const VerbSpec& verb = *call.verb;
  auto settings = resolveClientSettings(call.globals, environment, readWholeFile);
  if (!settings) {
    std::fprintf(stderr, "\n%s\n", settings.error().message.c_str());
    return settings.error().code == ErrorCode::InvalidArgument ? kExitUsage : kExitOther;
  }
  if (call.globals.sign_request && !settings->credentials) {
    std::fputs(
        "\nUnable to locate credentials. You can configure credentials by running \"aws "
        "configure\" (keys from 'tmirror server --create-access-key'), or export "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.\n",
        stderr);
    return kExitNoCredentials;
  }
  Json input = call.input;
  for (const auto& option : verb.options) {
    if (option.use == OptionUse::IdempotencyToken && !input.contains(option.member.name)) {
      input[std::string(option.member.name)] = newUuid4();
    }
  }

  Json result = Json::object();
  std::optional<std::string> previous_token;
  while (true) {
    auto page = callOnce(*settings, call.globals, verb, input);
    if (!page) {
      std::fputs(page.error().text.c_str(), stderr);
      return page.error().exit_code;
    }
    if (!call.paginate) {
      result = std::move(*page);
      break;
    }
    const std::string key(verb.result_key);
    if (page->contains(key) && (*page)[key].is_array()) {
      if (!result.contains(key)) {
        result[key] = Json::array();
      }
      for (auto& item : (*page)[key]) {
        result[key].push_back(std::move(item));
      }
    }
    const std::string token = page->contains("NextToken") && (*page)["NextToken"].is_string()
                                  ? (*page)["NextToken"].get<std::string>()
                                  : std::string();
    if (token.empty()) {
      break;
    }
    if (previous_token == token) {
      std::fprintf(stderr,
                   "\nError during pagination: The same next token was received twice: "
                   "{'NextToken': %s}\n",
                   pythonRepr(token).c_str());
      return kExitOther;
    }
    previous_token = token;
    input["NextToken"] = token;
  }
  const std::string text = formatAwsJson(result);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace tmirror::cli
