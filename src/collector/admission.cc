#include "collector/admission.h"

#include <algorithm>

namespace tmirror::collector {

std::optional<DropReason> AdmissionPolicy::check(const packet::IpAddress& sender,
                                                 uint32_t vni) const {
  if (!allowed_senders.empty() &&
      std::none_of(allowed_senders.begin(), allowed_senders.end(),
                   [&](const packet::Cidr& c) { return c.contains(sender); })) {
    return DropReason::SenderNotAllowed;
  }
  if (std::find(denied_vnis.begin(), denied_vnis.end(), vni) != denied_vnis.end()) {
    return DropReason::VniDenied;
  }
  if (!allowed_vnis.empty() &&
      std::find(allowed_vnis.begin(), allowed_vnis.end(), vni) == allowed_vnis.end()) {
    return DropReason::VniNotAllowed;
  }
  return std::nullopt;
}

}  // namespace tmirror::collector
