// ns/packet for the whole per-packet path the agent runs: parse -> match -> encapsulate,
// at 1, 10, 100 and 1,000 rules, for 64- and 1,500-byte frames. The rule lists are random
// (CIDRs, protocols, port ranges) with the accepting catch-all last, so every packet walks
// past every other rule: the worst case for a scan. "linear" forces the plain scan as the
// baseline the compiled matcher is compared with.
#include <random>

#include <benchmark/benchmark.h>

#include "engine/mirror_engine.h"
#include "rules/rules_test_util.h"

namespace tmirror {
namespace {

using model::TrafficDirection;

model::InterfaceMirrorConfig makeConfig(int rule_count, std::mt19937& rng) {
  auto interface = testing::makeInterface();
  auto session = testing::makeSession(1, 4242);
  session.packet_length = 128;
  std::uniform_int_distribution<int> octet(0, 255);
  std::uniform_int_distribution<int> port(0, 65000);
  for (int r = 0; r < rule_count - 1; ++r) {
    // Rules on 172.16.0.0/12 sources: none covers the benchmark's 10.0.0.0/8 traffic.
    testing::RuleSpec spec;
    spec.number = static_cast<uint32_t>(r + 1);
    spec.action = r % 4 == 0 ? model::RuleAction::Reject : model::RuleAction::Accept;
    spec.src =
        "172." + std::to_string(16 + octet(rng) % 16) + "." + std::to_string(octet(rng)) + ".0/24";
    spec.dst = r % 3 == 0 ? "0.0.0.0/0" : "198.51." + std::to_string(octet(rng)) + ".0/24";
    spec.protocol = r % 2 == 0 ? 6 : 17;
    const auto from = static_cast<uint16_t>(port(rng));
    spec.dst_ports = model::PortRange{from, static_cast<uint16_t>(from + octet(rng))};
    session.filter.ingress_rules.push_back(testing::makeRule(TrafficDirection::Ingress, spec));
  }
  session.filter.ingress_rules.push_back(testing::makeRule(
      TrafficDirection::Ingress, {.number = 32000, .protocol = 6, .src = "10.0.0.0/8"}));
  interface.sessions.push_back(session);
  return interface;
}

void runPipeline(benchmark::State& state, bool linear) {
  const int rule_count = static_cast<int>(state.range(0));
  const std::size_t frame_size = static_cast<std::size_t>(state.range(1));
  std::mt19937 rng(7);
  model::HostMirrorConfig host;
  host.dns_resolvers = {testing::ip("198.51.100.53")};
  const auto interface = makeConfig(rule_count, rng);
  host.interfaces = {interface};
  auto engine =
      engine::MirrorEngine::create(host, interface, {.matcher = {.force_linear = linear}});
  if (!engine) {
    state.SkipWithError(engine.error().message.c_str());
    return;
  }
  // 1,024 different flows so the caches see realistic variety.
  std::vector<testing::Frame> frames;
  std::uniform_int_distribution<int> octet(1, 254);
  std::uniform_int_distribution<int> port(1024, 65535);
  for (int i = 0; i < 1024; ++i) {
    const std::string src = "10." + std::to_string(octet(rng)) + "." + std::to_string(octet(rng)) +
                            "." + std::to_string(octet(rng));
    auto frame = testing::PacketBuilder()
                     .ipv4(src, "198.51.100.10")
                     .tcp(static_cast<uint16_t>(port(rng)), 443)
                     .payload(frame_size - 54)
                     .build();
    frames.push_back(std::move(frame));
  }
  packet::EncapSlot slot;
  engine::Decision decision;
  std::size_t i = 0;
  uint64_t mirrored = 0;
  for (auto _ : state) {
    engine->process(frames[i], TrafficDirection::Ingress, {}, slot, decision);
    mirrored += decision.match.fate == rules::PacketFate::Mirrored;
    benchmark::DoNotOptimize(decision.copy.pieces[0].data());
    i = (i + 1) & 1023;
  }
  if (mirrored != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("not every packet was mirrored: the rule set is wrong");
  }
  state.counters["rules"] = rule_count;
  state.counters["frame_bytes"] = static_cast<double>(frame_size);
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseMatchEncapsulate(benchmark::State& state) {
  runPipeline(state, false);
}

void BM_ParseMatchEncapsulateLinearScan(benchmark::State& state) {
  runPipeline(state, true);
}

void ruleGrid(benchmark::internal::Benchmark* b) {
  for (int frame : {64, 1500}) {
    for (int rules : {1, 10, 100, 1000}) {
      b->Args({rules, frame});
    }
  }
  b->ArgNames({"rules", "frame"});
}

BENCHMARK(BM_ParseMatchEncapsulate)->Apply(ruleGrid);
BENCHMARK(BM_ParseMatchEncapsulateLinearScan)->Apply(ruleGrid);

}  // namespace
}  // namespace tmirror

BENCHMARK_MAIN();
