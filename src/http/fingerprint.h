// Certificate fingerprints as operators write them: "sha256:" and the SHA-256 of the
// certificate's DER encoding in lower-case hex (what `openssl x509 -fingerprint -sha256` shows,
// without the colons).
#pragma once

#include <span>
#include <string>
#include <string_view>

struct x509_st;  // OpenSSL's X509

namespace tmirror::http {

std::string sha256Fingerprint(std::span<const unsigned char> der);

// The fingerprint of a certificate (its DER encoding); empty if it cannot be encoded.
std::string certificateFingerprint(x509_st* certificate);

// Lower-cases the hex and checks the form; nullopt-like empty string when it is not one.
std::string normalizedFingerprint(std::string_view text);

}  // namespace tmirror::http
