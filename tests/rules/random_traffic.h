// Random rule sets and frames for property tests: overlapping CIDRs and port ranges, both
// families, fragments, IPv6 extension headers, VLAN tags, non-IP frames.
#pragma once

#include <algorithm>
#include <random>
#include <vector>

#include "model/mirror_config.h"
#include "rules/rules_test_util.h"

namespace tmirror::testing::random_traffic {

using model::TrafficDirection;

inline const char* const kV4Prefixes[] = {"0.0.0.0/0",        "10.0.0.0/8",    "10.1.0.0/16",
                                          "10.1.2.0/24",      "10.1.2.128/25", "10.1.2.7/32",
                                          "192.0.2.0/24",     "192.0.2.0/26",  "198.51.100.0/24",
                                          "198.51.100.53/32", "128.0.0.0/1",   "10.1.3.0/24"};
inline const char* const kV6Prefixes[] = {"::/0",
                                          "2001:db8::/32",
                                          "2001:db8:1::/48",
                                          "2001:db8:1:2::/64",
                                          "2001:db8:1:2::7/128",
                                          "fe80::/10",
                                          "2001:db8:1:2:8000::/65",
                                          "8000::/1"};
inline const char* const kV4Hosts[] = {
    "10.1.2.7",    "10.1.2.200",    "10.1.3.4",      "10.9.9.9",    "192.0.2.1",
    "192.0.2.100", "198.51.100.10", "198.51.100.53", "203.0.113.9", "172.16.0.1"};
inline const char* const kV6Hosts[] = {
    "2001:db8:1:2::7",  "2001:db8:1:2::8", "2001:db8:1:2:8000::1", "2001:db8:1:3::1",
    "2001:db8:ffff::1", "fe80::1",         "2001:db8::53",         "2400::1"};
inline const uint16_t kPorts[] = {0,  1,   22,   53,   67,   68,   79,   80,
                                  81, 443, 1023, 1024, 4789, 8080, 65535};
inline const uint8_t kProtocols[] = {6, 17, 1, 58, 47, 6, 17};

class Random {
 public:
  explicit Random(uint64_t seed) : gen_(seed) {}

  uint32_t below(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(gen_); }

  bool chance(double p) { return std::bernoulli_distribution(p)(gen_); }

  template <typename T, std::size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }

  uint16_t port() { return chance(0.7) ? pick(kPorts) : static_cast<uint16_t>(below(65536)); }

  model::PortRange portRange() {
    uint16_t a = port();
    uint16_t b = chance(0.4) ? a : port();
    if (a > b) {
      std::swap(a, b);
    }
    return {a, b};
  }

 private:
  std::mt19937_64 gen_;
};

inline model::FilterRule randomRule(Random& rnd, TrafficDirection direction, uint32_t number) {
  testing::RuleSpec spec;
  spec.number = number;
  spec.action = rnd.chance(0.6) ? model::RuleAction::Accept : model::RuleAction::Reject;
  const bool v6 = rnd.chance(0.35);
  spec.src = v6 ? rnd.pick(kV6Prefixes) : rnd.pick(kV4Prefixes);
  spec.dst = v6 ? rnd.pick(kV6Prefixes) : rnd.pick(kV4Prefixes);
  if (rnd.chance(0.7)) {
    spec.protocol = rnd.pick(kProtocols);
    if ((*spec.protocol == 6 || *spec.protocol == 17)) {
      if (rnd.chance(0.5)) {
        spec.dst_ports = rnd.portRange();
      }
      if (rnd.chance(0.3)) {
        spec.src_ports = rnd.portRange();
      }
    }
  }
  return testing::makeRule(direction, spec);
}

inline std::vector<model::FilterRule> randomRules(Random& rnd, TrafficDirection direction) {
  // Short lists exercise the linear scan, long ones the bit vectors (past 64 words too).
  const uint32_t count =
      rnd.chance(0.5) ? rnd.below(14) : 10 + rnd.below(rnd.chance(0.2) ? 300 : 80);
  std::vector<model::FilterRule> rules;
  std::vector<uint32_t> numbers;
  for (uint32_t i = 0; i < count; ++i) {
    numbers.push_back(1 + i * 3 + rnd.below(3));
  }
  std::shuffle(numbers.begin(), numbers.end(), std::mt19937(rnd.below(1u << 30)));
  for (uint32_t n : numbers) {
    rules.push_back(randomRule(rnd, direction, n));
  }
  return rules;
}

inline testing::Frame randomFrame(Random& rnd) {
  PacketBuilder b;
  if (rnd.chance(0.1)) {
    b.vlan(static_cast<uint16_t>(rnd.below(4096)));
  }
  const uint32_t kind = rnd.below(100);
  if (kind < 2) {
    return b.etherType(0x0806).build();
  }
  const bool v6 = kind < 40;
  if (v6) {
    b.ipv6(rnd.pick(kV6Hosts), rnd.pick(kV6Hosts));
    if (rnd.chance(0.1)) {
      b.ipv6Extension(0);
    }
    if (rnd.chance(0.1)) {
      b.ipv6Fragment(rnd.chance(0.5) ? 0 : static_cast<uint16_t>(1 + rnd.below(100)), true);
    }
  } else {
    b.ipv4(rnd.pick(kV4Hosts), rnd.pick(kV4Hosts));
    if (rnd.chance(0.1)) {
      b.ipv4Fragment(rnd.chance(0.5) ? 0 : static_cast<uint16_t>(1 + rnd.below(100)), true);
    }
  }
  const uint32_t l4 = rnd.below(10);
  if (l4 < 4) {
    b.tcp(rnd.port(), rnd.port());
  } else if (l4 < 8) {
    b.udp(rnd.port(), rnd.port());
  } else if (l4 < 9) {
    b.icmpEcho(static_cast<uint16_t>(rnd.below(65536)));
  } else {
    b.protocol(47);
  }
  return b.build();
}

// A host with one interface of 1-3 sessions with random rules (amazon-dns in some), and DNS
// resolvers half the time.
inline model::HostMirrorConfig randomHost(Random& rnd) {
  model::HostMirrorConfig host;
  auto interface = testing::makeInterface();
  const uint32_t session_count = 1 + rnd.below(3);
  for (uint32_t s = 0; s < session_count; ++s) {
    auto session = testing::makeSession(1 + rnd.below(32766));
    session.filter.ingress_rules = randomRules(rnd, TrafficDirection::Ingress);
    session.filter.egress_rules = randomRules(rnd, TrafficDirection::Egress);
    session.filter.amazon_dns = rnd.chance(0.2);
    interface.sessions.push_back(std::move(session));
  }
  if (rnd.chance(0.5)) {
    host.dns_resolvers = {testing::ip("198.51.100.53"), testing::ip("2001:db8::53")};
  }
  host.interfaces = {interface};
  return host;
}

}  // namespace tmirror::testing::random_traffic
