#include "http/fingerprint.h"

#include <array>

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace tmirror::http {
namespace {

constexpr std::string_view kPrefix = "sha256:";

}  // namespace

std::string sha256Fingerprint(std::span<const unsigned char> der) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(der.data(), der.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(kPrefix);
  for (unsigned int i = 0; i < length; ++i) {
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 0xf];
  }
  return text;
}

std::string certificateFingerprint(x509_st* certificate) {
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificate, &der);
  if (length <= 0) {
    return {};
  }
  std::string fingerprint = sha256Fingerprint({der, static_cast<std::size_t>(length)});
  OPENSSL_free(der);
  return fingerprint;
}

std::string normalizedFingerprint(std::string_view text) {
  if (!text.starts_with(kPrefix) || text.size() != kPrefix.size() + 64) {
    return {};
  }
  std::string out(kPrefix);
  for (char c : text.substr(kPrefix.size())) {
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return {};
    }
    out += c;
  }
  return out;
}

}  // namespace tmirror::http
