// The private CA of `tmirror server --tls auto`: made once, kept across restarts, a server
// certificate remade when the names change, keys private to the owner.
#include "server/private_ca.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tmirror::server {
namespace {

using ::testing::MatchesRegex;

class PrivateCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tmirror-ca-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string contents(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  static unsigned mode(const std::filesystem::path& path) {
    struct stat info {};

    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_mode & 0777;
  }

  std::filesystem::path dir_;
};

TEST_F(PrivateCaTest, MakesACaAndAServerCertificateWithPrivateKeys) {
  auto identity = ensurePrivateCa(dir_ / "tls", {"127.0.0.1", "tmirror.example", "::1"});
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(mode(dir_ / "tls"), 0700u);
  EXPECT_EQ(mode(identity->private_key), 0600u);
  EXPECT_EQ(mode(dir_ / "tls" / "ca.key"), 0600u);
  EXPECT_THAT(identity->ca_fingerprint, MatchesRegex("sha256:[0-9a-f]{64}"));
  auto fingerprint = certificateFingerprint(identity->ca_certificate);
  ASSERT_TRUE(fingerprint);
  EXPECT_EQ(*fingerprint, identity->ca_fingerprint);
  // The chain is the server certificate, then the CA: a client pinning the CA finds it.
  const std::string chain = contents(identity->certificate_chain);
  EXPECT_TRUE(chain.ends_with(contents(identity->ca_certificate)));
  auto leaf = certificateFingerprint(identity->certificate_chain);
  ASSERT_TRUE(leaf);
  EXPECT_NE(*leaf, identity->ca_fingerprint);
}

TEST_F(PrivateCaTest, ASecondRunKeepsEverythingWhenTheNamesAreCovered) {
  auto first = ensurePrivateCa(dir_, {"127.0.0.1", "tmirror.example"});
  ASSERT_TRUE(first);
  const std::string chain = contents(first->certificate_chain);
  auto second = ensurePrivateCa(dir_, {"tmirror.example"});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->ca_fingerprint, first->ca_fingerprint);
  EXPECT_EQ(contents(second->certificate_chain), chain);
}

TEST_F(PrivateCaTest, ANewNameRemakesTheServerCertificateUnderTheSameCa) {
  auto first = ensurePrivateCa(dir_, {"127.0.0.1"});
  ASSERT_TRUE(first);
  const std::string chain = contents(first->certificate_chain);
  auto second = ensurePrivateCa(dir_, {"127.0.0.1", "192.0.2.10"});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->ca_fingerprint, first->ca_fingerprint);
  EXPECT_NE(contents(second->certificate_chain), chain);
}

TEST_F(PrivateCaTest, AnUnreadableCaIsReplaced) {
  auto first = ensurePrivateCa(dir_, {"127.0.0.1"});
  ASSERT_TRUE(first);
  std::ofstream(first->ca_certificate) << "not a certificate";
  auto second = ensurePrivateCa(dir_, {"127.0.0.1"});
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(second->ca_fingerprint, first->ca_fingerprint);
  EXPECT_FALSE(certificateFingerprint(dir_ / "missing.pem"));
}

TEST(ServerNames, CoverTheAddressTheHostNameAndLoopback) {
  const auto names = serverNames("192.0.2.7");
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "192.0.2.7");
  EXPECT_THAT(names, ::testing::Contains("localhost"));
  EXPECT_THAT(names, ::testing::Contains("127.0.0.1"));
  EXPECT_THAT(serverNames("0.0.0.0"), ::testing::Not(::testing::Contains("0.0.0.0")));
}

}  // namespace
}  // namespace tmirror::server
