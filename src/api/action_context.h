// What every EC2 action handler gets, and the helpers they share: ID formats, tag
// specifications, Describe filters and pagination, client tokens, dry runs, and running a
// mutation as one audited transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "api/query_params.h"
#include "api/xml_writer.h"
#include "store/mirror_store.h"

namespace tmirror::api {

struct ApiLimits {
  int64_t rules_per_filter = 10;
  int64_t sessions_per_interface = 3;
  int64_t sources_per_target = 10;
  int64_t resources_per_kind = 10000;
  int64_t tags_per_resource = 50;
};

struct ActionContext {
  store::MirrorStore& store;
  const ApiLimits& limits;
  const QueryParams& params;
  std::string action;
  std::string request_id;
  std::string access_key_id;
  std::string remote_address;
};

using ActionHandler = ApiResult<std::string> (*)(ActionContext&);

// --- IDs ---------------------------------------------------------------------------------

// prefix + 17 random lowercase hex digits, e.g. "tms-0a1b2c3d4e5f60718".
std::string newResourceId(std::string_view prefix);

// AWS accepts 8 or 17 hex digits after the prefix. InvalidParameterValue otherwise.
ApiResult<void> checkIdFormat(std::string_view value, std::string_view prefix,
                              std::string_view parameter);

// --- Common parameters ---------------------------------------------------------------------

// Reads DryRun (marks it used).
ApiResult<bool> dryRunFlag(const QueryParams& params);

// UnknownParameter for anything the action did not read (Action and Version excepted).
ApiResult<void> rejectUnknownParameters(const QueryParams& params);

// The DryRunOperation error (HTTP 412) for a request that would have succeeded.
std::unexpected<ApiError> dryRunSucceeded();

// Optional free-text parameter with a length bound (InvalidParameterValue past it).
ApiResult<std::optional<std::string>> optionalText(const QueryParams& params, std::string_view name,
                                                   std::size_t max_length = 255);

// --- Tags ----------------------------------------------------------------------------------

ApiResult<void> checkTag(const store::Tag& tag, std::string_view parameter);

// TagSpecification.N.{ResourceType, Tag.M.Key, Tag.M.Value}; every ResourceType must be
// `resource_type`. TagLimitExceeded past the limit.
ApiResult<std::vector<store::Tag>> tagSpecifications(const ActionContext& ctx,
                                                     std::string_view resource_type);

void writeTagSet(XmlWriter& xml, const std::vector<store::Tag>& tags);

// --- Describe ------------------------------------------------------------------------------

struct DescribeFilter {
  std::string name;
  std::vector<std::string> values;
};

// Filter.N.Name / Filter.N.Value.M. Names must be in `allowed` or be tag:<key> / tag-key.
ApiResult<std::vector<DescribeFilter>> describeFilters(const QueryParams& params,
                                                       const std::vector<std::string>& allowed);

// The fields of one resource a filter can match, by filter name (several values allowed).
using FilterFields = std::multimap<std::string, std::string>;

// AND across filters, OR across one filter's values; values may use '*' and '?' wildcards.
bool matchesFilters(const std::vector<DescribeFilter>& filters, const FilterFields& fields,
                    const std::vector<store::Tag>& tags);

struct PageRequest {
  std::optional<int64_t> max_results;
  int64_t after_seq = 0;  // from NextToken
};

ApiResult<PageRequest> pageRequest(const QueryParams& params);

std::string nextTokenFor(int64_t last_seq);

// --- Mutations -----------------------------------------------------------------------------

// Runs `mutate` in one transaction, bumps the desired-state revision, writes the audit
// record, and commits. On any error nothing is kept (the dispatcher audits the refusal).
// `resource_id` is filled by `mutate` for the audit log.
ApiResult<void> runMutation(ActionContext& ctx, std::string& resource_id,
                            const std::function<ApiResult<void>()>& mutate);

// Client-token idempotency for Create*: a fingerprint of every parameter but the token and
// DryRun. Returns the earlier resource id when the same token came with the same parameters,
// IdempotentParameterMismatch when it came with others, nullopt when the token is new.
ApiResult<std::optional<std::string>> earlierCreate(ActionContext& ctx,
                                                    const std::optional<std::string>& token);
ApiResult<void> rememberCreate(ActionContext& ctx, const std::optional<std::string>& token,
                               const std::string& resource_id);

// Delete* of one resource by id: reads the id parameter and DryRun, checks the id format
// and unknown parameters, runs `check` (NotFound, in use...), answers DryRunOperation on a dry
// run, else removes the resource's tags and the resource in one audited mutation and answers
// <response_element>id</response_element>.
struct DeleteSpec {
  std::string_view id_parameter;      // e.g. "TrafficMirrorSessionId"
  std::string_view id_prefix;         // e.g. "tms"
  std::string_view response_element;  // e.g. "trafficMirrorSessionId"
  std::function<ApiResult<void>(const std::string& id)> check;
  std::function<Result<void>(const std::string& id)> remove;
};

ApiResult<std::string> deleteResource(ActionContext& ctx, const DeleteSpec& spec);

// Converts a store error into InternalError (and logs nothing secret).
std::unexpected<ApiError> internalError(const Error& error);

// --- Handlers (one file per resource) ------------------------------------------------------

ApiResult<std::string> createNetworkInterface(ActionContext& ctx);
ApiResult<std::string> describeNetworkInterfaces(ActionContext& ctx);
ApiResult<std::string> deleteNetworkInterface(ActionContext& ctx);
ApiResult<std::string> createTrafficMirrorTarget(ActionContext& ctx);
ApiResult<std::string> describeTrafficMirrorTargets(ActionContext& ctx);
ApiResult<std::string> deleteTrafficMirrorTarget(ActionContext& ctx);
ApiResult<std::string> createTrafficMirrorFilter(ActionContext& ctx);
ApiResult<std::string> describeTrafficMirrorFilters(ActionContext& ctx);
ApiResult<std::string> deleteTrafficMirrorFilter(ActionContext& ctx);
ApiResult<std::string> modifyTrafficMirrorFilterNetworkServices(ActionContext& ctx);
ApiResult<std::string> createTrafficMirrorFilterRule(ActionContext& ctx);
ApiResult<std::string> describeTrafficMirrorFilterRules(ActionContext& ctx);
ApiResult<std::string> modifyTrafficMirrorFilterRule(ActionContext& ctx);
ApiResult<std::string> deleteTrafficMirrorFilterRule(ActionContext& ctx);
ApiResult<std::string> createTrafficMirrorSession(ActionContext& ctx);
ApiResult<std::string> describeTrafficMirrorSessions(ActionContext& ctx);
ApiResult<std::string> modifyTrafficMirrorSession(ActionContext& ctx);
ApiResult<std::string> deleteTrafficMirrorSession(ActionContext& ctx);
ApiResult<std::string> createTags(ActionContext& ctx);
ApiResult<std::string> deleteTags(ActionContext& ctx);
ApiResult<std::string> describeTags(ActionContext& ctx);

}  // namespace tmirror::api
