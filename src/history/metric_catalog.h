// Which counters become CloudWatch metrics with history: their namespace, name and unit, and
// the dimensions a series is told apart by. The agents' eight traffic-mirroring counters are
// AWS/EC2's (per instance, as AWS reports them, and per interface and session besides); the
// collectors' are tmirror/Collector's.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tmirror::history {

inline constexpr std::string_view kEc2Namespace = "AWS/EC2";
inline constexpr std::string_view kCollectorNamespace = "tmirror/Collector";

struct MetricDefinition {
  std::string_view report_name;  // the counter's name in a host's report
  std::string_view namespace_name;
  std::string_view metric_name;
  std::string_view unit;  // CloudWatch's: Bytes or Count
};

std::span<const MetricDefinition> metricCatalog();

// nullptr when the namespace has no such metric.
const MetricDefinition* findMetric(std::string_view namespace_name, std::string_view metric_name);

using Dimensions = std::vector<std::pair<std::string, std::string>>;

// "InstanceId=i-0123,NetworkInterfaceId=eni-0456": sorted by name, the form series are stored
// and compared in. Names and values never hold '=' or ',' (they are AWS ids and names).
std::string dimensionsText(Dimensions dimensions);
Dimensions parseDimensionsText(std::string_view text);

}  // namespace tmirror::history
