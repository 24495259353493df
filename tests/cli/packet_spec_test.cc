// `tmirror explain --packet`: the one-line packet forms, their errors, and the frames they build
// (read back by the agent's own frame parser, checksums verified).
#include "cli/packet_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "packet/checksum.h"
#include "packet/frame.h"

namespace tmirror::cli {
namespace {

using ::testing::HasSubstr;

packet::IpAddress ip(const char* text) {
  return *packet::parseIpAddress(text);
}

const packet::MacAddress kA{{0x02, 0, 0, 0, 0, 1}};
const packet::MacAddress kB{{0x02, 0, 0, 0, 0, 2}};

TEST(PacketSpec, ReadsTcpUdpIcmpAndOtherProtocolsInBothFamilies) {
  auto tcp = parsePacketSpec("tcp 198.51.100.1:443 > 198.51.100.2:51000");
  ASSERT_TRUE(tcp) << tcp.error().message;
  EXPECT_EQ(tcp->protocol, packet::kProtoTcp);
  EXPECT_EQ(tcp->source, ip("198.51.100.1"));
  EXPECT_EQ(tcp->source_port, 443);
  EXPECT_EQ(tcp->destination, ip("198.51.100.2"));
  EXPECT_EQ(tcp->destination_port, 51000);

  auto udp6 = parsePacketSpec("  UDP [2001:db8::1]:53   >  [2001:db8::2]:40000 ");
  ASSERT_TRUE(udp6) << udp6.error().message;
  EXPECT_EQ(udp6->protocol, packet::kProtoUdp);
  EXPECT_EQ(udp6->source, ip("2001:db8::1"));
  EXPECT_EQ(udp6->destination_port, 40000);

  // tcpdump's own way of writing a port.
  auto dumped = parsePacketSpec("tcp 198.51.100.1.443 > 2001:db8::2.80");
  EXPECT_FALSE(dumped);  // two families
  auto dumped4 = parsePacketSpec("tcp 198.51.100.1.443 > 198.51.100.2.80");
  ASSERT_TRUE(dumped4) << dumped4.error().message;
  EXPECT_EQ(dumped4->source_port, 443);
  auto dumped6 = parsePacketSpec("udp 2001:db8::1.53 > 2001:db8::2.40000");
  ASSERT_TRUE(dumped6) << dumped6.error().message;
  EXPECT_EQ(dumped6->source, ip("2001:db8::1"));
  EXPECT_EQ(dumped6->source_port, 53);

  auto icmp = parsePacketSpec("icmp 198.51.100.1 > 198.51.100.2");
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->protocol, packet::kProtoIcmp);
  auto icmp6 = parsePacketSpec("icmp6 2001:db8::1 > 2001:db8::2");
  ASSERT_TRUE(icmp6);
  EXPECT_EQ(icmp6->protocol, packet::kProtoIcmpv6);
  auto gre = parsePacketSpec("47 198.51.100.1 > 198.51.100.2");
  ASSERT_TRUE(gre);
  EXPECT_EQ(gre->protocol, 47);
}

TEST(PacketSpec, RefusesWhatItCannotReadAndSaysWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"tcp 198.51.100.1:443 198.51.100.2:51000", "is not PROTOCOL SOURCE > DESTINATION"},
      {"sctp 198.51.100.1 > 198.51.100.2", "'sctp' is not tcp, udp, icmp, icmp6"},
      {"256 198.51.100.1 > 198.51.100.2", "is not tcp, udp, icmp, icmp6 or a protocol number"},
      {"tcp 198.51.100.1 > 198.51.100.2:80", "TCP and UDP need a port"},
      {"icmp 198.51.100.1:7 > 198.51.100.2", "only TCP and UDP have ports"},
      {"tcp 198.51.100.1:70000 > 198.51.100.2:80", "is not an IP address and port"},
      {"tcp 198.51.100.1:443 > [2001:db8::2]:80", "not of one IP family"},
      {"icmp 2001:db8::1 > 2001:db8::2", "use icmp6"},
      {"icmp6 198.51.100.1 > 198.51.100.2", "use icmp"},
  };
  for (const auto& [text, why] : cases) {
    auto spec = parsePacketSpec(text);
    ASSERT_FALSE(spec) << text;
    EXPECT_THAT(spec.error().message, HasSubstr(why)) << text;
    EXPECT_THAT(spec.error().message, HasSubstr("expected e.g. 'tcp 198.51.100.1:443")) << text;
  }
}

TEST(PacketSpec, BuiltFramesParseBackWithValidChecksums) {
  for (const char* text :
       {"tcp 198.51.100.1:443 > 198.51.100.2:51000", "udp 198.51.100.1:53 > 198.51.100.2:40000",
        "icmp 198.51.100.1 > 198.51.100.2", "tcp [2001:db8::1]:22 > [2001:db8::2]:60000",
        "udp [2001:db8::1]:546 > [2001:db8::2]:547", "icmp6 2001:db8::1 > 2001:db8::2",
        "47 198.51.100.1 > 198.51.100.2"}) {
    const auto spec = parsePacketSpec(text);
    ASSERT_TRUE(spec) << text;
    for (uint32_t length : {0u, 200u}) {
      const auto frame = buildFrame(*spec, kA, kB, length);
      if (length != 0) {
        EXPECT_EQ(frame.size(), length) << text;
      }
      packet::ParsedFrame parsed;
      packet::parseFrame(frame, parsed);
      ASSERT_EQ(parsed.status, packet::FrameStatus::Ok) << text;
      EXPECT_EQ(parsed.protocol, spec->protocol) << text;
      EXPECT_EQ(parsed.src, spec->source) << text;
      EXPECT_EQ(parsed.dst, spec->destination) << text;
      EXPECT_EQ(parsed.ip_end, frame.size()) << text;
      const bool ports = spec->protocol == packet::kProtoTcp || spec->protocol == packet::kProtoUdp;
      EXPECT_EQ(parsed.has_ports, ports) << text;
      if (ports) {
        EXPECT_EQ(parsed.src_port, spec->source_port) << text;
        EXPECT_EQ(parsed.dst_port, spec->destination_port) << text;
      }
      const auto bytes = std::span<const std::byte>(frame);
      const bool v6 = parsed.family == packet::IpFamily::V6;
      if (!v6) {
        EXPECT_EQ(packet::checksumFold(packet::checksumAdd(bytes.subspan(14, 20))), 0xFFFF);
      }
      if (spec->protocol == 47) {
        continue;
      }
      // The L4 checksum verifies over the segment (and the pseudo-header, but for ICMPv4).
      uint64_t sum = packet::checksumAdd(bytes.subspan(parsed.l4_offset));
      if (spec->protocol != packet::kProtoIcmp) {
        sum = packet::checksumAdd(bytes.subspan(v6 ? 22 : 26, v6 ? 32 : 8), sum);
        sum += spec->protocol + (frame.size() - parsed.l4_offset);
      }
      EXPECT_EQ(packet::checksumFold(sum), 0xFFFF) << text;
    }
  }
}

}  // namespace
}  // namespace tmirror::cli
