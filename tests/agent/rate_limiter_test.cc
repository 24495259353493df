#include "agent/rate_limiter.h"

#include <gtest/gtest.h>

namespace tmirror::agent {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiterTest, NoCapAdmitsEverything) {
  RateLimiter limiter(0, 0);
  EXPECT_TRUE(limiter.unlimited());
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(limiter.admit(9000));
  }
}

TEST(RateLimiterTest, PacketCapAdmitsTheBurstThenTheRate) {
  RateLimiter limiter(1000, 0, 10ms);  // a burst of 10 packets
  RateLimiter::Clock::time_point t{std::chrono::seconds(100)};
  limiter.refill(t);
  int admitted = 0;
  for (int i = 0; i < 100; ++i) {
    admitted += limiter.admit(100);
  }
  EXPECT_EQ(admitted, 10);
  // One second later: the bucket refills only up to its capacity.
  limiter.refill(t + 1s);
  admitted = 0;
  for (int i = 0; i < 100; ++i) {
    admitted += limiter.admit(100);
  }
  EXPECT_EQ(admitted, 10);
  // 5 ms later: 5 more.
  limiter.refill(t + 1s + 5ms);
  admitted = 0;
  for (int i = 0; i < 100; ++i) {
    admitted += limiter.admit(100);
  }
  EXPECT_EQ(admitted, 5);
}

TEST(RateLimiterTest, ByteCapCountsBytesAndNeverLetsAPacketThroughHalfPaid) {
  RateLimiter limiter(0, 10'000'000, 10ms);  // 100 kB bucket
  limiter.refill(RateLimiter::Clock::time_point{std::chrono::seconds(1)});
  uint64_t bytes = 0;
  while (limiter.admit(1500)) {
    bytes += 1500;
  }
  EXPECT_EQ(bytes, 99'000u);         // 66 whole packets
  EXPECT_TRUE(limiter.admit(1000));  // what is left still takes a smaller one
}

TEST(RateLimiterTest, BothCapsMustAllow) {
  RateLimiter limiter(1000, 1000, 10ms);  // 10 packets, but 65536 bytes minimum bucket
  limiter.refill(RateLimiter::Clock::time_point{std::chrono::seconds(1)});
  int admitted = 0;
  for (int i = 0; i < 100; ++i) {
    admitted += limiter.admit(10);
  }
  EXPECT_EQ(admitted, 10);
}

TEST(RateLimiterTest, FrameTimestampsPaceABacklogAsItArrived) {
  RateLimiter limiter(1000, 0, 10ms);
  const int64_t start = 1'700'000'000'000'000'000;
  int admitted = 0;
  // 1,000 frames spread over one second of capture time, processed all at once later.
  for (int i = 0; i < 1000; ++i) {
    limiter.refillNanoseconds(start + i * 1'000'000);
    admitted += limiter.admit(100);
  }
  EXPECT_GE(admitted, 990);
  // A clock that steps back refills nothing.
  limiter.refillNanoseconds(start);
  int later = 0;
  for (int i = 0; i < 100; ++i) {
    later += limiter.admit(100);
  }
  EXPECT_LE(later, 10);
}

}  // namespace
}  // namespace tmirror::agent
