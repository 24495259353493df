// CreateTags, DeleteTags, DescribeTags over the tagged resource kinds.
#include <algorithm>
#include <set>

#include "api/action_context.h"

namespace tmirror::api {

namespace {

struct ResourceKind {
  std::string_view prefix;
  std::string_view type;
  std::string_view not_found;
};

constexpr ResourceKind kKinds[] = {
    {"tmfr", "traffic-mirror-filter-rule", "InvalidTrafficMirrorFilterRuleId.NotFound"},
    {"tmf", "traffic-mirror-filter", "InvalidTrafficMirrorFilterId.NotFound"},
    {"tmt", "traffic-mirror-target", "InvalidTrafficMirrorTargetId.NotFound"},
    {"tms", "traffic-mirror-session", "InvalidTrafficMirrorSessionId.NotFound"},
    {"eni", "network-interface", "InvalidNetworkInterfaceID.NotFound"},
};

const ResourceKind* kindOf(std::string_view id) {
  for (const auto& kind : kKinds) {
    if (id.starts_with(std::string(kind.prefix) + "-")) {
      return &kind;
    }
  }
  return nullptr;
}

ApiResult<bool> exists(ActionContext& ctx, const ResourceKind& kind, const std::string& id) {
  auto found = [](const auto& r) -> ApiResult<bool> {
    if (!r) {
      return internalError(r.error());
    }
    return r->has_value();
  };
  if (kind.prefix == "tmfr") {
    return found(ctx.store.rule(id));
  }
  if (kind.prefix == "tmf") {
    return found(ctx.store.filter(id));
  }
  if (kind.prefix == "tmt") {
    return found(ctx.store.target(id));
  }
  if (kind.prefix == "tms") {
    return found(ctx.store.session(id));
  }
  return found(ctx.store.networkInterface(id));
}

// ResourceId.N: each well-formed and existing.
ApiResult<std::vector<std::string>> resourceIds(ActionContext& ctx) {
  auto ids = ctx.params.list("ResourceId");
  if (!ids) {
    return std::unexpected(ids.error());
  }
  if (ids->empty()) {
    return apiError("MissingParameter", "The request must contain the parameter ResourceId");
  }
  if (ids->size() > 1000) {
    return apiError("InvalidParameterValue", "At most 1000 resource IDs are allowed.");
  }
  for (const auto& id : *ids) {
    const ResourceKind* kind = kindOf(id);
    if (kind == nullptr) {
      return apiError("InvalidID", "The ID '" + id.substr(0, 80) + "' is not valid");
    }
    if (auto ok = checkIdFormat(id, kind->prefix, "ResourceId"); !ok) {
      return apiError("InvalidID", "The ID '" + id.substr(0, 80) + "' is not valid");
    }
  }
  return *ids;
}

ApiResult<void> requireExisting(ActionContext& ctx, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    const ResourceKind* kind = kindOf(id);
    auto found = exists(ctx, *kind, id);
    if (!found) {
      return std::unexpected(found.error());
    }
    if (!*found) {
      return apiError(std::string(kind->not_found), "The ID '" + id + "' does not exist");
    }
  }
  return {};
}

}  // namespace

ApiResult<std::string> createTags(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  auto ids = resourceIds(ctx);
  if (!ids) {
    return std::unexpected(ids.error());
  }
  auto indexes = p.indexes("Tag");
  if (!indexes) {
    return std::unexpected(indexes.error());
  }
  if (indexes->empty()) {
    return apiError("MissingParameter", "The request must contain the parameter Tag");
  }
  std::vector<store::Tag> tags;
  for (uint32_t i : *indexes) {
    const std::string base = "Tag." + std::to_string(i);
    auto key = p.required(base + ".Key");
    if (!key) {
      return std::unexpected(key.error());
    }
    store::Tag tag{*key, p.get(base + ".Value").value_or("")};
    if (auto ok = checkTag(tag, base); !ok) {
      return std::unexpected(ok.error());
    }
    tags.push_back(std::move(tag));
  }
  auto dry = dryRunFlag(p);
  if (!dry) {
    return std::unexpected(dry.error());
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = requireExisting(ctx, *ids); !ok) {
    return std::unexpected(ok.error());
  }
  for (const auto& id : *ids) {
    auto current = ctx.store.tagsOf(id);
    if (!current) {
      return internalError(current.error());
    }
    std::set<std::string> keys;
    for (const auto& t : *current) {
      keys.insert(t.key);
    }
    for (const auto& t : tags) {
      keys.insert(t.key);
    }
    if (static_cast<int64_t>(keys.size()) > ctx.limits.tags_per_resource) {
      return apiError("TagLimitExceeded", "Resource " + id + " would have more than " +
                                              std::to_string(ctx.limits.tags_per_resource) +
                                              " tags.");
    }
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  std::string resource_id = ids->front();
  auto done = runMutation(ctx, resource_id, [&]() -> ApiResult<void> {
    for (const auto& id : *ids) {
      for (const auto& tag : tags) {
        if (auto r = ctx.store.putTag(id, tag); !r) {
          return internalError(r.error());
        }
      }
    }
    return {};
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.boolean("return", true);
  return xml.finish();
}

ApiResult<std::string> deleteTags(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  auto ids = resourceIds(ctx);
  if (!ids) {
    return std::unexpected(ids.error());
  }
  auto indexes = p.indexes("Tag");
  if (!indexes) {
    return std::unexpected(indexes.error());
  }

  struct Selector {
    std::string key;
    std::optional<std::string> value;
  };

  std::vector<Selector> selectors;
  for (uint32_t i : *indexes) {
    const std::string base = "Tag." + std::to_string(i);
    auto key = p.required(base + ".Key");
    if (!key) {
      return std::unexpected(key.error());
    }
    selectors.push_back({*key, p.get(base + ".Value")});
  }
  auto dry = dryRunFlag(p);
  if (!dry) {
    return std::unexpected(dry.error());
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = requireExisting(ctx, *ids); !ok) {
    return std::unexpected(ok.error());
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  std::string resource_id = ids->front();
  auto done = runMutation(ctx, resource_id, [&]() -> ApiResult<void> {
    for (const auto& id : *ids) {
      auto current = ctx.store.tagsOf(id);
      if (!current) {
        return internalError(current.error());
      }
      for (const auto& tag : *current) {
        // No Tag.N: every tag goes. Key only: whatever its value. Key and value: only a match.
        const bool selected =
            selectors.empty() ||
            std::any_of(selectors.begin(), selectors.end(), [&](const Selector& s) {
              return s.key == tag.key && (!s.value || *s.value == tag.value);
            });
        if (selected) {
          if (auto r = ctx.store.deleteTag(id, tag.key); !r) {
            return internalError(r.error());
          }
        }
      }
    }
    return {};
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.boolean("return", true);
  return xml.finish();
}

ApiResult<std::string> describeTags(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  auto filters = describeFilters(p, {"key", "value", "resource-id", "resource-type"});
  auto page = pageRequest(p);
  auto dry = dryRunFlag(p);
  if (auto e = firstError(filters, page, dry)) {
    return std::unexpected(*e);
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  auto all = ctx.store.allTags();
  if (!all) {
    return internalError(all.error());
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.open("tagSet");
  // Tags have no creation order of their own: pages are offsets into (resource, key) order.
  int64_t position = 0;
  int64_t count = 0;
  bool more = false;
  for (const auto& [id, tags] : *all) {
    const ResourceKind* kind = kindOf(id);
    if (kind == nullptr) {
      continue;
    }
    for (const auto& tag : tags) {
      FilterFields fields{{"key", tag.key},
                          {"value", tag.value},
                          {"resource-id", id},
                          {"resource-type", std::string(kind->type)}};
      if (!matchesFilters(*filters, fields, tags)) {
        continue;
      }
      ++position;
      if (position <= page->after_seq) {
        continue;
      }
      if (page->max_results && count == *page->max_results) {
        more = true;
        break;
      }
      xml.open("item");
      xml.text("resourceId", id);
      xml.text("resourceType", kind->type);
      xml.text("key", tag.key);
      xml.text("value", tag.value);
      xml.close();
      ++count;
    }
    if (more) {
      break;
    }
  }
  xml.close();
  if (more) {
    xml.text("nextToken", nextTokenFor(page->after_seq + count));
  }
  return xml.finish();
}

}  // namespace tmirror::api
