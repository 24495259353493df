// Inputs for `tmirror mirror-pcap` runs: config documents (as JSON) and captures (via
// PcapWriter), plus reading the output pcap back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pcap/pcap_reader.h"
#include "pcap/pcap_writer.h"
#include "testing/packet_builder.h"

namespace tmirror::cli::testing {

using tmirror::testing::Frame;
using tmirror::testing::PacketBuilder;
using Json = nlohmann::json;

// The source interface and its neighbourhood, as in examples/web-not-ssh.json.
inline constexpr const char* kInterfaceId = "eni-0a1b2c3d4e5f60718";
inline constexpr const char* kInterfaceMac = "02:00:00:00:00:0a";
inline constexpr const char* kPeerMac = "02:00:00:00:00:01";
inline constexpr const char* kOtherMac = "02:00:00:00:00:77";  // neither end is the interface
inline constexpr const char* kInterfaceIp = "198.51.100.10";
inline constexpr const char* kInterfaceIp6 = "2001:db8::10";
inline constexpr const char* kPeerIp = "192.0.2.33";
inline constexpr const char* kPeerIp6 = "2001:db8:ffff::33";
inline constexpr const char* kTargetIp = "198.51.100.20";
inline constexpr const char* kResolverIp = "198.51.100.53";

inline constexpr int kLinkTypeEthernet = 1;
// DLT_RAW; libpcap writes it to the file as LINKTYPE_RAW (101).
inline constexpr int kDltRaw = 12;

// A filter rule; `protocol` 0 means all protocols (no Protocol field).
inline Json filterRule(int number, const char* action, int protocol, const char* source_cidr,
                       const char* destination_cidr,
                       std::optional<std::pair<int, int>> destination_ports = std::nullopt) {
  Json rule = {{"RuleNumber", number},
               {"RuleAction", action},
               {"SourceCidrBlock", source_cidr},
               {"DestinationCidrBlock", destination_cidr}};
  if (protocol != 0) {
    rule["Protocol"] = protocol;
  }
  if (destination_ports) {
    rule["DestinationPortRange"] = {{"FromPort", destination_ports->first},
                                    {"ToPort", destination_ports->second}};
  }
  return rule;
}

// Accepts every IPv4 and IPv6 packet.
inline Json acceptAllRules() {
  return Json::array({filterRule(100, "accept", 0, "0.0.0.0/0", "0.0.0.0/0"),
                      filterRule(200, "accept", 0, "::/0", "::/0")});
}

struct SessionSpec {
  int number = 1;
  uint32_t vni = 4242;
  std::optional<uint32_t> packet_length;
  Json ingress_rules = acceptAllRules();
  Json egress_rules = acceptAllRules();
};

inline Json sessionJson(const SessionSpec& spec) {
  const std::string n = std::to_string(spec.number);
  Json session = {
      {"TrafficMirrorSessionId", "tms-0000000000000000" + n},
      {"SessionNumber", spec.number},
      {"VirtualNetworkId", spec.vni},
      {"TrafficMirrorTarget",
       {{"TrafficMirrorTargetId", "tmt-0000000000000000" + n},
        {"Type", "network-interface"},
        {"Addresses", {kTargetIp}}}},
      {"TrafficMirrorFilter",
       {{"TrafficMirrorFilterId", "tmf-0000000000000000" + n},
        {"IngressFilterRules", spec.ingress_rules},
        {"EgressFilterRules", spec.egress_rules}}},
  };
  if (spec.packet_length) {
    session["PacketLength"] = *spec.packet_length;
  }
  return session;
}

// One interface; `mac` empty leaves out MacAddress.
inline Json interfaceJson(const std::vector<SessionSpec>& sessions,
                          const std::string& id = kInterfaceId,
                          const std::string& mac = kInterfaceMac) {
  Json interface = {{"NetworkInterfaceId", id},
                    {"PrivateIpAddress", kInterfaceIp},
                    {"Ipv6Address", kInterfaceIp6}};
  if (!mac.empty()) {
    interface["MacAddress"] = mac;
  }
  Json list = Json::array();
  for (const auto& spec : sessions) {
    list.push_back(sessionJson(spec));
  }
  interface["TrafficMirrorSessions"] = list;
  return interface;
}

inline Json hostConfig(const Json& interfaces) {
  return {{"DnsResolvers", {kResolverIp}}, {"NetworkInterfaces", interfaces}};
}

inline Json hostConfig(const std::vector<SessionSpec>& sessions) {
  return hostConfig(Json::array({interfaceJson(sessions)}));
}

inline std::filesystem::path writeText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  EXPECT_TRUE(out.good()) << "writing " << path;
  return path;
}

inline std::filesystem::path writeJson(const std::filesystem::path& path, const Json& json) {
  return writeText(path, json.dump(2));
}

// A frame as captured: `original_length` 0 means the whole frame was captured.
struct CapturedFrame {
  Frame bytes;
  uint32_t original_length = 0;
};

inline std::filesystem::path writePcap(const std::filesystem::path& path,
                                       const std::vector<CapturedFrame>& frames,
                                       int link_type = kLinkTypeEthernet) {
  auto writer = pcap::PcapWriter::create(path, link_type);
  EXPECT_TRUE(writer.has_value()) << writer.error().message;
  if (!writer) {
    return path;
  }
  int64_t timestamp_ns = 1'700'000'000'000'000'000;
  for (const auto& frame : frames) {
    const uint32_t original = frame.original_length != 0
                                  ? frame.original_length
                                  : static_cast<uint32_t>(frame.bytes.size());
    auto written = writer->write(timestamp_ns, frame.bytes, original);
    EXPECT_TRUE(written.has_value()) << written.error().message;
    timestamp_ns += 1'000'000;
  }
  auto committed = writer->commit();
  EXPECT_TRUE(committed.has_value()) << committed.error().message;
  return path;
}

inline std::filesystem::path writePcap(const std::filesystem::path& path,
                                       const std::vector<Frame>& frames) {
  std::vector<CapturedFrame> captured;
  for (const auto& frame : frames) {
    captured.push_back({frame, 0});
  }
  return writePcap(path, captured);
}

struct PcapRecord {
  Frame bytes;
  uint32_t original_length = 0;
};

// Every record of a pcap; a failure to read it is a test failure.
inline std::vector<PcapRecord> readPcap(const std::filesystem::path& path) {
  std::vector<PcapRecord> records;
  auto reader = pcap::PcapReader::open(path);
  EXPECT_TRUE(reader.has_value()) << reader.error().message;
  if (!reader) {
    return records;
  }
  EXPECT_EQ(reader->linkType(), kLinkTypeEthernet);
  while (true) {
    auto next = reader->next();
    EXPECT_TRUE(next.has_value()) << next.error().message;
    if (!next || !*next) {
      break;
    }
    const pcap::PcapPacket& packet = **next;
    records.push_back({Frame(packet.data.begin(), packet.data.end()), packet.original_length});
  }
  return records;
}

// The JSON summary a run printed on stdout; a test failure (and an empty object) if it is not
// JSON.
inline Json parseSummary(const std::string& out) {
  Json summary = Json::parse(out, nullptr, false);
  EXPECT_FALSE(summary.is_discarded()) << "stdout is not JSON:\n" << out;
  return summary.is_discarded() ? Json::object() : summary;
}

// Every frame lands in exactly one of these (skipped and unknown_direction included).
inline uint64_t sumOfFates(const Json& summary) {
  uint64_t sum = 0;
  for (const auto& [name, count] : summary.at("Fates").items()) {
    sum += count.get<uint64_t>();
  }
  return sum;
}

}  // namespace tmirror::cli::testing
