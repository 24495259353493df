// Network interfaces (external appliances and agent-registered) and traffic mirror targets.
#include <algorithm>
#include <array>
#include <cstdio>

#include "api/action_context.h"
#include "common/random.h"
#include "packet/ip_address.h"

namespace tmirror::api {

namespace {

using store::NetworkInterfaceRecord;
using store::TargetRecord;

std::string randomLocalMac() {
  std::array<std::byte, 5> octet{};
  secureRandomBytes(octet);
  char out[18];
  std::snprintf(out, sizeof(out), "02:%02x:%02x:%02x:%02x:%02x", static_cast<unsigned>(octet[0]),
                static_cast<unsigned>(octet[1]), static_cast<unsigned>(octet[2]),
                static_cast<unsigned>(octet[3]), static_cast<unsigned>(octet[4]));
  return out;
}

ApiResult<std::vector<store::Tag>> tagsOf(ActionContext& ctx, const std::string& id) {
  auto tags = ctx.store.tagsOf(id);
  if (!tags) {
    return internalError(tags.error());
  }
  return *tags;
}

// AWS's words: attached to an instance is in-use, otherwise available.
const char* interfaceStatus(const NetworkInterfaceRecord& r) {
  return r.instance_id && r.attached ? "in-use" : "available";
}

void writeInterface(XmlWriter& xml, const ActionContext& ctx, const NetworkInterfaceRecord& r,
                    const std::vector<store::Tag>& tags) {
  xml.text("networkInterfaceId", r.id);
  xml.text("subnetId", r.subnet_id);
  xml.text("description", r.description);
  xml.text("ownerId", ctx.store.accountId());
  xml.boolean("requesterManaged", false);
  xml.text("status", interfaceStatus(r));
  xml.text("macAddress", r.mac);
  if (r.private_ip) {
    xml.text("privateIpAddress", *r.private_ip);
    xml.open("privateIpAddressesSet");
    xml.open("item");
    xml.text("privateIpAddress", *r.private_ip);
    xml.boolean("primary", true);
    xml.close();
    xml.close();
  }
  xml.open("ipv6AddressesSet");
  if (r.ipv6) {
    xml.open("item");
    xml.text("ipv6Address", *r.ipv6);
    xml.close();
  }
  xml.close();
  xml.boolean("sourceDestCheck", true);
  xml.text("interfaceType", "interface");
  if (r.instance_id) {
    xml.open("attachment");
    xml.text("attachmentId", "eni-attach-" + r.id.substr(4));
    xml.text("instanceId", *r.instance_id);
    xml.text("instanceOwnerId", ctx.store.accountId());
    xml.integer("deviceIndex", 0);
    xml.text("status", "attached");
    xml.close();
  }
  writeTagSet(xml, tags);
}

void writeTarget(XmlWriter& xml, const ActionContext& ctx, const TargetRecord& r,
                 const std::vector<store::Tag>& tags) {
  xml.text("trafficMirrorTargetId", r.id);
  if (r.network_interface_id) {
    xml.text("networkInterfaceId", *r.network_interface_id);
  }
  if (r.network_load_balancer_arn) {
    xml.text("networkLoadBalancerArn", *r.network_load_balancer_arn);
  }
  xml.text("type", r.type);
  if (r.description) {
    xml.text("description", *r.description);
  }
  xml.text("ownerId", ctx.store.accountId());
  writeTagSet(xml, tags);
  if (r.gateway_load_balancer_endpoint_id) {
    xml.text("gatewayLoadBalancerEndpointId", *r.gateway_load_balancer_endpoint_id);
  }
}

ApiResult<std::string> interfaceResponse(ActionContext& ctx, const std::string& id,
                                         const std::optional<std::string>& token) {
  auto record = ctx.store.networkInterface(id);
  if (auto failed = storeFailure(record)) {
    return *failed;
  }
  if (!*record) {
    return apiError("InternalError", "the network interface vanished");
  }
  auto tags = tagsOf(ctx, id);
  if (!tags) {
    return std::unexpected(tags.error());
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.open("networkInterface");
  writeInterface(xml, ctx, **record, *tags);
  xml.close();
  if (token) {
    xml.text("clientToken", *token);
  }
  return xml.finish();
}

ApiResult<std::string> targetResponse(ActionContext& ctx, const std::string& id,
                                      const std::optional<std::string>& token) {
  auto record = ctx.store.target(id);
  if (auto failed = storeFailure(record)) {
    return *failed;
  }
  if (!*record) {
    return apiError("InternalError", "the target vanished");
  }
  auto tags = tagsOf(ctx, id);
  if (!tags) {
    return std::unexpected(tags.error());
  }
  XmlWriter xml(ctx.action, ctx.request_id);
  xml.open("trafficMirrorTarget");
  writeTarget(xml, ctx, **record, *tags);
  xml.close();
  if (token) {
    xml.text("clientToken", *token);
  }
  return xml.finish();
}

}  // namespace

ApiResult<std::string> createNetworkInterface(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  NetworkInterfaceRecord record;
  return createResource(ctx,
                        {.resource_type = "network-interface",
                         .read = [&]() -> ApiResult<void> {
                           auto subnet = p.required("SubnetId");
                           if (!subnet) {
                             return std::unexpected(subnet.error());
                           }
                           if (auto ok = checkIdFormat(*subnet, "subnet", "SubnetId"); !ok) {
                             return ok;
                           }
                           auto description = optionalText(p, "Description");
                           if (!description) {
                             return std::unexpected(description.error());
                           }
                           const auto ip = p.get("PrivateIpAddress");
                           if (ip) {
                             auto parsed = packet::parseIpAddress(*ip);
                             if (!parsed || parsed->family != packet::IpFamily::V4) {
                               return apiError("InvalidParameterValue",
                                               "Value (" + ip->substr(0, 64) +
                                                   ") for parameter PrivateIpAddress is invalid. "
                                                   "Expected an IPv4 address.");
                             }
                           }
                           record.subnet_id = *subnet;
                           record.description = description->value_or("");
                           record.private_ip = ip;
                           return {};
                         },
                         .check = [&]() -> ApiResult<void> {
                           if (!record.private_ip) {
                             return {};
                           }
                           auto holders = ctx.store.interfacesWithAddress(*record.private_ip);
                           if (!holders) {
                             return internalError(holders.error());
                           }
                           for (const auto& other : *holders) {
                             if (other.subnet_id == record.subnet_id) {
                               return apiError("InvalidIPAddress.InUse",
                                               "The specified address " + *record.private_ip +
                                                   " is already in use by " + other.id +
                                                   " in subnet " + record.subnet_id + ".");
                             }
                           }
                           return {};
                         },
                         .insert = [&]() -> ApiResult<std::string> {
                           record.id = newResourceId("eni");
                           record.mac = randomLocalMac();
                           if (auto r = ctx.store.insertNetworkInterface(record); !r) {
                             return internalError(r.error());
                           }
                           return record.id;
                         },
                         .respond =
                             [&](const std::string& id, const std::optional<std::string>& token) {
                               return interfaceResponse(ctx, id, token);
                             }});
}

ApiResult<std::string> describeNetworkInterfaces(ActionContext& ctx) {
  (void)ctx.params.get("IncludeManagedResources");  // accepted; nothing here is managed
  return describeResources<NetworkInterfaceRecord>(
      ctx,
      {.id_parameter = "NetworkInterfaceId",
       .id_prefix = "eni",
       .filter_names = {"network-interface-id", "private-ip-address", "mac-address", "description",
                        "subnet-id", "status", "attachment.instance-id", "owner-id",
                        "interface-type"},
       .set_element = "networkInterfaceSet",
       .not_found =
           [](const std::string& id) {
             return ApiError{"InvalidNetworkInterfaceID.NotFound",
                             "The networkInterface ID '" + id + "' does not exist"};
           },
       .load = [&]() -> ApiResult<std::vector<NetworkInterfaceRecord>> {
         auto all = ctx.store.networkInterfaces();
         if (!all) {
           return internalError(all.error());
         }
         return *all;
       },
       .fields =
           [&](const NetworkInterfaceRecord& r) {
             FilterFields fields{
                 {"network-interface-id", r.id}, {"mac-address", r.mac},
                 {"description", r.description}, {"subnet-id", r.subnet_id},
                 {"status", interfaceStatus(r)}, {"owner-id", ctx.store.accountId()},
                 {"interface-type", "interface"}};
             if (r.private_ip) {
               fields.emplace("private-ip-address", *r.private_ip);
             }
             if (r.instance_id) {
               fields.emplace("attachment.instance-id", *r.instance_id);
             }
             return fields;
           },
       .write = [&](XmlWriter& xml, const NetworkInterfaceRecord& r,
                    const std::vector<store::Tag>& tags) { writeInterface(xml, ctx, r, tags); }});
}

ApiResult<std::string> deleteNetworkInterface(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  auto id = p.required("NetworkInterfaceId");
  auto dry = dryRunFlag(p);
  if (auto e = firstError(id, dry)) {
    return std::unexpected(*e);
  }
  if (auto ok = checkIdFormat(*id, "eni", "NetworkInterfaceId"); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = rejectUnknownParameters(p); !ok) {
    return std::unexpected(ok.error());
  }
  auto record = ctx.store.networkInterface(*id);
  auto targets = ctx.store.targets();
  if (!record || !targets) {
    return internalError(!record ? record.error() : targets.error());
  }
  if (!*record) {
    return apiError("InvalidNetworkInterfaceID.NotFound",
                    "The networkInterface ID '" + *id + "' does not exist");
  }
  if ((*record)->instance_id) {
    return apiError("InvalidNetworkInterface.InUse",
                    "Interface " + *id + " belongs to host " + *(*record)->instance_id +
                        "; it is removed when its agent stops reporting it.");
  }
  for (const auto& t : *targets) {
    if (t.network_interface_id == *id) {
      return apiError("InvalidNetworkInterface.InUse",
                      "Interface " + *id + " is in use by traffic mirror target " + t.id + ".");
    }
  }
  if (*dry) {
    return dryRunSucceeded();
  }
  std::string resource_id = *id;
  auto done = runMutation(ctx, resource_id, [&]() -> ApiResult<void> {
    // Deleting a source interface deletes its sessions, as in AWS.
    if (auto r = ctx.store.deleteSessionsOfInterface(*id); !r) {
      return internalError(r.error());
    }
    if (auto r = ctx.store.deleteAllTags(*id); !r) {
      return internalError(r.error());
    }
    if (auto r = ctx.store.deleteNetworkInterface(*id); !r) {
      return internalError(r.error());
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

ApiResult<std::string> createTrafficMirrorTarget(ActionContext& ctx) {
  const QueryParams& p = ctx.params;
  const auto eni = p.get("NetworkInterfaceId");
  const auto nlb = p.get("NetworkLoadBalancerArn");
  const auto gwlbe = p.get("GatewayLoadBalancerEndpointId");
  TargetRecord record;
  return createResource(
      ctx,
      {.resource_type = "traffic-mirror-target",
       .read = [&]() -> ApiResult<void> {
         auto description = optionalText(p, "Description");
         if (!description) {
           return std::unexpected(description.error());
         }
         record.description = *description;
         const int kinds = int{eni.has_value()} + int{nlb.has_value()} + int{gwlbe.has_value()};
         if (kinds != 1) {
           return apiError("InvalidParameterCombination",
                           "Exactly one of NetworkInterfaceId, NetworkLoadBalancerArn and "
                           "GatewayLoadBalancerEndpointId is required.");
         }
         if (eni) {
           if (auto ok = checkIdFormat(*eni, "eni", "NetworkInterfaceId"); !ok) {
             return ok;
           }
         }
         if (nlb && (!nlb->starts_with("arn:") ||
                     nlb->find(":loadbalancer/net/") == std::string::npos || nlb->size() > 2048)) {
           return apiError("InvalidParameterValue",
                           "Value (" + nlb->substr(0, 128) +
                               ") for parameter NetworkLoadBalancerArn is invalid. Expected a "
                               "Network Load Balancer ARN (arn:...:loadbalancer/net/NAME/ID).");
         }
         if (gwlbe) {
           return checkIdFormat(*gwlbe, "vpce", "GatewayLoadBalancerEndpointId");
         }
         return {};
       },
       .check = [&]() -> ApiResult<void> {
         if (auto ok = checkResourceQuota(
                 ctx, "targets", "TrafficMirrorTargetLimitExceeded",
                 "The maximum number of traffic mirror targets has been reached.");
             !ok || !eni) {
           return ok;
         }
         auto source = ctx.store.networkInterface(*eni);
         auto sessions = ctx.store.sessions();
         if (!source || !sessions) {
           return internalError(!source ? source.error() : sessions.error());
         }
         if (!*source) {
           return apiError("InvalidNetworkInterfaceID.NotFound",
                           "The networkInterface ID '" + *eni + "' does not exist");
         }
         for (const auto& s : *sessions) {
           if (s.network_interface_id == *eni) {
             return apiError("InvalidParameterCombination",
                             "Interface " + *eni + " is the source of traffic mirror session " +
                                 s.id + "; an interface cannot be both a source and a target.");
           }
         }
         return {};
       },
       .insert = [&]() -> ApiResult<std::string> {
         record.id = newResourceId("tmt");
         record.type = eni   ? "network-interface"
                       : nlb ? "network-load-balancer"
                             : "gateway-load-balancer-endpoint";
         record.network_interface_id = eni;
         record.network_load_balancer_arn = nlb;
         record.gateway_load_balancer_endpoint_id = gwlbe;
         if (auto r = ctx.store.insertTarget(record); !r) {
           return internalError(r.error());
         }
         return record.id;
       },
       .respond =
           [&](const std::string& id, const std::optional<std::string>& token) {
             return targetResponse(ctx, id, token);
           }});
}

ApiResult<std::string> describeTrafficMirrorTargets(ActionContext& ctx) {
  return describeResources<TargetRecord>(
      ctx, {.id_parameter = "TrafficMirrorTargetId",
            .id_prefix = "tmt",
            .filter_names = {"description", "network-interface-id", "network-load-balancer-arn",
                             "owner-id", "traffic-mirror-target-id",
                             "gateway-load-balancer-endpoint-id"},
            .set_element = "trafficMirrorTargetSet",
            .not_found =
                [](const std::string& id) {
                  return ApiError{"InvalidTrafficMirrorTargetId.NotFound",
                                  "The traffic mirror target '" + id + "' does not exist."};
                },
            .load = [&]() -> ApiResult<std::vector<TargetRecord>> {
              auto all = ctx.store.targets();
              if (!all) {
                return internalError(all.error());
              }
              return *all;
            },
            .fields =
                [&](const TargetRecord& r) {
                  FilterFields fields{{"traffic-mirror-target-id", r.id},
                                      {"owner-id", ctx.store.accountId()}};
                  if (r.description) {
                    fields.emplace("description", *r.description);
                  }
                  if (r.network_interface_id) {
                    fields.emplace("network-interface-id", *r.network_interface_id);
                  }
                  if (r.network_load_balancer_arn) {
                    fields.emplace("network-load-balancer-arn", *r.network_load_balancer_arn);
                  }
                  if (r.gateway_load_balancer_endpoint_id) {
                    fields.emplace("gateway-load-balancer-endpoint-id",
                                   *r.gateway_load_balancer_endpoint_id);
                  }
                  return fields;
                },
            .write = [&](XmlWriter& xml, const TargetRecord& r,
                         const std::vector<store::Tag>& tags) { writeTarget(xml, ctx, r, tags); }});
}

ApiResult<std::string> deleteTrafficMirrorTarget(ActionContext& ctx) {
  return deleteResource(
      ctx, {"TrafficMirrorTargetId", "tmt", "trafficMirrorTargetId",
            [&](const std::string& id) -> ApiResult<void> {
              auto record = ctx.store.target(id);
              auto sessions = ctx.store.sessions();
              if (!record || !sessions) {
                return internalError(!record ? record.error() : sessions.error());
              }
              if (!*record) {
                return apiError("InvalidTrafficMirrorTargetId.NotFound",
                                "The traffic mirror target '" + id + "' does not exist.");
              }
              for (const auto& s : *sessions) {
                if (s.target_id == id) {
                  return apiError(
                      "TrafficMirrorTargetInUseException",
                      "Traffic mirror target " + id + " is in use by session " + s.id + ".");
                }
              }
              return {};
            },
            [&](const std::string& id) { return ctx.store.deleteTarget(id); }});
}

}  // namespace tmirror::api
