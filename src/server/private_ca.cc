#include "server/private_ca.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "http/fingerprint.h"

namespace tmirror::server {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};

using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using FilePtr = std::unique_ptr<FILE, Deleter<::fclose>>;

constexpr long kCaDays = 3650;
constexpr long kServerDays = 397;  // the longest validity browsers accept for a server

std::string opensslError(std::string_view what) {
  std::string message(what);
  if (const unsigned long code = ERR_get_error(); code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    message += ": ";
    message += text.data();
  }
  ERR_clear_error();
  return message;
}

bool isIpLiteral(const std::string& name) {
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, name.c_str(), &v4) == 1 || inet_pton(AF_INET6, name.c_str(), &v6) == 1;
}

bool addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) {
    return false;
  }
  const bool added = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

struct CertificateSpec {
  std::string common_name;
  bool ca = false;
  std::vector<std::string> names;  // subjectAltName; servers only
  long days = kServerDays;
};

// Signs with issuer_key; a null issuer makes the certificate self-signed (the CA).
Result<CertPtr> makeCertificate(EVP_PKEY* key, const CertificateSpec& spec, X509* issuer,
                                EVP_PKEY* issuer_key) {
  CertPtr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return makeError(ErrorCode::Internal, opensslError("X509_new"));
  }
  std::array<unsigned char, 16> serial{};
  if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) {
    return makeError(ErrorCode::Internal, opensslError("RAND_bytes"));
  }
  serial[0] &= 0x7f;  // positive
  BignumPtr number(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!number || BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return makeError(ErrorCode::Internal, opensslError("serial number"));
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate clocks an hour behind
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.days * 24 * 3600);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const auto* organisation = reinterpret_cast<const unsigned char*>("tmirror");
  const auto* common_name = reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, organisation, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, common_name, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(),
                           issuer != nullptr ? X509_get_subject_name(issuer) : subject) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return makeError(ErrorCode::Internal, opensslError("certificate fields"));
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  bool ok = addExtension(cert.get(), signer, NID_subject_key_identifier, "hash") &&
            addExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    ok = ok &&
         addExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
         addExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    std::string alt_names;
    for (const std::string& name : spec.names) {
      alt_names +=
          (alt_names.empty() ? "" : ",") + std::string(isIpLiteral(name) ? "IP:" : "DNS:") + name;
    }
    ok = ok && addExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE") &&
         addExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature") &&
         addExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth") &&
         (alt_names.empty() || addExtension(cert.get(), signer, NID_subject_alt_name, alt_names));
  }
  if (!ok) {
    return makeError(ErrorCode::Internal, opensslError("certificate extensions"));
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    return makeError(ErrorCode::Internal, opensslError("signing the certificate"));
  }
  return cert;
}

// Writes a file through a FILE*, created with mode (keys: 0600), replacing what was there.
Result<void> writeFile(const std::filesystem::path& path, mode_t mode,
                       const std::function<bool(FILE*)>& write) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return makeSystemError("cannot create " + temporary.string(), errno);
  }
  ::fchmod(fd, mode);
  FilePtr file(::fdopen(fd, "w"));
  if (!file) {
    const int error = errno;
    ::close(fd);
    return makeSystemError("cannot open " + temporary.string(), error);
  }
  if (!write(file.get())) {
    file.reset();
    ::unlink(temporary.c_str());
    return makeError(ErrorCode::Io, opensslError("cannot write " + temporary.string()));
  }
  if (std::fflush(file.get()) != 0 || ::fsync(fd) != 0) {
    const int error = errno;
    file.reset();
    ::unlink(temporary.c_str());
    return makeSystemError("cannot write " + temporary.string(), error);
  }
  file.reset();
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    ::unlink(temporary.c_str());
    return makeError(ErrorCode::Io, "cannot write " + path.string() + ": " + error.message());
  }
  return {};
}

Result<void> writeCertificate(const std::filesystem::path& path,
                              std::initializer_list<X509*> chain) {
  return writeFile(path, 0644, [&](FILE* file) {
    return std::all_of(chain.begin(), chain.end(),
                       [&](X509* cert) { return PEM_write_X509(file, cert) == 1; });
  });
}

Result<void> writeKey(const std::filesystem::path& path, EVP_PKEY* key) {
  return writeFile(path, 0600, [&](FILE* file) {
    return PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
}

CertPtr readCertificate(const std::filesystem::path& path) {
  FilePtr file(std::fopen(path.c_str(), "re"));
  return CertPtr(file ? PEM_read_X509(file.get(), nullptr, nullptr, nullptr) : nullptr);
}

KeyPtr readKey(const std::filesystem::path& path) {
  FilePtr file(std::fopen(path.c_str(), "re"));
  return KeyPtr(file ? PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr) : nullptr);
}

KeyPtr newKey() {
  return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

// The server certificate can stay: issued by this CA, covering every name, not expiring soon.
bool serverCertificateFits(X509* cert, X509* ca, EVP_PKEY* key,
                           const std::vector<std::string>& names) {
  if (X509_check_issued(ca, cert) != X509_V_OK || X509_verify(cert, X509_get0_pubkey(ca)) != 1 ||
      X509_check_private_key(cert, key) != 1) {
    return false;
  }
  std::time_t renew_at =
      std::time(nullptr) + std::chrono::duration_cast<std::chrono::seconds>(kRenewBefore).count();
  if (X509_cmp_time(X509_get0_notAfter(cert), &renew_at) <= 0) {
    return false;
  }
  return std::all_of(names.begin(), names.end(), [&](const std::string& name) {
    return isIpLiteral(name) ? X509_check_ip_asc(cert, name.c_str(), 0) == 1
                             : X509_check_host(cert, name.data(), name.size(), 0, nullptr) == 1;
  });
}

}  // namespace

Result<ServerIdentity> ensurePrivateCa(const std::filesystem::path& dir,
                                       const std::vector<std::string>& names) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return makeError(ErrorCode::Io, "cannot create " + dir.string() + ": " + error.message());
  }
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, error);
  ServerIdentity identity{.ca_certificate = dir / "ca.pem",
                          .certificate_chain = dir / "server.pem",
                          .private_key = dir / "server.key"};
  const std::filesystem::path ca_key_path = dir / "ca.key";

  CertPtr ca = readCertificate(identity.ca_certificate);
  KeyPtr ca_key = readKey(ca_key_path);
  // Renewed while a server certificate made now would outlive it.
  std::time_t outlives = std::time(nullptr) + kServerDays * 24 * 3600;
  const bool ca_expiring = ca && X509_cmp_time(X509_get0_notAfter(ca.get()), &outlives) <= 0;
  if (!ca || !ca_key || ca_expiring || X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    ca_key = newKey();
    if (!ca_key) {
      return makeError(ErrorCode::Internal, opensslError("cannot make a key"));
    }
    auto made = makeCertificate(ca_key.get(),
                                {.common_name = "tmirror private CA", .ca = true, .days = kCaDays},
                                nullptr, nullptr);
    if (!made) {
      return std::unexpected(made.error());
    }
    ca = std::move(*made);
    if (auto written = writeKey(ca_key_path, ca_key.get()); !written) {
      return std::unexpected(written.error());
    }
    if (auto written = writeCertificate(identity.ca_certificate, {ca.get()}); !written) {
      return std::unexpected(written.error());
    }
  }
  identity.ca_fingerprint = http::certificateFingerprint(ca.get());

  CertPtr server = readCertificate(identity.certificate_chain);
  KeyPtr server_key = readKey(identity.private_key);
  ERR_clear_error();  // reads that found nothing leave errors behind
  if (!server || !server_key ||
      !serverCertificateFits(server.get(), ca.get(), server_key.get(), names)) {
    server_key = newKey();
    if (!server_key) {
      return makeError(ErrorCode::Internal, opensslError("cannot make a key"));
    }
    auto made = makeCertificate(
        server_key.get(),
        {.common_name = names.empty() ? "tmirror server" : names.front(), .names = names}, ca.get(),
        ca_key.get());
    if (!made) {
      return std::unexpected(made.error());
    }
    if (auto written = writeKey(identity.private_key, server_key.get()); !written) {
      return std::unexpected(written.error());
    }
    if (auto written = writeCertificate(identity.certificate_chain, {made->get(), ca.get()});
        !written) {
      return std::unexpected(written.error());
    }
  }
  return identity;
}

Result<std::string> certificateFingerprint(const std::filesystem::path& pem_file) {
  CertPtr cert = readCertificate(pem_file);
  if (!cert) {
    ERR_clear_error();
    return makeError(ErrorCode::InvalidArgument,
                     "no PEM certificate could be read from " + pem_file.string());
  }
  return http::certificateFingerprint(cert.get());
}

std::vector<std::string> serverNames(const std::string& listen_address) {
  std::vector<std::string> names;
  const auto add = [&names](const char* text) {
    const std::string name = text != nullptr ? text : "";
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  };
  if (listen_address == "0.0.0.0" || listen_address == "::") {
    ifaddrs* addresses = nullptr;
    if (::getifaddrs(&addresses) == 0) {
      for (const ifaddrs* a = addresses; a != nullptr; a = a->ifa_next) {
        if (a->ifa_addr == nullptr) {
          continue;
        }
        std::array<char, INET6_ADDRSTRLEN> text{};
        if (a->ifa_addr->sa_family == AF_INET) {
          const auto* v4 = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
          add(inet_ntop(AF_INET, &v4->sin_addr, text.data(), text.size()));
        } else if (a->ifa_addr->sa_family == AF_INET6 && listen_address == "::") {
          const auto* v6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
          if (!IN6_IS_ADDR_LINKLOCAL(&v6->sin6_addr)) {
            add(inet_ntop(AF_INET6, &v6->sin6_addr, text.data(), text.size()));
          }
        }
      }
      ::freeifaddrs(addresses);
    }
  } else {
    add(listen_address.c_str());
  }
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) == 0) {
    add(host.data());
  }
  add("localhost");
  add("127.0.0.1");
  add("::1");
  return names;
}

}  // namespace tmirror::server
