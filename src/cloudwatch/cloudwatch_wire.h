// The CloudWatch API's three wire forms (docs/cloudwatch.md): the Query protocol (form-encoded
// POST, XML answers; Debian's aws CLI v2), JSON 1.0 (X-Amz-Target, boto3) and Smithy RPC v2
// CBOR (SDKs built on Smithy). Requests decode to one neutral JSON input, whatever their form;
// answers encode from one neutral JSON output, in the form the request came in.
//
// Neutral documents use the API model's member names. Lists are arrays; a timestamp is a
// number of Unix seconds, in members named "Timestamp", "Timestamps", "StartTime" or
// "EndTime". In a decoded Query request every value is still a string (the operations read
// them with the typed readers of metric_queries.h, which take either form).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "api/api_service.h"

namespace tmirror::cloudwatch {

enum class WireProtocol { Query, Json, Cbor };

inline constexpr std::string_view kApiVersion = "2010-08-01";
inline constexpr std::string_view kSigningService = "monitoring";
inline constexpr std::string_view kJsonTargetPrefix = "GraniteServiceVersion20100801.";
inline constexpr std::string_view kCborPathPrefix =
    "/service/GraniteServiceVersion20100801/operation/";
inline constexpr std::string_view kXmlNamespace = "http://monitoring.amazonaws.com/doc/2010-08-01/";

// Whether a request to the server's endpoint is CloudWatch's, and in which form: a CBOR path,
// an X-Amz-Target of CloudWatch's, or a Query request for version 2010-08-01 or signed for
// "monitoring". Anything else is the EC2 API's.
std::optional<WireProtocol> cloudWatchProtocolOf(const api::HttpRequestView& request);

struct DecodedRequest {
  WireProtocol protocol = WireProtocol::Query;
  std::string operation;  // "GetMetricStatistics"
  nlohmann::json input = nlohmann::json::object();
};

// InvalidAction, MissingAction, MalformedQueryString, SerializationException... as CloudWatch
// answers them. The protocol of a request that fails to decode is still known: errors go back
// in its form.
api::ApiResult<DecodedRequest> decodeRequest(WireProtocol protocol,
                                             const api::HttpRequestView& request);

api::HttpResponse encodeResponse(WireProtocol protocol, std::string_view operation,
                                 const nlohmann::json& output, std::string_view request_id);
api::HttpResponse encodeError(WireProtocol protocol, const api::ApiError& error,
                              std::string_view request_id);

// ISO 8601 as CloudWatch's Query protocol writes and botocore sends it
// ("2026-12-07T10:00:00Z", fractions and offsets read too); nullopt when it is not one.
std::optional<double> parseIso8601(std::string_view text);
std::string formatIso8601(double unix_seconds);

// The CBOR of a neutral document, timestamps as tag 1 (epoch seconds), as RPC v2 CBOR wants.
std::string toCbor(const nlohmann::json& document);

}  // namespace tmirror::cloudwatch
