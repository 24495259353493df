// The one logging facility of every tmirror daemon: spdlog loggers per component ("agent",
// "server", "collector", ...) sharing one stderr sink and one format. Logs are for operators:
// one line per event that matters, with the resource IDs and addresses in it.
//
// Three formats:
//   text      2026-12-07T16:20:00.123Z warn  agent: ...     (a terminal, a file)
//   journal   <4>agent: ...                                  (stderr is systemd's journal: the
//             journal adds the time, and reads the level from the sd-daemon "<N>" prefix)
//   json      {"time":"...","level":"warn","component":"agent","message":"..."}
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/result.h"

namespace tmirror::log {

enum class Format { Text, Json };

struct Settings {
  spdlog::level::level_enum level = spdlog::level::info;
  Format format = Format::Text;
  // Text lines without their time: by default when stderr is the journal (JOURNAL_STREAM).
  std::optional<bool> timestamps;
};

// "trace", "debug", "info", "warn" (or "warning"), "error", "off".
Result<spdlog::level::level_enum> parseLevel(std::string_view text);
// "text" or "json".
Result<Format> parseFormat(std::string_view text);

// Sets the level and format of every logger, those made before and after. Call it once the
// options are parsed; until then loggers write text at info.
void configure(const Settings& settings);

// The logger of one component, made on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Whether stderr is a stream systemd's journal reads: JOURNAL_STREAM names its device and inode.
bool stderrIsJournal();

// "\"...\"" with JSON escapes: a log line's message as a JSON string.
std::string jsonString(std::string_view text);

}  // namespace tmirror::log
