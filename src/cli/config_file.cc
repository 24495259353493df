#include "cli/config_file.h"

#include <algorithm>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

namespace tmirror::cli {

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

bool validKey(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  for (const char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

// The value after '=': a "quoted string" (with \" and \\) or bare text up to a '#' comment.
Result<std::string> parseValue(std::string_view rest, const std::string& where) {
  rest = trim(rest);
  if (rest.empty()) {
    return makeError(ErrorCode::InvalidArgument, where + ": no value after '='");
  }
  if (rest.front() != '"') {
    const auto comment = rest.find('#');
    const std::string_view value = trim(rest.substr(0, comment));
    if (value.empty()) {
      return makeError(ErrorCode::InvalidArgument, where + ": no value after '='");
    }
    return std::string(value);
  }
  std::string value;
  std::size_t i = 1;
  for (; i < rest.size() && rest[i] != '"'; ++i) {
    if (rest[i] == '\\' && i + 1 < rest.size() && (rest[i + 1] == '"' || rest[i + 1] == '\\')) {
      ++i;
    }
    value += rest[i];
  }
  if (i >= rest.size()) {
    return makeError(ErrorCode::InvalidArgument, where + ": the quoted value does not end");
  }
  const std::string_view after = trim(rest.substr(i + 1));
  if (!after.empty() && after.front() != '#') {
    return makeError(ErrorCode::InvalidArgument,
                     where + ": unexpected text after the quoted value: " + std::string(after));
  }
  return value;
}

Result<bool> parseBool(const std::string& value, const std::string& where, const std::string& key) {
  static const std::map<std::string, bool, std::less<>> kWords = {
      {"true", true},   {"yes", true}, {"on", true},   {"1", true},
      {"false", false}, {"no", false}, {"off", false}, {"0", false}};
  const auto it = kWords.find(value);
  if (it == kWords.end()) {
    return makeError(ErrorCode::InvalidArgument,
                     where + ": " + key + " is a flag: true or false, not '" + value + "'");
  }
  return it->second;
}

ConfigKey keyOf(const CLI::App& command, const std::string& key) {
  const CLI::Option* option = command.get_option_no_throw("--" + key);
  if (option == nullptr || !option->get_configurable()) {
    return ConfigKey::Unknown;
  }
  if (option->get_expected_min() == 0) {
    return ConfigKey::Flag;
  }
  return option->get_items_expected_max() > 1 ? ConfigKey::Repeatable : ConfigKey::Single;
}

class ConfigReader final : public CLI::Config {
 public:
  ConfigReader(const CLI::App* command, std::string file)
      : command_(command), file_(std::move(file)) {}

  std::string to_config(const CLI::App* app, bool default_also, bool /*write_description*/,
                        std::string /*prefix*/) const override {
    std::string out;
    for (const CLI::Option* option : app->get_options()) {
      if (!option->get_configurable() || option->get_lnames().empty()) {
        continue;
      }
      const std::string& key = option->get_lnames().front();
      const auto& results = option->results();
      if (!results.empty()) {
        for (const auto& value : results) {
          out += key + " = \"" + value + "\"\n";
        }
      } else if (default_also && !option->get_default_str().empty()) {
        out += key + " = \"" + option->get_default_str() + "\"\n";
      }
    }
    return out;
  }

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::stringstream text;
    text << input.rdbuf();
    auto settings = parseConfigText(
        text.str(), file_, [this](const std::string& key) { return keyOf(*command_, key); });
    if (!settings) {
      throw CLI::ConfigError(settings.error().message);
    }
    std::vector<CLI::ConfigItem> out;
    for (auto& setting : *settings) {
      CLI::ConfigItem item;
      item.parents = {command_->get_name()};
      item.name = setting.key;
      item.inputs = std::move(setting.values);
      out.push_back(std::move(item));
    }
    return out;
  }

 private:
  const CLI::App* command_;
  std::string file_;
};

}  // namespace

Result<std::vector<ConfigSetting>> parseConfigText(
    std::string_view text, const std::string& file,
    const std::function<ConfigKey(const std::string&)>& kind) {
  std::vector<ConfigSetting> out;
  std::map<std::string, int> first_line;  // key -> where it first appears
  int number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const std::string where = file + ":" + std::to_string(number);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      return makeError(ErrorCode::InvalidArgument,
                       where + ": expected 'key = value', got '" + std::string(line) + "'");
    }
    const std::string key(trim(line.substr(0, equals)));
    if (!validKey(key)) {
      return makeError(ErrorCode::InvalidArgument,
                       where + ": '" + key +
                           "' is not a key (keys are long flags without their dashes, e.g. "
                           "log-level)");
    }
    const ConfigKey what = key == "config" ? ConfigKey::Unknown : kind(key);
    if (what == ConfigKey::Unknown) {
      return makeError(ErrorCode::InvalidArgument, where + ": unknown key '" + key + "'");
    }
    auto value = parseValue(line.substr(equals + 1), where);
    if (!value) {
      return std::unexpected(value.error());
    }
    if (const auto first = first_line.find(key); first != first_line.end()) {
      if (what != ConfigKey::Repeatable) {
        return makeError(ErrorCode::InvalidArgument, where + ": " + key +
                                                         " is set twice (first on line " +
                                                         std::to_string(first->second) + ")");
      }
      std::ranges::find(out, key, &ConfigSetting::key)->values.push_back(std::move(*value));
      continue;
    }
    first_line.emplace(key, number);
    if (what == ConfigKey::Flag) {
      auto on = parseBool(*value, where, key);
      if (!on) {
        return std::unexpected(on.error());
      }
      if (*on) {  // a false flag leaves the default
        out.push_back({key, {"true"}, number});
      }
      continue;
    }
    out.push_back({key, {std::move(*value)}, number});
  }
  return out;
}

std::string defaultConfigFile(const std::string& subcommand) {
  return "/etc/tmirror/" + (subcommand == "collect" ? std::string("collector") : subcommand) +
         ".conf";
}

std::shared_ptr<CLI::Config> makeConfigReader(const CLI::App* command, std::string file) {
  return std::make_shared<ConfigReader>(command, std::move(file));
}

}  // namespace tmirror::cli
