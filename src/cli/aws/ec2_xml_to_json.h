// EC2 Query responses as the AWS CLI prints them: the XML converted with the botocore model's
// member names and types (trafficMirrorSessionSet -> TrafficMirrorSessions, "true" -> true),
// requestId dropped, members in model order. Also the shape types the verb tables use.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace tmirror::cli {

enum class ShapeKind : uint8_t { String, Integer, Boolean, Timestamp, Structure, List };

struct Shape;

// One member of a structure: its model name (the JSON key) and its name on the wire, which is
// the query key for requests ("Tag" for Tags) and the XML element for responses ("tagSet").
struct Member {
  std::string_view name;
  std::string_view wire;  // empty: same as `name`
  const Shape* shape = nullptr;

  constexpr std::string_view wireName() const { return wire.empty() ? name : wire; }
};

struct Shape {
  ShapeKind kind = ShapeKind::String;
  std::span<const Member> members = {};  // Structure
  const Shape* element = nullptr;        // List
  std::optional<int64_t> min = {};       // Integer: the model's "min" (botocore checks it)
};

constexpr Shape structureShape(std::span<const Member> members) {
  return Shape{ShapeKind::Structure, members, nullptr, {}};
}

constexpr Shape listShape(const Shape* element) {
  return Shape{ShapeKind::List, {}, element, {}};
}

constexpr Shape integerShape(int64_t min) {
  return Shape{ShapeKind::Integer, {}, nullptr, min};
}

inline constexpr Shape kString{ShapeKind::String};
inline constexpr Shape kInteger{ShapeKind::Integer};
inline constexpr Shape kBoolean{ShapeKind::Boolean};
inline constexpr Shape kTimestamp{ShapeKind::Timestamp};
inline constexpr Shape kStringList = listShape(&kString);

// The output shape of one of the operations tmirror's verbs call. nullopt for an operation the
// table does not know; a null pointer for one that returns nothing (CreateTags).
std::optional<const Shape*> ec2OutputShape(std::string_view operation);

// A success document converted as botocore's EC2QueryParser does: members found by their XML
// name (namespaces ignored), unknown elements skipped, lists from their children, "" for an
// empty string element, booleans true only for "true". An error for malformed XML or a number
// that does not parse.
Result<nlohmann::ordered_json> ec2XmlToJson(std::string_view xml, const Shape* output);

struct Ec2ErrorResponse {
  std::string code;
  std::string message;
};

// <Response><Errors><Error><Code/><Message/>...; nullopt when `xml` is not that.
std::optional<Ec2ErrorResponse> parseEc2Error(std::string_view xml);

// What `aws --output json` prints: 4-space indentation, non-ASCII kept, a final newline; nothing
// at all for an empty object.
std::string formatAwsJson(const nlohmann::ordered_json& value);

}  // namespace tmirror::cli
