// Result<T> and Error: the messages callers print and the codes the API maps.
#include "common/result.h"

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

namespace tmirror {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) {
    return makeError(ErrorCode::InvalidArgument, std::to_string(n) + " is odd");
  }
  return n / 2;
}

TEST(Result, CarriesTheValueOrTheError) {
  ASSERT_TRUE(half(8));
  EXPECT_EQ(*half(8), 4);
  const auto odd = half(7);
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(odd.error().message, "7 is odd");
}

TEST(Result, ContextIsPrefixedOutermostFirst) {
  Error e = half(3).error();
  e = std::move(e).withContext("rule 10");
  e = std::move(e).withContext("loading sessions.json");
  EXPECT_EQ(e.message, "loading sessions.json: rule 10: 3 is odd");
  EXPECT_EQ(e.code, ErrorCode::InvalidArgument);
}

TEST(Result, ASystemErrorIsIoAndSaysWhatTheOsSaid) {
  const auto e = makeSystemError("open /nonexistent", ENOENT).error();
  EXPECT_EQ(e.code, ErrorCode::Io);
  EXPECT_NE(e.message.find("open /nonexistent"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(std::strerror(ENOENT)), std::string::npos) << e.message;
}

}  // namespace
}  // namespace tmirror
