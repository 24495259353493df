// The resolved mirroring configuration of a host: its source interfaces, and for each the
// sessions with their filter rules and target addresses. This is the contract between the
// server (which resolves it), the agent (which follows it), and `tmirror mirror-pcap` (which
// reads it from a file). Field names follow the EC2 API's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "packet/ip_address.h"

namespace tmirror::model {

using packet::Cidr;
using packet::IpAddress;
using packet::MacAddress;

enum class TrafficDirection : uint8_t { Ingress, Egress };

enum class RuleAction : uint8_t { Accept, Reject };

inline constexpr uint32_t kMinRuleNumber = 1;
inline constexpr uint32_t kMaxRuleNumber = 32766;
inline constexpr uint32_t kMinSessionNumber = 1;
inline constexpr uint32_t kMaxSessionNumber = 32766;
inline constexpr uint32_t kMaxVirtualNetworkId = 16777215;
inline constexpr uint32_t kMinPacketLength = 1;
inline constexpr uint32_t kMaxPacketLength = 8500;

struct PortRange {
  uint16_t from_port = 0;
  uint16_t to_port = 65535;

  friend bool operator==(const PortRange&, const PortRange&) = default;
};

struct FilterRule {
  std::string id;  // tmfr-...
  TrafficDirection direction = TrafficDirection::Ingress;
  uint32_t rule_number = 0;
  RuleAction action = RuleAction::Accept;
  std::optional<uint8_t> protocol;  // unset: all protocols
  Cidr source_cidr;
  Cidr destination_cidr;
  std::optional<PortRange> source_port_range;       // TCP/UDP only
  std::optional<PortRange> destination_port_range;  // TCP/UDP only
  std::string description;
};

struct Filter {
  std::string id;  // tmf-...
  std::vector<FilterRule> ingress_rules;
  std::vector<FilterRule> egress_rules;
  bool amazon_dns = false;  // network service "amazon-dns": all resolver DNS is mirrored
  std::string description;
};

enum class TargetType : uint8_t { NetworkInterface, NetworkLoadBalancer };

struct Target {
  std::string id;  // tmt-...
  TargetType type = TargetType::NetworkInterface;
  // Resolved VXLAN endpoints: one for an interface target, the healthy members for a
  // network-load-balancer target (chosen per flow by the symmetric hash).
  std::vector<IpAddress> addresses;
  uint16_t port = 4789;
  uint32_t mtu = 1500;  // path MTU towards the target
  std::string description;
};

struct Session {
  std::string id;  // tms-...
  uint32_t session_number = 0;
  uint32_t virtual_network_id = 0;
  std::optional<uint32_t> packet_length;  // unset: whole frame
  Target target;
  Filter filter;
  std::string description;
};

struct SourceInterface {
  std::string id;    // eni-...
  std::string name;  // Linux interface name, if known
  std::optional<MacAddress> mac;
  std::optional<IpAddress> ipv4;  // primary addresses; outer source of the copies
  std::optional<IpAddress> ipv6;
  uint32_t mtu = 1500;
};

struct InterfaceMirrorConfig {
  SourceInterface interface;
  std::vector<Session> sessions;
};

// A TCP endpoint of the agent's control channel; its traffic is never mirrored.
struct ControlEndpoint {
  IpAddress address;
  uint16_t port = 0;

  friend bool operator==(const ControlEndpoint&, const ControlEndpoint&) = default;
};

struct HostMirrorConfig {
  uint64_t revision = 0;
  std::vector<IpAddress> dns_resolvers;  // what "amazon-dns" means on this host
  std::vector<ControlEndpoint> control_endpoints;
  std::vector<InterfaceMirrorConfig> interfaces;
};

const char* directionName(TrafficDirection direction);  // "ingress" / "egress"
const char* actionName(RuleAction action);              // "accept" / "reject"

}  // namespace tmirror::model
