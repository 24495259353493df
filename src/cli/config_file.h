// The daemons' settings files: /etc/tmirror/{server,agent,collector,up}.conf by default, or
// --config FILE (--config "" reads none). One setting per line, named as the long flag without its
// dashes:
//
//   # tmirror agent
//   server = https://tmirror-a.example:8900
//   server = https://tmirror-b.example:8900   # a repeatable flag: one line per value
//   token = "tmt-…"                            # quotes keep '#' and spaces
//   no-kernel-prefilter = true                 # a flag: true or false
//
// A flag on the command line wins over the file. An unknown key, a flag given twice that takes
// one value, or a line that is not `key = value` is an error naming the file and the line.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace CLI {
class App;
class Config;
}  // namespace CLI

namespace tmirror::cli {

enum class ConfigKey {
  Unknown,     // no such flag
  Single,      // takes one value
  Repeatable,  // takes a value per line
  Flag,        // true or false
};

struct ConfigSetting {
  std::string key;
  std::vector<std::string> values;  // a flag's: "true" (a false flag is left out)
  int line = 0;                     // where the key first appears
};

// Parses a file's text; `kind` says what each key is. Errors say "FILE:LINE: ...".
Result<std::vector<ConfigSetting>> parseConfigText(
    std::string_view text, const std::string& file,
    const std::function<ConfigKey(const std::string&)>& kind);

// The default file of a subcommand: /etc/tmirror/<name>.conf (collector.conf for collect).
std::string defaultConfigFile(const std::string& subcommand);

// A CLI11 config reader for `command`'s options (a subcommand of the app it is given to),
// reading `file` (named in errors).
std::shared_ptr<CLI::Config> makeConfigReader(const CLI::App* command, std::string file);

}  // namespace tmirror::cli
