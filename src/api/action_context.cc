#include "api/action_context.h"

#include <algorithm>
#include <set>

#include "common/random.h"

namespace tmirror::api {

namespace {

bool isLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// EC2 filter wildcards: '*' any run, '?' one character.
bool wildcardMatch(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

constexpr std::string_view kTokenPrefix = "tmnt1.";

}  // namespace

std::string newResourceId(std::string_view prefix) {
  return std::string(prefix) + "-" + secureRandomHex(17);
}

ApiResult<void> checkIdFormat(std::string_view value, std::string_view prefix,
                              std::string_view parameter) {
  const std::string full_prefix = std::string(prefix) + "-";
  const std::string_view rest =
      value.starts_with(full_prefix) ? value.substr(full_prefix.size()) : std::string_view();
  if (!value.starts_with(full_prefix) || (rest.size() != 8 && rest.size() != 17) ||
      !isLowerHex(rest)) {
    return apiError("InvalidParameterValue", "Value (" + std::string(value.substr(0, 80)) +
                                                 ") for parameter " + std::string(parameter) +
                                                 " is invalid. Expected: '" + full_prefix +
                                                 "...' with 8 or 17 hexadecimal digits.");
  }
  return {};
}

ApiResult<bool> dryRunFlag(const QueryParams& params) {
  auto flag = params.optionalBool("DryRun");
  if (!flag) {
    return std::unexpected(flag.error());
  }
  return flag->value_or(false);
}

ApiResult<void> rejectUnknownParameters(const QueryParams& params) {
  (void)params.get("Action");
  (void)params.get("Version");
  const auto unused = params.unusedNames();
  if (!unused.empty()) {
    return apiError("UnknownParameter",
                    "The parameter " + unused.front().substr(0, 128) + " is not recognized");
  }
  return {};
}

std::unexpected<ApiError> dryRunSucceeded() {
  return apiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
}

ApiResult<std::optional<std::string>> optionalText(const QueryParams& params, std::string_view name,
                                                   std::size_t max_length) {
  auto value = params.get(name);
  if (value && value->size() > max_length) {
    return apiError("InvalidParameterValue", "Parameter " + std::string(name) + " is longer than " +
                                                 std::to_string(max_length) + " characters.");
  }
  return value;
}

ApiResult<void> checkTag(const store::Tag& tag, std::string_view parameter) {
  if (tag.key.empty() || tag.key.size() > 127) {
    return apiError("InvalidParameterValue",
                    std::string(parameter) + ": a tag key must be 1 to 127 characters long.");
  }
  if (tag.key.starts_with("aws:")) {
    return apiError("InvalidParameterValue",
                    std::string(parameter) + ": tag keys starting with 'aws:' are reserved.");
  }
  if (tag.value.size() > 256) {
    return apiError("InvalidParameterValue",
                    std::string(parameter) + ": a tag value must be at most 256 characters long.");
  }
  return {};
}

ApiResult<std::vector<store::Tag>> tagSpecifications(const ActionContext& ctx,
                                                     std::string_view resource_type) {
  const QueryParams& params = ctx.params;
  std::vector<store::Tag> tags;
  auto specs = params.indexes("TagSpecification");
  if (!specs) {
    return std::unexpected(specs.error());
  }
  std::set<std::string> keys;
  for (uint32_t s : *specs) {
    const std::string base = "TagSpecification." + std::to_string(s);
    auto type = params.get(base + ".ResourceType");
    if (!type) {
      return apiError("MissingParameter",
                      "The request must contain the parameter " + base + ".ResourceType");
    }
    if (*type != resource_type) {
      return apiError("InvalidParameterValue", "'" + type->substr(0, 64) +
                                                   "' is not a valid taggable resource type for "
                                                   "this operation.");
    }
    auto tag_indexes = params.indexes(base + ".Tag");
    if (!tag_indexes) {
      return std::unexpected(tag_indexes.error());
    }
    for (uint32_t t : *tag_indexes) {
      const std::string tag_base = base + ".Tag." + std::to_string(t);
      auto key = params.required(tag_base + ".Key");
      if (!key) {
        return std::unexpected(key.error());
      }
      store::Tag tag{*key, params.get(tag_base + ".Value").value_or("")};
      if (auto ok = checkTag(tag, tag_base); !ok) {
        return std::unexpected(ok.error());
      }
      if (keys.insert(tag.key).second) {
        tags.push_back(std::move(tag));
      } else {
        return apiError("InvalidParameterValue",
                        tag_base + ".Key: the tag key '" + tag.key + "' is given twice.");
      }
    }
  }
  if (static_cast<int64_t>(tags.size()) > ctx.limits.tags_per_resource) {
    return apiError(
        "TagLimitExceeded",
        "A resource can have at most " + std::to_string(ctx.limits.tags_per_resource) + " tags.");
  }
  return tags;
}

void writeTagSet(XmlWriter& xml, const std::vector<store::Tag>& tags) {
  xml.open("tagSet");
  for (const auto& tag : tags) {
    xml.open("item");
    xml.text("key", tag.key);
    xml.text("value", tag.value);
    xml.close();
  }
  xml.close();
}

ApiResult<std::vector<DescribeFilter>> describeFilters(const QueryParams& params,
                                                       const std::vector<std::string>& allowed) {
  auto indexes = params.indexes("Filter");
  if (!indexes) {
    return std::unexpected(indexes.error());
  }
  if (indexes->size() > 50) {
    return apiError("FilterLimitExceeded", "At most 50 filters are allowed.");
  }
  std::vector<DescribeFilter> filters;
  std::size_t total_values = 0;
  for (uint32_t i : *indexes) {
    const std::string base = "Filter." + std::to_string(i);
    auto name = params.required(base + ".Name");
    if (!name) {
      return std::unexpected(name.error());
    }
    const bool known = std::find(allowed.begin(), allowed.end(), *name) != allowed.end() ||
                       *name == "tag-key" || (name->starts_with("tag:") && name->size() > 4);
    if (!known) {
      return apiError("InvalidParameterValue",
                      "The filter '" + name->substr(0, 128) + "' is invalid");
    }
    auto values = params.list(base + ".Value");
    if (!values) {
      return std::unexpected(values.error());
    }
    total_values += values->size();
    if (total_values > 200) {
      return apiError("FilterLimitExceeded", "At most 200 filter values are allowed.");
    }
    filters.push_back({*name, std::move(*values)});
  }
  return filters;
}

bool matchesFilters(const std::vector<DescribeFilter>& filters, const FilterFields& fields,
                    const std::vector<store::Tag>& tags) {
  for (const auto& filter : filters) {
    std::vector<std::string_view> candidates;
    if (filter.name == "tag-key") {
      for (const auto& tag : tags) {
        candidates.push_back(tag.key);
      }
    } else if (filter.name.starts_with("tag:")) {
      const std::string_view key = std::string_view(filter.name).substr(4);
      for (const auto& tag : tags) {
        if (tag.key == key) {
          candidates.push_back(tag.value);
        }
      }
    } else {
      auto [lo, hi] = fields.equal_range(filter.name);
      for (auto it = lo; it != hi; ++it) {
        candidates.push_back(it->second);
      }
    }
    bool any = false;
    for (const auto& value : filter.values) {
      for (const auto& candidate : candidates) {
        if (wildcardMatch(value, candidate)) {
          any = true;
          break;
        }
      }
      if (any) {
        break;
      }
    }
    if (!any) {
      return false;
    }
  }
  return true;
}

ApiResult<PageRequest> pageRequest(const QueryParams& params) {
  PageRequest page;
  auto max = params.optionalInt("MaxResults", 5, 1000);
  if (!max) {
    return std::unexpected(max.error());
  }
  page.max_results = *max;
  if (auto token = params.get("NextToken"); token && !token->empty()) {
    std::string_view t = *token;
    int64_t seq = -1;
    if (t.starts_with(kTokenPrefix)) {
      t.remove_prefix(kTokenPrefix.size());
      seq = 0;
      for (char c : t) {
        if (c < '0' || c > '9' || seq > (int64_t{1} << 50)) {
          seq = -1;
          break;
        }
        seq = seq * 10 + (c - '0');
      }
      if (t.empty()) {
        seq = -1;
      }
    }
    if (seq < 0) {
      return apiError("InvalidPaginationToken", "The pagination token is not valid.");
    }
    page.after_seq = seq;
  }
  return page;
}

std::string nextTokenFor(int64_t last_seq) {
  return std::string(kTokenPrefix) + std::to_string(last_seq);
}

ApiResult<std::string> deleteResource(ActionContext& ctx, const DeleteSpec& spec) {
  const QueryParams& p = ctx.params;
  auto id = p.required(spec.id_parameter);
  auto dry = dryRunFlag(p);
  if (auto e = firstError(id, dry)) {
    return std::unexpected(*e);
  }
  if (auto ok = checkIdFormat(*id, spec.id_prefix, spec.id_parameter); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = spec.check(*id); !ok) {
    return std::unexpected(ok.error());
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  std::string resource_id = *id;
  auto done = runMutation(ctx, resource_id, [&]() -> ApiResult<void> {
    if (auto r = ctx.store.deleteAllTags(*id); !r) {
      return internalError(r.error());
    }
    if (auto r = spec.remove(*id); !r) {
      return internalError(r.error());
    }
    return {};
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.text(spec.response_element, *id);
  return xml.finish();
}

ApiResult<std::string> createResource(ActionContext& ctx, const CreateSpec& spec) {
  const QueryParams& p = ctx.params;
  if (auto ok = spec.read(); !ok) {
    return std::unexpected(ok.error());
  }
  auto tags = tagSpecifications(ctx, spec.resource_type);
  const auto token = p.get("ClientToken");
  auto dry = dryRunFlag(p);
  if (auto e = firstError(tags, dry)) {
    return std::unexpected(*e);
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  auto earlier = earlierCreate(ctx, token);
  if (!earlier) {
    return std::unexpected(earlier.error());
  }
  if (*earlier) {
    return spec.respond(**earlier, token);
  }
  if (spec.check) {
    if (auto ok = spec.check(); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  std::string resource_id;
  auto done = runMutation(ctx, resource_id, [&]() -> ApiResult<void> {
    auto id = spec.insert();
    if (!id) {
      return std::unexpected(id.error());
    }
    resource_id = *id;
    for (const auto& tag : *tags) {
      if (auto r = ctx.store.putTag(resource_id, tag); !r) {
        return internalError(r.error());
      }
    }
    return rememberCreate(ctx, token, resource_id);
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  return spec.respond(resource_id, token);
}

ApiResult<void> checkResourceQuota(ActionContext& ctx, std::string_view table,
                                   std::string_view code, std::string_view message) {
  auto rows = ctx.store.count(table);
  if (!rows) {
    return internalError(rows.error());
  }
  if (*rows >= ctx.limits.resources_per_kind) {
    return apiError(std::string(code), std::string(message));
  }
  return {};
}

std::unexpected<ApiError> internalError(const Error& error) {
  if (error.code == ErrorCode::Unavailable) {
    // The database is down or unreachable: the client may retry (AWS SDKs do, on 503).
    return apiError("ServiceUnavailable",
                    "The service cannot reach its database now; try again later.");
  }
  return apiError("InternalError", "An internal error has occurred (" + error.message + ").");
}

ApiResult<void> runMutation(ActionContext& ctx, std::string& resource_id,
                            const std::function<ApiResult<void>()>& mutate) {
  store::MirrorStore& store = ctx.store;
  auto transaction = store.transaction();
  if (!transaction) {
    return internalError(transaction.error());
  }
  // Any early return below drops the transaction, which rolls it back.
  // The hosts the resource concerned before the change (a deleted session's host) and after
  // it (a created one's) get the new revision; no other agent wakes.
  auto before =
      resource_id.empty() ? Result<std::vector<std::string>>{} : store.hostsAffectedBy(resource_id);
  if (!before) {
    return internalError(before.error());
  }
  if (auto result = mutate(); !result) {
    return result;
  }
  auto after = store.hostsAffectedBy(resource_id);
  if (!after) {
    return internalError(after.error());
  }
  before->insert(before->end(), after->begin(), after->end());
  if (auto r = store.bumpRevision(); !r) {
    return internalError(r.error());
  }
  if (auto r = store.markHostsChanged(*before); !r) {
    return internalError(r.error());
  }
  if (auto r = store.appendAudit(
          {ctx.access_key_id, ctx.action, resource_id, "ok", ctx.request_id, ctx.remote_address});
      !r) {
    return internalError(r.error());
  }
  if (auto r = transaction->commit(); !r) {
    return internalError(r.error());
  }
  return {};
}

namespace {

std::string fingerprintOf(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params.all()) {
    if (name == "ClientToken" || name == "DryRun") {
      continue;
    }
    out += name;
    out += '=';
    out += value;
    out += '\n';
  }
  return out;
}

}  // namespace

ApiResult<std::optional<std::string>> earlierCreate(ActionContext& ctx,
                                                    const std::optional<std::string>& token) {
  if (!token) {
    return std::optional<std::string>();
  }
  if (token->empty() || token->size() > 64) {
    return apiError("InvalidParameterValue", "ClientToken must be 1 to 64 characters long.");
  }
  auto found = ctx.store.findClientToken(ctx.action, *token);
  if (!found) {
    return internalError(found.error());
  }
  if (!*found) {
    return std::optional<std::string>();
  }
  if ((*found)->fingerprint != fingerprintOf(ctx.params)) {
    return apiError(
        "IdempotentParameterMismatch",
        "The client token '" + *token + "' was already used with different parameters.");
  }
  return std::optional<std::string>((*found)->resource_id);
}

ApiResult<void> rememberCreate(ActionContext& ctx, const std::optional<std::string>& token,
                               const std::string& resource_id) {
  if (!token) {
    return {};
  }
  if (auto r =
          ctx.store.insertClientToken(ctx.action, *token, fingerprintOf(ctx.params), resource_id);
      !r) {
    return internalError(r.error());
  }
  return {};
}

}  // namespace tmirror::api
