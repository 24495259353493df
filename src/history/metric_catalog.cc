#include "history/metric_catalog.h"

#include <algorithm>
#include <array>

namespace tmirror::history {

namespace {

constexpr std::array kCatalog = {
    MetricDefinition{"NetworkMirrorIn", kEc2Namespace, "NetworkMirrorIn", "Bytes"},
    MetricDefinition{"NetworkMirrorOut", kEc2Namespace, "NetworkMirrorOut", "Bytes"},
    MetricDefinition{"NetworkPacketsMirrorIn", kEc2Namespace, "NetworkPacketsMirrorIn", "Count"},
    MetricDefinition{"NetworkPacketsMirrorOut", kEc2Namespace, "NetworkPacketsMirrorOut", "Count"},
    MetricDefinition{"NetworkSkipMirrorIn", kEc2Namespace, "NetworkSkipMirrorIn", "Bytes"},
    MetricDefinition{"NetworkSkipMirrorOut", kEc2Namespace, "NetworkSkipMirrorOut", "Bytes"},
    MetricDefinition{"NetworkPacketsSkipMirrorIn", kEc2Namespace, "NetworkPacketsSkipMirrorIn",
                     "Count"},
    MetricDefinition{"NetworkPacketsSkipMirrorOut", kEc2Namespace, "NetworkPacketsSkipMirrorOut",
                     "Count"},
    MetricDefinition{"CollectorDatagrams", kCollectorNamespace, "Datagrams", "Count"},
    MetricDefinition{"CollectorBytes", kCollectorNamespace, "Bytes", "Bytes"},
    MetricDefinition{"CollectorDrops", kCollectorNamespace, "Drops", "Count"},
};

}  // namespace

std::span<const MetricDefinition> metricCatalog() {
  return kCatalog;
}

const MetricDefinition* findMetric(std::string_view namespace_name, std::string_view metric_name) {
  for (const auto& m : kCatalog) {
    if (m.namespace_name == namespace_name && m.metric_name == metric_name) {
      return &m;
    }
  }
  return nullptr;
}

std::string dimensionsText(Dimensions dimensions) {
  std::sort(dimensions.begin(), dimensions.end());
  std::string out;
  for (const auto& [name, value] : dimensions) {
    out += (out.empty() ? "" : ",") + name + "=" + value;
  }
  return out;
}

Dimensions parseDimensionsText(std::string_view text) {
  Dimensions out;
  while (!text.empty()) {
    const std::size_t comma = std::min(text.find(','), text.size());
    const std::string_view item = text.substr(0, comma);
    const std::size_t equals = item.find('=');
    if (equals != std::string_view::npos) {
      out.emplace_back(std::string(item.substr(0, equals)), std::string(item.substr(equals + 1)));
    }
    text.remove_prefix(std::min(comma + 1, text.size()));
  }
  return out;
}

}  // namespace tmirror::history
