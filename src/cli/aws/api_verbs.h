// `tmirror <verb>`: the traffic-mirroring actions of `aws ec2`, with the same verb and option
// names, the same shorthand/JSON values, the same validation, SigV4 signing, automatic
// pagination, and the same JSON output and exit codes (aws-cli v2). One table drives it: per
// verb, each option's name, model member, query name and shape.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/aws/aws_shorthand.h"
#include "cli/aws/ec2_xml_to_json.h"
#include "common/result.h"

namespace tmirror::cli {

enum class OptionUse : uint8_t { Optional, Required, IdempotencyToken };

struct VerbOption {
  std::string_view option;  // without the leading "--"
  Member member;            // model name, query name (Member::wire), shape
  OptionUse use = OptionUse::Optional;
};

struct VerbSpec {
  std::string_view verb;       // "create-traffic-mirror-session"
  std::string_view operation;  // "CreateTrafficMirrorSession"
  std::span<const VerbOption> options;
  std::string_view result_key;  // what the CLI's paginator merges; empty: not paginated
};

std::span<const VerbSpec> apiVerbs();
const VerbSpec* findApiVerb(std::string_view verb);

// aws's global options that tmirror honours.
struct ApiGlobalOptions {
  std::optional<std::string> endpoint_url;
  std::optional<std::string> region;
  std::optional<std::string> profile;
  std::optional<std::string> ca_bundle;
  bool sign_request = true;
  bool verify_ssl = true;
  bool debug = false;
  int64_t connect_timeout_seconds = 60;
  int64_t read_timeout_seconds = 60;
};

struct ApiCall {
  const VerbSpec* verb = nullptr;
  ApiGlobalOptions globals;
  // Model member names to values, typed and validated as botocore does before sending.
  nlohmann::ordered_json input = nlohmann::ordered_json::object();
  // Follow NextToken and merge the result key (not with --no-paginate, --max-results or
  // --next-token, as aws).
  bool paginate = false;
};

// Help, or a usage error with aws's exit code: 252 for usage and parameter errors, 255 for
// a value Python's int() rejects. Texts are printed as they are (they carry their newlines).
struct VerbUsage {
  std::string text;
  int exit_code = 252;
};

// True when the first word that is not a global option names a verb.
bool isApiVerbCommand(std::span<const std::string> args);

// args exclude the program name. Pure: no environment, files or network (file:// values
// excepted, which aws also reads while parsing).
std::expected<ApiCall, VerbUsage> parseApiVerbCommand(std::span<const std::string> args);

// Action, Version and the input encoded as botocore's EC2 serializer does: lists flattened as
// Name.1, Name.2 (empty lists not sent), structures as Parent.Child, booleans true/false.
std::vector<std::pair<std::string, std::string>> ec2QueryParameters(
    const VerbSpec& verb, const nlohmann::ordered_json& input);

// application/x-www-form-urlencoded, as Python's urlencode (space is '+').
std::string formEncode(const std::vector<std::pair<std::string, std::string>>& parameters);

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

struct ClientSettings {
  std::string scheme;  // http or https
  std::string host;    // as in the URL, IPv6 in brackets
  uint16_t port = 0;
  std::string path = "/";
  std::string host_header;  // host[:port], the port only when not the scheme's default
  std::string region;
  std::optional<Credentials> credentials;

  // "http://127.0.0.1:8900/", as aws names the endpoint in its messages.
  std::string endpointText() const;
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
using FileReader = std::function<std::optional<std::string>(const std::filesystem::path&)>;

// Endpoint: --endpoint-url, else TMIRROR_ENDPOINT, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL,
// else http://127.0.0.1:8900. Region: --region, AWS_DEFAULT_REGION, AWS_REGION, the profile's
// region in the config file, else us-east-1. Credentials: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (unless --profile), else the profile (--profile, AWS_PROFILE, default)
// in the shared credentials file, then in the config file. Pure given `env` and `read`.
Result<ClientSettings> resolveClientSettings(const ApiGlobalOptions& globals, const EnvLookup& env,
                                             const FileReader& read);

// A signed GET of a tmirror path beside the API (e.g. /desired-state), with the endpoint,
// region and credentials the verbs resolve: the body of a 2xx answer, else an error whose
// message names the endpoint or carries the server's code and message.
Result<std::string> getSigned(const ApiGlobalOptions& globals, std::string_view path,
                              std::string_view query);

// Runs the call against the server and prints what aws prints; returns aws's exit code
// (0, 252 bad settings, 253 no credentials, 254 service error, 255 other failures).
int runApiVerb(const ApiCall& call);

}  // namespace tmirror::cli
