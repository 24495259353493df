// UniqueFd: exactly one owner closes the descriptor, once.
#include "common/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include <gtest/gtest.h>

namespace tmirror {
namespace {

bool isOpen(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

int openNull() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

TEST(UniqueFd, ClosesWhenItGoesOutOfScope) {
  int raw = -1;
  {
    UniqueFd fd(openNull());
    raw = fd.get();
    ASSERT_TRUE(fd.valid());
    EXPECT_TRUE(isOpen(raw));
  }
  EXPECT_FALSE(isOpen(raw));
}

TEST(UniqueFd, AMoveHandsOverOwnership) {
  UniqueFd a(openNull());
  const int raw = a.get();
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(b.get(), raw);
  UniqueFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(isOpen(raw));
}

TEST(UniqueFd, AssigningClosesWhatWasHeld) {
  UniqueFd a(openNull());
  const int first = a.get();
  a = UniqueFd(openNull());
  EXPECT_FALSE(isOpen(first));
  EXPECT_TRUE(a.valid());
}

TEST(UniqueFd, ReleaseGivesUpOwnershipWithoutClosing) {
  UniqueFd a(openNull());
  const int raw = a.release();
  EXPECT_FALSE(a.valid());
  EXPECT_TRUE(isOpen(raw));
  ::close(raw);
}

TEST(UniqueFd, ResetClosesOnceAndAnEmptyOneIsInvalid) {
  UniqueFd a(openNull());
  const int raw = a.get();
  a.reset();
  EXPECT_FALSE(a.valid());
  EXPECT_FALSE(isOpen(raw));
  a.reset();  // nothing to close: no error
  EXPECT_FALSE(UniqueFd().valid());
}

}  // namespace
}  // namespace tmirror
