// Traffic mirror filters, their network services, and filter rules.
#include <algorithm>

#include "api/action_context.h"
#include "packet/ip_address.h"

namespace tmirror::api {

namespace {

using store::FilterRecord;
using store::RuleRecord;

void writeRule(XmlWriter& xml, const RuleRecord& r, const std::vector<store::Tag>& tags) {
  xml.text("trafficMirrorFilterRuleId", r.id);
  xml.text("trafficMirrorFilterId", r.filter_id);
  xml.text("trafficDirection", r.direction);
  xml.integer("ruleNumber", r.rule_number);
  xml.text("ruleAction", r.action);
  if (r.protocol) {
    xml.integer("protocol", *r.protocol);
  }
  if (r.destination_from_port) {
    xml.open("destinationPortRange");
    xml.integer("fromPort", *r.destination_from_port);
    xml.integer("toPort", r.destination_to_port.value_or(*r.destination_from_port));
    xml.close();
  }
  if (r.source_from_port) {
    xml.open("sourcePortRange");
    xml.integer("fromPort", *r.source_from_port);
    xml.integer("toPort", r.source_to_port.value_or(*r.source_from_port));
    xml.close();
  }
  xml.text("destinationCidrBlock", r.destination_cidr);
  xml.text("sourceCidrBlock", r.source_cidr);
  if (r.description) {
    xml.text("description", *r.description);
  }
  writeTagSet(xml, tags);
}

void writeFilter(XmlWriter& xml, const FilterRecord& f, const std::vector<RuleRecord>& rules,
                 std::map<std::string, std::vector<store::Tag>>& tags) {
  xml.text("trafficMirrorFilterId", f.id);
  for (const char* direction : {"ingress", "egress"}) {
    xml.open(std::string(direction) + "FilterRuleSet");
    std::vector<const RuleRecord*> mine;
    for (const auto& r : rules) {
      if (r.filter_id == f.id && r.direction == direction) {
        mine.push_back(&r);
      }
    }
    std::sort(mine.begin(), mine.end(),
              [](const auto* a, const auto* b) { return a->rule_number < b->rule_number; });
    for (const auto* r : mine) {
      xml.open("item");
      writeRule(xml, *r, tags[r->id]);
      xml.close();
    }
    xml.close();
  }
  xml.open("networkServiceSet");
  if (f.amazon_dns) {
    xml.text("item", "amazon-dns");
  }
  xml.close();
  if (f.description) {
    xml.text("description", *f.description);
  }
  writeTagSet(xml, tags[f.id]);
}

ApiResult<std::string> filterResponse(ActionContext& ctx, const std::string& id,
                                      const std::optional<std::string>& token) {
  auto record = ctx.store.filter(id);
  auto rules = ctx.store.rulesOf(id);
  auto tags = ctx.store.allTags();
  if (auto failed = storeFailure(record, rules, tags)) {
    return *failed;
  }
  if (!*record) {
    return apiError("InternalError", "the filter vanished");
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.open("trafficMirrorFilter");
  writeFilter(xml, **record, *rules, *tags);
  xml.close();
  if (token) {
    xml.text("clientToken", *token);
  }
  return xml.finish();
}

ApiResult<std::string> ruleResponse(ActionContext& ctx, const std::string& id,
                                    const std::optional<std::string>& token) {
  auto record = ctx.store.rule(id);
  auto tags = ctx.store.tagsOf(id);
  if (auto failed = storeFailure(record, tags)) {
    return *failed;
  }
  if (!*record) {
    return apiError("InternalError", "the rule vanished");
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.open("trafficMirrorFilterRule");
  writeRule(xml, **record, *tags);
  xml.close();
  if (token) {
    xml.text("clientToken", *token);
  }
  return xml.finish();
}

ApiResult<std::optional<FilterRecord>> existingFilter(ActionContext& ctx, const std::string& id) {
  auto record = ctx.store.filter(id);
  if (!record) {
    return internalError(record.error());
  }
  if (!*record) {
    return apiError("InvalidTrafficMirrorFilterId.NotFound",
                    "The traffic mirror filter '" + id + "' does not exist.");
  }
  return *record;
}

ApiResult<void> readPortRange(const QueryParams& p, const std::string& name,
                              std::optional<int64_t>& from, std::optional<int64_t>& to) {
  auto f = p.optionalInt(name + ".FromPort", 0, 65535);
  auto t = p.optionalInt(name + ".ToPort", 0, 65535);
  if (auto e = firstError(f, t)) {
    return std::unexpected(*e);
  }
  if (!*f && !*t) {
    return {};
  }
  if (!*f || !*t) {
    return apiError("MissingParameter", "The request must contain the parameter " + name +
                                            (*f ? ".ToPort" : ".FromPort"));
  }
  if (**f > **t) {
    return apiError("InvalidParameterValue", name + ": FromPort " + std::to_string(**f) +
                                                 " is greater than ToPort " + std::to_string(**t) +
                                                 ".");
  }
  from = *f;
  to = *t;
  return {};
}

ApiResult<packet::Cidr> cidrParameter(const std::string& text, std::string_view name) {
  packet::CidrParseError why = packet::CidrParseError::None;
  auto cidr = packet::parseCidr(text, &why);
  if (!cidr) {
    const char* detail = why == packet::CidrParseError::HostBitsSet
                             ? "the address has bits set past the prefix length"
                         : why == packet::CidrParseError::PrefixOutOfRange
                             ? "the prefix length is out of range"
                             : "expected a CIDR block such as 10.0.0.0/16 or 2001:db8::/32";
    return apiError("InvalidParameterValue", "Value (" + text.substr(0, 64) + ") for parameter " +
                                                 std::string(name) + " is invalid: " + detail +
                                                 ".");
  }
  return *cidr;
}

// Whole-rule checks shared by create and modify.
ApiResult<void> checkRule(RuleRecord& r) {
  auto src = cidrParameter(r.source_cidr, "SourceCidrBlock");
  if (!src) {
    return std::unexpected(src.error());
  }
  auto dst = cidrParameter(r.destination_cidr, "DestinationCidrBlock");
  if (!dst) {
    return std::unexpected(dst.error());
  }
  if (src->family() != dst->family()) {
    return apiError("InvalidParameterCombination",
                    "SourceCidrBlock and DestinationCidrBlock must both be IPv4 or both IPv6.");
  }
  // Keep the canonical text (e.g. IPv6 compressed, as AWS echoes it).
  r.source_cidr = packet::formatCidr(*src);
  r.destination_cidr = packet::formatCidr(*dst);
  const bool ports = r.source_from_port || r.destination_from_port;
  if (ports && r.protocol != 6 && r.protocol != 17) {
    return apiError("InvalidParameterCombination",
                    "Port ranges are only allowed with Protocol 6 (TCP) or 17 (UDP).");
  }
  return {};
}

ApiResult<void> checkRuleNumberFree(const std::vector<RuleRecord>& rules, const RuleRecord& r) {
  for (const auto& other : rules) {
    if (other.id != r.id && other.filter_id == r.filter_id && other.direction == r.direction &&
        other.rule_number == r.rule_number) {
      return apiError("TrafficMirrorFilterRuleAlreadyExists",
                      "Rule number " + std::to_string(r.rule_number) + " is already used by " +
                          other.id + " in the " + r.direction + " rules of " + r.filter_id + ".");
    }
  }
  return {};
}

ApiResult<std::string> enumParameter(const QueryParams& p, std::string_view name,
                                     std::initializer_list<std::string_view> allowed,
                                     bool required) {
  auto value = p.get(name);
  if (!value) {
    if (required) {
      return apiError("MissingParameter",
                      "The request must contain the parameter " + std::string(name));
    }
    return std::string();
  }
  if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
    std::string expected;
    for (auto a : allowed) {
      expected += (expected.empty() ? "" : ", ") + std::string(a);
    }
    return apiError("InvalidParameterValue", "Value (" + value->substr(0, 64) + ") for parameter " +
                                                 std::string(name) +
                                                 " is invalid. Expected one of: " + expected + ".");
  }
  return *value;
}

}  // namespace

ApiResult<std::string> createTrafficMirrorFilter(ActionContext& ctx) {
  FilterRecord record;
  return createResource(
      ctx, {.resource_type = "traffic-mirror-filter",
            .read = [&]() -> ApiResult<void> {
              auto description = optionalText(ctx.params, "Description");
              if (!description) {
                return std::unexpected(description.error());
              }
              record.description = *description;
              return {};
            },
            .check =
                [&] {
                  return checkResourceQuota(
                      ctx, "filters", "TrafficMirrorFilterLimitExceeded",
                      "The maximum number of traffic mirror filters has been reached.");
                },
            .insert = [&]() -> ApiResult<std::string> {
              record.id = newResourceId("tmf");
              if (auto r = ctx.store.insertFilter(record); !r) {
                return internalError(r.error());
              }
              return record.id;
            },
            .respond =
                [&](const std::string& id, const std::optional<std::string>& token) {
                  return filterResponse(ctx, id, token);
                }});
}

ApiResult<std::string> describeTrafficMirrorFilters(ActionContext& ctx) {
  std::vector<RuleRecord> rules;
  std::map<std::string, std::vector<store::Tag>> tags;
  return describeResources<FilterRecord>(
      ctx, {.id_parameter = "TrafficMirrorFilterId",
            .id_prefix = "tmf",
            .filter_names = {"description", "traffic-mirror-filter-id"},
            .set_element = "trafficMirrorFilterSet",
            .not_found =
                [](const std::string& id) {
                  return ApiError{"InvalidTrafficMirrorFilterId.NotFound",
                                  "The traffic mirror filter '" + id + "' does not exist."};
                },
            .load = [&]() -> ApiResult<std::vector<FilterRecord>> {
              // A filter's answer carries its rules and their tags too.
              auto all = ctx.store.filters();
              auto all_rules = ctx.store.rules();
              auto all_tags = ctx.store.allTags();
              if (auto failed = storeFailure(all, all_rules, all_tags)) {
                return *failed;
              }
              rules = std::move(*all_rules);
              tags = std::move(*all_tags);
              return *all;
            },
            .fields =
                [](const FilterRecord& f) {
                  FilterFields fields{{"traffic-mirror-filter-id", f.id}};
                  if (f.description) {
                    fields.emplace("description", *f.description);
                  }
                  return fields;
                },
            .write = [&](XmlWriter& xml, const FilterRecord& f,
                         const std::vector<store::Tag>&) { writeFilter(xml, f, rules, tags); }});
}

ApiResult<std::string> deleteTrafficMirrorFilter(ActionContext& ctx) {
  return deleteResource(ctx, {"TrafficMirrorFilterId", "tmf", "trafficMirrorFilterId",
                              [&](const std::string& id) -> ApiResult<void> {
                                if (auto existing = existingFilter(ctx, id); !existing) {
                                  return std::unexpected(existing.error());
                                }
                                auto sessions = ctx.store.sessions();
                                if (!sessions) {
                                  return internalError(sessions.error());
                                }
                                for (const auto& s : *sessions) {
                                  if (s.filter_id == id) {
                                    return apiError("TrafficMirrorFilterInUse",
                                                    "Traffic mirror filter " + id +
                                                        " is in use by session " + s.id + ".");
                                  }
                                }
                                return {};
                              },
                              [&](const std::string& id) { return ctx.store.deleteFilter(id); }});
}

ApiResult<std::string> modifyTrafficMirrorFilterNetworkServices(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  auto id = p.required("TrafficMirrorFilterId");
  auto add = p.list("AddNetworkService");
  auto remove = p.list("RemoveNetworkService");
  auto dry = dryRunFlag(p);
  if (auto e = firstError(id, add, remove, dry)) {
    return std::unexpected(*e);
  }
  for (const auto* list : {&*add, &*remove}) {
    for (const auto& service : *list) {
      if (service != "amazon-dns") {
        return apiError("InvalidParameterValue", "Value (" + service.substr(0, 64) +
                                                     ") for a network service is invalid. "
                                                     "Expected: amazon-dns.");
      }
    }
  }
  if (!add->empty() && !remove->empty()) {
    return apiError("InvalidParameterCombination",
                    "A network service cannot be added and removed in one request.");
  }
  if (auto ok = checkIdFormat(*id, "tmf", "TrafficMirrorFilterId"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  auto existing = existingFilter(ctx, *id);
  if (!existing) {
    return std::unexpected(existing.error());
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  const bool on = !add->empty() ? true : !remove->empty() ? false : (*existing)->amazon_dns;
  std::string resource_id = *id;
  auto done = runMutation(ctx, resource_id, [&]() -> ApiResult<void> {
    if (auto r = ctx.store.setAmazonDns(*id, on); !r) {
      return internalError(r.error());
    }
    return {};
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  return filterResponse(ctx, *id, std::nullopt);
}

ApiResult<std::string> createTrafficMirrorFilterRule(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  RuleRecord r;
  return createResource(
      ctx, {.resource_type = "traffic-mirror-filter-rule",
            .read = [&]() -> ApiResult<void> {
              auto filter_id = p.required("TrafficMirrorFilterId");
              auto direction = enumParameter(p, "TrafficDirection", {"ingress", "egress"}, true);
              auto number = p.requiredInt("RuleNumber", 1, 32766);
              auto action = enumParameter(p, "RuleAction", {"accept", "reject"}, true);
              auto protocol = p.optionalInt("Protocol", 0, 255);
              auto src = p.required("SourceCidrBlock");
              auto dst = p.required("DestinationCidrBlock");
              auto description = optionalText(p, "Description");
              auto ports =
                  readPortRange(p, "SourcePortRange", r.source_from_port, r.source_to_port);
              if (ports) {
                ports = readPortRange(p, "DestinationPortRange", r.destination_from_port,
                                      r.destination_to_port);
              }
              if (auto e = firstError(filter_id, direction, number, action, protocol, src, dst,
                                      description, ports)) {
                return std::unexpected(*e);
              }
              if (auto ok = checkIdFormat(*filter_id, "tmf", "TrafficMirrorFilterId"); !ok) {
                return ok;
              }
              r.filter_id = *filter_id;
              r.direction = *direction;
              r.rule_number = *number;
              r.action = *action;
              r.protocol = *protocol;
              r.source_cidr = *src;
              r.destination_cidr = *dst;
              r.description = *description;
              return checkRule(r);
            },
            .check = [&]() -> ApiResult<void> {
              auto existing = existingFilter(ctx, r.filter_id);
              if (!existing) {
                return std::unexpected(existing.error());
              }
              auto rules = ctx.store.rulesOf(r.filter_id);
              if (!rules) {
                return internalError(rules.error());
              }
              if (auto ok = checkRuleNumberFree(*rules, r); !ok) {
                return ok;
              }
              if (static_cast<int64_t>(rules->size()) >= ctx.limits.rules_per_filter) {
                return apiError("TrafficMirrorFilterRuleLimitExceeded",
                                "Filter " + r.filter_id + " already has " +
                                    std::to_string(rules->size()) +
                                    " rules, the most a filter can have.");
              }
              return {};
            },
            .insert = [&]() -> ApiResult<std::string> {
              r.id = newResourceId("tmfr");
              if (auto w = ctx.store.insertRule(r); !w) {
                return internalError(w.error());
              }
              return r.id;
            },
            .respond =
                [&](const std::string& id, const std::optional<std::string>& token) {
                  return ruleResponse(ctx, id, token);
                }});
}

ApiResult<std::string> describeTrafficMirrorFilterRules(ActionContext& ctx) {
  const auto filter_id = ctx.params.get("TrafficMirrorFilterId");
  return describeResources<RuleRecord>(
      ctx, {.id_parameter = "TrafficMirrorFilterRuleId",
            .id_prefix = "tmfr",
            .filter_names = {"traffic-mirror-filter-rule-id", "traffic-mirror-filter-id",
                             "rule-number", "rule-action", "traffic-direction", "protocol",
                             "source-cidr-block", "destination-cidr-block", "description"},
            .set_element = "trafficMirrorFilterRuleSet",
            .not_found =
                [](const std::string& id) {
                  return ApiError{"InvalidTrafficMirrorFilterRuleId.NotFound",
                                  "The traffic mirror filter rule '" + id + "' does not exist."};
                },
            .load = [&]() -> ApiResult<std::vector<RuleRecord>> {
              auto all = ctx.store.rules();
              if (!all) {
                return internalError(all.error());
              }
              return *all;
            },
            .fields =
                [](const RuleRecord& r) {
                  FilterFields fields{{"traffic-mirror-filter-rule-id", r.id},
                                      {"traffic-mirror-filter-id", r.filter_id},
                                      {"rule-number", std::to_string(r.rule_number)},
                                      {"rule-action", r.action},
                                      {"traffic-direction", r.direction},
                                      {"source-cidr-block", r.source_cidr},
                                      {"destination-cidr-block", r.destination_cidr}};
                  if (r.protocol) {
                    fields.emplace("protocol", std::to_string(*r.protocol));
                  }
                  if (r.description) {
                    fields.emplace("description", *r.description);
                  }
                  return fields;
                },
            .write = [](XmlWriter& xml, const RuleRecord& r,
                        const std::vector<store::Tag>& tags) { writeRule(xml, r, tags); },
            .keep = [&](const RuleRecord& r) { return !filter_id || r.filter_id == *filter_id; },
            .precheck = [&]() -> ApiResult<void> {
              if (!filter_id) {
                return {};
              }
              if (auto ok = checkIdFormat(*filter_id, "tmf", "TrafficMirrorFilterId"); !ok) {
                return ok;
              }
              if (auto existing = existingFilter(ctx, *filter_id); !existing) {
                return std::unexpected(existing.error());
              }
              return {};
            }});
}

ApiResult<std::string> modifyTrafficMirrorFilterRule(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  auto id = p.required("TrafficMirrorFilterRuleId");
  auto direction = enumParameter(p, "TrafficDirection", {"ingress", "egress"}, false);
  auto number = p.optionalInt("RuleNumber", 1, 32766);
  auto action = enumParameter(p, "RuleAction", {"accept", "reject"}, false);
  auto protocol = p.optionalInt("Protocol", 0, 255);
  auto src = p.get("SourceCidrBlock");
  auto dst = p.get("DestinationCidrBlock");
  auto description = optionalText(p, "Description");
  std::optional<int64_t> sf, st, df, dt;
  auto ports = readPortRange(p, "SourcePortRange", sf, st);
  if (ports) {
    ports = readPortRange(p, "DestinationPortRange", df, dt);
  }
  auto remove = p.list("RemoveField");
  auto dry = dryRunFlag(p);
  if (auto e =
          firstError(id, direction, number, action, protocol, description, ports, remove, dry)) {
    return std::unexpected(*e);
  }
  for (const auto& field : *remove) {
    if (field != "destination-port-range" && field != "source-port-range" && field != "protocol" &&
        field != "description") {
      return apiError("InvalidParameterValue",
                      "Value (" + field.substr(0, 64) +
                          ") for parameter RemoveField is invalid. Expected one of: "
                          "destination-port-range, source-port-range, protocol, description.");
    }
  }
  auto removes = [&](std::string_view f) {
    return std::find(remove->begin(), remove->end(), f) != remove->end();
  };
  if ((removes("protocol") && *protocol) || (removes("description") && *description) ||
      (removes("source-port-range") && sf) || (removes("destination-port-range") && df)) {
    return apiError("InvalidParameterCombination",
                    "A field cannot be both set and listed in RemoveField.");
  }
  if (auto ok = checkIdFormat(*id, "tmfr", "TrafficMirrorFilterRuleId"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  auto existing = ctx.store.rule(*id);
  if (!existing) {
    return internalError(existing.error());
  }
  if (!*existing) {
    return apiError("InvalidTrafficMirrorFilterRuleId.NotFound",
                    "The traffic mirror filter rule '" + *id + "' does not exist.");
  }
  RuleRecord r = **existing;
  if (!direction->empty()) {
    r.direction = *direction;
  }
  if (*number) {
    r.rule_number = **number;
  }
  if (!action->empty()) {
    r.action = *action;
  }
  if (*protocol) {
    r.protocol = *protocol;
  }
  if (removes("protocol")) {
    r.protocol.reset();
  }
  if (src) {
    r.source_cidr = *src;
  }
  if (dst) {
    r.destination_cidr = *dst;
  }
  if (*description) {
    r.description = *description;
  }
  if (removes("description")) {
    r.description.reset();
  }
  if (sf) {
    r.source_from_port = sf;
    r.source_to_port = st;
  }
  if (removes("source-port-range")) {
    r.source_from_port.reset();
    r.source_to_port.reset();
  }
  if (df) {
    r.destination_from_port = df;
    r.destination_to_port = dt;
  }
  if (removes("destination-port-range")) {
    r.destination_from_port.reset();
    r.destination_to_port.reset();
  }
  if (auto ok = checkRule(r); !ok) {
    return std::unexpected(ok.error());
  }
  auto rules = ctx.store.rulesOf(r.filter_id);
  if (!rules) {
    return internalError(rules.error());
  }
  if (auto ok = checkRuleNumberFree(*rules, r); !ok) {
    return std::unexpected(ok.error());
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  std::string resource_id = r.id;
  auto done = runMutation(ctx, resource_id, [&]() -> ApiResult<void> {
    if (auto w = ctx.store.updateRule(r); !w) {
      return internalError(w.error());
    }
    return {};
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  return ruleResponse(ctx, r.id, std::nullopt);
}

ApiResult<std::string> deleteTrafficMirrorFilterRule(ActionContext& ctx) {
  return deleteResource(
      ctx, {"TrafficMirrorFilterRuleId", "tmfr", "trafficMirrorFilterRuleId",
            [&](const std::string& id) -> ApiResult<void> {
              auto existing = ctx.store.rule(id);
              if (!existing) {
                return internalError(existing.error());
              }
              if (!*existing) {
                return apiError("InvalidTrafficMirrorFilterRuleId.NotFound",
                                "The traffic mirror filter rule '" + id + "' does not exist.");
              }
              return {};
            },
            [&](const std::string& id) { return ctx.store.deleteRule(id); }});
}

}  // namespace tmirror::api
