// libFuzzer target: input is "<Authorization>\n<X-Amz-Date>\n<query>\n<body>". Parses and
// verifies it against a fixed key, and checks that whatever query and body we sign with
// signHeaders verifies.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "api/sigv4.h"

using namespace tmirror::api;

namespace {

constexpr std::string_view kAkid = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kHost = "127.0.0.1:18999";
constexpr std::string_view kFormType = "application/x-www-form-urlencoded; charset=utf-8";

std::string_view takeLine(std::string_view& rest) {
  const std::size_t end = rest.find('\n');
  const std::string_view line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view authorization = takeLine(rest);
  const std::string_view amz_date = takeLine(rest);
  const std::string_view query = takeLine(rest);
  const std::string_view body = rest;
  // Seeds are signed at 2026-11-22T02:43:48Z.
  const auto now = std::chrono::sys_days(std::chrono::year{2026} / 11 / 22) +
                   std::chrono::hours(2) + std::chrono::minutes(43) + std::chrono::seconds(48);
  const SecretLookup keys = [](std::string_view akid) -> std::optional<std::string> {
    if (akid == kAkid) {
      return std::string(kSecret);
    }
    return std::nullopt;
  };
  const std::string_view method = body.empty() ? "GET" : "POST";

  SigV4Parsed parsed;
  if (parseAuthorization(authorization, parsed) == SigV4Status::Ok &&
      (parsed.signature.size() != 64 || parsed.date.size() != 8 || parsed.signed_headers.empty())) {
    std::abort();
  }

  const std::map<std::string, std::string> headers = {
      {"authorization", std::string(authorization)},
      {"x-amz-date", std::string(amz_date)},
      {"host", std::string(kHost)},
      {"content-type", std::string(kFormType)},
  };
  const SigV4Request request{method, "/", query, body, &headers};
  SigV4Parsed verified;
  if (verifySigV4(request, keys, now, "ec2", verified) == SigV4Status::Ok &&
      verified.access_key_id != kAkid) {
    std::abort();
  }

  if (const auto date = parseSigV4Date(amz_date);
      date && amz_date.size() == 16 && formatAmzDate(*date) != amz_date) {
    std::abort();
  }

  // Property: anything we sign, we accept.
  std::map<std::string, std::string> ours;
  for (const auto& [name, value] : signHeaders(method, kHost, "/", query, body, kFormType, kAkid,
                                               kSecret, "us-east-1", "ec2", now)) {
    std::string lower = name;
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
    }
    ours[lower] = value;
  }
  const SigV4Request signed_request{method, "/", query, body, &ours};
  SigV4Parsed round_trip;
  if (verifySigV4(signed_request, keys, now, "ec2", round_trip) != SigV4Status::Ok) {
    std::abort();
  }
  return 0;
}
