// Traffic mirror sessions: a source interface, a target, a filter, a number, a VNI.
#include <algorithm>
#include <set>

#include "api/action_context.h"
#include "common/random.h"

namespace tmirror::api {

namespace {

using store::SessionRecord;

void writeSession(XmlWriter& xml, const ActionContext& ctx, const SessionRecord& s,
                  const std::vector<store::Tag>& tags) {
  xml.text("trafficMirrorSessionId", s.id);
  xml.text("trafficMirrorTargetId", s.target_id);
  xml.text("trafficMirrorFilterId", s.filter_id);
  xml.text("networkInterfaceId", s.network_interface_id);
  xml.text("ownerId", ctx.store.accountId());
  if (s.packet_length) {
    xml.integer("packetLength", *s.packet_length);
  }
  xml.integer("sessionNumber", s.session_number);
  xml.integer("virtualNetworkId", s.virtual_network_id);
  if (s.description) {
    xml.text("description", *s.description);
  }
  writeTagSet(xml, tags);
}

ApiResult<std::string> sessionResponse(ActionContext& ctx, const std::string& id,
                                       const std::optional<std::string>& token) {
  auto record = ctx.store.session(id);
  auto tags = ctx.store.tagsOf(id);
  if (auto failed = storeFailure(record, tags)) {
    return *failed;
  }
  if (!*record) {
    return apiError("InternalError", "the session vanished");
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.open("trafficMirrorSession");
  writeSession(xml, ctx, **record, *tags);
  xml.close();
  if (token) {
    xml.text("clientToken", *token);
  }
  return xml.finish();
}

// A VNI no other session uses, drawn at random as AWS does.
int64_t unusedVni(const std::vector<SessionRecord>& sessions) {
  std::set<int64_t> used;
  for (const auto& s : sessions) {
    used.insert(s.virtual_network_id);
  }
  while (true) {
    const auto vni = static_cast<int64_t>(secureRandomBetween(1, 16777215));
    if (!used.contains(vni)) {
      return vni;
    }
  }
}

// Checks a session (new or modified) against the others: its references exist, its source is
// no target, and the per-interface and per-target quotas hold.
ApiResult<void> checkSession(ActionContext& ctx, const SessionRecord& s,
                             const std::vector<SessionRecord>& sessions) {
  auto eni = ctx.store.networkInterface(s.network_interface_id);
  auto target = ctx.store.target(s.target_id);
  auto filter = ctx.store.filter(s.filter_id);
  auto targets = ctx.store.targets();
  if (auto failed = storeFailure(eni, target, filter, targets)) {
    return *failed;
  }
  if (!*eni) {
    return apiError("InvalidNetworkInterfaceID.NotFound",
                    "The networkInterface ID '" + s.network_interface_id + "' does not exist");
  }
  if (!*target) {
    return apiError("InvalidTrafficMirrorTargetId.NotFound",
                    "The traffic mirror target '" + s.target_id + "' does not exist.");
  }
  if (!*filter) {
    return apiError("InvalidTrafficMirrorFilterId.NotFound",
                    "The traffic mirror filter '" + s.filter_id + "' does not exist.");
  }
  for (const auto& t : *targets) {
    if (t.network_interface_id == s.network_interface_id) {
      return apiError("InvalidParameterCombination",
                      "Interface " + s.network_interface_id + " is traffic mirror target " + t.id +
                          "; an interface cannot be both a source and a target.");
    }
  }
  int64_t on_interface = 0;
  std::set<std::string> sources{s.network_interface_id};
  for (const auto& other : sessions) {
    if (other.id == s.id) {
      continue;
    }
    if (other.network_interface_id == s.network_interface_id) {
      ++on_interface;
      if (other.session_number == s.session_number) {
        return apiError("InvalidParameterValue",
                        "Session number " + std::to_string(s.session_number) +
                            " is already used on " + s.network_interface_id + " by " + other.id +
                            ".");
      }
    }
    if (other.target_id == s.target_id) {
      sources.insert(other.network_interface_id);
    }
  }
  if (on_interface >= ctx.limits.sessions_per_interface) {
    return apiError("TrafficMirrorSessionsPerInterfaceLimitExceeded",
                    "Interface " + s.network_interface_id + " already has " +
                        std::to_string(on_interface) + " traffic mirror sessions.");
  }
  if ((*target)->type == "network-interface" &&
      static_cast<int64_t>(sources.size()) > ctx.limits.sources_per_target) {
    return apiError("TrafficMirrorSourcesPerTargetLimitExceeded",
                    "Target " + s.target_id + " would have more than " +
                        std::to_string(ctx.limits.sources_per_target) + " source interfaces.");
  }
  return {};
}

}  // namespace

ApiResult<std::string> createTrafficMirrorSession(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  SessionRecord s;
  std::optional<int64_t> vni;  // chosen by the server when not given
  return createResource(
      ctx,
      {.resource_type = "traffic-mirror-session",
       .read = [&]() -> ApiResult<void> {
         auto eni = p.required("NetworkInterfaceId");
         auto target = p.required("TrafficMirrorTargetId");
         auto filter = p.required("TrafficMirrorFilterId");
         auto packet_length = p.optionalInt("PacketLength", 1, 8500);
         auto number = p.requiredInt("SessionNumber", 1, 32766);
         auto given_vni = p.optionalInt("VirtualNetworkId", 0, 16777215);
         auto description = optionalText(p, "Description");
         if (auto e =
                 firstError(eni, target, filter, packet_length, number, given_vni, description)) {
           return std::unexpected(*e);
         }
         for (auto [value, prefix, name] : {std::tuple{&*eni, "eni", "NetworkInterfaceId"},
                                            std::tuple{&*target, "tmt", "TrafficMirrorTargetId"},
                                            std::tuple{&*filter, "tmf", "TrafficMirrorFilterId"}}) {
           if (auto ok = checkIdFormat(*value, prefix, name); !ok) {
             return ok;
           }
         }
         s.network_interface_id = *eni;
         s.target_id = *target;
         s.filter_id = *filter;
         s.session_number = *number;
         s.packet_length = *packet_length;
         s.description = *description;
         vni = *given_vni;
         return {};
       },
       .check = [&]() -> ApiResult<void> {
         auto sessions = ctx.store.sessions();
         if (!sessions) {
           return internalError(sessions.error());
         }
         if (static_cast<int64_t>(sessions->size()) >= ctx.limits.resources_per_kind) {
           return apiError("TrafficMirrorSessionLimitExceeded",
                           "The maximum number of traffic mirror sessions has been reached.");
         }
         s.virtual_network_id = vni ? *vni : unusedVni(*sessions);
         return checkSession(ctx, s, *sessions);
       },
       .insert = [&]() -> ApiResult<std::string> {
         s.id = newResourceId("tms");
         if (auto r = ctx.store.insertSession(s); !r) {
           return internalError(r.error());
         }
         return s.id;
       },
       .respond =
           [&](const std::string& id, const std::optional<std::string>& token) {
             return sessionResponse(ctx, id, token);
           }});
}

ApiResult<std::string> describeTrafficMirrorSessions(ActionContext& ctx) {
  return describeResources<SessionRecord>(
      ctx,
      {.id_parameter = "TrafficMirrorSessionId",
       .id_prefix = "tms",
       .filter_names = {"description", "network-interface-id", "owner-id", "packet-length",
                        "session-number", "traffic-mirror-filter-id", "traffic-mirror-session-id",
                        "traffic-mirror-target-id", "virtual-network-id"},
       .set_element = "trafficMirrorSessionSet",
       .not_found =
           [](const std::string& id) {
             return ApiError{"InvalidTrafficMirrorSessionId.NotFound",
                             "The traffic mirror session '" + id + "' does not exist."};
           },
       .load = [&]() -> ApiResult<std::vector<SessionRecord>> {
         auto all = ctx.store.sessions();
         if (!all) {
           return internalError(all.error());
         }
         return *all;
       },
       .fields =
           [&](const SessionRecord& s) {
             FilterFields fields{{"traffic-mirror-session-id", s.id},
                                 {"traffic-mirror-target-id", s.target_id},
                                 {"traffic-mirror-filter-id", s.filter_id},
                                 {"network-interface-id", s.network_interface_id},
                                 {"owner-id", ctx.store.accountId()},
                                 {"session-number", std::to_string(s.session_number)},
                                 {"virtual-network-id", std::to_string(s.virtual_network_id)}};
             if (s.packet_length) {
               fields.emplace("packet-length", std::to_string(*s.packet_length));
             }
             if (s.description) {
               fields.emplace("description", *s.description);
             }
             return fields;
           },
       .write = [&](XmlWriter& xml, const SessionRecord& s,
                    const std::vector<store::Tag>& tags) { writeSession(xml, ctx, s, tags); }});
}

ApiResult<std::string> modifyTrafficMirrorSession(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  auto id = p.required("TrafficMirrorSessionId");
  auto target = p.get("TrafficMirrorTargetId");
  auto filter = p.get("TrafficMirrorFilterId");
  auto packet_length = p.optionalInt("PacketLength", 1, 8500);
  auto number = p.optionalInt("SessionNumber", 1, 32766);
  auto vni = p.optionalInt("VirtualNetworkId", 0, 16777215);
  auto description = optionalText(p, "Description");
  auto remove = p.list("RemoveField");
  auto dry = dryRunFlag(p);
  if (auto e = firstError(id, packet_length, number, vni, description, remove, dry)) {
    return std::unexpected(*e);
  }
  for (const auto& field : *remove) {
    if (field != "packet-length" && field != "description" && field != "virtual-network-id") {
      return apiError("InvalidParameterValue",
                      "Value (" + field.substr(0, 64) +
                          ") for parameter RemoveField is invalid. Expected one of: "
                          "packet-length, description, virtual-network-id.");
    }
  }
  auto removes = [&](std::string_view f) {
    return std::find(remove->begin(), remove->end(), f) != remove->end();
  };
  if ((removes("packet-length") && *packet_length) || (removes("description") && *description) ||
      (removes("virtual-network-id") && *vni)) {
    return apiError("InvalidParameterCombination",
                    "A field cannot be both set and listed in RemoveField.");
  }
  if (auto ok = checkIdFormat(*id, "tms", "TrafficMirrorSessionId"); !ok) {
    return std::unexpected(ok.error());
  }
  if (target) {
    if (auto ok = checkIdFormat(*target, "tmt", "TrafficMirrorTargetId"); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (filter) {
    if (auto ok = checkIdFormat(*filter, "tmf", "TrafficMirrorFilterId"); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  auto sessions = ctx.store.sessions();
  if (!sessions) {
    return internalError(sessions.error());
  }
  const auto it =
      std::find_if(sessions->begin(), sessions->end(), [&](const auto& s) { return s.id == *id; });
  if (it == sessions->end()) {
    return apiError("InvalidTrafficMirrorSessionId.NotFound",
                    "The traffic mirror session '" + *id + "' does not exist.");
  }
  SessionRecord s = *it;
  if (target) {
    s.target_id = *target;
  }
  if (filter) {
    s.filter_id = *filter;
  }
  if (*packet_length) {
    s.packet_length = *packet_length;
  }
  if (removes("packet-length")) {
    s.packet_length.reset();
  }
  if (*number) {
    s.session_number = **number;
  }
  if (*vni) {
    s.virtual_network_id = **vni;
  }
  if (removes("virtual-network-id")) {
    s.virtual_network_id = unusedVni(*sessions);
  }
  if (*description) {
    s.description = *description;
  }
  if (removes("description")) {
    s.description.reset();
  }
  if (auto ok = checkSession(ctx, s, *sessions); !ok) {
    return std::unexpected(ok.error());
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  std::string resource_id = s.id;
  auto done = runMutation(ctx, resource_id, [&]() -> ApiResult<void> {
    if (auto r = ctx.store.updateSession(s); !r) {
      return internalError(r.error());
    }
    return {};
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  return sessionResponse(ctx, s.id, std::nullopt);
}

ApiResult<std::string> deleteTrafficMirrorSession(ActionContext& ctx) {
  return deleteResource(ctx, {"TrafficMirrorSessionId", "tms", "trafficMirrorSessionId",
                              [&](const std::string& id) -> ApiResult<void> {
                                auto existing = ctx.store.session(id);
                                if (!existing) {
                                  return internalError(existing.error());
                                }
                                if (!*existing) {
                                  return apiError(
                                      "InvalidTrafficMirrorSessionId.NotFound",
                                      "The traffic mirror session '" + id + "' does not exist.");
                                }
                                return {};
                              },
                              [&](const std::string& id) { return ctx.store.deleteSession(id); }});
}

}  // namespace tmirror::api
