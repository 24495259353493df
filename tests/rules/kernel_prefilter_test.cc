// The kernel prefilter never drops a frame the engine would mirror (property, against the
// reference evaluator on random rule sets and frames), drops what it can, and is a program the
// kernel accepts.
#include "rules/kernel_prefilter.h"

#include <linux/filter.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <gtest/gtest.h>

#include "rules/cbpf_interpreter.h"
#include "rules/random_traffic.h"
#include "rules/reference_evaluator.h"
#include "rules/rules_test_util.h"

namespace tmirror::rules {
namespace {

using model::RuleAction;
using model::TrafficDirection;
using testing::Frame;
using testing::PacketBuilder;
using testing::RuleSpec;
using testing::random_traffic::Random;
using testing::random_traffic::randomFrame;
using testing::random_traffic::randomHost;

constexpr uint32_t kAll = 0xFFFFFFFFu;

uint32_t packetTypeOf(TrafficDirection direction) {
  return direction == TrafficDirection::Egress ? PACKET_OUTGOING : PACKET_HOST;
}

// The frame as AF_PACKET shows it when the kernel has taken the outer VLAN tag off.
Frame untagged(const Frame& frame) {
  Frame out(frame.begin(), frame.begin() + 12);
  out.insert(out.end(), frame.begin() + 16, frame.end());
  return out;
}

bool outerTagged(const Frame& frame) {
  return frame.size() >= 16 && frame[12] == std::byte{0x81} && frame[13] == std::byte{0x00};
}

std::vector<BpfInstruction> compiled(const model::InterfaceMirrorConfig& interface) {
  auto program = compileKernelPrefilter(interface);
  EXPECT_TRUE(program.has_value());
  if (!program) {
    return {};
  }
  EXPECT_EQ(testing::checkCbpf(*program), "");
  return *program;
}

uint32_t run(const std::vector<BpfInstruction>& program, const Frame& frame,
             TrafficDirection direction) {
  const auto verdict = testing::runCbpf(program, frame, packetTypeOf(direction));
  EXPECT_TRUE(verdict.has_value()) << "the interpreter met an instruction it does not know";
  return verdict.value_or(0);
}

TEST(KernelPrefilterProperty, NeverDropsWhatTheEngineMirrorsAndDropsMuchOfTheRest) {
  Random rnd(20261204);
  uint64_t mirrored = 0;
  uint64_t not_mirrored = 0;
  uint64_t dropped = 0;
  int programs = 0;
  int too_large = 0;
  for (int c = 0; c < 200; ++c) {
    const model::HostMirrorConfig host = randomHost(rnd);
    const auto& interface = host.interfaces[0];
    const auto exclusions = rules::TrafficExclusions::forInterface(host, interface);
    const auto program = compileKernelPrefilter(interface);
    if (!program) {
      ++too_large;
      continue;
    }
    ++programs;
    ASSERT_EQ(testing::checkCbpf(*program), "") << "config " << c;
    for (int p = 0; p < 4000; ++p) {
      const Frame frame = randomFrame(rnd);
      packet::ParsedFrame parsed;
      packet::parseFrame(frame, parsed);
      const auto direction = rnd.chance(0.5) ? TrafficDirection::Ingress : TrafficDirection::Egress;
      const auto expected = rules::evaluateReference(interface, exclusions, parsed, direction);
      // As captured: the tag in the data (no offload), or in the metadata (offload).
      const uint32_t verdict =
          run(*program, outerTagged(frame) ? untagged(frame) : frame, direction);
      if (expected.fate == rules::PacketFate::Mirrored) {
        ++mirrored;
        ASSERT_EQ(verdict, kAll) << "config " << c << " packet " << p
                                 << ": the engine mirrors it, the prefilter dropped it";
        if (outerTagged(frame)) {
          ASSERT_EQ(run(*program, frame, direction), kAll) << "config " << c << " packet " << p;
        }
      } else {
        ++not_mirrored;
        dropped += verdict == 0;
      }
    }
  }
  EXPECT_GT(mirrored, 100'000u);
  // Most configs fit one program; the rest run without a prefilter.
  EXPECT_GT(programs, 150) << too_large << " configs were too large";
  // A prefilter that passes everything would pass this test too: it must drop most of what the
  // engine would not mirror.
  EXPECT_GT(dropped, not_mirrored / 2) << dropped << " of " << not_mirrored;
  std::printf(
      "# prefilter: %d programs (%d too large), %llu mirrored frames all passed, "
      "%llu of %llu others dropped\n",
      programs, too_large, static_cast<unsigned long long>(mirrored),
      static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(not_mirrored));
}

model::InterfaceMirrorConfig webNotSsh() {
  auto interface = testing::makeInterface();
  auto session = testing::makeSession(1);
  using model::PortRange;
  session.filter.ingress_rules = {
      testing::makeRule(TrafficDirection::Ingress, {.number = 10,
                                                    .action = RuleAction::Reject,
                                                    .protocol = 6,
                                                    .dst_ports = PortRange{22, 22}}),
      testing::makeRule(TrafficDirection::Ingress,
                        {.number = 20, .protocol = 6, .dst_ports = PortRange{80, 443}})};
  session.filter.egress_rules = {testing::makeRule(
      TrafficDirection::Egress,
      {.number = 10, .protocol = 6, .src = "198.51.100.0/24", .src_ports = PortRange{80, 80}})};
  interface.sessions.push_back(session);
  return interface;
}

TEST(KernelPrefilter, WebRulesPassWebAndDropTheRest) {
  const auto program = compiled(webNotSsh());
  const auto tcp = [](uint16_t sport, uint16_t dport) {
    return PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").tcp(sport, dport).build();
  };
  EXPECT_EQ(run(program, tcp(40000, 80), TrafficDirection::Ingress), kAll);
  EXPECT_EQ(run(program, tcp(40000, 443), TrafficDirection::Ingress), kAll);
  EXPECT_EQ(run(program, tcp(40000, 444), TrafficDirection::Ingress), 0u);
  EXPECT_EQ(run(program, tcp(40000, 79), TrafficDirection::Ingress), 0u);
  // Reject rules are the engine's: the prefilter passes only what an accept rule could take.
  EXPECT_EQ(run(program, tcp(40000, 22), TrafficDirection::Ingress), 0u);
  const Frame udp = PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").udp(40000, 80).build();
  EXPECT_EQ(run(program, udp, TrafficDirection::Ingress), 0u);
  // Egress has its own rules: from 198.51.100.0/24 port 80.
  const Frame reply = PacketBuilder().ipv4("198.51.100.10", "192.0.2.1").tcp(80, 40000).build();
  EXPECT_EQ(run(program, reply, TrafficDirection::Egress), kAll);
  EXPECT_EQ(run(program, reply, TrafficDirection::Ingress), 0u);
  const Frame other = PacketBuilder().ipv4("203.0.113.1", "192.0.2.1").tcp(80, 40000).build();
  EXPECT_EQ(run(program, other, TrafficDirection::Egress), 0u);
  // IPv4 options move the ports.
  const Frame options =
      PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").ipv4Options(3).tcp(40000, 80).build();
  EXPECT_EQ(run(program, options, TrafficDirection::Ingress), kAll);
  const Frame options_ssh =
      PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").ipv4Options(3).tcp(40000, 22).build();
  EXPECT_EQ(run(program, options_ssh, TrafficDirection::Ingress), 0u);
}

TEST(KernelPrefilter, DropsWhatIsNeverMirroredAndPassesWhatItCannotRead) {
  const auto program = compiled(webNotSsh());
  // Non-IP frames are never mirrored but go to the engine, which counts them.
  const Frame arp = PacketBuilder().etherType(0x0806).build();
  EXPECT_EQ(run(program, arp, TrafficDirection::Ingress), kAll);
  const Frame web = PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").tcp(40000, 80).build();
  EXPECT_EQ(testing::runCbpf(program, web, PACKET_OTHERHOST).value_or(1), 0u);
  EXPECT_EQ(testing::runCbpf(program, web, PACKET_LOOPBACK).value_or(1), 0u);
  EXPECT_EQ(testing::runCbpf(program, web, PACKET_BROADCAST).value_or(0), kAll);
  // No IPv6 accept rule: IPv6 is dropped...
  const Frame v6 = PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").tcp(40000, 80).build();
  EXPECT_EQ(run(program, v6, TrafficDirection::Ingress), 0u);
  // ...but a tag still in the data, or a later fragment, is left to the engine.
  const Frame qinq = PacketBuilder().vlan(10).ipv4("192.0.2.1", "198.51.100.10").udp(1, 2).build();
  EXPECT_EQ(run(program, qinq, TrafficDirection::Ingress), kAll);
  const Frame later =
      PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").ipv4Fragment(10, false).udp(1, 2).build();
  EXPECT_EQ(run(program, later, TrafficDirection::Ingress), kAll);
  // Malformed frames go to the engine, which counts them by reason: TCP cut before its
  // ports, an IPv4 header cut short, a bad IPv4 header length, a runt.
  Frame cut = web;
  cut.resize(14 + 20 + 2);
  EXPECT_EQ(run(program, cut, TrafficDirection::Ingress), kAll);
  cut.resize(14 + 12);
  EXPECT_EQ(run(program, cut, TrafficDirection::Ingress), kAll);
  Frame bad_ihl = web;
  bad_ihl[14] = std::byte{0x44};
  EXPECT_EQ(run(program, bad_ihl, TrafficDirection::Ingress), kAll);
  cut.resize(10);
  EXPECT_EQ(run(program, cut, TrafficDirection::Ingress), kAll);
  // A UDP frame cut before its ports is malformed too; one whole but unwanted is dropped.
  const Frame udp = PacketBuilder().ipv4("192.0.2.1", "198.51.100.10").udp(1, 2).build();
  EXPECT_EQ(run(program, udp, TrafficDirection::Ingress), 0u);
}

TEST(KernelPrefilter, Ipv6RulesAndAmazonDns) {
  auto interface = testing::makeInterface();
  auto session = testing::makeSession(3);
  session.filter.ingress_rules = {
      testing::makeRule(TrafficDirection::Ingress, {.number = 1,
                                                    .protocol = 17,
                                                    .src = "2001:db8:1:2:8000::/65",
                                                    .dst = "::/0",
                                                    .dst_ports = model::PortRange{5000, 5001}})};
  session.filter.amazon_dns = true;
  interface.sessions.push_back(session);
  const auto program = compiled(interface);
  const auto udp6 = [](const char* src, uint16_t dport) {
    return PacketBuilder().ipv6(src, "2001:db8::2").udp(40000, dport).build();
  };
  EXPECT_EQ(run(program, udp6("2001:db8:1:2:8000::1", 5000), TrafficDirection::Ingress), kAll);
  EXPECT_EQ(run(program, udp6("2001:db8:1:2:8000::1", 5002), TrafficDirection::Ingress), 0u);
  EXPECT_EQ(run(program, udp6("2001:db8:1:2:7fff::1", 5000), TrafficDirection::Ingress), 0u);
  EXPECT_EQ(run(program, udp6("2001:db8:1:3:8000::1", 5000), TrafficDirection::Ingress), 0u);
  // amazon-dns: port 53 passes in both directions, the engine checks the resolver.
  EXPECT_EQ(run(program, udp6("2400::1", 53), TrafficDirection::Egress), kAll);
  const Frame dns4 = PacketBuilder().ipv4("198.51.100.53", "198.51.100.10").udp(53, 3333).build();
  EXPECT_EQ(run(program, dns4, TrafficDirection::Ingress), kAll);
  // An extension header hides the upper protocol: left to the engine.
  const Frame hop =
      PacketBuilder().ipv6("2400::1", "2001:db8::2").ipv6Extension(0).udp(1, 2).build();
  EXPECT_EQ(run(program, hop, TrafficDirection::Ingress), kAll);
}

TEST(KernelPrefilter, TooManyRulesForOneProgramMeansNone) {
  auto interface = testing::makeInterface();
  auto session = testing::makeSession(1);
  for (uint32_t n = 1; n <= 1500; ++n) {
    session.filter.ingress_rules.push_back(testing::makeRule(
        TrafficDirection::Ingress,
        {.number = n,
         .protocol = 6,
         .src = "10." + std::to_string(n / 256) + "." + std::to_string(n % 256) + ".0/24",
         .dst_ports = model::PortRange{static_cast<uint16_t>(n), static_cast<uint16_t>(n)}}));
  }
  interface.sessions.push_back(session);
  EXPECT_FALSE(compileKernelPrefilter(interface).has_value());
  // Duplicates across sessions count once.
  auto small = testing::makeInterface();
  for (uint32_t s = 1; s <= 50; ++s) {
    auto copy = testing::makeSession(s);
    copy.filter = webNotSsh().sessions[0].filter;
    small.sessions.push_back(copy);
  }
  EXPECT_EQ(compileKernelPrefilter(small)->size(), compileKernelPrefilter(webNotSsh())->size());
}

TEST(KernelPrefilter, TheKernelAcceptsTheProgram) {
  auto interface = webNotSsh();
  interface.sessions[0].filter.amazon_dns = true;
  interface.sessions[0].filter.ingress_rules.push_back(testing::makeRule(
      TrafficDirection::Ingress, {.number = 30, .src = "2001:db8::/32", .dst = "2001:db8:1::/48"}));
  const auto program = compiled(interface);
  // Any socket checks a classic filter the same way; a UDP socket needs no privilege.
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sock_fprog fprog{static_cast<unsigned short>(program.size()),
                   reinterpret_cast<sock_filter*>(const_cast<BpfInstruction*>(program.data()))};
  EXPECT_EQ(::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog), 0)
      << std::strerror(errno);
  ::close(fd);
}

}  // namespace
}  // namespace tmirror::rules
