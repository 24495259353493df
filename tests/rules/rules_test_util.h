// Builders for filter rules and sessions in rules tests.
#pragma once

#include <optional>
#include <string>

#include "model/mirror_config.h"
#include "testing/packet_builder.h"

namespace tmirror::testing {

inline packet::Cidr cidr(std::string_view text) {
  auto c = packet::parseCidr(text);
  if (!c) {
    std::abort();
  }
  return *c;
}

struct RuleSpec {
  uint32_t number = 0;
  model::RuleAction action = model::RuleAction::Accept;
  std::optional<uint8_t> protocol;
  std::string src = "0.0.0.0/0";
  std::string dst = "0.0.0.0/0";
  std::optional<model::PortRange> src_ports;
  std::optional<model::PortRange> dst_ports;
};

inline model::FilterRule makeRule(model::TrafficDirection direction, const RuleSpec& spec) {
  model::FilterRule r;
  r.id = "tmfr-" + std::to_string(spec.number);
  r.direction = direction;
  r.rule_number = spec.number;
  r.action = spec.action;
  r.protocol = spec.protocol;
  r.source_cidr = cidr(spec.src);
  r.destination_cidr = cidr(spec.dst);
  r.source_port_range = spec.src_ports;
  r.destination_port_range = spec.dst_ports;
  return r;
}

inline model::Session makeSession(uint32_t number, uint32_t vni = 42) {
  model::Session s;
  s.id = "tms-" + std::to_string(number);
  s.session_number = number;
  s.virtual_network_id = vni;
  s.target.id = "tmt-" + std::to_string(number);
  s.target.addresses = {ip("198.51.100.20")};
  s.filter.id = "tmf-" + std::to_string(number);
  return s;
}

inline model::InterfaceMirrorConfig makeInterface() {
  model::InterfaceMirrorConfig i;
  i.interface.id = "eni-0000000000000000a";
  i.interface.ipv4 = ip("198.51.100.10");
  i.interface.mac = packet::parseMacAddress("02:00:00:00:00:0a");
  return i;
}

}  // namespace tmirror::testing
