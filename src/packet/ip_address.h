// IP and MAC addresses as plain values. An address is kept as a 128-bit number in host order
// (IPv4 in the low 32 bits) so that CIDR membership is a range comparison.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tmirror::packet {

enum class IpFamily : uint8_t { None = 0, V4 = 4, V6 = 6 };

using Uint128 = unsigned __int128;

struct IpAddress {
  IpFamily family = IpFamily::None;
  Uint128 value = 0;

  static IpAddress v4(uint32_t host_order) { return {IpFamily::V4, host_order}; }

  static IpAddress v6(Uint128 host_order) { return {IpFamily::V6, host_order}; }

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Parses dotted-quad IPv4 or RFC 4291 IPv6 text; nullopt when it is neither.
std::optional<IpAddress> parseIpAddress(std::string_view text);

std::string formatIpAddress(const IpAddress& address);

// A CIDR block. `first`/`last` are the inclusive address range it covers.
struct Cidr {
  IpAddress network;
  uint8_t prefix_length = 0;

  IpFamily family() const { return network.family; }

  Uint128 first() const { return network.value; }

  Uint128 last() const;

  bool contains(const IpAddress& address) const {
    return address.family == network.family && address.value >= first() && address.value <= last();
  }

  friend bool operator==(const Cidr&, const Cidr&) = default;
};

enum class CidrParseError { None, Syntax, PrefixOutOfRange, HostBitsSet };

// Parses "a.b.c.d/n" or "x::y/n". Host bits must be zero, as AWS requires of rule CIDRs.
std::optional<Cidr> parseCidr(std::string_view text, CidrParseError* error = nullptr);

std::string formatCidr(const Cidr& cidr);

struct MacAddress {
  std::array<uint8_t, 6> octets{};

  bool isMulticast() const { return (octets[0] & 0x01) != 0; }

  friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

// Parses "aa:bb:cc:dd:ee:ff" (also with '-' separators); nullopt otherwise.
std::optional<MacAddress> parseMacAddress(std::string_view text);

std::string formatMacAddress(const MacAddress& mac);

}  // namespace tmirror::packet
