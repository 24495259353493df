#include "common/handoff.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tmirror {
namespace {

TEST(Handoff, TheConsumerSeesNothingUntilAValueIsPosted) {
  Handoff<int> h;
  EXPECT_EQ(h.current(), nullptr);
  EXPECT_FALSE(h.take());
  h.post(7);
  EXPECT_EQ(h.current(), nullptr) << "only take() changes what the consumer reads";
  EXPECT_TRUE(h.take());
  ASSERT_NE(h.current(), nullptr);
  EXPECT_EQ(*h.current(), 7);
  EXPECT_FALSE(h.take());
  EXPECT_EQ(*h.current(), 7);
}

TEST(Handoff, TheNewestPostWinsAndOlderOnesAreDropped) {
  Handoff<std::vector<int>> h;
  h.post({1});
  h.post({2});
  h.post({3, 3});
  EXPECT_TRUE(h.take());
  EXPECT_EQ(*h.current(), (std::vector<int>{3, 3}));
  EXPECT_FALSE(h.take());
}

// Under ASan a value freed while the consumer still reads it, or never freed, is reported.
TEST(Handoff, AProducerAndAConsumerRacingNeverShareAFreedValue) {
  Handoff<std::vector<uint64_t>> h;
  std::atomic<bool> done{false};
  constexpr uint64_t kPosts = 20000;
  std::thread consumer([&] {
    uint64_t last = 0;
    while (!done.load()) {
      h.take();
      if (const auto* v = h.current()) {
        // Each value is filled with its own sequence number, and they only grow.
        const uint64_t seq = v->front();
        for (uint64_t x : *v) {
          ASSERT_EQ(x, seq);
        }
        ASSERT_GE(seq, last);
        last = seq;
      }
    }
    h.take();
    ASSERT_EQ(h.current()->front(), kPosts);
  });
  for (uint64_t i = 1; i <= kPosts; ++i) {
    h.post(std::vector<uint64_t>(16, i));
  }
  done = true;
  consumer.join();
}

}  // namespace
}  // namespace tmirror
