// Pieces of the Prometheus text exposition format 0.0.4: names, escaping, sample values.
#pragma once

#include <string>
#include <string_view>

namespace tmirror::metrics {

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool isValidMetricName(std::string_view name);

// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for Prometheus itself).
bool isValidLabelName(std::string_view name);

// Label values escape backslash, double quote and line feed.
void appendEscapedLabelValue(std::string& out, std::string_view value);

// HELP text escapes backslash and line feed only.
void appendEscapedHelp(std::string& out, std::string_view help);

// Shortest text that reads back as the same double; "+Inf", "-Inf", "NaN" as Prometheus spells
// them. Whole numbers have no decimal point ("3", not "3.0").
void appendSampleValue(std::string& out, double value);

}  // namespace tmirror::metrics
