// The private certificate authority behind `tmirror server --tls auto`: a CA made once in the
// data directory, and a server certificate it signs for the names agents use to reach the
// server. Agents trust the CA with --ca-file, or pin it with --server-fingerprint.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace tmirror::server {

struct ServerIdentity {
  std::filesystem::path ca_certificate;     // give this file to agents and clients
  std::filesystem::path certificate_chain;  // the server certificate, then the CA
  std::filesystem::path private_key;        // the server's key (mode 0600)
  std::string ca_fingerprint;               // "sha256:" and the CA certificate's digest in hex
};

// A server certificate is made again when it does not cover every name or expires sooner.
inline constexpr std::chrono::hours kRenewBefore{24 * 30};

// Makes dir (mode 0700) and in it, when missing, the CA (ca.pem, ca.key) and a server
// certificate (server.pem, server.key) whose subjectAltName holds every name: IP literals
// become IP entries, anything else a DNS entry. An existing server certificate is kept when it
// covers every name, was issued by this CA and is not about to expire.
Result<ServerIdentity> ensurePrivateCa(const std::filesystem::path& dir,
                                       const std::vector<std::string>& names);

// "sha256:<hex>" of the first certificate in a PEM file (its DER encoding).
Result<std::string> certificateFingerprint(const std::filesystem::path& pem_file);

// The names a certificate for a server listening on address should cover: the address itself
// unless it is a wildcard (then every address of this host), the host name, and loopback.
std::vector<std::string> serverNames(const std::string& listen_address);

}  // namespace tmirror::server
