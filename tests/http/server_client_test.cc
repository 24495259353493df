// A host's client of the server: URLs and the rules on plain HTTP, and TLS verified against a
// CA file or a pinned fingerprint, against a real HTTPS listener with a --tls auto identity.
#include "http/server_client.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/listener.h"
#include "server/private_ca.h"

namespace tmirror::http {
namespace {

using ::testing::HasSubstr;

TEST(ServerUrlTest, ParsesHostAndPortAndRefusesWhatItCannotDo) {
  const ServerTrust trust;
  auto a = parseServerUrl("http://127.0.0.1:8900", trust);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8900);
  auto b = parseServerUrl("http://[::1]:8900/", trust);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  auto c = parseServerUrl("https://control.example", trust);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->tls);
  EXPECT_EQ(c->port, 443);
  EXPECT_FALSE(parseServerUrl("127.0.0.1:8900", trust));
  EXPECT_FALSE(parseServerUrl("http://:8900", trust));
  EXPECT_FALSE(parseServerUrl("https://h:0", trust));
  EXPECT_FALSE(parseServerUrl("https://h:70000", trust));
  EXPECT_FALSE(parseServerUrl("https://h:80x", trust));
}

TEST(ServerUrlTest, PlainHttpIsForLoopbackUnlessTheOperatorInsists) {
  auto refused = parseServerUrl("http://10.0.0.5:8900", {});
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("refusing http:// to 10.0.0.5"));
  EXPECT_FALSE(parseServerUrl("http://control.example:8900", {}));
  EXPECT_TRUE(parseServerUrl("http://localhost:8900", {}));
  EXPECT_TRUE(parseServerUrl("http://10.0.0.5:8900", {.insecure_http = true}));
}

TEST(ServerUrlTest, AFingerprintMustBeSha256Hex) {
  const std::string hex(64, 'A');
  EXPECT_TRUE(parseServerUrl("https://h:1", {.fingerprint = "sha256:" + hex}));
  EXPECT_FALSE(parseServerUrl("https://h:1", {.fingerprint = "sha256:" + hex.substr(1)}));
  EXPECT_FALSE(parseServerUrl("https://h:1", {.fingerprint = "sha1:" + hex}));
  EXPECT_FALSE(parseServerUrl("https://h:1", {.fingerprint = "sha256:" + std::string(64, 'g')}));
}

class OkHandler final : public Handler {
 public:
  void serve(Request request, Responder respond) override {
    respond({.status = 200,
             .content_type = "application/json",
             .body = "{\"auth\":\"" + std::string(request.header("Authorization")) + "\"}"});
  }

  Response refusal(Refusal) override { return {.status = 400, .close = true}; }
};

// An HTTPS listener on 127.0.0.1 with a certificate from a private CA made for the test, and a
// second CA that has nothing to do with it.
class ServerClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tmirror-client-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto identity = server::ensurePrivateCa(dir_ / "server", {"127.0.0.1"});
    ASSERT_TRUE(identity) << identity.error().message;
    identity_ = *identity;
    auto other = server::ensurePrivateCa(dir_ / "other", {"127.0.0.1"});
    ASSERT_TRUE(other);
    other_ = *other;
    auto listener = HttpListener::create(
        {.tls = TlsFiles{identity_.certificate_chain, identity_.private_key}}, handler_);
    ASSERT_TRUE(listener) << listener.error().message;
    listener_ = std::move(*listener);
    ASSERT_TRUE(listener_->start());
  }

  void TearDown() override {
    listener_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<ClientResponse> call(const std::string& scheme, const ServerTrust& trust) {
    auto url = parseServerUrl(scheme + "://127.0.0.1:" + std::to_string(listener_->port()), trust);
    EXPECT_TRUE(url) << url.error().message;
    if (!url) {
      return std::unexpected(url.error());
    }
    ServerClient client(*url, trust, "tma-secret");
    return client.get("/agent/v1/desired-state", std::chrono::seconds(5));
  }

  std::filesystem::path dir_;
  server::ServerIdentity identity_;
  server::ServerIdentity other_;
  OkHandler handler_;
  std::unique_ptr<HttpListener> listener_;
};

TEST_F(ServerClientTlsTest, TheServersCaFileIsTrustedAndTheTokenArrives) {
  auto answer = call("https", {.ca_file = identity_.ca_certificate});
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "{\"auth\":\"Bearer tma-secret\"}");
}

TEST_F(ServerClientTlsTest, AnotherCaOrTheSystemsIsRefused) {
  auto wrong = call("https", {.ca_file = other_.ca_certificate});
  ASSERT_FALSE(wrong);
  EXPECT_THAT(wrong.error().message, HasSubstr("not trusted"));
  EXPECT_FALSE(call("https", {}));
}

TEST_F(ServerClientTlsTest, APinnedCaOrServerFingerprintIsTrustedAndAnotherIsRefused) {
  auto ca = call("https", {.fingerprint = identity_.ca_fingerprint});
  ASSERT_TRUE(ca) << ca.error().message;
  EXPECT_EQ(ca->status, 200);
  auto leaf_fingerprint = server::certificateFingerprint(identity_.certificate_chain);
  ASSERT_TRUE(leaf_fingerprint);
  auto leaf = call("https", {.fingerprint = *leaf_fingerprint});
  ASSERT_TRUE(leaf) << leaf.error().message;
  auto wrong = call("https", {.fingerprint = other_.ca_fingerprint});
  ASSERT_FALSE(wrong);
  EXPECT_THAT(wrong.error().message, HasSubstr("--server-fingerprint"));
}

// A CA certificate is public (the real server sends it): an impostor that sends its own leaf
// followed by the pinned CA's certificate must not pass the pin.
TEST_F(ServerClientTlsTest, AnImpostorSendingThePinnedCaAfterItsOwnLeafIsRefused) {
  const auto read = [](const std::filesystem::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string end = "-----END CERTIFICATE-----\n";
  const std::string impostor_chain = read(other_.certificate_chain);
  const std::string impostor_leaf = impostor_chain.substr(0, impostor_chain.find(end) + end.size());
  const auto forged = dir_ / "forged.pem";
  std::ofstream(forged) << impostor_leaf << read(identity_.ca_certificate);
  OkHandler handler;
  auto impostor = HttpListener::create({.tls = TlsFiles{forged, other_.private_key}}, handler);
  ASSERT_TRUE(impostor) << impostor.error().message;
  ASSERT_TRUE((*impostor)->start());
  const ServerTrust trust{.fingerprint = identity_.ca_fingerprint};
  auto url = parseServerUrl("https://127.0.0.1:" + std::to_string((*impostor)->port()), trust);
  ASSERT_TRUE(url);
  ServerClient client(*url, trust, "tma-secret");
  auto answer = client.get("/agent/v1/desired-state", std::chrono::seconds(5));
  EXPECT_FALSE(answer) << "the impostor got the token: " << answer->body;
}

TEST_F(ServerClientTlsTest, PlainHttpToTheTlsPortGetsNoAnswer) {
  EXPECT_FALSE(call("http", {}));
}

}  // namespace
}  // namespace tmirror::http
