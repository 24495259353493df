// How many flows move when a collector group's membership changes (issue 16): rendezvous
// hashing (engine/member_choice.h, what the agents use) beside `hash % members` (what they
// used before), in the same run, for groups of 2 to 8. A million random flow hashes; a member
// leaves (the last one) or joins. Goal: at most 1.2/N of the flows move when one of N leaves.
// Also the cost of a choice per packet, in nanoseconds.
//   build/bench/bench/member_choice_benchmark [--flows N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/member_choice.h"

namespace {

using tmirror::engine::chooseMember;
using tmirror::engine::memberKey;

std::vector<uint64_t> keys(uint32_t n) {
  std::vector<uint64_t> out;
  for (uint32_t i = 0; i < n; ++i) {
    out.push_back(memberKey(tmirror::packet::IpAddress::v4(0xC6336400 | (30 + i))));
  }
  return out;
}

struct Moved {
  double total = 0;    // of all flows
  double between = 0;  // of flows between members that were there before and after
};

template <typename Choose>
Moved moved(const std::vector<uint32_t>& hashes, uint32_t before, uint32_t after, Choose choose) {
  const auto a = keys(before);
  const auto b = keys(after);  // the first min(before, after) members are the same
  std::size_t total = 0;
  std::size_t between = 0;
  const uint32_t common = std::min(before, after);
  for (uint32_t h : hashes) {
    const uint32_t x = choose(a, h);
    const uint32_t y = choose(b, h);
    if (x != y) {
      ++total;
      if (x < common && y < common) {
        ++between;
      }
    }
  }
  return {static_cast<double>(total) / hashes.size(), static_cast<double>(between) / hashes.size()};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t flows = 1000000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--flows") == 0) {
      flows = std::stoul(argv[i + 1]);
    }
  }
  std::mt19937 random(16);
  std::vector<uint32_t> hashes(flows);
  for (auto& h : hashes) {
    h = static_cast<uint32_t>(random());
  }
  auto rendezvous = [](const std::vector<uint64_t>& k, uint32_t h) { return chooseMember(k, h); };
  auto modulo = [](const std::vector<uint64_t>& k, uint32_t h) {
    return static_cast<uint32_t>(h % k.size());
  };
  std::printf("Flows moved when a collector group changes (%zu random flows)\n\n", flows);
  std::printf(
      "  N | one leaves: rendezvous  (between others) %% members | one joins: rendezvous  "
      "(between others) %% members | leave goal <= 1.2/N\n");
  bool met = true;
  for (uint32_t n = 2; n <= 8; ++n) {
    const Moved leave_r = moved(hashes, n, n - 1, rendezvous);
    const Moved leave_m = moved(hashes, n, n - 1, modulo);
    const Moved join_r = moved(hashes, n, n + 1, rendezvous);
    const Moved join_m = moved(hashes, n, n + 1, modulo);
    const bool ok = leave_r.total <= 1.2 / n;
    met = met && ok;
    std::printf(
        "  %u |             %6.1f %%  (%5.2f %%)  %6.1f %% |            %6.1f %%  "
        "(%5.2f %%)  %6.1f %% | 1/N = %4.1f %%: %s\n",
        n, 100 * leave_r.total, 100 * leave_r.between, 100 * leave_m.total, 100 * join_r.total,
        100 * join_r.between, 100 * join_m.total, 100.0 / n, ok ? "met" : "NOT met");
  }
  // The cost of one choice, as the engine makes it for every mirrored packet of a group.
  for (uint32_t n : {2u, 4u, 8u, 16u}) {
    const auto k = keys(n);
    uint64_t sink = 0;
    const auto start = std::chrono::steady_clock::now();
    for (uint32_t h : hashes) {
      sink += chooseMember(k, h);
    }
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
        static_cast<double>(hashes.size());
    std::printf("choice among %2u members: %.1f ns (checksum %llu)\n", n, ns,
                static_cast<unsigned long long>(sink));
  }
  std::printf("goal (a leaving member moves <= 1.2/N of the flows): %s\n", met ? "met" : "NOT met");
  return met ? 0 : 3;
}
