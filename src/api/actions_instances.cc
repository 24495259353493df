// DescribeInstances, read-only: an instance is a host whose agent registered. One reservation
// per instance; the host name is reported as privateDnsName and the agent's interfaces as the
// instance's network interfaces. Nothing here knows whether the agent still runs, so there is
// no instanceState (the agent channel's counters and problems tell that).
#include "api/action_context.h"

namespace tmirror::api {

namespace {

using store::InstanceRecord;
using store::NetworkInterfaceRecord;

void writeInstanceInterface(XmlWriter& xml, const ActionContext& ctx,
                            const NetworkInterfaceRecord& eni) {
  xml.open("item");
  xml.text("networkInterfaceId", eni.id);
  xml.text("subnetId", eni.subnet_id);
  xml.text("description", eni.description);
  xml.text("ownerId", ctx.store.accountId());
  xml.text("status", eni.attached ? "in-use" : "available");
  xml.text("macAddress", eni.mac);
  if (eni.private_ip) {
    xml.text("privateIpAddress", *eni.private_ip);
  }
  xml.open("ipv6AddressesSet");
  if (eni.ipv6) {
    xml.open("item");
    xml.text("ipv6Address", *eni.ipv6);
    xml.close();
  }
  xml.close();
  xml.close();
}

}  // namespace

ApiResult<std::string> describeInstances(ActionContext& ctx) {
  auto interfaces = ctx.store.networkInterfaces();
  if (!interfaces) {
    return internalError(interfaces.error());
  }
  const auto interfacesOf = [&](const InstanceRecord& r) {
    std::vector<const NetworkInterfaceRecord*> out;
    for (const auto& eni : *interfaces) {
      if (eni.instance_id == r.id) {
        out.push_back(&eni);
      }
    }
    return out;
  };
  return describeResources<InstanceRecord>(
      ctx,
      {.id_parameter = "InstanceId",
       .id_prefix = "i",
       .filter_names = {"instance-id", "private-dns-name", "network-interface.network-interface-id",
                        "network-interface.mac-address", "private-ip-address", "owner-id"},
       .set_element = "reservationSet",
       .not_found =
           [](const std::string& id) {
             return ApiError{"InvalidInstanceID.NotFound",
                             "The instance ID '" + id + "' does not exist"};
           },
       .load = [&]() -> ApiResult<std::vector<InstanceRecord>> {
         auto all = ctx.store.instances();
         if (!all) {
           return internalError(all.error());
         }
         return *all;
       },
       .fields =
           [&](const InstanceRecord& r) {
             FilterFields fields{{"instance-id", r.id},
                                 {"private-dns-name", r.hostname},
                                 {"owner-id", ctx.store.accountId()}};
             for (const auto* eni : interfacesOf(r)) {
               fields.emplace("network-interface.network-interface-id", eni->id);
               fields.emplace("network-interface.mac-address", eni->mac);
               if (eni->private_ip) {
                 fields.emplace("private-ip-address", *eni->private_ip);
               }
             }
             return fields;
           },
       .write =
           [&](XmlWriter& xml, const InstanceRecord& r, const std::vector<store::Tag>& tags) {
             const auto enis = interfacesOf(r);
             xml.text("reservationId", "r-" + r.id.substr(2));
             xml.text("ownerId", ctx.store.accountId());
             xml.open("groupSet");
             xml.close();
             xml.open("instancesSet");
             xml.open("item");
             xml.text("instanceId", r.id);
             xml.text("privateDnsName", r.hostname);
             for (const auto* eni : enis) {
               if (eni->private_ip) {
                 xml.text("privateIpAddress", *eni->private_ip);
                 break;
               }
             }
             xml.open("networkInterfaceSet");
             for (const auto* eni : enis) {
               writeInstanceInterface(xml, ctx, *eni);
             }
             xml.close();
             writeTagSet(xml, tags);
             xml.close();
             xml.close();
           }});
}

}  // namespace tmirror::api
