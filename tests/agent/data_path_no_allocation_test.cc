// Proves the agent's data path allocates nothing per block: a real capture ring on a veth in
// a network namespace, the engine, the next-hop table, the rate cap, the sender and the
// counter publication, driven with InterfaceWorker::runOnce() on the test's own thread while
// every operator new of that thread is counted (testing/allocation_counter.h).
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "data_path_fixture.h"
#include "rules/kernel_prefilter.h"
#include "rules/rules_test_util.h"
#include "testing/allocation_counter.h"

namespace tmirror::agent {
namespace {

using model::TrafficDirection;

class DataPathNoAllocationTest : public DataPathLab {
 protected:
  model::HostMirrorConfig config() const {
    auto interface = testing::makeInterface();
    interface.interface.ipv4 = testing::ip("198.51.100.1");
    interface.interface.mac = mac_a_;
    interface.interface.name = "tm0";
    for (uint32_t s = 1; s <= 2; ++s) {
      auto session = testing::makeSession(s, 700 + s);
      session.target.addresses = {testing::ip("198.51.100.2")};
      session.packet_length = s == 2 ? std::optional<uint32_t>(96) : std::nullopt;
      session.filter.ingress_rules.push_back(
          testing::makeRule(TrafficDirection::Ingress,
                            {.number = 10,
                             .protocol = 17,
                             .dst_ports = model::PortRange{static_cast<uint16_t>(6000 + s),
                                                           static_cast<uint16_t>(6000 + s)}}));
      session.filter.egress_rules.push_back(testing::makeRule(
          TrafficDirection::Egress,
          {.number = 10, .protocol = 17, .src_ports = model::PortRange{6001, 6002}}));
      interface.sessions.push_back(session);
    }
    model::HostMirrorConfig host;
    host.interfaces = {interface};
    return host;
  }

  // A mix: ingress copies for either session, egress copies, frames no rule selects.
  void injectMix(int rounds) {
    for (int i = 0; i < rounds; ++i) {
      const auto payload = static_cast<std::size_t>(20 + (i * 37) % 900);
      inject(injector_b_, ingressFrame(static_cast<uint16_t>(6001 + i % 2), payload));
      inject(injector_a_, egressFrame(6001, payload));
      inject(injector_b_, ingressFrame(7000, 10));
    }
  }

  // Runs the data path on this thread until `frames` more frames were counted.
  uint64_t runUntil(uint64_t frames, uint64_t& allocations) {
    const uint64_t start = worker_->report().counters.frames;
    uint64_t seen = start;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (seen - start < frames && std::chrono::steady_clock::now() < deadline) {
      // Past the publish period, so that the first round below publishes too.
      std::this_thread::sleep_for(std::chrono::milliseconds(110));
      {
        testing::CountAllocations counted;
        for (int round = 0; round < 8; ++round) {
          auto ran = worker_->runOnce(5);
          EXPECT_TRUE(ran.has_value());
        }
        allocations += counted.count();
      }
      seen = worker_->report().counters.frames;
    }
    return seen - start;
  }
};

TEST_F(DataPathNoAllocationTest, CountingHookSeesThisThreadsAllocations) {
  testing::CountAllocations counted;
  auto* v = new std::vector<int>(100);
  delete v;
  EXPECT_GE(counted.count(), 2u);  // an inserted allocation would be seen
}

TEST_F(DataPathNoAllocationTest, MirroringBlocksAllocatesNothing) {
  // Raw Ethernet copies (a known neighbour) with a rate cap far above the offered load.
  ASSERT_EQ(lab_.run("ip -n " + lab_.name("a") + " neigh replace 198.51.100.2 lladdr " +
                     packet::formatMacAddress(mac_b_) + " dev tm0 nud permanent"),
            0);
  const model::HostMirrorConfig host = config();
  auto engine = engine::MirrorEngine::create(host, host.interfaces[0]);
  ASSERT_TRUE(engine) << engine.error().message;
  WorkerOptions options;
  options.ring.block_size = 1 << 17;  // the smallest: many blocks per run
  options.ring.block_count = 32;
  options.rate_limit_pps = 10'000'000;
  worker_ = std::make_unique<InterfaceWorker>("tm0", "eni-test", options);
  auto prefilter = rules::compileKernelPrefilter(host.interfaces[0]);
  ASSERT_TRUE(prefilter);
  auto opened = worker_->open(std::make_unique<engine::MirrorEngine>(std::move(*engine)), 1,
                              std::move(*prefilter));
  ASSERT_TRUE(opened) << opened.error().message;

  // Warm-up: first use of the sockets and the ring, outside the count.
  injectMix(10);
  uint64_t warm_allocations = 0;
  runUntil(20, warm_allocations);
  ASSERT_EQ(receive(20).size(), 20u);

  constexpr int kRounds = 300;
  injectMix(kRounds);
  uint64_t allocations = 0;
  const uint64_t frames = runUntil(2 * kRounds, allocations);
  EXPECT_GE(frames, 2u * kRounds);
  EXPECT_EQ(allocations, 0u) << "the data path allocated";

  const InterfaceReport report = worker_->report();
  EXPECT_EQ(report.counters.mirror.in.mirror_packets, 10u + kRounds);
  EXPECT_EQ(report.counters.mirror.out.mirror_packets, 10u + kRounds);
  EXPECT_GT(report.counters.mirror.in.truncated_packets, 0u);
  EXPECT_EQ(report.raw_frames, 2u * (10 + kRounds));
  EXPECT_EQ(receive(2 * kRounds).size(), 2u * kRounds);
  EXPECT_EQ(receive(1).size(), 0u) << "a copy too many";
}

}  // namespace
}  // namespace tmirror::agent
