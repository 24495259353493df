#include "cloudwatch/cloudwatch_api.h"

#include <chrono>

#include "cloudwatch/metric_queries.h"
#include "common/random.h"

namespace tmirror::cloudwatch {

CloudWatchApi::CloudWatchApi(store::SharedStore& store, Authenticate authenticate)
    : store_(store), authenticate_(std::move(authenticate)) {}

std::optional<api::HttpResponse> CloudWatchApi::handle(const api::HttpRequestView& request) {
  const auto protocol = cloudWatchProtocolOf(request);
  if (!protocol) {
    return std::nullopt;
  }
  const std::string request_id = newUuid4();
  if (request.method != "POST" && *protocol != WireProtocol::Query) {
    return encodeError(*protocol, {"InvalidAction", "JSON and CBOR requests must be POSTs."},
                       request_id);
  }
  if (auto caller = authenticate_(request); !caller) {
    return encodeError(*protocol, caller.error(), request_id);
  }
  auto decoded = decodeRequest(*protocol, request);
  if (!decoded) {
    return encodeError(*protocol, decoded.error(), request_id);
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string& op = decoded->operation;
  auto result = store_.read([&](store::MirrorStore& s) -> api::ApiResult<nlohmann::json> {
    if (op == "ListMetrics") {
      return listMetrics(s, decoded->input);
    }
    if (op == "GetMetricStatistics") {
      return getMetricStatistics(s, decoded->input, now);
    }
    if (op == "GetMetricData") {
      return getMetricData(s, decoded->input, now);
    }
    return api::apiError(
        *protocol == WireProtocol::Query ? "InvalidAction" : "UnknownOperationException",
        "Could not find operation " + op + " for version " + std::string(kApiVersion) +
            " (tmirror serves ListMetrics, GetMetricStatistics and "
            "GetMetricData).");
  });
  if (!result) {
    return encodeError(*protocol, result.error(), request_id);
  }
  auto response = encodeResponse(*protocol, op, *result, request_id);
  return response;
}

}  // namespace tmirror::cloudwatch
