// AWS Signature Version 4 (AWS4-HMAC-SHA256, header form): verification for the server and
// signing for our CLI. Plain status values, no std::expected: this faces hostile bytes and is
// also built by clang 14 for the fuzzers.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tmirror::api {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
// AWS rejects a request whose date is further than this from the server's clock.
inline constexpr std::chrono::minutes kSigV4MaxClockSkew{15};
inline constexpr std::size_t kMaxAuthorizationBytes = 8 * 1024;
inline constexpr std::size_t kMaxSignedHeaders = 64;

struct SigV4Request {
  std::string_view method;
  std::string_view path;   // as on the request line, without the query
  std::string_view query;  // raw, without '?'
  std::string_view body;
  const std::map<std::string, std::string>* headers = nullptr;  // names lower-cased
};

enum class SigV4Status {
  Ok,
  MissingAuthorization,
  UnsupportedAlgorithm,
  MalformedAuthorization,  // missing Credential/SignedHeaders/Signature part, bad scope
  MissingDate,
  MalformedDate,
  RequestExpired,  // |now - date| > 15 min
  WrongService,    // scope service != expected
  ScopeDateMismatch,
  UnknownAccessKey,
  HostNotSigned,  // host must be among the signed headers
  SignedHeaderMissing,
  BadPayloadHash,  // x-amz-content-sha256 present and != sha256(body)
  SignatureMismatch,
};

const char* sigV4StatusText(SigV4Status status);

struct SigV4Parsed {
  std::string access_key_id;
  std::string date;  // yyyymmdd, from the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lower-case, strictly ascending
  std::string signature;                    // 64 lower-case hex digits
  std::string amz_date;                     // yyyymmddTHHMMSSZ; set by verifySigV4
};

// Parses "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/ec2/aws4_request,
// SignedHeaders=content-type;host;x-amz-date, Signature=<64 hex>". The three parts may come in
// any order, separated by commas and/or whitespace.
SigV4Status parseAuthorization(std::string_view header_value, SigV4Parsed& out);

// Lower-case hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

// Raw 32-byte HMAC-SHA256.
std::string hmacSha256(std::string_view key, std::string_view data);

// The canonical request. The path is URI-encoded once more after dot-segment removal (the
// double encoding every service but S3 uses, as botocore does); query parameters are
// form-decoded and re-encoded with uriEncode, so "a+b" and "a%20b" sign alike, just as the API
// reads them alike. Headers named in `signed_headers` but absent from the request sign as "".
std::string canonicalRequest(const SigV4Request& request,
                             const std::vector<std::string>& signed_headers);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hash>", scope being
// "yyyymmdd/region/service/aws4_request".
std::string stringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request_hash_hex);

// The raw 32-byte signing key: HMAC chain over "AWS4"+secret, date, region, service,
// "aws4_request".
std::string signingKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);

// Lower-case hex HMAC-SHA256 of `string_to_sign` under signingKey(...).
std::string hexSignature(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view string_to_sign);

// "yyyymmddTHHMMSSZ" for a point in time (UTC).
std::string formatAmzDate(std::chrono::system_clock::time_point time);

// Parses "yyyymmddTHHMMSSZ" or, as the `date` header may carry, an RFC 1123 date
// ("Sun, 22 Nov 2026 02:43:48 GMT"); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parseSigV4Date(std::string_view text);

using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

// Verifies the Authorization header of `request`. The date comes from x-amz-date, else from
// the date header. `parsed_out` holds what was parsed so far, for messages and logs.
SigV4Status verifySigV4(const SigV4Request& request, const SecretLookup& secret_for,
                        std::chrono::system_clock::time_point now,
                        std::string_view expected_service, SigV4Parsed& parsed_out);

// Signs a request the way botocore does for the Query protocol: returns the headers to send,
// "Host", "X-Amz-Date", "Content-Type" (omitted when empty) and "Authorization", with
// SignedHeaders=content-type;host;x-amz-date. `host` is host[:port] exactly as sent.
std::map<std::string, std::string> signHeaders(std::string_view method, std::string_view host,
                                               std::string_view path, std::string_view query,
                                               std::string_view body, std::string_view content_type,
                                               std::string_view access_key_id,
                                               std::string_view secret, std::string_view region,
                                               std::string_view service,
                                               std::chrono::system_clock::time_point now);

}  // namespace tmirror::api
