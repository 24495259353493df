// What every EC2 action handler gets, and the helpers they share: ID formats, tag
// specifications, Describe filters and pagination, client tokens, dry runs, and running a
// mutation as one audited transaction.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
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

// Converts a store error into InternalError, or ServiceUnavailable (HTTP 503) when the
// database cannot be reached (and logs nothing secret).
std::unexpected<ApiError> internalError(const Error& error);

// The first failed store read among `results`, answered as internalError() says (so a
// database that went away is ServiceUnavailable, never a made-up reason):
//   if (auto failed = storeFailure(record, tags)) { return *failed; }
template <typename... Results>
std::optional<std::unexpected<ApiError>> storeFailure(const Results&... results) {
  std::optional<std::unexpected<ApiError>> out;
  ((!out && !results ? (void)out.emplace(internalError(results.error())) : (void)0), ...);
  return out;
}

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

// One Describe* action: the id list parameter, filters, MaxResults/NextToken and DryRun are
// read and checked here; the spec says how to load, match and write one kind of record
// (records have `seq` and `id`, in creation order).
template <typename Record>
struct DescribeSpec {
  std::string_view id_parameter;  // e.g. "TrafficMirrorTargetId" (the list's prefix)
  std::string_view id_prefix;     // e.g. "tmt"
  std::vector<std::string> filter_names;
  std::string_view set_element;  // e.g. "trafficMirrorTargetSet"
  std::function<ApiError(const std::string& id)> not_found;
  std::function<ApiResult<std::vector<Record>>()> load;
  std::function<FilterFields(const Record&)> fields;
  std::function<void(XmlWriter&, const Record&, const std::vector<store::Tag>&)> write;
  std::function<bool(const Record&)> keep;    // optional extra restriction
  std::function<ApiResult<void>()> precheck;  // optional, after the parameters are checked
};

template <typename Record>
ApiResult<std::string> describeResources(ActionContext& ctx, const DescribeSpec<Record>& spec) {
  const QueryParams& p = ctx.params;
  auto ids = p.list(spec.id_parameter);
  auto filters = describeFilters(p, spec.filter_names);
  auto page = pageRequest(p);
  auto dry = dryRunFlag(p);
  if (auto e = firstError(ids, filters, page, dry)) {
    return std::unexpected(*e);
  }
  for (const auto& id : *ids) {
    if (auto ok = checkIdFormat(id, spec.id_prefix, spec.id_parameter); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  if (spec.precheck) {
    if (auto ok = spec.precheck(); !ok) {
      return std::unexpected(ok.error());
    }
  }
  auto all = spec.load();
  if (!all) {
    return std::unexpected(all.error());
  }
  auto tags = ctx.store.allTags();
  if (!tags) {
    return internalError(tags.error());
  }
  const auto asked = [&](const std::string& id) {
    return std::find(ids->begin(), ids->end(), id) != ids->end();
  };
  for (const auto& id : *ids) {
    if (std::none_of(all->begin(), all->end(), [&](const Record& r) { return r.id == id; })) {
      return std::unexpected(spec.not_found(id));
    }
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.open(spec.set_element);
  int64_t count = 0;
  std::optional<int64_t> last;
  bool more = false;
  for (const Record& r : *all) {
    if (r.seq <= page->after_seq || (!ids->empty() && !asked(r.id)) ||
        (spec.keep && !spec.keep(r))) {
      continue;
    }
    const auto& record_tags = (*tags)[r.id];
    if (!matchesFilters(*filters, spec.fields(r), record_tags)) {
      continue;
    }
    if (page->max_results && count == *page->max_results) {
      more = true;
      break;
    }
    xml.open("item");
    spec.write(xml, r, record_tags);
    xml.close();
    ++count;
    last = r.seq;
  }
  xml.close();
  if (more && last) {
    xml.text("nextToken", nextTokenFor(*last));
  }
  return xml.finish();
}

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

// One Create* action. `read` reads and checks the action's own parameters; then come
// TagSpecification (of `resource_type`), ClientToken and DryRun. Unknown parameters are
// refused; a ClientToken seen before with the same parameters answers with the earlier
// resource (IdempotentParameterMismatch with others); `check` runs what needs the store
// (existence, in use, quotas); a dry run answers DryRunOperation; else, in one audited
// mutation, `insert` writes the record and returns its new id, its tags are put and the
// token remembered. `respond` answers for the new or the earlier id.
struct CreateSpec {
  std::string_view resource_type;  // e.g. "traffic-mirror-target"
  std::function<ApiResult<void>()> read;
  std::function<ApiResult<void>()> check;  // optional
  std::function<ApiResult<std::string>()> insert;
  std::function<ApiResult<std::string>(const std::string& id,
                                       const std::optional<std::string>& token)>
      respond;
};

ApiResult<std::string> createResource(ActionContext& ctx, const CreateSpec& spec);

// `code` (e.g. TrafficMirrorTargetLimitExceeded) once `table` holds the most rows a kind may.
ApiResult<void> checkResourceQuota(ActionContext& ctx, std::string_view table,
                                   std::string_view code, std::string_view message);

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

// --- Handlers (one file per resource) ------------------------------------------------------

ApiResult<std::string> createNetworkInterface(ActionContext& ctx);
ApiResult<std::string> describeNetworkInterfaces(ActionContext& ctx);
ApiResult<std::string> deleteNetworkInterface(ActionContext& ctx);
ApiResult<std::string> describeInstances(ActionContext& ctx);
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
