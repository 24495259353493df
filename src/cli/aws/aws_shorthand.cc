// A port of awscli/shorthand.py (ShorthandParser, aws-cli v2), including its backtracking in
// comma-separated values ("a=b,c,d=e" is {"a": ["b", "c"], "d": "e"}) and its error texts; then
// awscli's argprocess (JSON or shorthand, BackCompatVisitor typing) and botocore's validator.
#include "cli/aws/aws_shorthand.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

namespace tmirror::cli {

namespace {

using Json = nlohmann::ordered_json;

// Python's str.isspace() for the ASCII range (\s of the CLI's regexes).
bool isPySpace(unsigned char c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
}

// The CLI's character classes; every non-ASCII byte is in all of them, as code points
// U+0080..U+FFFF are.
bool inStartWord(unsigned char c) {
  return c == '!' || (c >= '#' && c <= '&') || (c >= '(' && c <= '+') || (c >= '-' && c <= '<') ||
         (c >= '>' && c <= 'Z') || (c >= '\\' && c <= 'z') || c >= '|';
}

bool inFirstFollow(unsigned char c) {
  return isPySpace(c) || c == '!' || (c >= '#' && c <= '&') || (c >= '(' && c <= '+') ||
         (c >= '-' && c <= '\\') || (c >= '^' && c <= '|') || c >= '~';
}

bool inSecondFollow(unsigned char c) {
  return isPySpace(c) || c == '!' || (c >= '#' && c <= '&') || (c >= '(' && c <= '+') ||
         (c >= '-' && c <= '<') || c >= '>';
}

bool inKey(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '#' || c == '/' || c == ':';
}

std::string replaceAll(std::string text, std::string_view from, std::string_view to) {
  std::size_t at = 0;
  while ((at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

std::string rstripPy(std::string text) {
  while (!text.empty() && isPySpace(static_cast<unsigned char>(text.back()))) {
    text.pop_back();
  }
  return text;
}

// Code points in `bytes` (Python indexes by code point, for the caret under the input).
std::size_t codePoints(std::string_view bytes) {
  std::size_t n = 0;
  for (unsigned char c : bytes) {
    n += (c & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

struct SyntaxError {
  std::string message;
};

template <typename T>
using Parsed = std::expected<T, SyntaxError>;

class ShorthandParser {
 public:
  explicit ShorthandParser(std::string_view input) : in_(input) {}

  Parsed<Json> parameter() {
    Json params = Json::object();
    auto first = keyval();
    if (!first) {
      return std::unexpected(first.error());
    }
    params[first->first] = std::move(first->second);
    std::size_t last_index = pos_;
    while (pos_ < in_.size()) {
      if (auto ok = expect(',', true); !ok) {
        return std::unexpected(ok.error());
      }
      auto kv = keyval();
      if (!kv) {
        return std::unexpected(kv.error());
      }
      if (params.contains(kv->first)) {
        return std::unexpected(
            SyntaxError{"Second instance of key \"" + kv->first + "\" encountered for input:\n" +
                        errorLocation(last_index + 1) +
                        "\nThis is often because there is a preceding \",\" instead of a space."});
      }
      params[kv->first] = std::move(kv->second);
      last_index = pos_;
    }
    return params;
  }

 private:
  bool atEof() const { return pos_ >= in_.size(); }

  // -1 stands for Python's _EOF sentinel.
  int current() const { return atEof() ? -1 : static_cast<unsigned char>(in_[pos_]); }

  std::string errorLocation(std::size_t index) const {
    std::string_view consumed = in_;
    std::string_view remaining;
    index = std::min(index, in_.size());
    std::size_t spaces = codePoints(in_.substr(0, index));
    const auto before = in_.substr(0, index);
    if (const auto nl = before.rfind('\n'); nl != std::string_view::npos) {
      spaces = codePoints(in_.substr(nl + 1, index - nl - 1));
    }
    if (const auto nl = in_.find('\n', index); nl != std::string_view::npos) {
      consumed = in_.substr(0, nl);
      remaining = in_.substr(nl);
    }
    return std::string(consumed) + "\n" + std::string(spaces, ' ') + "^" + std::string(remaining);
  }

  SyntaxError syntaxError(std::string_view expected, std::string_view actual) const {
    return SyntaxError{"Expected: '" + std::string(expected) + "', received: '" +
                       std::string(actual) + "' for input:\n" + errorLocation(pos_)};
  }

  void consumeWhitespace() {
    while (!atEof() && isPySpace(static_cast<unsigned char>(in_[pos_]))) {
      ++pos_;
    }
  }

  Parsed<void> expect(char c, bool consume_whitespace = false) {
    if (consume_whitespace) {
      consumeWhitespace();
    }
    if (atEof()) {
      return std::unexpected(syntaxError(std::string(1, c), "EOF"));
    }
    if (in_[pos_] != c) {
      return std::unexpected(syntaxError(std::string(1, c), std::string(1, in_[pos_])));
    }
    ++pos_;
    if (consume_whitespace) {
      consumeWhitespace();
    }
    return {};
  }

  Parsed<std::pair<std::string, Json>> keyval() {
    std::string key = this->key();
    if (auto ok = expect('=', true); !ok) {
      return std::unexpected(ok.error());
    }
    auto value = values();
    if (!value) {
      return std::unexpected(value.error());
    }
    return std::pair{std::move(key), std::move(*value)};
  }

  std::string key() {
    const auto start = pos_;
    while (!atEof() && inKey(static_cast<unsigned char>(in_[pos_]))) {
      ++pos_;
    }
    return std::string(in_.substr(start, pos_ - start));
  }

  Parsed<Json> values() {
    if (atEof()) {
      return Json("");
    }
    if (current() == '[') {
      return explicitList();
    }
    if (current() == '{') {
      return hashLiteral();
    }
    return csvValue();
  }

  Parsed<Json> csvValue() {
    auto first = firstValue();
    if (!first) {
      return first;
    }
    consumeWhitespace();
    if (atEof() || in_[pos_] != ',') {
      return first;
    }
    if (auto ok = expect(',', true); !ok) {
      return std::unexpected(ok.error());
    }
    Json list = Json::array({std::move(*first)});
    while (true) {
      auto next = secondValue();
      Parsed<void> separated;
      if (next) {
        consumeWhitespace();
        if (atEof()) {
          list.push_back(std::move(*next));
          break;
        }
        separated = expect(',', true);
        if (separated) {
          list.push_back(std::move(*next));
          continue;
        }
      }
      // Not another value ("a=b,c=d" at "c="): back to the comma, the value is what we have.
      if (atEof()) {
        return std::unexpected(next ? separated.error() : next.error());
      }
      while (pos_ > 0 && in_[pos_] != ',') {
        --pos_;
      }
      break;
    }
    if (list.size() == 1) {
      return list[0];
    }
    return list;
  }

  // (\\, | [start]) (\\, | [follow])*; nullopt when not even one character matches.
  std::optional<std::string> unquotedRun(bool (*follow)(unsigned char)) {
    auto step = [&](std::size_t at, bool (*cls)(unsigned char)) -> std::size_t {
      if (in_.substr(at).starts_with("\\,")) {
        return 2;
      }
      return at < in_.size() && cls(static_cast<unsigned char>(in_[at])) ? 1 : 0;
    };
    std::size_t end = pos_;
    std::size_t n = step(end, inStartWord);
    if (n == 0) {
      return std::nullopt;
    }
    end += n;
    while ((n = step(end, follow)) != 0) {
      end += n;
    }
    std::string run(in_.substr(pos_, end - pos_));
    pos_ = end;
    return rstripPy(replaceAll(std::move(run), "\\,", ","));
  }

  // '(?:\\\\|\\'|[^'])*' (or with "), with the regex's backtracking: the first match in the
  // regex engine's order, found right to left in linear time.
  Parsed<Json> quotedValue(char quote) {
    const std::size_t start = pos_ + 1;
    const std::size_t n = in_.size();
    constexpr std::size_t kNone = std::string_view::npos;
    std::vector<std::size_t> end_from(n + 3, kNone);  // end of the match from an X* at i
    for (std::size_t i = n + 1; i-- > start;) {
      std::size_t found = kNone;
      if (i + 1 < n && in_[i] == '\\' && (in_[i + 1] == '\\' || in_[i + 1] == quote)) {
        found = end_from[i + 2];
      }
      if (found == kNone && i < n && in_[i] != quote) {
        found = end_from[i + 1];
      }
      if (found == kNone && i < n && in_[i] == quote) {
        found = i + 1;
      }
      end_from[i] = found;
    }
    if (start > n || end_from[start] == kNone) {
      return std::unexpected(
          syntaxError(quote == '\'' ? "<singled quoted>" : "<double quoted>", "<none>"));
    }
    const std::size_t end = end_from[start];
    std::string inner(in_.substr(start, end - 1 - start));
    pos_ = end;
    inner = replaceAll(std::move(inner), std::string("\\") + quote, std::string(1, quote));
    return Json(replaceAll(std::move(inner), "\\\\", "\\"));
  }

  Parsed<Json> firstValue() {
    if (current() == '\'' || current() == '"') {
      return quotedValue(static_cast<char>(current()));
    }
    return Json(unquotedRun(inFirstFollow).value_or(""));
  }

  Parsed<Json> secondValue() {
    if (current() == '\'' || current() == '"') {
      return quotedValue(static_cast<char>(current()));
    }
    auto run = unquotedRun(inSecondFollow);
    if (!run) {
      return std::unexpected(syntaxError("<second>", "<none>"));
    }
    return Json(std::move(*run));
  }

  Parsed<Json> explicitValues() {
    if (current() == '[') {
      return explicitList();
    }
    if (current() == '{') {
      return hashLiteral();
    }
    return firstValue();
  }

  Parsed<Json> explicitList() {
    if (auto ok = expect('[', true); !ok) {
      return std::unexpected(ok.error());
    }
    Json list = Json::array();
    while (current() != ']') {
      auto value = explicitValues();
      if (!value) {
        return value;
      }
      list.push_back(std::move(*value));
      consumeWhitespace();
      if (current() != ']') {
        if (auto ok = expect(','); !ok) {
          return std::unexpected(ok.error());
        }
        consumeWhitespace();
      }
    }
    if (auto ok = expect(']'); !ok) {
      return std::unexpected(ok.error());
    }
    return list;
  }

  Parsed<Json> hashLiteral() {
    if (auto ok = expect('{', true); !ok) {
      return std::unexpected(ok.error());
    }
    Json object = Json::object();
    while (current() != '}') {
      std::string k = key();
      if (auto ok = expect('=', true); !ok) {
        return std::unexpected(ok.error());
      }
      auto value = explicitValues();
      if (!value) {
        return value;
      }
      consumeWhitespace();
      if (current() != '}') {
        if (auto ok = expect(','); !ok) {
          return std::unexpected(ok.error());
        }
        consumeWhitespace();
      }
      object[k] = std::move(*value);
    }
    if (auto ok = expect('}'); !ok) {
      return std::unexpected(ok.error());
    }
    return object;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

constexpr int kExitUsage = 252;
constexpr int kExitOther = 255;  // what aws exits with when Python raised

// --- Python's view of values, for aws's messages -------------------------------------------

std::string pyQuoteImpl(std::string_view text) {
  const char quote =
      text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos ? '"'
                                                                                            : '\'';
  std::string out(1, quote);
  for (char c : text) {
    if (c == '\\' || c == quote) {
      out += '\\';
    }
    out += c;
  }
  return out + quote;
}

std::string pyStr(const Json& value);

std::string pyRepr(const Json& value) {
  return value.is_string() ? pyQuoteImpl(value.get_ref<const std::string&>()) : pyStr(value);
}

std::string pyStr(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::boolean:
      return value.get<bool>() ? "True" : "False";
    case Json::value_t::null:
      return "None";
    case Json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < value.size(); ++i) {
        out += (i != 0 ? ", " : "") + pyRepr(value[i]);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : value.items()) {
        out += (first ? "" : ", ") + pyQuoteImpl(k) + ": " + pyRepr(v);
        first = false;
      }
      return out + "}";
    }
    default:
      return value.dump();
  }
}

std::string pyType(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return "<class 'str'>";
    case Json::value_t::boolean:
      return "<class 'bool'>";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "<class 'int'>";
    case Json::value_t::number_float:
      return "<class 'float'>";
    case Json::value_t::array:
      return "<class 'list'>";
    case Json::value_t::object:
      return "<class 'dict'>";
    default:
      return "<class 'NoneType'>";
  }
}

// botocore's BackCompatVisitor: shorthand gives strings; the model makes them integers,
// booleans ("true"/"false" only) and one-element lists.
std::optional<ArgumentError> coerceShorthand(Json& value, const Shape& shape) {
  switch (shape.kind) {
    case ShapeKind::Structure:
      if (value.is_object()) {
        for (const auto& m : shape.members) {
          const std::string key(m.name);
          if (value.contains(key)) {
            if (auto failed = coerceShorthand(value[key], *m.shape)) {
              return failed;
            }
          }
        }
      }
      return std::nullopt;
    case ShapeKind::List:
      if (!value.is_array()) {
        value = Json::array({std::move(value)});
        return std::nullopt;
      }
      for (auto& element : value) {
        if (auto failed = coerceShorthand(element, *shape.element)) {
          return failed;
        }
      }
      return std::nullopt;
    case ShapeKind::Integer: {
      if (!value.is_string()) {
        return ArgumentError{
            "\nint() argument must be a string, a bytes-like object or a real "
            "number, not '" +
                std::string(value.is_array() ? "list" : "dict") + "'\n",
            kExitOther};
      }
      auto number = pythonInt(value.get_ref<const std::string&>());
      if (!number) {
        return invalidIntLiteral(value.get_ref<const std::string&>());
      }
      value = *number;
      return std::nullopt;
    }
    case ShapeKind::Boolean:
      if (value.is_string()) {
        std::string lower = value.get<std::string>();
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower == "true" || lower == "false") {
          value = lower == "true";
        }
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::expected<Json, ArgumentError> parseJsonValue(std::string_view option,
                                                  const std::string& text) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return std::unexpected(argumentError(
        option, "Invalid JSON: " + std::string(e.what()) + "\nJSON received: " + text));
  }
}

bool startsLikeJson(std::string_view text, char open) {
  const auto first = text.find_first_not_of(" \t\r\n\f\v");
  return first != std::string_view::npos && text[first] == open;
}

}  // namespace

Result<nlohmann::ordered_json> parseShorthand(std::string_view text) {
  auto parsed = ShorthandParser(text).parameter();
  if (!parsed) {
    return makeError(ErrorCode::InvalidArgument, std::move(parsed.error().message));
  }
  return std::move(*parsed);
}

std::string pythonRepr(std::string_view text) {
  return pyQuoteImpl(text);
}

ArgumentError argumentError(std::string_view option, std::string_view message) {
  return {
      "\nError parsing parameter '--" + std::string(option) + "': " + std::string(message) + "\n",
      kExitUsage};
}

std::optional<int64_t> pythonInt(std::string_view text) {
  while (!text.empty() && isPySpace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && isPySpace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  std::string digits;
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != '_' || i == 0 || i + 1 == text.size() || text[i + 1] == '_') {
      return std::nullopt;
    }
  }
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

ArgumentError invalidIntLiteral(std::string_view text) {
  return {"\ninvalid literal for int() with base 10: " + pythonRepr(text) + "\n", kExitOther};
}

// One option's text(s) to its value, as awscli's argprocess does.
std::expected<Json, ArgumentError> unpackArgument(std::string_view name, const Shape& shape,
                                                  const std::vector<std::string>& raw) {
  switch (shape.kind) {
    case ShapeKind::String:
    case ShapeKind::Timestamp:
      return Json(raw.front());
    case ShapeKind::Integer: {
      auto number = pythonInt(raw.front());
      if (!number) {
        return std::unexpected(invalidIntLiteral(raw.front()));
      }
      return Json(*number);
    }
    case ShapeKind::Boolean:
      return Json(true);  // flags are handled by the caller
    case ShapeKind::Structure: {
      const std::string& text = raw.front();
      if (startsLikeJson(text, '{')) {
        return parseJsonValue(name, text);
      }
      if (startsLikeJson(text, '[')) {
        return std::unexpected(argumentError(name, "Invalid JSON:\n" + text));
      }
      auto parsed = parseShorthand(text);
      if (!parsed) {
        return std::unexpected(argumentError(name, parsed.error().message));
      }
      if (auto failed = coerceShorthand(*parsed, shape)) {
        return std::unexpected(*failed);
      }
      return std::move(*parsed);
    }
    case ShapeKind::List: {
      if (raw.size() == 1 && startsLikeJson(raw.front(), '[')) {
        return parseJsonValue(name, raw.front());
      }
      Json list = Json::array();
      const Shape& element = *shape.element;
      if (element.kind != ShapeKind::Structure) {
        for (const auto& text : raw) {
          if (element.kind == ShapeKind::Integer) {
            auto number = pythonInt(text);
            if (!number) {
              return std::unexpected(invalidIntLiteral(text));
            }
            list.push_back(*number);
          } else {
            list.push_back(text);
          }
        }
        return list;
      }
      const bool json_items =
          !raw.empty() && (startsLikeJson(raw.front(), '{') || startsLikeJson(raw.front(), '['));
      for (const auto& text : raw) {
        if (json_items) {
          if (!startsLikeJson(text, '{')) {
            return std::unexpected(argumentError(name, "Invalid JSON:\n" + text));
          }
          auto item = parseJsonValue(name, text);
          if (!item) {
            return item;
          }
          list.push_back(std::move(*item));
          continue;
        }
        auto parsed = parseShorthand(text);
        if (!parsed) {
          return std::unexpected(argumentError(name, parsed.error().message));
        }
        list.push_back(std::move(*parsed));
      }
      if (!json_items) {
        if (auto failed = coerceShorthand(list, shape)) {
          return std::unexpected(*failed);
        }
      }
      return list;
    }
  }
  return std::unexpected(ArgumentError{"\ninternal error: unknown shape\n", kExitOther});
}

// botocore's ParamValidator: types, unknown keys, the model's minimums.
void validateArgument(const Json& value, const Shape& shape, const std::string& path,
                      std::vector<std::string>& errors) {
  auto invalidType = [&](std::string_view valid) {
    errors.push_back("Invalid type for parameter " + path + ", value: " + pyStr(value) +
                     ", type: " + pyType(value) + ", valid types: " + std::string(valid));
  };
  switch (shape.kind) {
    case ShapeKind::String:
    case ShapeKind::Timestamp:
      if (!value.is_string()) {
        invalidType("<class 'str'>");
      }
      return;
    case ShapeKind::Boolean:
      if (!value.is_boolean()) {
        invalidType("<class 'bool'>");
      }
      return;
    case ShapeKind::Integer:
      if (!value.is_number_integer()) {
        invalidType("<class 'int'>");
      } else if (shape.min && value.is_number_integer() && !value.is_number_unsigned() &&
                 value.get<int64_t>() < *shape.min) {
        errors.push_back("Invalid value for parameter " + path + ", value: " + pyStr(value) +
                         ", valid min value: " + std::to_string(*shape.min));
      } else if (shape.min && value.is_number_unsigned() &&
                 value.get<uint64_t>() < static_cast<uint64_t>(std::max<int64_t>(*shape.min, 0))) {
        errors.push_back("Invalid value for parameter " + path + ", value: " + pyStr(value) +
                         ", valid min value: " + std::to_string(*shape.min));
      }
      return;
    case ShapeKind::List:
      if (!value.is_array()) {
        invalidType("<class 'list'>, <class 'tuple'>");
        return;
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        validateArgument(value[i], *shape.element, path + "[" + std::to_string(i) + "]", errors);
      }
      return;
    case ShapeKind::Structure: {
      if (!value.is_object()) {
        invalidType("<class 'dict'>");
        return;
      }
      // Unknown keys first, then the known ones in order, as botocore reports them.
      auto memberOf = [&](const std::string& key) {
        return std::find_if(shape.members.begin(), shape.members.end(),
                            [&](const Member& m) { return m.name == key; });
      };
      for (const auto& [key, member_value] : value.items()) {
        if (memberOf(key) == shape.members.end()) {
          std::string names;
          for (const auto& m : shape.members) {
            names += (names.empty() ? "" : ", ") + std::string(m.name);
          }
          errors.push_back("Unknown parameter in " + (path.empty() ? "input" : path) + ": \"" +
                           key + "\", must be one of: " + names);
        }
      }
      for (const auto& [key, member_value] : value.items()) {
        if (const auto member = memberOf(key); member != shape.members.end()) {
          validateArgument(member_value, *member->shape, path.empty() ? key : path + "." + key,
                           errors);
        }
      }
      return;
    }
  }
}

}  // namespace tmirror::cli
