// Rendezvous choice of a collector group's member: a change of membership moves only the flows
// it must, flows spread evenly, and the choice depends on the members, not their order.
#include "engine/member_choice.h"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace tmirror::engine {
namespace {

std::vector<uint64_t> keysOf(std::initializer_list<uint32_t> last_octets) {
  std::vector<uint64_t> keys;
  for (uint32_t octet : last_octets) {
    keys.push_back(memberKey(packet::IpAddress::v4(0xC6336400 | octet)));  // 198.51.100.x
  }
  return keys;
}

std::vector<uint32_t> flowHashes(std::size_t n) {
  std::mt19937 random(7);
  std::vector<uint32_t> hashes(n);
  for (auto& h : hashes) {
    h = static_cast<uint32_t>(random());
  }
  return hashes;
}

TEST(MemberChoice, OneMemberTakesEverything) {
  const auto keys = keysOf({30});
  for (uint32_t h : flowHashes(1000)) {
    EXPECT_EQ(chooseMember(keys, h), 0u);
  }
}

TEST(MemberChoice, FlowsSpreadEvenly) {
  const auto keys = keysOf({30, 31, 32});
  std::vector<int> per(3);
  const auto hashes = flowHashes(90000);
  for (uint32_t h : hashes) {
    ++per[chooseMember(keys, h)];
  }
  for (int n : per) {
    EXPECT_NEAR(n, 30000, 900) << "each member about a third";
  }
}

TEST(MemberChoice, ALeavingMemberMovesOnlyItsOwnFlows) {
  const auto three = keysOf({30, 31, 32});
  const auto two = keysOf({30, 31});  // .32 left
  std::size_t moved = 0;
  std::size_t on_leaver = 0;
  const auto hashes = flowHashes(100000);
  for (uint32_t h : hashes) {
    const uint32_t before = chooseMember(three, h);
    const uint32_t after = chooseMember(two, h);
    if (before == 2) {
      ++on_leaver;
    } else if (before != after) {
      ++moved;
    }
  }
  EXPECT_EQ(moved, 0u) << "no flow moves between the survivors";
  EXPECT_NEAR(static_cast<double>(on_leaver) / hashes.size(), 1.0 / 3, 0.01);
}

TEST(MemberChoice, AJoiningMemberTakesAboutOneNthAndNothingMovesBetweenTheOthers) {
  const auto three = keysOf({30, 31, 32});
  const auto four = keysOf({30, 31, 32, 33});
  std::size_t to_newcomer = 0;
  const auto hashes = flowHashes(100000);
  for (uint32_t h : hashes) {
    const uint32_t before = chooseMember(three, h);
    const uint32_t after = chooseMember(four, h);
    if (after == 3) {
      ++to_newcomer;
    } else {
      EXPECT_EQ(before, after);
    }
  }
  EXPECT_NEAR(static_cast<double>(to_newcomer) / hashes.size(), 0.25, 0.01);
}

TEST(MemberChoice, TheMembersDecideNotTheirOrder) {
  auto keys = keysOf({30, 31, 32, 33, 34});
  auto shuffled = keys;
  std::reverse(shuffled.begin(), shuffled.end());
  std::swap(shuffled[1], shuffled[3]);
  for (uint32_t h : flowHashes(20000)) {
    EXPECT_EQ(keys[chooseMember(keys, h)], shuffled[chooseMember(shuffled, h)]);
  }
}

TEST(MemberChoice, KeysTellFamiliesAndAddressesApart) {
  EXPECT_NE(memberKey(packet::IpAddress::v4(1)), memberKey(packet::IpAddress::v6(1)));
  EXPECT_NE(memberKey(packet::IpAddress::v4(0xC633641E)),
            memberKey(packet::IpAddress::v4(0xC633641F)));
  EXPECT_EQ(memberKey(packet::IpAddress::v4(0xC633641E)),
            memberKey(packet::IpAddress::v4(0xC633641E)));
}

}  // namespace
}  // namespace tmirror::engine
