#include "common/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "common/utf8.h"

namespace tmirror::log {

namespace {

// Each level: its name in lines and flags, and the syslog priority of sd-daemon(3)'s "<N>"
// prefix (the journal files the line under it).
struct LevelInfo {
  spdlog::level::level_enum level;
  std::string_view name;
  char priority;
};

constexpr LevelInfo kLevels[] = {
    {spdlog::level::trace, "trace", '7'}, {spdlog::level::debug, "debug", '7'},
    {spdlog::level::info, "info", '6'},   {spdlog::level::warn, "warn", '4'},
    {spdlog::level::err, "error", '3'},   {spdlog::level::critical, "crit", '2'},
    {spdlog::level::off, "off", '2'}};

const LevelInfo& infoOf(spdlog::level::level_enum level) {
  for (const auto& info : kLevels) {
    if (info.level == level) {
      return info;
    }
  }
  return kLevels[std::size(kLevels) - 1];
}

void appendTime(spdlog::log_clock::time_point when, spdlog::memory_buf_t& dest) {
  const auto since = when.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds);
  const std::time_t t = seconds.count();
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char text[32];
  const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                              utc.tm_min, utc.tm_sec, static_cast<int>(millis.count()));
  dest.append(text, text + n);
}

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

class LineFormatter final : public spdlog::formatter {
 public:
  LineFormatter(Format format, bool timestamps, bool journal)
      : format_(format), timestamps_(timestamps), journal_(journal) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view component(msg.logger_name.data(), msg.logger_name.size());
    const std::string_view message(msg.payload.data(), msg.payload.size());
    if (journal_) {
      const char prefix[3] = {'<', infoOf(msg.level).priority, '>'};
      dest.append(prefix, prefix + 3);
    }
    if (format_ == Format::Json) {
      append(dest, "{\"time\":\"");
      appendTime(msg.time, dest);
      append(dest, "\",\"level\":\"");
      append(dest, infoOf(msg.level).name);
      append(dest, "\",\"component\":");
      append(dest, jsonString(component));
      append(dest, ",\"message\":");
      append(dest, jsonString(message));
      append(dest, "}\n");
      return;
    }
    if (timestamps_) {
      appendTime(msg.time, dest);
      dest.push_back(' ');
      const std::string_view level = infoOf(msg.level).name;
      append(dest, level);
      dest.append("      ", "      " + (6 - std::min<std::size_t>(level.size(), 5)));
    }
    append(dest, component);
    append(dest, ": ");
    // One event, one line: a journal entry or a grep hit must not be split.
    for (const char c : message) {
      dest.push_back(c == '\n' || c == '\r' ? ' ' : c);
    }
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_, timestamps_, journal_);
  }

 private:
  Format format_;
  bool timestamps_;
  bool journal_;
};

std::unique_ptr<spdlog::formatter> makeFormatter(const Settings& settings) {
  const bool journal = stderrIsJournal();
  return std::make_unique<LineFormatter>(settings.format, settings.timestamps.value_or(!journal),
                                         journal);
}

struct State {
  std::mutex mutex;
  std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink =
      std::make_shared<spdlog::sinks::stderr_sink_mt>();
  Settings settings;  // until configure(): text at info

  State() { sink->set_formatter(makeFormatter(settings)); }
};

State& state() {
  static State* s = new State;  // never destroyed: threads may log while the process exits
  return *s;
}

}  // namespace

Result<spdlog::level::level_enum> parseLevel(std::string_view text) {
  if (text == "warning") {
    return spdlog::level::warn;
  }
  for (const auto& info : kLevels) {
    if (text == info.name && info.level != spdlog::level::critical) {
      return info.level;
    }
  }
  return makeError(ErrorCode::InvalidArgument, "log level '" + std::string(text) +
                                                   "' is not one of trace, debug, info, warn, "
                                                   "error, off");
}

Result<Format> parseFormat(std::string_view text) {
  if (text == "text") {
    return Format::Text;
  }
  if (text == "json") {
    return Format::Json;
  }
  return makeError(ErrorCode::InvalidArgument,
                   "log format '" + std::string(text) + "' is not one of text, json");
}

void configure(const Settings& settings) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.settings = settings;
  s.sink->set_formatter(makeFormatter(settings));
  spdlog::apply_all(
      [&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(settings.level); });
}

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  if (auto found = spdlog::get(component)) {
    return found;
  }
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (auto found = spdlog::get(component)) {
    return found;
  }
  auto made = std::make_shared<spdlog::logger>(component, s.sink);
  made->set_level(s.settings.level);
  spdlog::register_logger(made);
  return made;
}

bool stderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) {
    return false;
  }
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) {
    return false;
  }

  struct stat st {};

  return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  // A message that is not UTF-8 (bytes from the outside) keeps every byte, as \u00XX.
  const bool utf8 = isValidUtf8(text);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || (u >= 0x80 && !utf8)) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace tmirror::log
