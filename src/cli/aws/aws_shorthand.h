// How aws reads option values: its shorthand syntax ("Key=a,Value=b",
// "ResourceType=x,Tags=[{Key=k,Value=v}]", parsed exactly as awscli/shorthand.py's
// ShorthandParser does, every scalar a string), JSON for values starting with '{' or '[', the
// model's typing of shorthand (awscli's BackCompatVisitor), and botocore's validation, with
// aws's messages and exit codes.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/aws/ec2_xml_to_json.h"
#include "common/result.h"

namespace tmirror::cli {

// A value aws refuses while reading arguments: the text it prints on stderr (newlines included)
// and its exit code: 252, or 255 where aws lets Python's int() fail.
struct ArgumentError {
  std::string text;
  int exit_code = 252;
};

// An object of strings, lists and objects. The error message is the CLI's, e.g.
// "Expected: ',', received: 'EOF' for input:\nA=[b\n    ^".
Result<nlohmann::ordered_json> parseShorthand(std::string_view text);

// One option's words to its value, as awscli's argprocess does: JSON when the (first) word
// starts with '{' or '[', else shorthand typed by `shape`; list options take several words.
// `option` (without "--") names it in messages.
std::expected<nlohmann::ordered_json, ArgumentError> unpackArgument(
    std::string_view option, const Shape& shape, const std::vector<std::string>& words);

// botocore's ParamValidator for one parameter: appends its messages ("Unknown parameter in
// Filters[0]: ...", "Invalid type for parameter ...", "Invalid value for parameter ...").
void validateArgument(const nlohmann::ordered_json& value, const Shape& shape,
                      const std::string& path, std::vector<std::string>& errors);

// "\nError parsing parameter '--option': message\n", exit 252.
ArgumentError argumentError(std::string_view option, std::string_view message);

// Python's int(): whitespace around, a sign, '_' between digits.
std::optional<int64_t> pythonInt(std::string_view text);

// "\ninvalid literal for int() with base 10: 'x'\n", exit 255, as aws prints it.
ArgumentError invalidIntLiteral(std::string_view text);

// Python's repr() of a str: 'text' (or "text" when it holds a quote).
std::string pythonRepr(std::string_view text);

}  // namespace tmirror::cli
