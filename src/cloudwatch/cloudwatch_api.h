// CloudWatchApi: the CloudWatch API on the server's endpoint (SigV4 service "monitoring"):
// ListMetrics, GetMetricStatistics and GetMetricData over the metric history, in whichever of
// the three wire forms the request came (cloudwatch_wire.h). Reads only; thread-safe.
#pragma once

#include <functional>
#include <optional>

#include "api/api_error.h"
#include "api/api_service.h"
#include "cloudwatch/cloudwatch_wire.h"
#include "store/shared_store.h"

namespace tmirror::cloudwatch {

// The caller's access key id, or the error to answer (SigV4 for "monitoring" on the API's keys,
// or anyone with --auth none).
using Authenticate = std::function<api::ApiResult<std::string>(const api::HttpRequestView&)>;

class CloudWatchApi {
 public:
  CloudWatchApi(store::SharedStore& store, Authenticate authenticate);

  // nullopt when the request is not CloudWatch's (it is the EC2 API's).
  std::optional<api::HttpResponse> handle(const api::HttpRequestView& request);

 private:
  store::SharedStore& store_;
  Authenticate authenticate_;
};

}  // namespace tmirror::cloudwatch
