// The secure random source: shapes (UUIDs, hex, strings from an alphabet) and that values
// spread over their whole range.
#include "common/random.h"

#include <algorithm>
#include <set>
#include <string_view>

#include <gtest/gtest.h>

namespace tmirror {
namespace {

TEST(SecureRandom, UuidsAreVersion4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = newUuid4();
    ASSERT_EQ(id.size(), 36u);
    for (std::size_t k = 0; k < id.size(); ++k) {
      const bool dash = k == 8 || k == 13 || k == 18 || k == 23;
      EXPECT_EQ(dash, id[k] == '-') << id;
      if (!dash) {
        EXPECT_NE(std::string_view("0123456789abcdef").find(id[k]), std::string_view::npos) << id;
      }
    }
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(SecureRandom, HexAndStringsUseEveryCharacterOfTheirAlphabetOnly) {
  const std::string hex = secureRandomHex(4000);
  ASSERT_EQ(hex.size(), 4000u);
  std::set<char> hex_seen(hex.begin(), hex.end());
  EXPECT_EQ(hex_seen.size(), 16u);
  EXPECT_EQ(hex_seen, std::set<char>({'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b',
                                      'c', 'd', 'e', 'f'}));
  const std::string digits = secureRandomString("123456789", 2000);
  std::set<char> digit_seen(digits.begin(), digits.end());
  EXPECT_EQ(digit_seen.size(), 9u);
  EXPECT_FALSE(digit_seen.contains('0'));
}

TEST(SecureRandom, BetweenStaysInItsBoundsAndReachesThem) {
  bool low = false;
  bool high = false;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t v = secureRandomBetween(3, 9);
    ASSERT_GE(v, 3u);
    ASSERT_LE(v, 9u);
    low = low || v == 3;
    high = high || v == 9;
  }
  EXPECT_TRUE(low && high);
  EXPECT_EQ(secureRandomBetween(5, 5), 5u);
  (void)secureRandomBetween(0, UINT64_MAX);  // the whole range: no division by zero
}

TEST(RetryDelay, GrowsByHalfASecondToFiveAndSpreadsOverTheUpperHalf) {
  for (int failures = 1; failures <= 20; ++failures) {
    const int64_t ceiling = std::min(failures, 10) * 500;
    int64_t least = ceiling;
    int64_t most = 0;
    for (int i = 0; i < 500; ++i) {
      const int64_t ms = retryDelay(failures).count();
      ASSERT_GE(ms, ceiling / 2) << failures;
      ASSERT_LE(ms, ceiling) << failures;
      least = std::min(least, ms);
      most = std::max(most, ms);
    }
    // Spread, not one value: a fleet that failed together retries apart.
    EXPECT_GT(most - least, ceiling / 4) << failures;
  }
}

}  // namespace
}  // namespace tmirror
