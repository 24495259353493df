// Which datagrams the collector accepts: senders by CIDR, VNIs by allow and deny lists.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "collector/collector_counters.h"
#include "packet/ip_address.h"

namespace tmirror::collector {

struct AdmissionPolicy {
  std::vector<packet::Cidr> allowed_senders;  // empty: any sender
  std::vector<uint32_t> allowed_vnis;         // empty: any VNI
  std::vector<uint32_t> denied_vnis;

  // nullopt when admitted, else why not.
  std::optional<DropReason> check(const packet::IpAddress& sender, uint32_t vni) const;
};

}  // namespace tmirror::collector
