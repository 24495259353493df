#include "api/sigv4.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/form_encoding.h"
#include "common/ascii.h"

namespace tmirror::api {

namespace {

constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr std::size_t kMaxScopeFieldBytes = 128;
constexpr int kMinYear = 1970;
constexpr int kMaxYear = 2200;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool isHexDigit(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The ASCII whitespace Python's str.split() uses, which botocore's Trimall is built on.
bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string toHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out += kHex[u >> 4];
    out += kHex[u & 0xF];
  }
  return out;
}

// Header names are RFC 9110 tokens; signed ones must already be lower-case.
bool isSignedHeaderName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || isDigit(c) || c == '-' || c == '_' || c == '.' ||
                    c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' ||
                    c == '*' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool isScopeField(std::string_view field) {
  if (field.empty() || field.size() > kMaxScopeFieldBytes) {
    return false;
  }
  for (char c : field) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

SigV4Status parseCredential(std::string_view credential, SigV4Parsed& out) {
  const std::vector<std::string_view> parts = split(credential, '/');
  if (parts.size() != 5 || parts[4] != kScopeTerminator) {
    return SigV4Status::MalformedAuthorization;
  }
  if (parts[1].size() != 8 || !std::all_of(parts[1].begin(), parts[1].end(), isDigit)) {
    return SigV4Status::MalformedAuthorization;
  }
  for (std::size_t i = 0; i < 4; ++i) {
    if (!isScopeField(parts[i])) {
      return SigV4Status::MalformedAuthorization;
    }
  }
  out.access_key_id = parts[0];
  out.date = parts[1];
  out.region = parts[2];
  out.service = parts[3];
  return SigV4Status::Ok;
}

SigV4Status parseSignedHeaders(std::string_view list, SigV4Parsed& out) {
  const std::vector<std::string_view> names = split(list, ';');
  if (names.size() > kMaxSignedHeaders) {
    return SigV4Status::MalformedAuthorization;
  }
  out.signed_headers.clear();
  for (std::string_view name : names) {
    if (!isSignedHeaderName(name)) {
      return SigV4Status::MalformedAuthorization;
    }
    // Strictly ascending, as every SDK writes it: one list, one canonical request.
    if (!out.signed_headers.empty() && !(out.signed_headers.back() < name)) {
      return SigV4Status::MalformedAuthorization;
    }
    out.signed_headers.emplace_back(name);
  }
  return SigV4Status::Ok;
}

// RFC 3986 5.2.4 dot-segment removal plus collapsing of empty segments, as botocore's
// normalize_url_path does before signing.
std::string normalizePath(std::string_view path) {
  if (path.empty()) {
    return "/";
  }
  std::vector<std::string_view> kept;
  for (std::string_view segment : split(path, '/')) {
    if (segment.empty() || segment == ".") {
      continue;
    }
    if (segment == "..") {
      if (!kept.empty()) {
        kept.pop_back();
      }
      continue;
    }
    kept.push_back(segment);
  }
  std::string out;
  if (path.front() == '/') {
    out += '/';
  }
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) {
      out += '/';
    }
    out += kept[i];
  }
  if (path.back() == '/' && !kept.empty()) {
    out += '/';
  }
  return out.empty() ? std::string("/") : out;
}

std::string canonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::string_view pair : split(query, '&')) {
    if (pair.empty()) {
      continue;
    }
    const std::size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    // A bad escape signs as its literal bytes; parseForm rejects the request anyway.
    const std::optional<std::string> name = formDecode(raw_name);
    const std::optional<std::string> value = formDecode(raw_value);
    pairs.emplace_back(uriEncode(name ? *name : raw_name), uriEncode(value ? *value : raw_value));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) {
      out += '&';
    }
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

// Trimall: strip, and collapse each inner whitespace run to one space.
std::string trimAll(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (isSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    out += c;
  }
  return out;
}

const std::string* findHeader(const SigV4Request& request, const std::string& name) {
  if (request.headers == nullptr) {
    return nullptr;
  }
  const auto it = request.headers->find(name);
  return it == request.headers->end() ? nullptr : &it->second;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && isSpace(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

bool parseNumber(std::string_view digits, int& out) {
  if (digits.empty() || digits.size() > 4) {
    return false;
  }
  out = 0;
  for (char c : digits) {
    if (!isDigit(c)) {
      return false;
    }
    out = out * 10 + (c - '0');
  }
  return true;
}

std::optional<std::chrono::system_clock::time_point> makeTime(int year, int month, int day,
                                                              int hour, int minute, int second) {
  using namespace std::chrono;
  // system_clock counts nanoseconds in 64 bits: years outside about 1678..2262 overflow.
  if (year < kMinYear || year > kMaxYear) {
    return std::nullopt;
  }
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  return system_clock::time_point(sys_days(ymd)) + hours(hour) + minutes(minute) + seconds(second);
}

std::optional<std::chrono::system_clock::time_point> parseIsoBasic(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
    return std::nullopt;
  }
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!parseNumber(text.substr(0, 4), year) || !parseNumber(text.substr(4, 2), month) ||
      !parseNumber(text.substr(6, 2), day) || !parseNumber(text.substr(9, 2), hour) ||
      !parseNumber(text.substr(11, 2), minute) || !parseNumber(text.substr(13, 2), second)) {
    return std::nullopt;
  }
  return makeTime(year, month, day, hour, minute, second);
}

// "Sun, 22 Nov 2026 02:43:48 GMT"; botocore's formatdate() writes "-0000" for the zone.
std::optional<std::chrono::system_clock::time_point> parseRfc1123(std::string_view text) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::size_t comma = text.find(',');
  if (comma != std::string_view::npos) {
    if (comma != 3) {
      return std::nullopt;
    }
    text.remove_prefix(comma + 1);
  }
  std::vector<std::string_view> fields;
  for (std::string_view field : split(trimmed(text), ' ')) {
    if (!field.empty()) {
      fields.push_back(field);
    }
  }
  if (fields.size() != 5) {
    return std::nullopt;
  }
  const std::string_view zone = fields[4];
  if (zone != "GMT" && zone != "UTC" && zone != "Z" && zone != "+0000" && zone != "-0000") {
    return std::nullopt;
  }
  int day = 0;
  int year = 0;
  if (!parseNumber(fields[0], day) || fields[2].size() != 4 || !parseNumber(fields[2], year)) {
    return std::nullopt;
  }
  const auto month_it = std::find(kMonths.begin(), kMonths.end(), fields[1]);
  if (month_it == kMonths.end()) {
    return std::nullopt;
  }
  const std::string_view clock = fields[3];
  if (clock.size() != 8 || clock[2] != ':' || clock[5] != ':') {
    return std::nullopt;
  }
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!parseNumber(clock.substr(0, 2), hour) || !parseNumber(clock.substr(3, 2), minute) ||
      !parseNumber(clock.substr(6, 2), second)) {
    return std::nullopt;
  }
  return makeTime(year, static_cast<int>(month_it - kMonths.begin()) + 1, day, hour, minute,
                  second);
}

}  // namespace

const char* sigV4StatusText(SigV4Status status) {
  switch (status) {
    case SigV4Status::Ok:
      return "ok";
    case SigV4Status::MissingAuthorization:
      return "no Authorization header";
    case SigV4Status::UnsupportedAlgorithm:
      return "unsupported signing algorithm";
    case SigV4Status::MalformedAuthorization:
      return "malformed Authorization header";
    case SigV4Status::MissingDate:
      return "no X-Amz-Date or Date header";
    case SigV4Status::MalformedDate:
      return "malformed request date";
    case SigV4Status::RequestExpired:
      return "request date outside the 15 minute window";
    case SigV4Status::WrongService:
      return "credential scoped to another service";
    case SigV4Status::ScopeDateMismatch:
      return "credential scope date differs from request date";
    case SigV4Status::UnknownAccessKey:
      return "unknown access key";
    case SigV4Status::HostNotSigned:
      return "host header not signed";
    case SigV4Status::SignedHeaderMissing:
      return "a signed header is missing";
    case SigV4Status::BadPayloadHash:
      return "x-amz-content-sha256 does not match the body";
    case SigV4Status::SignatureMismatch:
      return "signature mismatch";
  }
  return "unknown";
}

SigV4Status parseAuthorization(std::string_view header_value, SigV4Parsed& out) {
  if (header_value.size() > kMaxAuthorizationBytes) {
    return SigV4Status::MalformedAuthorization;
  }
  std::string_view rest = trimmed(header_value);
  if (rest.empty()) {
    return SigV4Status::MissingAuthorization;
  }
  std::size_t algorithm_end = 0;
  while (algorithm_end < rest.size() && !isSpace(rest[algorithm_end]) &&
         rest[algorithm_end] != ',') {
    ++algorithm_end;
  }
  if (rest.substr(0, algorithm_end) != kSigV4Algorithm) {
    return SigV4Status::UnsupportedAlgorithm;
  }
  rest.remove_prefix(algorithm_end);

  std::optional<std::string_view> credential;
  std::optional<std::string_view> signed_headers;
  std::optional<std::string_view> signature;
  std::size_t i = 0;
  while (i < rest.size()) {
    if (isSpace(rest[i]) || rest[i] == ',') {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < rest.size() && !isSpace(rest[end]) && rest[end] != ',') {
      ++end;
    }
    const std::string_view token = rest.substr(i, end - i);
    i = end;
    const std::size_t eq = token.find('=');
    if (eq == std::string_view::npos) {
      return SigV4Status::MalformedAuthorization;
    }
    const std::string_view key = token.substr(0, eq);
    const std::string_view value = token.substr(eq + 1);
    std::optional<std::string_view>* slot = nullptr;
    if (key == "Credential") {
      slot = &credential;
    } else if (key == "SignedHeaders") {
      slot = &signed_headers;
    } else if (key == "Signature") {
      slot = &signature;
    } else {
      return SigV4Status::MalformedAuthorization;
    }
    if (slot->has_value()) {
      return SigV4Status::MalformedAuthorization;
    }
    *slot = value;
  }
  if (!credential || !signed_headers || !signature) {
    return SigV4Status::MalformedAuthorization;
  }
  if (const SigV4Status status = parseCredential(*credential, out); status != SigV4Status::Ok) {
    return status;
  }
  if (const SigV4Status status = parseSignedHeaders(*signed_headers, out);
      status != SigV4Status::Ok) {
    return status;
  }
  if (signature->size() != 64 || !std::all_of(signature->begin(), signature->end(), isHexDigit)) {
    return SigV4Status::MalformedAuthorization;
  }
  out.signature.clear();
  for (char c : *signature) {
    out.signature += asciiLower(c);
  }
  return SigV4Status::Ok;
}

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  return toHex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
           &length) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string canonicalRequest(const SigV4Request& request,
                             const std::vector<std::string>& signed_headers) {
  std::string out;
  out += request.method;
  out += '\n';
  out += uriEncode(normalizePath(request.path), /*encode_slash=*/false);
  out += '\n';
  out += canonicalQuery(request.query);
  out += '\n';
  for (const std::string& name : signed_headers) {
    out += name;
    out += ':';
    if (const std::string* value = findHeader(request, name); value != nullptr) {
      out += trimAll(*value);
    }
    out += '\n';
  }
  out += '\n';
  for (std::size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) {
      out += ';';
    }
    out += signed_headers[i];
  }
  out += '\n';
  // The client hashed the body into its canonical request via this header when it sent one;
  // reuse its spelling so an upper-case hex digest still verifies.
  const std::string body_hash = sha256Hex(request.body);
  const std::string* declared = findHeader(request, "x-amz-content-sha256");
  out += declared != nullptr && equalsIgnoreAsciiCase(*declared, body_hash) ? *declared : body_hash;
  return out;
}

std::string stringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request_hash_hex) {
  std::string out(kSigV4Algorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += canonical_request_hash_hex;
  return out;
}

std::string signingKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string key = "AWS4";
  key += secret;
  const std::string k_date = hmacSha256(key, date);
  const std::string k_region = hmacSha256(k_date, region);
  const std::string k_service = hmacSha256(k_region, service);
  OPENSSL_cleanse(key.data(), key.size());
  return hmacSha256(k_service, kScopeTerminator);
}

std::string hexSignature(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view string_to_sign) {
  return toHex(hmacSha256(signingKey(secret, date, region, service), string_to_sign));
}

std::string formatAmzDate(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto day_point = floor<days>(time);
  const year_month_day ymd{day_point};
  const hh_mm_ss clock{floor<seconds>(time - day_point)};
  char text[32];
  std::snprintf(text, sizeof(text), "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return text;
}

std::optional<std::chrono::system_clock::time_point> parseSigV4Date(std::string_view text) {
  text = trimmed(text);
  if (auto iso = parseIsoBasic(text)) {
    return iso;
  }
  return parseRfc1123(text);
}

SigV4Status verifySigV4(const SigV4Request& request, const SecretLookup& secret_for,
                        std::chrono::system_clock::time_point now,
                        std::string_view expected_service, SigV4Parsed& parsed_out) {
  const std::string* authorization = findHeader(request, "authorization");
  if (authorization == nullptr || trimmed(*authorization).empty()) {
    return SigV4Status::MissingAuthorization;
  }
  if (const SigV4Status status = parseAuthorization(*authorization, parsed_out);
      status != SigV4Status::Ok) {
    return status;
  }

  // X-Amz-Date wins over Date, and only the ISO 8601 basic form is valid in it.
  std::optional<std::chrono::system_clock::time_point> request_time;
  if (const std::string* amz_date = findHeader(request, "x-amz-date"); amz_date != nullptr) {
    request_time = parseIsoBasic(trimmed(*amz_date));
  } else if (const std::string* date = findHeader(request, "date"); date != nullptr) {
    request_time = parseSigV4Date(*date);
  } else {
    return SigV4Status::MissingDate;
  }
  if (!request_time) {
    return SigV4Status::MalformedDate;
  }
  parsed_out.amz_date = formatAmzDate(*request_time);
  const auto skew = now > *request_time ? now - *request_time : *request_time - now;
  if (skew > kSigV4MaxClockSkew) {
    return SigV4Status::RequestExpired;
  }
  if (parsed_out.date != std::string_view(parsed_out.amz_date).substr(0, 8)) {
    return SigV4Status::ScopeDateMismatch;
  }
  if (parsed_out.service != expected_service) {
    return SigV4Status::WrongService;
  }
  const auto& signed_headers = parsed_out.signed_headers;
  if (!std::binary_search(signed_headers.begin(), signed_headers.end(), std::string("host"))) {
    return SigV4Status::HostNotSigned;
  }
  for (const std::string& name : signed_headers) {
    if (findHeader(request, name) == nullptr) {
      return SigV4Status::SignedHeaderMissing;
    }
  }
  if (const std::string* declared = findHeader(request, "x-amz-content-sha256");
      declared != nullptr && !equalsIgnoreAsciiCase(trimmed(*declared), sha256Hex(request.body))) {
    return SigV4Status::BadPayloadHash;
  }
  std::optional<std::string> secret;
  if (secret_for) {
    secret = secret_for(parsed_out.access_key_id);
  }
  if (!secret) {
    return SigV4Status::UnknownAccessKey;
  }

  const std::string scope = parsed_out.date + '/' + parsed_out.region + '/' + parsed_out.service +
                            '/' + std::string(kScopeTerminator);
  const std::string expected =
      hexSignature(*secret, parsed_out.date, parsed_out.region, parsed_out.service,
                   stringToSign(parsed_out.amz_date, scope,
                                sha256Hex(canonicalRequest(request, signed_headers))));
  OPENSSL_cleanse(secret->data(), secret->size());
  if (expected.size() != parsed_out.signature.size() ||
      CRYPTO_memcmp(expected.data(), parsed_out.signature.data(), expected.size()) != 0) {
    return SigV4Status::SignatureMismatch;
  }
  return SigV4Status::Ok;
}

std::map<std::string, std::string> signHeaders(std::string_view method, std::string_view host,
                                               std::string_view path, std::string_view query,
                                               std::string_view body, std::string_view content_type,
                                               std::string_view access_key_id,
                                               std::string_view secret, std::string_view region,
                                               std::string_view service,
                                               std::chrono::system_clock::time_point now) {
  const std::string amz_date = formatAmzDate(now);
  const std::string date = amz_date.substr(0, 8);
  std::map<std::string, std::string> lower;
  std::vector<std::string> signed_headers;
  if (!content_type.empty()) {
    lower.emplace("content-type", content_type);
    signed_headers.emplace_back("content-type");
  }
  lower.emplace("host", host);
  lower.emplace("x-amz-date", amz_date);
  signed_headers.emplace_back("host");
  signed_headers.emplace_back("x-amz-date");

  const SigV4Request request{method, path, query, body, &lower};
  const std::string scope = date + '/' + std::string(region) + '/' + std::string(service) + '/' +
                            std::string(kScopeTerminator);
  const std::string signature = hexSignature(
      secret, date, region, service,
      stringToSign(amz_date, scope, sha256Hex(canonicalRequest(request, signed_headers))));

  std::string authorization(kSigV4Algorithm);
  authorization += " Credential=";
  authorization += access_key_id;
  authorization += '/';
  authorization += scope;
  authorization += ", SignedHeaders=";
  for (std::size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) {
      authorization += ';';
    }
    authorization += signed_headers[i];
  }
  authorization += ", Signature=";
  authorization += signature;

  std::map<std::string, std::string> headers;
  headers.emplace("Host", host);
  headers.emplace("X-Amz-Date", amz_date);
  if (!content_type.empty()) {
    headers.emplace("Content-Type", content_type);
  }
  headers.emplace("Authorization", std::move(authorization));
  return headers;
}

}  // namespace tmirror::api
