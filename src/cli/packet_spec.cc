#include "cli/packet_spec.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "packet/checksum.h"
#include "packet/frame.h"

namespace tmirror::cli {

namespace {

constexpr std::string_view kForm =
    " (expected e.g. 'tcp 198.51.100.1:443 > 198.51.100.2:51000', 'udp [2001:db8::1]:53 > "
    "[2001:db8::2]:40000', 'icmp 198.51.100.1 > 198.51.100.2' or '47 198.51.100.1 > "
    "198.51.100.2')";

std::unexpected<Error> invalid(const std::string& why) {
  return std::unexpected(
      Error{ErrorCode::InvalidArgument, "--packet: " + why + std::string(kForm)});
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t start = text.find_first_not_of(" \t", at);
    if (start == std::string_view::npos) {
      break;
    }
    const std::size_t end = std::min(text.find_first_of(" \t", start), text.size());
    out.push_back(text.substr(start, end - start));
    at = end;
  }
  return out;
}

template <typename T>
std::optional<T> number(std::string_view text, T max) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

struct Endpoint {
  packet::IpAddress address;
  std::optional<uint16_t> port;
};

// "198.51.100.1", "198.51.100.1:443", "198.51.100.1.443", "2001:db8::1", "[2001:db8::1]:443",
// "2001:db8::1.443".
std::optional<Endpoint> parseEndpoint(std::string_view text) {
  if (auto address = packet::parseIpAddress(text)) {
    return Endpoint{*address, std::nullopt};
  }
  if (text.starts_with('[')) {
    const std::size_t close = text.find("]:");
    auto address = close == std::string_view::npos
                       ? std::nullopt
                       : packet::parseIpAddress(text.substr(1, close - 1));
    auto port = address ? number<uint16_t>(text.substr(close + 2), 65535) : std::nullopt;
    if (!address || !port) {
      return std::nullopt;
    }
    return Endpoint{*address, *port};
  }
  for (char separator : {':', '.'}) {  // 198.51.100.1:443, then tcpdump's 198.51.100.1.443
    const std::size_t at = text.rfind(separator);
    if (at == std::string_view::npos) {
      continue;
    }
    auto address = packet::parseIpAddress(text.substr(0, at));
    auto port = number<uint16_t>(text.substr(at + 1), 65535);
    // "a:b" with a v6 address before the colon is an address, not one with a port.
    if (address && port && !(separator == ':' && address->family == packet::IpFamily::V6)) {
      return Endpoint{*address, *port};
    }
  }
  return std::nullopt;
}

void put16(std::vector<std::byte>& out, std::size_t at, uint16_t value) {
  out[at] = static_cast<std::byte>(value >> 8);
  out[at + 1] = static_cast<std::byte>(value & 0xFF);
}

void putAddress(std::vector<std::byte>& out, std::size_t at, const packet::IpAddress& address) {
  const int bytes = address.family == packet::IpFamily::V4 ? 4 : 16;
  for (int i = 0; i < bytes; ++i) {
    out[at + static_cast<std::size_t>(i)] =
        static_cast<std::byte>(static_cast<uint8_t>(address.value >> (8 * (bytes - 1 - i))));
  }
}

}  // namespace

Result<PacketSpec> parsePacketSpec(std::string_view text) {
  const auto w = words(text);
  if (w.size() != 4 || w[2] != ">") {
    return invalid("'" + std::string(text) + "' is not PROTOCOL SOURCE > DESTINATION");
  }
  PacketSpec spec;
  std::string protocol(w[0]);
  std::transform(protocol.begin(), protocol.end(), protocol.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (protocol == "tcp") {
    spec.protocol = packet::kProtoTcp;
  } else if (protocol == "udp") {
    spec.protocol = packet::kProtoUdp;
  } else if (protocol == "icmp") {
    spec.protocol = packet::kProtoIcmp;
  } else if (protocol == "icmp6" || protocol == "icmpv6") {
    spec.protocol = packet::kProtoIcmpv6;
  } else if (auto n = number<unsigned>(protocol, 255)) {
    spec.protocol = static_cast<uint8_t>(*n);
  } else {
    return invalid("'" + protocol + "' is not tcp, udp, icmp, icmp6 or a protocol number 0-255");
  }
  const bool ports = spec.protocol == packet::kProtoTcp || spec.protocol == packet::kProtoUdp;
  const auto source = parseEndpoint(w[1]);
  const auto destination = parseEndpoint(w[3]);
  for (const auto& [end, given] : {std::pair{&source, w[1]}, std::pair{&destination, w[3]}}) {
    if (!*end) {
      return invalid("'" + std::string(given) + "' is not an IP address" +
                     (ports ? " and port" : ""));
    }
    if (ports != (*end)->port.has_value()) {
      return invalid("'" + std::string(given) +
                     "': " + (ports ? "TCP and UDP need a port" : "only TCP and UDP have ports"));
    }
  }
  if (source->address.family != destination->address.family) {
    return invalid("the source and destination are not of one IP family");
  }
  const bool v6 = source->address.family == packet::IpFamily::V6;
  if ((spec.protocol == packet::kProtoIcmp && v6) ||
      (spec.protocol == packet::kProtoIcmpv6 && !v6)) {
    return invalid(v6 ? "ICMP is IPv4's; use icmp6" : "ICMPv6 is IPv6's; use icmp");
  }
  spec.source = source->address;
  spec.destination = destination->address;
  spec.source_port = source->port.value_or(0);
  spec.destination_port = destination->port.value_or(0);
  return spec;
}

std::vector<std::byte> buildFrame(const PacketSpec& spec, const packet::MacAddress& source_mac,
                                  const packet::MacAddress& destination_mac,
                                  uint32_t frame_length) {
  const bool v6 = spec.source.family == packet::IpFamily::V6;
  const std::size_t l3 = 14;
  const std::size_t ip_header = v6 ? 40 : 20;
  const std::size_t l4 = l3 + ip_header;
  const std::size_t l4_header = spec.protocol == packet::kProtoTcp    ? 20
                                : spec.protocol == packet::kProtoUdp  ? 8
                                : spec.protocol == packet::kProtoIcmp ? 8
                                : spec.protocol == packet::kProtoIcmpv6
                                    ? 8
                                    : 0;  // other protocols: no header of theirs
  std::vector<std::byte> f(std::max<std::size_t>(l4 + l4_header, frame_length));
  for (std::size_t i = 0; i < 6; ++i) {
    f[i] = static_cast<std::byte>(destination_mac.octets[i]);
    f[6 + i] = static_cast<std::byte>(source_mac.octets[i]);
  }
  put16(f, 12, v6 ? packet::kEtherTypeIpv6 : packet::kEtherTypeIpv4);
  const std::size_t ip_length = f.size() - l3;
  const std::size_t l4_length = f.size() - l4;
  if (v6) {
    f[l3] = std::byte{0x60};
    put16(f, l3 + 4, static_cast<uint16_t>(l4_length));
    f[l3 + 6] = static_cast<std::byte>(spec.protocol);
    f[l3 + 7] = std::byte{64};
    putAddress(f, l3 + 8, spec.source);
    putAddress(f, l3 + 24, spec.destination);
  } else {
    f[l3] = std::byte{0x45};
    put16(f, l3 + 2, static_cast<uint16_t>(ip_length));
    put16(f, l3 + 6, 0x4000);  // don't fragment
    f[l3 + 8] = std::byte{64};
    f[l3 + 9] = static_cast<std::byte>(spec.protocol);
    putAddress(f, l3 + 12, spec.source);
    putAddress(f, l3 + 16, spec.destination);
    put16(f, l3 + 10, packet::checksumFinish(packet::checksumAdd(std::span(f).subspan(l3, 20))));
  }
  std::size_t checksum_at = 0;
  switch (spec.protocol) {
    case packet::kProtoTcp:
      put16(f, l4, spec.source_port);
      put16(f, l4 + 2, spec.destination_port);
      f[l4 + 12] = std::byte{0x50};  // 5 words, no options
      f[l4 + 13] = std::byte{0x10};  // ACK
      put16(f, l4 + 14, 65535);
      checksum_at = l4 + 16;
      break;
    case packet::kProtoUdp:
      put16(f, l4, spec.source_port);
      put16(f, l4 + 2, spec.destination_port);
      put16(f, l4 + 4, static_cast<uint16_t>(l4_length));
      checksum_at = l4 + 6;
      break;
    case packet::kProtoIcmp:
    case packet::kProtoIcmpv6:
      f[l4] = spec.protocol == packet::kProtoIcmp ? std::byte{8} : std::byte{128};  // echo
      put16(f, l4 + 4, 1);                                                          // identifier
      put16(f, l4 + 6, 1);                                                          // sequence
      checksum_at = l4 + 2;
      break;
    default:
      return f;
  }
  uint64_t sum = packet::checksumAdd(std::span(f).subspan(l4));
  if (spec.protocol != packet::kProtoIcmp) {  // the others cover a pseudo-header
    sum = packet::checksumAdd(std::span(f).subspan(v6 ? l3 + 8 : l3 + 12, v6 ? 32 : 8), sum);
    sum += spec.protocol + l4_length;
  }
  uint16_t checksum = packet::checksumFinish(sum);
  if (checksum == 0 && spec.protocol == packet::kProtoUdp) {
    checksum = 0xFFFF;  // 0 means "no checksum" in UDP
  }
  put16(f, checksum_at, checksum);
  return f;
}

}  // namespace tmirror::cli
