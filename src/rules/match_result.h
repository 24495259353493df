// What the rules decided for one packet. Every packet gets exactly one fate.
#pragma once

#include <cstdint>

namespace tmirror::rules {

enum class PacketFate : uint8_t {
  Mirrored,        // a session accepted it
  NotMatched,      // IP traffic no session accepted (rejected, or no rule matched)
  NotIp,           // not IPv4/IPv6: ARP, LLDP, ... (never mirrored)
  Malformed,       // claims to be IP but cannot be read; see the frame status for why
  Dhcp,            // DHCP/DHCPv6 (never mirrored)
  OwnVxlan,        // the agent's own mirror output (loop guard)
  ControlChannel,  // the agent's own traffic with the server
  ResolverDns,     // DNS with the host's resolvers and no session has amazon-dns
  kCount,
};

const char* packetFateName(PacketFate fate);

inline constexpr int16_t kNoRule = -1;
// Set as rule_index when a packet is mirrored because of the filter's amazon-dns service.
inline constexpr int16_t kNetworkServiceRule = -2;

struct MatchResult {
  PacketFate fate = PacketFate::NotMatched;
  uint16_t session_index = 0;    // when Mirrored: index in session-number order
  int16_t rule_index = kNoRule;  // when Mirrored: the accepting rule, in rule-number order

  friend bool operator==(const MatchResult&, const MatchResult&) = default;
};

}  // namespace tmirror::rules
