#include "channel/channel_metrics.h"

#include <string>
#include <vector>

namespace tmirror::channel {

Result<void> addAgentChannelMetrics(metrics::Registry& registry, AgentChannel& channel) {
  std::vector<Result<void>> added;
  added.push_back(registry.gaugeCallback(
      "tmirror_agent_reports", "Counters reports taken since start, by how they came", {"via"},
      [&channel]() {
        const auto received = channel.reportsReceived();
        return std::vector<metrics::GaugeSample>{{{"push"}, static_cast<double>(received.pushed)},
                                                 {{"poll"}, static_cast<double>(received.on_poll)}};
      }));
  added.push_back(registry.gaugeCallback(
      "tmirror_registered_agents", "Hosts whose agent registered",
      [&channel]() { return static_cast<double>(channel.registeredAgents()); }));
  added.push_back(registry.gaugeCallback(
      "tmirror_agent_counter", "The latest counters agents pushed, by resource and name",
      {"resource_id", "name"}, [&channel]() {
        std::vector<metrics::GaugeSample> out;
        for (const auto& [key, value] : channel.counterSnapshot()) {
          out.push_back({{key.first, key.second}, value});
        }
        return out;
      }));
  // A session's copies as its collectors counted them on arrival, one series per collector (a
  // load balancer's members each receive a share). Not in tmirror_agent_counter: there the
  // session's entries are what its agent sent, and a gap between the two that grows is copies
  // lost on the way.
  added.push_back(registry.gaugeCallback(
      "tmirror_collector_session_counter",
      "The latest counters collectors pushed per mirror session they receive, by session, "
      "collector interface and name",
      {"session_id", "network_interface_id", "name"}, [&channel]() {
        std::vector<metrics::GaugeSample> out;
        for (const auto& [key, value] : channel.collectorSessionSnapshot()) {
          const auto& [session_id, collector_id, name] = key;
          out.push_back({{session_id, collector_id, name}, value});
        }
        return out;
      }));
  added.push_back(registry.gaugeCallback(
      "tmirror_agent_problem",
      "1 for each part of a desired state an agent reported it cannot apply, with the reason",
      {"instance_id", "resource_id", "reason"}, [&channel]() {
        std::vector<metrics::GaugeSample> out;
        for (const auto& [instance, problems] : channel.problemSnapshot()) {
          for (const auto& [resource, reason] : problems) {
            out.push_back({{instance, resource, reason}, 1.0});
          }
        }
        return out;
      }));
  for (auto& result : added) {
    if (!result) {
      return result;
    }
  }
  return {};
}

}  // namespace tmirror::channel
