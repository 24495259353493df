#include "cloudwatch/cloudwatch_wire.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "api/form_encoding.h"
#include "common/aws_xml.h"

namespace tmirror::cloudwatch {

namespace {

using Json = nlohmann::json;

std::string_view header(const api::HttpRequestView& request, std::string_view name) {
  const auto it = request.headers.find(std::string(name));
  return it == request.headers.end() ? std::string_view() : std::string_view(it->second);
}

bool isTimestampMember(std::string_view name) {
  return name == "Timestamp" || name == "Timestamps" || name == "StartTime" || name == "EndTime";
}

std::unexpected<api::ApiError> serializationError(const std::string& why) {
  return api::apiError("SerializationException", why);
}

// "A.member.2.B" -> {"A": [null, {"B": value}]}: the Query protocol's flattened members.
api::ApiResult<void> placeQueryValue(Json& root, std::string_view name, const std::string& value) {
  Json* node = &root;
  std::size_t at = 0;
  while (true) {
    const std::size_t dot = name.find('.', at);
    const std::string part(name.substr(at, dot == std::string_view::npos ? name.npos : dot - at));
    if (part.empty()) {
      return api::apiError("MalformedQueryString", "Empty member name in " + std::string(name));
    }
    if (!node->is_object()) {
      return api::apiError("MalformedQueryString", "Conflicting members at " + std::string(name));
    }
    Json& child = (*node)[part];
    if (dot == std::string_view::npos) {
      child = value;
      return {};
    }
    at = dot + 1;
    // A list: "member" (or "entry" for maps) then a 1-based index.
    if (name.substr(at).starts_with("member.")) {
      at += 7;
      const std::size_t next = name.find('.', at);
      const std::string_view digits =
          name.substr(at, next == std::string_view::npos ? name.npos : next - at);
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (ec != std::errc{} || end != digits.data() + digits.size() || index == 0 ||
          index > 10000) {
        return api::apiError("MalformedQueryString", "Bad list index in " + std::string(name));
      }
      if (child.is_null()) {
        child = Json::array();
      }
      if (!child.is_array()) {
        return api::apiError("MalformedQueryString", "Conflicting members at " + std::string(name));
      }
      while (child.size() < index) {
        child.push_back(Json::object());
      }
      Json& element = child[index - 1];
      if (next == std::string_view::npos) {
        element = value;
        return {};
      }
      node = &element;
      at = next + 1;
      continue;
    }
    if (child.is_null()) {
      child = Json::object();
    }
    node = &child;
  }
}

std::string exceptionShape(const std::string& code) {
  if (code == "InvalidParameterValue" || code == "InvalidParameterCombination") {
    return code + "Exception";
  }
  if (code == "MissingParameter") {
    return "MissingRequiredParameterException";
  }
  return code;
}

bool senderFault(const std::string& code) {
  return code != "InternalFailure" && code != "InternalError" && code != "ServiceUnavailable";
}

// A double as its shortest text that reads back the same, a whole one with ".0" (as the
// Query protocol and nlohmann's dump() write them): "1234.0", "0.1", "1e+21".
void appendDouble(std::string& out, double value) {
  char text[32];
  const auto r = std::to_chars(text, text + sizeof text, value);
  const std::string_view written(text, static_cast<std::size_t>(r.ptr - text));
  out.append(written);
  if (written.find_first_of(".eEn") == std::string_view::npos) {  // not nan, inf, 1e+21
    out += ".0";
  }
}

void appendTwoDigits(std::string& out, unsigned value) {
  out += static_cast<char>('0' + value / 10);
  out += static_cast<char>('0' + value % 10);
}

// "2026-12-07T10:00:00Z" without gmtime and strftime: a day of 100 series is 144,000 of them.
void appendIso8601(std::string& out, double unix_seconds) {
  using namespace std::chrono;
  const sys_seconds at{seconds(static_cast<int64_t>(std::floor(unix_seconds)))};
  const auto day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss time{at - day};
  char year[8];
  const auto r = std::to_chars(year, year + sizeof year, static_cast<int>(date.year()));
  out.append(year, r.ptr);
  out += '-';
  appendTwoDigits(out, static_cast<unsigned>(date.month()));
  out += '-';
  appendTwoDigits(out, static_cast<unsigned>(date.day()));
  out += 'T';
  appendTwoDigits(out, static_cast<unsigned>(time.hours().count()));
  out += ':';
  appendTwoDigits(out, static_cast<unsigned>(time.minutes().count()));
  out += ':';
  appendTwoDigits(out, static_cast<unsigned>(time.seconds().count()));
  out += 'Z';
}

void writeXml(std::string& out, std::string_view name, const Json& value) {
  out += '<';
  out += name;
  out += '>';
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      writeXml(out, key, child);
    }
  } else if (value.is_array()) {
    const bool timestamps = isTimestampMember(name);
    for (const auto& element : value) {
      if (timestamps && element.is_number()) {  // a list of timestamps keeps its items' type
        out += "<member>";
        appendIso8601(out, element.get<double>());
        out += "</member>";
      } else {
        writeXml(out, "member", element);
      }
    }
  } else if (value.is_string()) {
    appendXmlEscaped(out, value.get_ref<const std::string&>());
  } else if (value.is_boolean()) {
    out += value.get<bool>() ? "true" : "false";
  } else if (value.is_number()) {
    if (isTimestampMember(name)) {
      appendIso8601(out, value.get<double>());
    } else if (value.is_number_integer()) {
      out += std::to_string(value.get<int64_t>());
    } else {
      appendDouble(out, value.get<double>());
    }
  }
  out += "</";
  out += name;
  out += '>';
}

// Timestamps as numbers become Query timestamps (strings) before XML, and stay numbers in
// JSON; CBOR tags them.
void cborHead(std::string& out, uint8_t major, uint64_t value) {
  const auto m = static_cast<uint8_t>(major << 5);
  if (value < 24) {
    out += static_cast<char>(m | value);
  } else if (value <= 0xFF) {
    out += static_cast<char>(m | 24);
    out += static_cast<char>(value);
  } else if (value <= 0xFFFF) {
    out += static_cast<char>(m | 25);
    for (int shift = 8; shift >= 0; shift -= 8) {
      out += static_cast<char>((value >> shift) & 0xFF);
    }
  } else if (value <= 0xFFFFFFFF) {
    out += static_cast<char>(m | 26);
    for (int shift = 24; shift >= 0; shift -= 8) {
      out += static_cast<char>((value >> shift) & 0xFF);
    }
  } else {
    out += static_cast<char>(m | 27);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out += static_cast<char>((value >> shift) & 0xFF);
    }
  }
}

void cborDouble(std::string& out, double value) {
  out += static_cast<char>(0xFB);
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out += static_cast<char>((bits >> shift) & 0xFF);
  }
}

void writeCbor(std::string& out, const Json& value, bool timestamp) {
  if (value.is_object()) {
    cborHead(out, 5, value.size());
    for (const auto& [key, child] : value.items()) {
      cborHead(out, 3, key.size());
      out += key;
      writeCbor(out, child, isTimestampMember(key));
    }
  } else if (value.is_array()) {
    cborHead(out, 4, value.size());
    for (const auto& element : value) {
      writeCbor(out, element, timestamp);
    }
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    cborHead(out, 3, text.size());
    out += text;
  } else if (value.is_boolean()) {
    out += static_cast<char>(value.get<bool>() ? 0xF5 : 0xF4);
  } else if (value.is_null()) {
    out += static_cast<char>(0xF6);
  } else if (timestamp && value.is_number()) {
    cborHead(out, 6, 1);  // tag 1: epoch-based date/time
    cborDouble(out, value.get<double>());
  } else if (value.is_number_unsigned()) {
    cborHead(out, 0, value.get<uint64_t>());
  } else if (value.is_number_integer()) {
    const int64_t n = value.get<int64_t>();
    if (n >= 0) {
      cborHead(out, 0, static_cast<uint64_t>(n));
    } else {
      cborHead(out, 1, static_cast<uint64_t>(-1 - n));
    }
  } else {
    cborDouble(out, value.get<double>());
  }
}

// JSON text as nlohmann's dump() writes it (a whole double keeps its ".0"), but numbers go
// through std::to_chars: a day of 100 series is 144,000 doubles, which dump() writes several
// times slower.
void writeJsonNumber(std::string& out, const Json& value) {
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d)) {
      appendDouble(out, d);
    } else {
      out += "null";  // as dump() writes NaN and infinities
    }
    return;
  }
  char text[24];
  const auto r = value.is_number_unsigned()
                     ? std::to_chars(text, text + sizeof text, value.get<uint64_t>())
                     : std::to_chars(text, text + sizeof text, value.get<int64_t>());
  out.append(text, r.ptr);
}

// About how many bytes a document's answer takes (~24 a leaf value), so that the answer's
// buffer is allocated once: growing a multi-megabyte string by doubling costs more in copies
// and page faults than writing it.
std::size_t sizeHint(const Json& value) {
  if (value.is_object() || value.is_array()) {
    std::size_t n = 16;
    for (const auto& child : value) {
      n += child.is_structured() ? sizeHint(child) : 24;
    }
    return n;
  }
  return 24;
}

void writeJson(std::string& out, const Json& value) {
  if (value.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, child] : value.items()) {
      out += first ? "" : ",";
      first = false;
      out += Json(key).dump();
      out += ':';
      writeJson(out, child);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& element : value) {
      out += first ? "" : ",";
      first = false;
      writeJson(out, element);
    }
    out += ']';
  } else if (value.is_number()) {
    writeJsonNumber(out, value);
  } else {
    out += value.dump();  // strings (escaped as dump() escapes them), booleans, null
  }
}

// Copies one CBOR item from `in` at `at` to `out`, leaving out tag heads (nlohmann's reader
// refuses tags 0-5, and a timestamp comes as tag 1): the tagged value stays. False when the
// input is not well-formed CBOR or nests deeper than `depth`.
bool copyUntagged(std::string_view in, std::size_t& at, std::string& out, int depth);

// The items of an indefinite-length string, list or map, and the break that ends them.
bool copyUntilBreak(std::string_view in, std::size_t& at, std::string& out, int depth) {
  while (at < in.size() && static_cast<uint8_t>(in[at]) != 0xFF) {
    if (!copyUntagged(in, at, out, depth - 1)) {
      return false;
    }
  }
  if (at >= in.size()) {
    return false;
  }
  out += in[at++];
  return true;
}

bool copyUntagged(std::string_view in, std::size_t& at, std::string& out, int depth) {
  if (depth == 0 || at >= in.size()) {
    return false;
  }
  const auto initial = static_cast<uint8_t>(in[at]);
  const uint8_t major = initial >> 5;
  const uint8_t info = initial & 0x1F;
  const std::size_t head_start = at++;
  uint64_t value = info;
  if (info >= 24 && info <= 27) {
    const std::size_t bytes = std::size_t{1} << (info - 24);
    if (at + bytes > in.size()) {
      return false;
    }
    value = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
      value = (value << 8) | static_cast<uint8_t>(in[at + i]);
    }
    at += bytes;
  } else if (info >= 28 && info < 31) {
    return false;
  }
  const bool indefinite = info == 31;
  if (major == 6) {  // a tag: drop its head, keep its item
    return !indefinite && copyUntagged(in, at, out, depth - 1);
  }
  out.append(in.substr(head_start, at - head_start));
  switch (major) {
    case 0:
    case 1:
      return !indefinite;
    case 2:
    case 3:
      if (indefinite) {  // chunks until a break
        return copyUntilBreak(in, at, out, depth);
      }
      if (value > in.size() - at) {
        return false;
      }
      out.append(in.substr(at, value));
      at += value;
      return true;
    case 4:
    case 5: {
      const uint64_t items = major == 5 ? value * 2 : value;
      if (indefinite) {
        return copyUntilBreak(in, at, out, depth);
      }
      if (items > in.size() - at) {
        return false;  // each item takes a byte at least
      }
      for (uint64_t i = 0; i < items; ++i) {
        if (!copyUntagged(in, at, out, depth - 1)) {
          return false;
        }
      }
      return true;
    }
    default:  // 7: simple values and floats, whole in their head
      return true;
  }
}

}  // namespace

std::optional<WireProtocol> cloudWatchProtocolOf(const api::HttpRequestView& request) {
  if (request.path.starts_with(kCborPathPrefix)) {
    return WireProtocol::Cbor;
  }
  if (request.path != "/") {
    return std::nullopt;
  }
  if (header(request, "x-amz-target").starts_with(kJsonTargetPrefix)) {
    return WireProtocol::Json;
  }
  // The credential scope: .../<date>/<region>/monitoring/aws4_request.
  if (header(request, "authorization").find("/monitoring/aws4_request") != std::string_view::npos) {
    return WireProtocol::Query;
  }
  for (std::string_view text : {request.body, request.query}) {
    std::vector<std::pair<std::string, std::string>> pairs;
    if (api::parseForm(text, pairs) != api::FormStatus::Ok) {
      continue;
    }
    for (const auto& [name, value] : pairs) {
      if (name == "Version" && value == kApiVersion) {
        return WireProtocol::Query;
      }
    }
  }
  return std::nullopt;
}

api::ApiResult<DecodedRequest> decodeRequest(WireProtocol protocol,
                                             const api::HttpRequestView& request) {
  DecodedRequest out;
  out.protocol = protocol;
  switch (protocol) {
    case WireProtocol::Query: {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (std::string_view text : {request.query, request.body}) {
        std::string bad;
        if (const auto status = api::parseForm(text, pairs, &bad); status != api::FormStatus::Ok) {
          return api::apiError("MalformedQueryString", api::formStatusText(status));
        }
      }
      for (const auto& [name, value] : pairs) {
        if (name == "Action") {
          out.operation = value;
        } else if (name == "Version" || name == "SignatureVersion" || name == "SignatureMethod" ||
                   name == "AWSAccessKeyId" || name == "Timestamp" || name == "Signature") {
          continue;
        } else if (auto placed = placeQueryValue(out.input, name, value); !placed) {
          return std::unexpected(placed.error());
        }
      }
      if (out.operation.empty()) {
        return api::apiError("MissingAction", "The request must contain the parameter Action.");
      }
      return out;
    }
    case WireProtocol::Json: {
      const std::string_view target = header(request, "x-amz-target");
      if (target.starts_with(kJsonTargetPrefix)) {
        out.operation = std::string(target.substr(kJsonTargetPrefix.size()));
      }
      out.input = request.body.empty() ? Json::object() : Json::parse(request.body, nullptr, false);
      if (out.input.is_discarded() || !out.input.is_object()) {
        return serializationError("The request body is not a JSON object.");
      }
      return out;
    }
    case WireProtocol::Cbor: {
      out.operation = std::string(request.path.substr(kCborPathPrefix.size()));
      if (request.body.empty()) {
        return out;
      }
      std::string untagged;
      std::size_t at = 0;
      if (!copyUntagged(request.body, at, untagged, 64) || at != request.body.size()) {
        return serializationError("The request body is not a CBOR map.");
      }
      out.input = Json::from_cbor(untagged, true, false);
      if (out.input.is_discarded() || !out.input.is_object()) {
        return serializationError("The request body is not a CBOR map.");
      }
      return out;
    }
  }
  return out;
}

api::HttpResponse encodeResponse(WireProtocol protocol, std::string_view operation,
                                 const Json& output, std::string_view request_id) {
  api::HttpResponse r;
  r.status = 200;
  r.action = std::string(operation);
  switch (protocol) {
    case WireProtocol::Query: {
      r.content_type = "text/xml";
      const std::string op(operation);
      r.body.reserve(3 * sizeHint(output));  // a member is <member>…</member>
      r.body += "<" + op + "Response xmlns=\"" + std::string(kXmlNamespace) + "\">";
      writeXml(r.body, op + "Result", output);
      r.body += "<ResponseMetadata><RequestId>" + std::string(request_id) +
                "</RequestId></ResponseMetadata></" + op + "Response>\n";
      break;
    }
    case WireProtocol::Json:
      r.content_type = "application/x-amz-json-1.0";
      r.body.reserve(sizeHint(output));
      writeJson(r.body, output);
      r.headers.emplace_back("x-amzn-RequestId", std::string(request_id));
      break;
    case WireProtocol::Cbor:
      r.content_type = "application/cbor";
      r.body = toCbor(output);
      r.headers.emplace_back("smithy-protocol", "rpc-v2-cbor");
      r.headers.emplace_back("x-amzn-RequestId", std::string(request_id));
      break;
  }
  return r;
}

api::HttpResponse encodeError(WireProtocol protocol, const api::ApiError& error,
                              std::string_view request_id) {
  api::HttpResponse r;
  r.status = api::httpStatusOf(error.code);
  r.error_code = error.code;
  const std::string fault = senderFault(error.code) ? "Sender" : "Receiver";
  if (protocol == WireProtocol::Query) {
    r.content_type = "text/xml";
    r.body = "<ErrorResponse xmlns=\"" + std::string(kXmlNamespace) + "\"><Error><Type>" + fault +
             "</Type><Code>";
    appendXmlEscaped(r.body, error.code);
    r.body += "</Code><Message>";
    appendXmlEscaped(r.body, error.message);
    r.body += "</Message></Error><RequestId>" + std::string(request_id) + "</RequestId>" +
              "</ErrorResponse>\n";
    return r;
  }
  // JSON and CBOR: the shape's name, and the Query code for clients (awsQueryCompatible).
  const Json body = {{"__type", exceptionShape(error.code)}, {"message", error.message}};
  r.headers.emplace_back("x-amzn-query-error", error.code + ";" + fault);
  r.headers.emplace_back("x-amzn-RequestId", std::string(request_id));
  if (protocol == WireProtocol::Json) {
    r.content_type = "application/x-amz-json-1.0";
    r.body = body.dump();
  } else {
    r.content_type = "application/cbor";
    r.body = toCbor(body);
    r.headers.emplace_back("smithy-protocol", "rpc-v2-cbor");
  }
  return r;
}

std::optional<double> parseIso8601(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  auto num = [&](std::size_t at, std::size_t len, int& out) {
    const auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + len, out);
    return ec == std::errc{} && end == text.data() + at + len;
  };
  if (!num(0, 4, year) || !num(5, 2, month) || !num(8, 2, day) || !num(11, 2, hour) ||
      !num(14, 2, minute) || !num(17, 2, second) || month < 1 || month > 12 || day < 1 ||
      day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  double fraction = 0;
  if (at < text.size() && text[at] == '.') {
    double scale = 0.1;
    ++at;
    const std::size_t start = at;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])) != 0) {
      fraction += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) {
      return std::nullopt;
    }
  }
  int offset = 0;  // seconds east of UTC
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int oh = 0, om = 0;
    if (text.size() < at + 6 || text[at + 3] != ':' || !num(at + 1, 2, oh) || !num(at + 4, 2, om)) {
      return std::nullopt;
    }
    offset = (text[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    at += 6;
  }
  if (at != text.size()) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t t = ::timegm(&tm);
  return static_cast<double>(t - offset) + fraction;
}

std::string formatIso8601(double unix_seconds) {
  std::string out;
  appendIso8601(out, unix_seconds);
  return out;
}

std::string toCbor(const Json& document) {
  std::string out;
  out.reserve(sizeHint(document) / 2);
  writeCbor(out, document, false);
  return out;
}

}  // namespace tmirror::cloudwatch
