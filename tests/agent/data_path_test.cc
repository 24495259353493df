// The agent's data path for real: an InterfaceWorker captures on a veth in its own network
// namespace and sends VXLAN copies to a UDP socket in the peer namespace. Frames are injected
// with packet sockets on both sides, so that both directions, VLAN tags, the rate cap and
// both send paths (raw Ethernet and kernel-routed) are exercised with exact byte checks.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "agent/interface_worker.h"
#include "data_path_fixture.h"
#include "packet/vxlan.h"
#include "rules/kernel_prefilter.h"
#include "rules/rules_test_util.h"
#include "testing/packet_builder.h"

namespace tmirror::agent {
namespace {

using model::TrafficDirection;
using testing::PacketBuilder;
using Frame = std::vector<std::byte>;

class DataPathTest : public DataPathLab {
 protected:
  // A session mirroring UDP to port 6000 in (and from port 6000 out) to 198.51.100.2.
  model::HostMirrorConfig config(std::optional<uint32_t> packet_length = std::nullopt) {
    auto interface = testing::makeInterface();
    interface.interface.ipv4 = testing::ip("198.51.100.1");
    interface.interface.mac = mac_a_;
    interface.interface.name = "tm0";
    auto session = testing::makeSession(1, 777);
    session.target.addresses = {testing::ip("198.51.100.2")};
    session.packet_length = packet_length;
    session.filter.ingress_rules.push_back(testing::makeRule(
        TrafficDirection::Ingress,
        {.number = 10, .protocol = 17, .dst_ports = model::PortRange{6000, 6000}}));
    session.filter.egress_rules.push_back(testing::makeRule(
        TrafficDirection::Egress,
        {.number = 10, .protocol = 17, .src_ports = model::PortRange{6000, 6000}}));
    interface.sessions.push_back(session);
    model::HostMirrorConfig host;
    host.interfaces = {interface};
    return host;
  }

  void startWorker(const model::HostMirrorConfig& host, WorkerOptions options = {},
                   std::vector<rules::BpfInstruction> prefilter = {}) {
    auto engine = engine::MirrorEngine::create(host, host.interfaces[0]);
    ASSERT_TRUE(engine) << engine.error().message;
    options.ring.block_size = 1 << 20;
    options.ring.block_count = 4;
    worker_ = std::make_unique<InterfaceWorker>("tm0", "eni-test", options);
    auto started = worker_->start(std::make_unique<engine::MirrorEngine>(std::move(*engine)), 1,
                                  std::move(prefilter));
    ASSERT_TRUE(started) << started.error().message;
  }

  InterfaceReport waitForFrames(uint64_t mirrored_and_skipped) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    InterfaceReport r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = worker_->report();
      const auto& in = r.counters.mirror.in;
      const auto& out = r.counters.mirror.out;
      if (in.mirror_packets + out.mirror_packets + in.skip_packets + out.skip_packets >=
          mirrored_and_skipped) {
        // One more publish period, so that nothing late is missed.
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        return worker_->report();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return r;
  }
};

TEST_F(DataPathTest, MirrorsBothDirectionsExactlyOnceWithTheSessionsVni) {
  // A permanent neighbour entry: every copy leaves as a raw Ethernet frame.
  ASSERT_EQ(lab_.run("ip -n " + lab_.name("a") + " neigh replace 198.51.100.2 lladdr " +
                     packet::formatMacAddress(mac_b_) + " dev tm0 nud permanent"),
            0);
  startWorker(config());
  std::vector<Frame> expected;
  for (int i = 0; i < 20; ++i) {
    const Frame in = ingressFrame(6000, 10 + i);
    const Frame out = egressFrame(6000, 30 + i);
    inject(injector_b_, in);
    inject(injector_a_, out);
    inject(injector_b_, ingressFrame(7000, 10));  // not selected
    expected.push_back(in);
    expected.push_back(out);
  }
  const InterfaceReport report = waitForFrames(40);
  auto received = receive(40);
  EXPECT_EQ(receive(1).size(), 0u) << "a copy too many";
  ASSERT_EQ(received.size(), 40u);
  std::multiset<Frame> got, want(expected.begin(), expected.end());
  for (const Frame& datagram : received) {
    auto vxlan = packet::decodeVxlan(datagram, false);
    ASSERT_EQ(vxlan.status, packet::DecapStatus::Ok);
    EXPECT_EQ(vxlan.vni, 777u);
    got.emplace(vxlan.inner.begin(), vxlan.inner.end());
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(report.counters.mirror.in.mirror_packets, 20u);
  EXPECT_EQ(report.counters.mirror.out.mirror_packets, 20u);
  EXPECT_EQ(report.sessions.at("tms-1").in.mirror_packets, 20u);
  EXPECT_EQ(report.raw_frames, 40u);
  EXPECT_EQ(report.routed_packets, 0u);
  EXPECT_GE(report.counters.fate(rules::PacketFate::NotMatched), 20u);
  EXPECT_EQ(report.counters.skipped, 0u);
  EXPECT_EQ(report.kernel_drops, 0u);
  // Every frame the ring delivered is in exactly one fate.
  uint64_t fates = 0;
  for (uint64_t n : report.counters.fates) {
    fates += n;
  }
  EXPECT_EQ(report.counters.frames,
            fates + report.counters.skipped + report.counters.unknown_direction);
  EXPECT_EQ(report.kernel_packets, report.counters.frames + report.kernel_drops);
}

TEST_F(DataPathTest, RestoresTheVlanTagAndTruncatesToThePacketLength) {
  startWorker(config(/*packet_length=*/64));
  const Frame tagged = ingressFrame(6000, 200, /*vlan=*/100);
  inject(injector_b_, tagged);
  const InterfaceReport report = waitForFrames(1);
  auto received = receive(1);
  ASSERT_EQ(received.size(), 1u);
  auto vxlan = packet::decodeVxlan(received[0], false);
  ASSERT_EQ(vxlan.status, packet::DecapStatus::Ok);
  // The copy is the tagged frame as it was on the wire, cut to 64 bytes.
  EXPECT_EQ(Frame(vxlan.inner.begin(), vxlan.inner.end()),
            Frame(tagged.begin(), tagged.begin() + 64));
  EXPECT_EQ(report.counters.mirror.in.truncated_packets, 1u);
  EXPECT_EQ(report.counters.mirror.in.mirror_bytes, tagged.size());
}

TEST_F(DataPathTest, UnresolvedNeighbourGoesThroughTheKernelThenRaw) {
  startWorker(config());
  // From an address nobody has: the kernel's own answers (ICMP port unreachable) then do not
  // resolve the target's MAC before the agent needs it.
  for (int i = 0; i < 5; ++i) {
    inject(injector_b_, ingressFrame(6000, 10, {}, "198.51.100.9"));
  }
  auto report = waitForFrames(5);
  EXPECT_EQ(receive(5).size(), 5u);
  EXPECT_EQ(report.routed_packets + report.raw_frames, 5u);
  EXPECT_GE(report.routed_packets, 1u) << "the first copy cannot know the MAC";
  // Once the kernel resolved it (and the upkeep thread resolved the next hop again), copies
  // leave raw.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  inject(injector_b_, ingressFrame(6000, 10, {}, "198.51.100.9"));
  report = waitForFrames(6);
  EXPECT_EQ(receive(1).size(), 1u);
  EXPECT_GE(report.raw_frames, 1u);
}

TEST_F(DataPathTest, RateCapSkipsExactlyWhatIsNotSent) {
  WorkerOptions options;
  options.rate_limit_pps = 50;  // far below what is offered
  startWorker(config(), options);
  constexpr int kOffered = 2000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kOffered; ++i) {
    inject(injector_b_, ingressFrame(6000, 20));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const InterfaceReport report = waitForFrames(kOffered);
  const auto received = receive(kOffered);
  const auto& in = report.counters.mirror.in;
  EXPECT_EQ(in.mirror_packets + in.skip_packets, static_cast<uint64_t>(kOffered));
  EXPECT_EQ(received.size(), in.mirror_packets);
  EXPECT_GT(in.skip_packets, 0u);
  EXPECT_EQ(report.skipped_rate_limit, in.skip_packets);
  EXPECT_EQ(report.counters.skipped, in.skip_packets);
  EXPECT_EQ(report.sessions.at("tms-1").in.skip_packets, in.skip_packets);
  // The cap admits its rate over the frames' time span plus one burst (here one packet),
  // and lets something through.
  EXPECT_GE(in.mirror_packets, 1u);
  EXPECT_LE(static_cast<double>(in.mirror_packets), 50.0 * seconds + 2.0) << seconds << " s";
}

TEST_F(DataPathTest, TheKernelPrefilterKeepsUnwantedFramesOutOfTheRing) {
  const auto host = config();
  auto prefilter = rules::compileKernelPrefilter(host.interfaces[0]);
  ASSERT_TRUE(prefilter);
  startWorker(host, {}, *prefilter);
  EXPECT_EQ(worker_->report().prefilter_instructions, prefilter->size());
  EXPECT_EQ(worker_->report().prefilter_error, "");
  // 30 frames no rule accepts (another port, another direction's port, ARP), 10 it wants.
  for (int i = 0; i < 10; ++i) {
    inject(injector_b_, ingressFrame(6001, 10));
    inject(injector_b_, ingressFrame(6000, 10));
    inject(injector_a_, egressFrame(6001, 10));
    inject(injector_b_,
           PacketBuilder()
               .macs(packet::formatMacAddress(mac_a_), packet::formatMacAddress(mac_b_))
               .etherType(0x0806)
               .payload(28)
               .build());
  }
  const auto report = waitForFrames(10);
  EXPECT_EQ(receive(20).size(), 10u);
  EXPECT_EQ(report.counters.mirror.in.mirror_packets, 10u);
  // The 20 UDP frames no rule accepts never reached user space (without the prefilter they
  // are NotMatched); the ARP frames did (not IP: counted), with whatever else the kernel
  // itself sent on the link.
  EXPECT_EQ(report.counters.fate(rules::PacketFate::NotMatched), 0u);
  EXPECT_GE(report.counters.fate(rules::PacketFate::NotIp), 10u);
  EXPECT_EQ(report.counters.frames, 10u + report.counters.fate(rules::PacketFate::NotIp));
  EXPECT_EQ(report.kernel_packets, report.counters.frames);

  // A new state swaps the program too: now port 6001 is wanted, 6000 is not.
  auto next = config();
  next.interfaces[0].sessions[0].filter.ingress_rules[0].destination_port_range =
      model::PortRange{6001, 6001};
  auto engine = engine::MirrorEngine::create(next, next.interfaces[0]);
  ASSERT_TRUE(engine);
  worker_->apply(std::make_unique<engine::MirrorEngine>(std::move(*engine)), 2,
                 *rules::compileKernelPrefilter(next.interfaces[0]));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (worker_->appliedGeneration() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(worker_->appliedGeneration(), 2u);
  for (int i = 0; i < 5; ++i) {
    inject(injector_b_, ingressFrame(6000, 10));
    inject(injector_b_, ingressFrame(6001, 10));
  }
  const auto after = waitForFrames(15);
  EXPECT_EQ(receive(10).size(), 5u);
  EXPECT_EQ(after.counters.mirror.in.mirror_packets, 15u);
  EXPECT_EQ(after.counters.fate(rules::PacketFate::NotMatched), 0u);
}

TEST_F(DataPathTest, ANewEngineTakesOverBetweenBlocksAndCountersCarryOn) {
  startWorker(config());
  inject(injector_b_, ingressFrame(6000, 10));
  waitForFrames(1);
  // The new desired state: the same session with another VNI.
  auto host = config();
  host.interfaces[0].sessions[0].virtual_network_id = 999;
  auto engine = engine::MirrorEngine::create(host, host.interfaces[0]);
  ASSERT_TRUE(engine);
  worker_->apply(std::make_unique<engine::MirrorEngine>(std::move(*engine)), 2);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (worker_->appliedGeneration() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(worker_->appliedGeneration(), 2u) << "not applied within a second without traffic";
  inject(injector_b_, ingressFrame(6000, 10));
  const auto report = waitForFrames(2);
  auto received = receive(2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(packet::decodeVxlan(received[0], false).vni, 777u);
  EXPECT_EQ(packet::decodeVxlan(received[1], false).vni, 999u);
  EXPECT_EQ(report.counters.mirror.in.mirror_packets, 2u);
  EXPECT_EQ(report.sessions.at("tms-1").in.mirror_packets, 2u);
}

TEST_F(DataPathTest, ALinkThatGoesDownAndUpKeepsTheWorkerAndItsCounters) {
  startWorker(config());
  inject(injector_b_, ingressFrame(6000, 10));
  waitForFrames(1);
  ASSERT_EQ(lab_.run("ip -n " + lab_.name("a") + " link set tm0 down"), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(worker_->running()) << worker_->report().error;
  ASSERT_EQ(lab_.run("ip -n " + lab_.name("a") + " link set tm0 up"), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  inject(injector_b_, ingressFrame(6000, 10));
  const auto report = waitForFrames(2);
  EXPECT_TRUE(worker_->running()) << report.error;
  EXPECT_EQ(report.counters.mirror.in.mirror_packets, 2u);
  EXPECT_EQ(receive(2).size(), 2u);
}

TEST_F(DataPathTest, AnInterfaceThatVanishesStopsTheWorkerWithAReason) {
  startWorker(config());
  ASSERT_EQ(lab_.run("ip -n " + lab_.name("a") + " link del tm0"), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (worker_->running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(worker_->running());
  EXPECT_FALSE(worker_->report().error.empty());
}

}  // namespace
}  // namespace tmirror::agent
