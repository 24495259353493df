#include "packet/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

namespace tmirror::packet {

namespace {

Uint128 hostMask(IpFamily family, uint8_t prefix_length) {
  const int bits = family == IpFamily::V4 ? 32 : 128;
  const int host_bits = bits - prefix_length;
  if (host_bits <= 0) {
    return 0;
  }
  if (host_bits >= 128) {
    return ~Uint128{0};
  }
  return (Uint128{1} << host_bits) - 1;
}

}  // namespace

std::optional<IpAddress> parseIpAddress(std::string_view text) {
  // inet_pton stops at a NUL; text with one inside is not an address.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  char buf[INET6_ADDRSTRLEN + 1];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  unsigned char raw[16];
  if (inet_pton(AF_INET, buf, raw) == 1) {
    uint32_t v = (uint32_t{raw[0]} << 24) | (uint32_t{raw[1]} << 16) | (uint32_t{raw[2]} << 8) |
                 uint32_t{raw[3]};
    return IpAddress::v4(v);
  }
  if (inet_pton(AF_INET6, buf, raw) == 1) {
    Uint128 v = 0;
    for (unsigned char c : raw) {
      v = (v << 8) | c;
    }
    return IpAddress::v6(v);
  }
  return std::nullopt;
}

std::string formatIpAddress(const IpAddress& address) {
  char out[INET6_ADDRSTRLEN];
  if (address.family == IpFamily::V4) {
    unsigned char raw[4];
    for (int i = 0; i < 4; ++i) {
      raw[i] = static_cast<unsigned char>(address.value >> (24 - 8 * i));
    }
    inet_ntop(AF_INET, raw, out, sizeof(out));
    return out;
  }
  if (address.family == IpFamily::V6) {
    unsigned char raw[16];
    for (int i = 0; i < 16; ++i) {
      raw[i] = static_cast<unsigned char>(address.value >> (120 - 8 * i));
    }
    inet_ntop(AF_INET6, raw, out, sizeof(out));
    return out;
  }
  return "none";
}

Uint128 Cidr::last() const {
  return network.value | hostMask(network.family, prefix_length);
}

std::optional<Cidr> parseCidr(std::string_view text, CidrParseError* error) {
  auto fail = [&](CidrParseError e) -> std::optional<Cidr> {
    if (error != nullptr) {
      *error = e;
    }
    return std::nullopt;
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return fail(CidrParseError::Syntax);
  }
  auto address = parseIpAddress(text.substr(0, slash));
  if (!address) {
    return fail(CidrParseError::Syntax);
  }
  const auto prefix_text = text.substr(slash + 1);
  unsigned prefix = 0;
  auto [ptr, ec] =
      std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
  if (ec != std::errc{} || ptr != prefix_text.data() + prefix_text.size() || prefix_text.empty()) {
    return fail(CidrParseError::Syntax);
  }
  const unsigned max_prefix = address->family == IpFamily::V4 ? 32 : 128;
  if (prefix > max_prefix) {
    return fail(CidrParseError::PrefixOutOfRange);
  }
  if ((address->value & hostMask(address->family, static_cast<uint8_t>(prefix))) != 0) {
    return fail(CidrParseError::HostBitsSet);
  }
  if (error != nullptr) {
    *error = CidrParseError::None;
  }
  return Cidr{*address, static_cast<uint8_t>(prefix)};
}

std::string formatCidr(const Cidr& cidr) {
  return formatIpAddress(cidr.network) + "/" + std::to_string(cidr.prefix_length);
}

std::optional<MacAddress> parseMacAddress(std::string_view text) {
  if (text.size() != 17) {
    return std::nullopt;
  }
  MacAddress mac;
  for (int i = 0; i < 6; ++i) {
    const auto part = text.substr(static_cast<std::size_t>(i) * 3, 2);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + 2, v, 16);
    if (ec != std::errc{} || ptr != part.data() + 2) {
      return std::nullopt;
    }
    if (i < 5 && text[static_cast<std::size_t>(i) * 3 + 2] != ':' &&
        text[static_cast<std::size_t>(i) * 3 + 2] != '-') {
      return std::nullopt;
    }
    mac.octets[static_cast<std::size_t>(i)] = static_cast<uint8_t>(v);
  }
  return mac;
}

std::string formatMacAddress(const MacAddress& mac) {
  char out[18];
  std::snprintf(out, sizeof(out), "%02x:%02x:%02x:%02x:%02x:%02x", mac.octets[0], mac.octets[1],
                mac.octets[2], mac.octets[3], mac.octets[4], mac.octets[5]);
  return out;
}

}  // namespace tmirror::packet
