#include "agent/agent_report.h"

#include <cstring>
#include <map>

#include "metrics/prometheus_text.h"

namespace tmirror::agent {

namespace {

struct CloudWatchField {
  const char* name;
  model::TrafficDirection direction;
  uint64_t engine::DirectionCounters::*field;
};

constexpr CloudWatchField kCloudWatch[] = {
    {"NetworkMirrorIn", model::TrafficDirection::Ingress, &engine::DirectionCounters::mirror_bytes},
    {"NetworkMirrorOut", model::TrafficDirection::Egress, &engine::DirectionCounters::mirror_bytes},
    {"NetworkPacketsMirrorIn", model::TrafficDirection::Ingress,
     &engine::DirectionCounters::mirror_packets},
    {"NetworkPacketsMirrorOut", model::TrafficDirection::Egress,
     &engine::DirectionCounters::mirror_packets},
    {"NetworkSkipMirrorIn", model::TrafficDirection::Ingress,
     &engine::DirectionCounters::skip_bytes},
    {"NetworkSkipMirrorOut", model::TrafficDirection::Egress,
     &engine::DirectionCounters::skip_bytes},
    {"NetworkPacketsSkipMirrorIn", model::TrafficDirection::Ingress,
     &engine::DirectionCounters::skip_packets},
    {"NetworkPacketsSkipMirrorOut", model::TrafficDirection::Egress,
     &engine::DirectionCounters::skip_packets},
    {"TruncatedPacketsIn", model::TrafficDirection::Ingress,
     &engine::DirectionCounters::truncated_packets},
    {"TruncatedPacketsOut", model::TrafficDirection::Egress,
     &engine::DirectionCounters::truncated_packets},
};

// Fate names as JSON fields (CamelCase of rules::packetFateName).
constexpr std::pair<rules::PacketFate, const char*> kFates[] = {
    {rules::PacketFate::Mirrored, "Mirrored"},
    {rules::PacketFate::NotMatched, "NotMatched"},
    {rules::PacketFate::NotIp, "NotIp"},
    {rules::PacketFate::Malformed, "Malformed"},
    {rules::PacketFate::Dhcp, "Dhcp"},
    {rules::PacketFate::OwnVxlan, "OwnVxlan"},
    {rules::PacketFate::ControlChannel, "ControlChannel"},
    {rules::PacketFate::ResolverDns, "ResolverDns"},
};

void addCloudWatch(model::ResourceCounters& item, const engine::MirrorCounters& c) {
  for (const auto& f : kCloudWatch) {
    item.counts.emplace_back(f.name, c.of(f.direction).*f.field);
  }
}

// Agent-only counters of an interface, by their JSON name.
struct Extra {
  const char* json_name;
  uint64_t value;
};

std::vector<Extra> extras(const InterfaceReport& r) {
  return {{"Frames", r.counters.frames},
          {"Skipped", r.counters.skipped},
          {"SkippedRateLimit", r.skipped_rate_limit},
          {"SkippedSendFailed", r.skipped_send_failed},
          {"SkippedNoRoute", r.skipped_no_route},
          {"UnknownDirection", r.counters.unknown_direction},
          {"KernelPackets", r.kernel_packets},
          {"KernelDrops", r.kernel_drops},
          {"SendCalls", r.send_calls},
          {"RawFramesSent", r.raw_frames},
          {"RoutedPacketsSent", r.routed_packets},
          {"SendErrors", r.send_errors},
          {"GsoBuffersSent", r.gso_buffers},
          {"GsoCopiesSent", r.gso_copies},
          {"GsoBuffersRefused", r.gso_refused},
          {"CaptureCut", r.capture_cut},
          {"OffloadSuperFrames", r.counters.offload.super_frames},
          {"OffloadSegments", r.counters.offload.segments},
          {"OffloadChecksumsCompleted", r.counters.offload.checksums_completed}};
}

}  // namespace

model::CountersReport snapshotToReport(const AgentSnapshot& snapshot) {
  model::CountersReport out;
  out.instance_id = snapshot.instance_id;
  out.revision = snapshot.revision;
  for (const auto& r : snapshot.interfaces) {
    model::ResourceCounters item;
    item.id = r.network_interface_id;
    item.name = r.name;
    for (const auto& e : extras(r)) {
      item.counts.emplace_back(e.json_name, e.value);
    }
    for (const auto& [fate, name] : kFates) {
      item.counts.emplace_back(name, r.counters.fate(fate));
    }
    auto& malformed = item.by_reason.emplace_back("MalformedReasons",
                                                  std::vector<std::pair<std::string, uint64_t>>{});
    for (std::size_t i = 0; i < r.counters.malformed.size(); ++i) {
      if (r.counters.malformed[i] != 0) {
        malformed.second.emplace_back(packet::frameStatusName(static_cast<packet::FrameStatus>(i)),
                                      r.counters.malformed[i]);
      }
    }
    auto& offload = item.by_reason.emplace_back("OffloadCopiedAsCaptured",
                                                std::vector<std::pair<std::string, uint64_t>>{});
    for (std::size_t i = 0; i < r.counters.offload.problems.size(); ++i) {
      if (r.counters.offload.problems[i] != 0) {
        offload.second.emplace_back(
            packet::segmentStatusName(static_cast<packet::SegmentStatus>(i)),
            r.counters.offload.problems[i]);
      }
    }
    item.flags.emplace_back("OffloadMetadata", r.offload_headers);
    item.counts.emplace_back("KernelPrefilterInstructions", r.prefilter_instructions);
    if (r.last_send_errno != 0) {
      item.notes.emplace_back("LastSendError", std::strerror(r.last_send_errno));
    }
    addCloudWatch(item, r.counters.mirror);
    if (!r.error.empty()) {
      item.notes.emplace_back("Error", r.error);
    }
    out.interfaces.push_back(std::move(item));
    for (const auto& [id, counters] : r.sessions) {
      model::ResourceCounters session;
      session.id = id;
      session.network_interface_id = r.network_interface_id;
      addCloudWatch(session, counters);
      out.sessions.push_back(std::move(session));
    }
  }
  out.problems = snapshot.problems;
  return out;
}

std::string snapshotToJson(const AgentSnapshot& snapshot) {
  return model::countersReportToJson(snapshotToReport(snapshot));
}

namespace {

class PrometheusText {
 public:
  void family(const std::string& name, const char* type, const char* help) {
    out_ += "# HELP " + name + " ";
    metrics::appendEscapedHelp(out_, help);
    out_ += "\n# TYPE " + name + " " + type + "\n";
  }

  void sample(const std::string& name,
              const std::vector<std::pair<const char*, std::string>>& labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (const auto& [label, text] : labels) {
        out_ += first ? "" : ",";
        first = false;
        out_ += label;
        out_ += "=\"";
        metrics::appendEscapedLabelValue(out_, text);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    metrics::appendSampleValue(out_, value);
    out_ += '\n';
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string snapshotToPrometheus(const AgentSnapshot& snapshot) {
  PrometheusText p;
  for (const auto& f : kCloudWatch) {
    const std::string name = std::string("tmirror_") + f.name;
    p.family(name, "counter",
             "CloudWatch-named traffic-mirroring counter, per source interface and per session");
    for (const auto& r : snapshot.interfaces) {
      p.sample(name, {{"interface", r.name}, {"network_interface_id", r.network_interface_id}},
               static_cast<double>(r.counters.mirror.of(f.direction).*f.field));
      for (const auto& [id, c] : r.sessions) {
        p.sample(name, {{"traffic_mirror_session_id", id}},
                 static_cast<double>(c.of(f.direction).*f.field));
      }
    }
  }
  p.family("tmirror_agent_frames_total", "counter", "Frames captured, by fate");
  for (const auto& r : snapshot.interfaces) {
    for (const auto& [fate, name] : kFates) {
      p.sample("tmirror_agent_frames_total",
               {{"interface", r.name},
                {"network_interface_id", r.network_interface_id},
                {"fate", rules::packetFateName(fate)}},
               static_cast<double>(r.counters.fate(fate)));
    }
  }
  p.family("tmirror_agent_malformed_frames_total", "counter", "Malformed frames, by reason");
  for (const auto& r : snapshot.interfaces) {
    for (std::size_t i = 0; i < r.counters.malformed.size(); ++i) {
      if (r.counters.malformed[i] != 0) {
        p.sample("tmirror_agent_malformed_frames_total",
                 {{"interface", r.name},
                  {"network_interface_id", r.network_interface_id},
                  {"reason", packet::frameStatusName(static_cast<packet::FrameStatus>(i))}},
                 static_cast<double>(r.counters.malformed[i]));
      }
    }
  }
  p.family("tmirror_agent_offload_frames_total", "counter",
           "Frames with offloads: super-frames cut into wire packets, the wire packets cut "
           "from them, single packets whose checksum was completed");
  for (const auto& r : snapshot.interfaces) {
    for (auto [kind, value] :
         {std::pair{"super_frame", r.counters.offload.super_frames},
          std::pair{"segment", r.counters.offload.segments},
          std::pair{"checksum_completed", r.counters.offload.checksums_completed}}) {
      p.sample(
          "tmirror_agent_offload_frames_total",
          {{"interface", r.name}, {"network_interface_id", r.network_interface_id}, {"kind", kind}},
          static_cast<double>(value));
    }
  }
  p.family("tmirror_agent_offload_as_captured_total", "counter",
           "Frames with offloads that could not be cut into wire packets, copied as captured, "
           "by reason");
  for (const auto& r : snapshot.interfaces) {
    for (std::size_t i = 0; i < r.counters.offload.problems.size(); ++i) {
      if (r.counters.offload.problems[i] != 0) {
        p.sample("tmirror_agent_offload_as_captured_total",
                 {{"interface", r.name},
                  {"network_interface_id", r.network_interface_id},
                  {"reason", packet::segmentStatusName(static_cast<packet::SegmentStatus>(i))}},
                 static_cast<double>(r.counters.offload.problems[i]));
      }
    }
  }
  p.family("tmirror_agent_skipped_total", "counter",
           "Copies a session accepted but that were not sent, by reason");
  for (const auto& r : snapshot.interfaces) {
    for (auto [reason, value] : {std::pair{"rate_limit", r.skipped_rate_limit},
                                 std::pair{"send_failed", r.skipped_send_failed},
                                 std::pair{"no_route", r.skipped_no_route}}) {
      p.sample("tmirror_agent_skipped_total",
               {{"interface", r.name},
                {"network_interface_id", r.network_interface_id},
                {"reason", reason}},
               static_cast<double>(value));
    }
  }
  p.family("tmirror_agent_kernel_drops_total", "counter",
           "Frames the kernel dropped because the capture ring was full");
  for (const auto& r : snapshot.interfaces) {
    p.sample("tmirror_agent_kernel_drops_total",
             {{"interface", r.name}, {"network_interface_id", r.network_interface_id}},
             static_cast<double>(r.kernel_drops));
  }
  p.family("tmirror_agent_gso_copies_total", "counter",
           "Copies sent in runs as one UDP GSO buffer (cut into packets by the kernel or NIC)");
  for (const auto& r : snapshot.interfaces) {
    p.sample("tmirror_agent_gso_copies_total",
             {{"interface", r.name}, {"network_interface_id", r.network_interface_id}},
             static_cast<double>(r.gso_copies));
  }
  p.family("tmirror_agent_desired_state_revision", "gauge", "Desired-state revision in effect");
  p.sample("tmirror_agent_desired_state_revision", {}, static_cast<double>(snapshot.revision));
  p.family("tmirror_agent_problems", "gauge", "Parts of the desired state that cannot be applied");
  p.sample("tmirror_agent_problems", {}, static_cast<double>(snapshot.problems.size()));
  return p.take();
}

}  // namespace tmirror::agent
