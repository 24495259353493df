// A host's identity file: made once with a random key, kept, private, and a damaged one is an
// error rather than a silently new host.
#include "model/host_identity.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace tmirror::model {
namespace {

class HostIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tmirror-identity-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(HostIdentityTest, MadeOnceInAPrivateDirectoryAndKept) {
  const auto nested = dir_ / "var" / "lib" / "tmirror" / "collector";
  auto first = loadOrCreateHostIdentity(nested);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->host_key.size(), 32u);

  struct stat st {};

  ASSERT_EQ(::stat(nested.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto again = loadOrCreateHostIdentity(nested);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->host_key, first->host_key);
  auto other = loadOrCreateHostIdentity(dir_ / "another");
  ASSERT_TRUE(other);
  EXPECT_NE(other->host_key, first->host_key) << "each state directory is its own host";
}

TEST_F(HostIdentityTest, ADamagedFileIsAnErrorNotANewHost) {
  ASSERT_TRUE(loadOrCreateHostIdentity(dir_));
  std::ofstream(dir_ / "identity.json") << "{\"HostKey\": 7}";
  auto damaged = loadOrCreateHostIdentity(dir_);
  ASSERT_FALSE(damaged);
  EXPECT_NE(damaged.error().message.find("identity.json is damaged"), std::string::npos);
}

}  // namespace
}  // namespace tmirror::model
