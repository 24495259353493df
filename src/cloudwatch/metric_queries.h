// The CloudWatch operations over the metric history in the store: ListMetrics,
// GetMetricStatistics and GetMetricData, with CloudWatch's validation and error codes. Input
// and output are the neutral documents of cloudwatch_wire.h; values of a decoded Query request
// are strings, which the readers here take as well as numbers.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "store/mirror_store.h"

namespace tmirror::cloudwatch {

// Datapoints one GetMetricStatistics call may ask for.
inline constexpr int64_t kMaxDatapoints = 1440;
// Metrics per ListMetrics page, as CloudWatch.
inline constexpr int64_t kListMetricsPage = 500;

// `now`: Unix seconds, for the resolution an age of data still has.
api::ApiResult<nlohmann::json> listMetrics(store::MirrorStore& store, const nlohmann::json& input);
api::ApiResult<nlohmann::json> getMetricStatistics(store::MirrorStore& store,
                                                   const nlohmann::json& input, int64_t now);
api::ApiResult<nlohmann::json> getMetricData(store::MirrorStore& store, const nlohmann::json& input,
                                             int64_t now);

}  // namespace tmirror::cloudwatch
