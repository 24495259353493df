// SigV4 against published vectors (AWS docs, the AWS signing test suite) and against botocore,
// the implementation `aws ec2` uses, run at test time.
#include "api/sigv4.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/api_error.h"
#include "api/request_auth.h"

namespace tmirror::api {
namespace {

using std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr std::string_view kExampleAkid = "AKIDEXAMPLE";
constexpr std::string_view kExampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kFormType = "application/x-www-form-urlencoded; charset=utf-8";

system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  using namespace std::chrono;
  return system_clock::time_point(sys_days(year{y} / month{mo} / day{d})) + hours(h) + minutes(mi) +
         seconds(s);
}

SecretLookup exampleKeys() {
  return [](std::string_view akid) -> std::optional<std::string> {
    if (akid == kExampleAkid) {
      return std::string(kExampleSecret);
    }
    return std::nullopt;
  };
}

// ---- Known answers ------------------------------------------------------------------------

TEST(SigV4KnownAnswer, SigningKeyMatchesAwsDocumentationExample) {
  // "Deriving the signing key" example of the AWS General Reference (also recomputed with
  // Python's hmac module while writing this test).
  const std::string key = signingKey(kExampleSecret, "20120215", "us-east-1", "iam");
  std::string hex;
  for (unsigned char c : key) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[c >> 4];
    hex += kHex[c & 0xF];
  }
  EXPECT_EQ(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4KnownAnswer, Sha256OfEmptyBody) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4KnownAnswer, GetVanillaCanonicalRequestStringToSignAndSignature) {
  const std::map<std::string, std::string> headers = {{"host", "example.amazonaws.com"},
                                                      {"x-amz-date", "20150830T123600Z"}};
  const SigV4Request request{"GET", "/", "", "", &headers};
  const std::string canonical = canonicalRequest(request, {"host", "x-amz-date"});
  EXPECT_EQ(canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // sha256sum of the canonical request above.
  EXPECT_EQ(sha256Hex(canonical),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  const std::string sts = stringToSign(
      "20150830T123600Z", "20150830/us-east-1/service/aws4_request", sha256Hex(canonical));
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(hexSignature(kExampleSecret, "20150830", "us-east-1", "service", sts),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

struct SuiteVector {
  const char* name;
  const char* path;
  const char* query;
  std::map<std::string, std::string> extra_headers;
  std::vector<std::string> signed_headers;
  const char* signature;
};

// From the AWS SigV4 test suite (awslabs/aws-c-auth tests/aws-signing-test-suite/v4/<name>/
// header-signed-request.txt): request date 20150830T123600Z, us-east-1, service "service".
// The suite writes paths and queries undecoded, which is what canonicalRequest encodes.
const std::vector<SuiteVector>& suiteVectors() {
  static const std::vector<SuiteVector> vectors = {
      {"get-vanilla",
       "/",
       "",
       {},
       {"host", "x-amz-date"},
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query-order-key-case",
       "/",
       "Param2=value2&Param1=value1",
       {},
       {"host", "x-amz-date"},
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-empty-query-key",
       "/",
       "Param1=value1",
       {},
       {"host", "x-amz-date"},
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-utf8-query",
       "/",
       "\xE1\x88\xB4=bar",
       {},
       {"host", "x-amz-date"},
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-vanilla-query-unreserved",
       "/",
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {},
       {"host", "x-amz-date"},
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-utf8",
       "/\xE1\x88\xB4",
       "",
       {},
       {"host", "x-amz-date"},
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-unreserved",
       "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       "",
       {},
       {"host", "x-amz-date"},
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-space-unnormalized",
       "/example space/",
       "",
       {{"x-amz-content-sha256",
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
       {"host", "x-amz-date"},
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-header-value-trim",
       "/",
       "",
       {{"my-header1", " value1"}, {"my-header2", " \"a   b   c\""}},
       {"host", "my-header1", "my-header2", "x-amz-date"},
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"get-relative-relative-normalized",
       "/example1/example2/../..",
       "",
       {},
       {"host", "x-amz-date"},
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-slashes-normalized",
       "//example//",
       "",
       {},
       {"host", "x-amz-date"},
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
  };
  return vectors;
}

TEST(SigV4KnownAnswer, AwsTestSuiteSignaturesAreReproducedAndVerified) {
  const auto now = utc(2015, 8, 30, 12, 36, 0);
  for (const SuiteVector& v : suiteVectors()) {
    SCOPED_TRACE(v.name);
    std::map<std::string, std::string> headers = {{"host", "example.amazonaws.com"},
                                                  {"x-amz-date", "20150830T123600Z"}};
    headers.insert(v.extra_headers.begin(), v.extra_headers.end());
    const SigV4Request request{"GET", v.path, v.query, "", &headers};
    const std::string sts =
        stringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request",
                     sha256Hex(canonicalRequest(request, v.signed_headers)));
    EXPECT_EQ(hexSignature(kExampleSecret, "20150830", "us-east-1", "service", sts), v.signature);

    std::string signed_list;
    for (const std::string& name : v.signed_headers) {
      signed_list += (signed_list.empty() ? "" : ";") + name;
    }
    headers["authorization"] =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=" +
        signed_list + ", Signature=" + v.signature;
    SigV4Parsed parsed;
    EXPECT_EQ(verifySigV4(request, exampleKeys(), now, "service", parsed), SigV4Status::Ok);
  }
}

// ---- Canonical form details ---------------------------------------------------------------

TEST(SigV4Canonical, QueryIsSortedByEncodedNameThenValueAndBareNamesGetEquals) {
  const std::map<std::string, std::string> headers = {{"host", "h"}};
  const SigV4Request request{"GET", "", "b=2&a=1&a&&A=0&a=0", "", &headers};
  EXPECT_EQ(canonicalRequest(request, {"host"}),
            "GET\n/\nA=0&a=&a=0&a=1&b=2\nhost:h\n\nhost\n" + sha256Hex(""));
}

TEST(SigV4Canonical, PlusAndPercentTwentySignAlikeBecauseTheApiReadsThemAlike) {
  const std::map<std::string, std::string> headers = {{"host", "h"}};
  const SigV4Request plus{"GET", "/", "Description=a+b%2Fc", "", &headers};
  const SigV4Request space{"GET", "/", "Description=a%20b/c", "", &headers};
  const SigV4Request literal_plus{"GET", "/", "Description=a%2Bb%2Fc", "", &headers};
  EXPECT_EQ(canonicalRequest(plus, {"host"}), canonicalRequest(space, {"host"}));
  EXPECT_NE(canonicalRequest(plus, {"host"}), canonicalRequest(literal_plus, {"host"}));
  EXPECT_NE(canonicalRequest(plus, {"host"}).find("\nDescription=a%20b%2Fc\n"), std::string::npos);
}

TEST(SigV4Canonical, PathIsEncodedAgainLikeEveryServiceButS3) {
  const std::map<std::string, std::string> headers = {{"host", "h"}};
  const SigV4Request request{"GET", "/a%20b/./c/../d", "", "", &headers};
  EXPECT_EQ(canonicalRequest(request, {"host"}).substr(0, 16), "GET\n/a%2520b/d\n\n");
}

TEST(SigV4Canonical, HeaderValuesAreTrimmedAndInnerWhitespaceCollapsed) {
  const std::map<std::string, std::string> headers = {{"host", "h"},
                                                      {"x-a", "\t a  \t b   c \r\n"}};
  const SigV4Request request{"GET", "/", "", "", &headers};
  EXPECT_NE(canonicalRequest(request, {"host", "x-a"}).find("\nx-a:a b c\n"), std::string::npos);
}

// ---- Dates --------------------------------------------------------------------------------

TEST(SigV4Date, FormatsAndParsesIsoBasic) {
  const auto t = utc(2026, 11, 22, 2, 43, 48);
  EXPECT_EQ(formatAmzDate(t + 999ms), "20261122T024348Z");
  EXPECT_EQ(parseSigV4Date("20261122T024348Z"), t);
}

TEST(SigV4Date, ParsesRfc1123AsTheDateHeaderCarriesIt) {
  const auto t = utc(2026, 11, 22, 2, 43, 48);
  EXPECT_EQ(parseSigV4Date("Sun, 22 Nov 2026 02:43:48 GMT"), t);
  EXPECT_EQ(parseSigV4Date("Sun, 22 Nov 2026 02:43:48 -0000"), t);  // botocore's formatdate()
  EXPECT_EQ(parseSigV4Date("22 Nov 2026 02:43:48 +0000"), t);
}

TEST(SigV4Date, RejectsImpossibleAndMisshapenDates) {
  for (const char* text :
       {"", "20260230T000000Z", "20261122T244348Z", "20261122T026048Z", "20261122T024360Z",
        "20261322T024348Z", "2026-11-22T02:43:48Z", "20261122T024348", "20261122t024348z",
        "20261122T02434Z8", "Sun, 22 Nov 2026 02:43:48 PST", "Sun, 31 Feb 2026 02:43:48 GMT",
        "Sun, 22 Foo 2026 02:43:48 GMT", "Sun, 22 Nov 26 02:43:48 GMT",
        "Sun, 22 Nov 2026 2:43:48 GMT", "Sunday, 22 Nov 2026 02:43:48 GMT", "+1122T024348Z0000",
        // Outside what system_clock's nanoseconds hold (found by sigv4_fuzz under UBSan).
        "00260122T024348Z", "99991231T235959Z", "Sun, 22 Nov 9999 02:43:48 GMT"}) {
    EXPECT_FALSE(parseSigV4Date(text).has_value()) << text;
  }
}

// ---- parseAuthorization -------------------------------------------------------------------

constexpr std::string_view kGoodSignature =
    "235467d9bb0dcdccb03a2ca285ddc30da078188173ff557c7fc7660c7c598d0b";

TEST(SigV4Authorization, ParsesTheHeaderAwsCliSends) {
  SigV4Parsed parsed;
  ASSERT_EQ(parseAuthorization(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, "
                "SignedHeaders=content-type;host;x-amz-date, "
                "Signature=235467d9bb0dcdccb03a2ca285ddc30da078188173ff557c7fc7660c7c598d0b",
                parsed),
            SigV4Status::Ok);
  EXPECT_EQ(parsed.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(parsed.date, "20261122");
  EXPECT_EQ(parsed.region, "us-east-1");
  EXPECT_EQ(parsed.service, "ec2");
  EXPECT_EQ(parsed.signed_headers,
            (std::vector<std::string>{"content-type", "host", "x-amz-date"}));
  EXPECT_EQ(parsed.signature, kGoodSignature);
}

TEST(SigV4Authorization, ToleratesSeparatorVariantsOrderAndUpperCaseHex) {
  const std::string cred = "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request";
  const std::string sh = "SignedHeaders=host;x-amz-date";
  const std::string sig = "Signature=" + std::string(kGoodSignature);
  std::string upper_sig = "Signature=";
  for (char c : kGoodSignature) {
    upper_sig += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  for (const std::string& header : {
           "AWS4-HMAC-SHA256 " + cred + "," + sh + "," + sig,
           "AWS4-HMAC-SHA256 " + cred + " " + sh + " " + sig,
           "AWS4-HMAC-SHA256\t" + cred + ",\t" + sh + " ,  " + sig + ",",
           "  AWS4-HMAC-SHA256 " + sig + ", " + cred + ", " + sh + "  ",
           "AWS4-HMAC-SHA256," + cred + ", " + sh + ", " + upper_sig,
       }) {
    SigV4Parsed parsed;
    EXPECT_EQ(parseAuthorization(header, parsed), SigV4Status::Ok) << header;
    EXPECT_EQ(parsed.signature, kGoodSignature) << header;
    EXPECT_EQ(parsed.signed_headers.size(), 2u) << header;
  }
}

TEST(SigV4Authorization, NamesAnotherAlgorithmUnsupported) {
  for (const char* header :
       {"AWS4-HMAC-SHA1 Credential=a/20261122/r/ec2/aws4_request, SignedHeaders=host, Signature=x",
        "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "Bearer abc", "aws4-hmac-sha256 x",
        "AWS4-HMAC-SHA256x", "AWS4-ECDSA-P256-SHA256 Credential=x"}) {
    SigV4Parsed parsed;
    EXPECT_EQ(parseAuthorization(header, parsed), SigV4Status::UnsupportedAlgorithm) << header;
  }
}

TEST(SigV4Authorization, RejectsMalformedAndHostileHeaders) {
  const std::string sig = "Signature=" + std::string(kGoodSignature);
  const std::string sh = ", SignedHeaders=host;x-amz-date, ";
  const std::string alg = "AWS4-HMAC-SHA256 ";
  std::vector<std::string> headers = {
      alg,
      alg + ",,,",
      alg + "=",
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request" + sh,     // no Signature
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, " + sig,  // no headers
      alg + "SignedHeaders=host, " + sig,                                          // no Credential
      alg + "Credential=" + sh + sig,
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2" + sh + sig,
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request/x" + sh + sig,
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_requesT" + sh + sig,
      alg + "Credential=AKIDEXAMPLE/2026112/us-east-1/ec2/aws4_request" + sh + sig,
      alg + "Credential=AKIDEXAMPLE/2026112x/us-east-1/ec2/aws4_request" + sh + sig,
      alg + "Credential=/20261122/us-east-1/ec2/aws4_request" + sh + sig,
      alg + "Credential=AKIDEXAMPLE/20261122//ec2/aws4_request" + sh + sig,
      alg + "Credential=AKID\x01/20261122/us-east-1/ec2/aws4_request" + sh + sig,
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request" + sh + "Signature=abc",
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request" + sh + sig + "0",
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request" + sh +
          "Signature=" + std::string(63, 'a') + "g",
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request" + sh + sig + ", " + sig,
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request" + sh + sig + ", Foo=bar",
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request" + sh + sig + ", junk",
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, " +
          "SignedHeaders=x-amz-date;host, " + sig,  // not sorted
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, " +
          "SignedHeaders=host;host, " + sig,  // duplicate
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, " +
          "SignedHeaders=Host;x-amz-date, " + sig,  // not lower-case
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, " +
          "SignedHeaders=host;;x-amz-date, " + sig,
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, " + "SignedHeaders=, " +
          sig,
      alg + "credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request" + sh + sig,
      alg + "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request" + '\0' + sh + sig,
      alg + std::string(kMaxAuthorizationBytes, 'A'),
  };
  std::string many = alg +
                     "Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, "
                     "SignedHeaders=host";
  for (std::size_t i = 0; i < kMaxSignedHeaders; ++i) {
    many += ";x-" + std::to_string(1000 + i);
  }
  headers.push_back(many + ", " + sig);
  for (const std::string& header : headers) {
    SigV4Parsed parsed;
    EXPECT_EQ(parseAuthorization(header, parsed), SigV4Status::MalformedAuthorization)
        << testing::PrintToString(header.substr(0, 200));
  }
}

// ---- verifySigV4: every status ------------------------------------------------------------

// A request signed by our own signHeaders, the shape `aws ec2` sends.
class SigV4Verify : public ::testing::Test {
 protected:
  void SetUp() override { sign(signed_at_); }

  void sign(system_clock::time_point at, std::string_view service = "ec2",
            std::string_view secret = kExampleSecret) {
    headers_.clear();
    for (auto& [name, value] :
         signHeaders(method_, "127.0.0.1:18999", path_, query_, body_, kFormType, kExampleAkid,
                     secret, "us-east-1", service, at)) {
      std::string lower = name;
      for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      headers_[lower] = value;
    }
    headers_["user-agent"] = "aws-cli/2.36.7";  // unsigned headers do not matter
  }

  SigV4Status verify(system_clock::time_point now, std::string_view service = "ec2") {
    const SigV4Request request{method_, path_, query_, body_, &headers_};
    SigV4Parsed parsed;
    return verifySigV4(request, keys_, now, service, parsed);
  }

  SigV4Status verify() { return verify(signed_at_); }

  const system_clock::time_point signed_at_ = utc(2026, 11, 22, 2, 43, 48);
  std::string method_ = "POST";
  std::string path_ = "/";
  std::string query_;
  std::string body_ =
      "Action=CreateTrafficMirrorSession&Version=2016-11-15&NetworkInterfaceId=eni-0123456789abcdef0"
      "&TrafficMirrorTargetId=tmt-07f75d8feeEXAMPLE&Description=my+session&DryRun=true";
  std::map<std::string, std::string> headers_;
  SecretLookup keys_ = exampleKeys();
};

TEST_F(SigV4Verify, AcceptsItsOwnSignature) {
  EXPECT_EQ(verify(), SigV4Status::Ok);
  EXPECT_EQ(headers_.at("x-amz-date"), "20261122T024348Z");
  EXPECT_EQ(headers_.at("host"), "127.0.0.1:18999");
  EXPECT_EQ(headers_.at("content-type"), kFormType);
  EXPECT_TRUE(headers_.at("authorization")
                  .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/"
                               "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                               "Signature="));
}

TEST_F(SigV4Verify, FillsParsedFields) {
  const SigV4Request request{method_, path_, query_, body_, &headers_};
  SigV4Parsed parsed;
  ASSERT_EQ(verifySigV4(request, keys_, signed_at_, "ec2", parsed), SigV4Status::Ok);
  EXPECT_EQ(parsed.access_key_id, kExampleAkid);
  EXPECT_EQ(parsed.amz_date, "20261122T024348Z");
}

TEST_F(SigV4Verify, MissingAuthorization) {
  headers_.erase("authorization");
  EXPECT_EQ(verify(), SigV4Status::MissingAuthorization);
  headers_["authorization"] = "  ";
  EXPECT_EQ(verify(), SigV4Status::MissingAuthorization);
}

TEST_F(SigV4Verify, UnsupportedAlgorithmAndMalformedHeader) {
  headers_["authorization"] = "AWS AKIDEXAMPLE:abc";
  EXPECT_EQ(verify(), SigV4Status::UnsupportedAlgorithm);
  headers_["authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/ec2";
  EXPECT_EQ(verify(), SigV4Status::MalformedAuthorization);
}

TEST_F(SigV4Verify, MissingDateWhenNeitherXAmzDateNorDate) {
  headers_.erase("x-amz-date");
  EXPECT_EQ(verify(), SigV4Status::MissingDate);
}

TEST_F(SigV4Verify, MalformedDate) {
  headers_["x-amz-date"] = "Sun, 22 Nov 2026 02:43:48 GMT";  // only ISO basic in X-Amz-Date
  EXPECT_EQ(verify(), SigV4Status::MalformedDate);
  headers_["x-amz-date"] = "20261122T254348Z";
  EXPECT_EQ(verify(), SigV4Status::MalformedDate);
}

TEST_F(SigV4Verify, ExpiredSixteenMinutesEitherWayButFourteenIsFine) {
  EXPECT_EQ(verify(signed_at_ + 16min), SigV4Status::RequestExpired);
  EXPECT_EQ(verify(signed_at_ - 16min), SigV4Status::RequestExpired);  // dated in the future
  EXPECT_EQ(verify(signed_at_ + 14min), SigV4Status::Ok);
  EXPECT_EQ(verify(signed_at_ - 14min), SigV4Status::Ok);
  EXPECT_EQ(verify(signed_at_ + 15min), SigV4Status::Ok);
  EXPECT_EQ(verify(signed_at_ + 15min + 1ms), SigV4Status::RequestExpired);
}

TEST_F(SigV4Verify, WrongServiceWhenSignedForS3) {
  sign(signed_at_, "s3");
  EXPECT_EQ(verify(), SigV4Status::WrongService);
  EXPECT_EQ(verify(signed_at_, "s3"), SigV4Status::Ok);
}

TEST_F(SigV4Verify, ScopeDateMismatchWhenCredentialDateIsNotTheRequestDate) {
  // A client that puts its local date in the scope just after UTC midnight.
  std::string& auth = headers_["authorization"];
  auth.replace(auth.find("/20261122/"), 10, "/20261121/");
  EXPECT_EQ(verify(), SigV4Status::ScopeDateMismatch);
}

TEST_F(SigV4Verify, UnknownAccessKey) {
  keys_ = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_EQ(verify(), SigV4Status::UnknownAccessKey);
  keys_ = nullptr;
  EXPECT_EQ(verify(), SigV4Status::UnknownAccessKey);
}

TEST_F(SigV4Verify, HostNotSigned) {
  const std::vector<std::string> signed_headers = {"content-type", "x-amz-date"};
  const SigV4Request request{method_, path_, query_, body_, &headers_};
  const std::string scope = "20261122/us-east-1/ec2/aws4_request";
  const std::string signature =
      hexSignature(kExampleSecret, "20261122", "us-east-1", "ec2",
                   stringToSign("20261122T024348Z", scope,
                                sha256Hex(canonicalRequest(request, signed_headers))));
  headers_["authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + scope +
                              ", SignedHeaders=content-type;x-amz-date, Signature=" + signature;
  EXPECT_EQ(verify(), SigV4Status::HostNotSigned);
}

TEST_F(SigV4Verify, SignedHeaderMissing) {
  headers_.erase("content-type");
  EXPECT_EQ(verify(), SigV4Status::SignedHeaderMissing);
}

TEST_F(SigV4Verify, PayloadHashHeaderMustMatchTheBody) {
  headers_["x-amz-content-sha256"] = sha256Hex(body_ + "&DryRun=false");
  EXPECT_EQ(verify(), SigV4Status::BadPayloadHash);
  headers_["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
  EXPECT_EQ(verify(), SigV4Status::BadPayloadHash);
  headers_["x-amz-content-sha256"] = sha256Hex(body_);  // present, equal, unsigned: fine
  EXPECT_EQ(verify(), SigV4Status::Ok);
}

TEST_F(SigV4Verify, SignatureMismatchOnAnyTampering) {
  const auto original_headers = headers_;
  const std::string original_body = body_;

  body_ = original_body + "&DryRun=false";
  EXPECT_EQ(verify(), SigV4Status::SignatureMismatch) << "body appended";
  body_ = original_body;
  body_[body_.find("my+session")] = 'M';
  EXPECT_EQ(verify(), SigV4Status::SignatureMismatch) << "body byte";
  body_ = original_body;

  headers_["host"] = "127.0.0.1:19000";
  EXPECT_EQ(verify(), SigV4Status::SignatureMismatch) << "host";
  headers_ = original_headers;
  headers_["content-type"] = "text/plain";
  EXPECT_EQ(verify(), SigV4Status::SignatureMismatch) << "content-type";
  headers_ = original_headers;

  query_ = "Action=DeleteTrafficMirrorSession";
  EXPECT_EQ(verify(), SigV4Status::SignatureMismatch) << "query added";
  query_.clear();
  method_ = "PUT";
  EXPECT_EQ(verify(), SigV4Status::SignatureMismatch) << "method";
  method_ = "POST";
  path_ = "/x";
  EXPECT_EQ(verify(), SigV4Status::SignatureMismatch) << "path";
  path_ = "/";

  std::string& auth = headers_["authorization"];
  char& last = auth.back();
  last = last == '0' ? '1' : '0';
  EXPECT_EQ(verify(), SigV4Status::SignatureMismatch) << "signature digit";
  headers_ = original_headers;

  sign(signed_at_, "ec2", "not-the-secret");
  EXPECT_EQ(verify(), SigV4Status::SignatureMismatch) << "wrong secret";
}

TEST_F(SigV4Verify, AcceptsUpperCaseSignatureAndReflowedHeaderWhitespace) {
  std::string& auth = headers_["authorization"];
  const std::size_t sig = auth.find("Signature=") + 10;
  for (std::size_t i = sig; i < auth.size(); ++i) {
    auth[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(auth[i])));
  }
  headers_["content-type"] = "  application/x-www-form-urlencoded;   charset=utf-8 ";
  EXPECT_EQ(verify(), SigV4Status::Ok);
}

TEST_F(SigV4Verify, DateHeaderIsUsedWhenXAmzDateIsAbsent) {
  // botocore switches to Date when the request already has one; sign that shape by hand.
  headers_.erase("x-amz-date");
  headers_["date"] = "Sun, 22 Nov 2026 02:43:48 GMT";
  const std::vector<std::string> signed_headers = {"content-type", "date", "host"};
  const SigV4Request request{method_, path_, query_, body_, &headers_};
  const std::string scope = "20261122/us-east-1/ec2/aws4_request";
  headers_["authorization"] =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + scope +
      ", SignedHeaders=content-type;date;host, Signature=" +
      hexSignature(kExampleSecret, "20261122", "us-east-1", "ec2",
                   stringToSign("20261122T024348Z", scope,
                                sha256Hex(canonicalRequest(request, signed_headers))));
  EXPECT_EQ(verify(), SigV4Status::Ok);
  EXPECT_EQ(verify(signed_at_ + 20min), SigV4Status::RequestExpired);
}

TEST(SigV4Status, EveryStatusHasText) {
  for (int i = 0; i <= static_cast<int>(SigV4Status::SignatureMismatch); ++i) {
    EXPECT_STRNE(sigV4StatusText(static_cast<SigV4Status>(i)), "unknown") << i;
  }
}

// ---- request_auth: AWS error codes --------------------------------------------------------

// A DescribeTrafficMirrorTargets request signed with the example key for `region` at `now`.
HttpRequestView signedDescribe(const char* region, std::chrono::system_clock::time_point now) {
  HttpRequestView view;
  view.method = "POST";
  view.path = "/";
  view.body = "Action=DescribeTrafficMirrorTargets&Version=2016-11-15";
  for (auto& [name, value] : signHeaders("POST", "localhost:8080", "/", "", view.body, kFormType,
                                         kExampleAkid, kExampleSecret, region, "ec2", now)) {
    std::string lower = name;
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    view.headers[lower] = value;
  }
  return view;
}

TEST(RequestAuth, ReturnsTheAccessKeyOfAValidRequest) {
  const auto now = utc(2026, 11, 22, 2, 43, 48);
  HttpRequestView view = signedDescribe("us-east-1", now);
  const ApiResult<std::string> ok = authenticateRequest(view, exampleKeys(), now);
  ASSERT_TRUE(ok.has_value()) << ok.error().code << ": " << ok.error().message;
  EXPECT_EQ(*ok, kExampleAkid);

  const ApiResult<std::string> late = authenticateRequest(view, exampleKeys(), now + 1h);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, "RequestExpired");
  EXPECT_NE(late.error().message.find("20261122T024348Z"), std::string::npos);

  view.headers.erase("authorization");
  const ApiResult<std::string> unsigned_request = authenticateRequest(view, exampleKeys(), now);
  ASSERT_FALSE(unsigned_request.has_value());
  EXPECT_EQ(unsigned_request.error().code, "AuthFailure");
  EXPECT_EQ(httpStatusOf(unsigned_request.error().code), 401);
}

TEST(RequestAuth, ACredentialScopedToAnotherRegionIsRefused) {
  const auto now = utc(2026, 11, 22, 2, 43, 48);
  HttpRequestView view = signedDescribe("eu-west-1", now);
  const ApiResult<std::string> refused = authenticateRequest(view, exampleKeys(), now);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, "AuthFailure");
  EXPECT_EQ(refused.error().message,
            "Credential should be scoped to a valid region, not 'eu-west-1'.");
  // A server told to serve eu-west-1 takes it.
  EXPECT_TRUE(authenticateRequest(view, exampleKeys(), now, "eu-west-1").has_value());
}

TEST(RequestAuth, EveryFailureMapsToAnAuthCodeInTheStatusTable) {
  SigV4Parsed parsed;
  parsed.service = "s3";
  parsed.date = "20261121";
  parsed.amz_date = "20261122T000100Z";
  const auto now = utc(2026, 11, 22, 0, 1, 0);
  const std::map<SigV4Status, std::string> expected = {
      {SigV4Status::MissingAuthorization, "AuthFailure"},
      {SigV4Status::UnsupportedAlgorithm, "IncompleteSignature"},
      {SigV4Status::MalformedAuthorization, "IncompleteSignature"},
      {SigV4Status::MissingDate, "AuthFailure"},
      {SigV4Status::MalformedDate, "AuthFailure"},
      {SigV4Status::RequestExpired, "RequestExpired"},
      {SigV4Status::WrongService, "AuthFailure"},
      {SigV4Status::ScopeDateMismatch, "AuthFailure"},
      {SigV4Status::UnknownAccessKey, "AuthFailure"},
      {SigV4Status::HostNotSigned, "IncompleteSignature"},
      {SigV4Status::SignedHeaderMissing, "AuthFailure"},
      {SigV4Status::BadPayloadHash, "AuthFailure"},
      {SigV4Status::SignatureMismatch, "AuthFailure"},
  };
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(SigV4Status::SignatureMismatch));
  for (const auto& [status, code] : expected) {
    const ApiError error = authError(status, parsed, now);
    EXPECT_EQ(error.code, code) << sigV4StatusText(status);
    EXPECT_NE(httpStatusOf(error.code), 400) << error.code << " is not in the status table";
    EXPECT_FALSE(error.message.empty());
  }
  EXPECT_EQ(authError(SigV4Status::UnknownAccessKey, parsed, now).message,
            "AWS was not able to validate the provided access credentials");
  EXPECT_NE(authError(SigV4Status::WrongService, parsed, now).message.find("'s3'"),
            std::string::npos);
}

// ---- botocore cross-check -----------------------------------------------------------------

// Signs requests with botocore at a fixed clock and prints one tab-separated line per request:
// name, method, then hex of host, path, query, body, and "name=hexvalue,..." headers. POSTs go
// through a real EC2 client (the EC2 serializer `aws ec2` uses), captured before sending.
constexpr const char* kBotocoreScript = R"PY(
import binascii, datetime, hashlib, sys, types
from urllib.parse import urlsplit
import botocore, botocore.auth, botocore.session
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AKID, SECRET, STAMP, PORT = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
FIXED = datetime.datetime.strptime(STAMP, '%Y%m%dT%H%M%SZ')

class FixedDateTime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return FIXED
    @classmethod
    def now(cls, tz=None):
        return FIXED if tz is None else FIXED.replace(tzinfo=tz)

# Old botocore reads datetime.datetime.utcnow(), new botocore get_current_datetime(). With
# awscrt installed (Debian's python3-botocore) clients sign with the CRT signer (aws-c-auth),
# a second independent implementation; its clock is botocore.crt.auth's datetime.
shim = types.ModuleType('datetime')
shim.__dict__.update(datetime.__dict__)
shim.datetime = FixedDateTime
botocore.auth.datetime = shim
if hasattr(botocore.auth, 'get_current_datetime'):
    botocore.auth.get_current_datetime = lambda *a, **k: FIXED
signer = 'python'
if getattr(botocore.auth, 'HAS_CRT', False):
    import botocore.crt.auth
    botocore.crt.auth.datetime = shim
    if hasattr(botocore.crt.auth, 'get_current_datetime'):
        botocore.crt.auth.get_current_datetime = lambda *a, **k: FIXED
    signer = 'crt'

def hx(data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    return binascii.hexlify(data or b'').decode()

def emit(name, method, url, headers, body):
    parts = urlsplit(url)
    hdrs = {k.lower(): v for k, v in headers.items()}
    hdrs.setdefault('host', parts.netloc)
    print('\t'.join([name, method, hx(parts.netloc), hx(parts.path), hx(parts.query), hx(body),
                     ','.join(k + '=' + hx(v) for k, v in sorted(hdrs.items()))]))

class Captured(Exception):
    def __init__(self, request):
        self.request = request

def capture(request, **kwargs):
    raise Captured(request)

client = botocore.session.get_session().create_client(
    'ec2', region_name='us-east-1', endpoint_url='http://127.0.0.1:' + PORT,
    aws_access_key_id=AKID, aws_secret_access_key=SECRET)
client.meta.events.register('before-send.ec2.*', capture)

def call(name, operation, **params):
    try:
        getattr(client, operation)(**params)
    except Captured as c:
        emit(name, c.request.method, c.request.url, dict(c.request.headers), c.request.body)

def raw(name, method, url, params=None, data=None, headers=None):
    request = AWSRequest(method=method, url=url, params=params, data=data, headers=headers or {})
    botocore.auth.SigV4Auth(Credentials(AKID, SECRET), 'ec2', 'us-east-1').add_auth(request)
    prepared = request.prepare()
    emit(name, prepared.method, prepared.url, dict(prepared.headers), prepared.body)

print('#botocore ' + botocore.__version__ + ' client signer ' + signer)
base = 'http://127.0.0.1:' + PORT + '/'
form = 'application/x-www-form-urlencoded; charset=utf-8'
call('describe-sessions', 'describe_traffic_mirror_sessions',
     TrafficMirrorSessionIds=['tms-0af3141ce5EXAMPLE'],
     Filters=[{'Name': 'network-interface-id', 'Values': ['eni-1', 'eni-2']}], MaxResults=5,
     NextToken='tok')
call('spaces-plus-unicode', 'create_traffic_mirror_session',
     NetworkInterfaceId='eni-0123456789abcdef0', TrafficMirrorTargetId='tmt-07f75d8feeEXAMPLE',
     TrafficMirrorFilterId='tmf-04812ff784EXAMPLE', SessionNumber=1,
     Description='my session + m\u00e1s \u00fcn\u00efc\u00f6d\u00e9 \u4e2d\u6587 ~*\'()!',
     ClientToken='abc-123')
call('slash-and-escapes', 'create_traffic_mirror_filter_rule',
     TrafficMirrorFilterId='tmf-04812ff784EXAMPLE', TrafficDirection='ingress', RuleNumber=100,
     RuleAction='accept', DestinationCidrBlock='10.0.0.0/16', SourceCidrBlock='0.0.0.0/0',
     Description='a%2Fb 100% & = ; /', ClientToken='c1')
call('many-parameters', 'create_tags',
     Resources=['tms-%017x' % i for i in range(30)],
     Tags=[{'Key': 'k%d' % i, 'Value': 'v %d \u00fc+/' % i} for i in range(60)])
raw('empty-body', 'POST', base, data=b'', headers={'Content-Type': form})
raw('get-params', 'GET', base,
    params={'Action': 'DescribeTrafficMirrorSessions', 'Version': '2016-11-15',
            'Filter.1.Name': 'description', 'Filter.1.Value.1': 'a b+c/d~\u00e9%'})
raw('get-url-query', 'GET',
    base + '?Version=2016-11-15&Action=DescribeTrafficMirrorTargets&MaxResults=5&NextToken=')
body = b'Action=DescribeTrafficMirrorTargets&Version=2016-11-15'
raw('verify-only-date-header', 'POST', base, data=body,
    headers={'Content-Type': form, 'Date': 'replaced by botocore'})
raw('verify-only-content-sha256', 'POST', base, data=body,
    headers={'Content-Type': form, 'X-Amz-Content-SHA256': hashlib.sha256(body).hexdigest()})
)PY";

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

std::vector<std::string> splitOn(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) {
    parts.push_back(part);
  }
  if (!text.empty() && text.back() == separator) {
    parts.emplace_back();
  }
  return parts;
}

struct BotocoreRequest {
  std::string name, method, host, path, query, body;
  std::map<std::string, std::string> headers;
};

struct BotocoreRun {
  std::string python;
  std::string version;
  std::vector<BotocoreRequest> requests;
};

constexpr const char* kBotocoreStamp = "20261122T024348Z";

// Runs the script with every python3 that has botocore (pyenv's and Debian's may differ).
std::vector<BotocoreRun> runBotocore() {
  static const std::vector<BotocoreRun> runs = [] {
    std::vector<BotocoreRun> found;
    const std::filesystem::path script =
        std::filesystem::temp_directory_path() /
        ("tmirror_sigv4_botocore_" + std::to_string(::getpid()) + ".py");
    std::ofstream(script) << kBotocoreScript;
    for (const char* python : {"python3", "/usr/bin/python3"}) {
      const std::string probe = std::string(python) + " -c 'import botocore' >/dev/null 2>&1";
      if (std::system(probe.c_str()) != 0) {
        continue;
      }
      const std::string command = std::string(python) + " " + script.string() + " " +
                                  std::string(kExampleAkid) + " '" + std::string(kExampleSecret) +
                                  "' " + kBotocoreStamp + " 18999";
      FILE* pipe = ::popen(command.c_str(), "r");
      if (pipe == nullptr) {
        continue;
      }
      std::string out;
      char buf[4096];
      std::size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
        out.append(buf, n);
      }
      const int rc = ::pclose(pipe);
      BotocoreRun run{python, "", {}};
      for (const std::string& line : splitOn(out, '\n')) {
        if (line.starts_with("#botocore ")) {
          run.version = line.substr(10);
          continue;
        }
        const std::vector<std::string> f = splitOn(line, '\t');
        if (f.size() != 7) {
          continue;
        }
        BotocoreRequest r{f[0], f[1], unhex(f[2]), unhex(f[3]), unhex(f[4]), unhex(f[5]), {}};
        for (const std::string& header : splitOn(f[6], ',')) {
          const std::size_t eq = header.find('=');
          r.headers[header.substr(0, eq)] = unhex(header.substr(eq + 1));
        }
        run.requests.push_back(std::move(r));
      }
      if (rc == 0 && !run.requests.empty()) {
        std::printf("cross-checking with %s: botocore %s\n", python, run.version.c_str());
        found.push_back(std::move(run));
      } else {
        ADD_FAILURE() << python << " has botocore but the signing script failed:\n" << out;
      }
    }
    std::filesystem::remove(script);
    return found;
  }();
  return runs;
}

constexpr std::size_t kBotocoreCases = 9;

TEST(SigV4Botocore, VerifiesEveryRequestBotocoreSigns) {
  const auto runs = runBotocore();
  if (runs.empty()) {
    GTEST_SKIP() << "no python3 with botocore (pip install botocore) to cross-check against";
  }
  const auto now = utc(2026, 11, 22, 2, 43, 48);
  for (const BotocoreRun& run : runs) {
    EXPECT_EQ(run.requests.size(), kBotocoreCases) << run.python;
    for (const BotocoreRequest& r : run.requests) {
      SCOPED_TRACE(run.python + " botocore " + run.version + ": " + r.name);
      const SigV4Request request{r.method, r.path, r.query, r.body, &r.headers};
      SigV4Parsed parsed;
      EXPECT_EQ(verifySigV4(request, exampleKeys(), now, "ec2", parsed), SigV4Status::Ok)
          << r.headers.at("authorization") << "\nbody: " << r.body << "\nquery: " << r.query;
      EXPECT_EQ(verifySigV4(request, exampleKeys(), now + 16min, "ec2", parsed),
                SigV4Status::RequestExpired);
      const std::string tampered_body = r.body + "&DryRun=true";
      const SigV4Request tampered{r.method, r.path, r.query, tampered_body, &r.headers};
      const SigV4Status tampered_status = verifySigV4(tampered, exampleKeys(), now, "ec2", parsed);
      EXPECT_TRUE(tampered_status == SigV4Status::SignatureMismatch ||
                  tampered_status == SigV4Status::BadPayloadHash)
          << sigV4StatusText(tampered_status);
    }
  }
}

TEST(SigV4Botocore, SignHeadersMatchesBotocoreByteForByte) {
  const auto runs = runBotocore();
  if (runs.empty()) {
    GTEST_SKIP() << "no python3 with botocore (pip install botocore) to cross-check against";
  }
  const auto now = utc(2026, 11, 22, 2, 43, 48);
  for (const BotocoreRun& run : runs) {
    std::size_t compared = 0;
    for (const BotocoreRequest& r : run.requests) {
      if (r.name.starts_with("verify-only")) {
        continue;  // botocore signed extra headers signHeaders never sends
      }
      SCOPED_TRACE(run.python + " botocore " + run.version + ": " + r.name);
      const auto content_type = r.headers.find("content-type");
      const std::map<std::string, std::string> ours =
          signHeaders(r.method, r.host, r.path, r.query, r.body,
                      content_type == r.headers.end() ? "" : content_type->second, kExampleAkid,
                      kExampleSecret, "us-east-1", "ec2", now);
      EXPECT_EQ(ours.at("Authorization"), r.headers.at("authorization"));
      EXPECT_EQ(ours.at("X-Amz-Date"), r.headers.at("x-amz-date"));
      EXPECT_EQ(ours.at("Host"), r.headers.at("host"));
      EXPECT_EQ(ours.count("Content-Type"), r.headers.count("content-type"));
      ++compared;
    }
    EXPECT_EQ(compared, kBotocoreCases - 2) << run.python;
  }
}

}  // namespace
}  // namespace tmirror::api
