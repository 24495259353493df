// The demo's mirroring resources, made through the EC2 API with tmirror's own aws-style verbs
// (like any client would): a target on the collector's interface, a filter that mirrors web
// traffic but not SSH, and a session on the source interface. Client tokens make it
// idempotent: running the demo again on the same data directory finds the same resources.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace tmirror::cli {

struct DemoResources {
  std::string target_id;
  std::string filter_id;
  std::string session_id;
  uint32_t vni = 100;
};

// Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
// The source and collector interfaces are found by MAC once their hosts registered.
// ca_bundle: the CA file of an https:// url; empty for http://.
Result<DemoResources> createDemoResources(const std::string& url, const std::string& ca_bundle,
                                          const std::string& source_mac,
                                          const std::string& collector_mac);

}  // namespace tmirror::cli
