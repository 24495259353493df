#include "http/server_client.h"

#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/ascii.h"
#include "common/loopback.h"
#include "common/unique_fd.h"
#include "http/fingerprint.h"

namespace tmirror::http {
namespace {

// Replaces OpenSSL's chain check when a fingerprint is pinned. The server's own certificate may
// be the pinned one; otherwise the pinned certificate must be in the chain the server sent AND
// the chain must verify up to it as the only trust anchor. Its mere presence proves nothing: a
// CA certificate is public, and anyone can send it after a leaf of their own.
int verifyPinned(X509_STORE_CTX* store, void* pinned) {
  const auto& expected = *static_cast<const std::string*>(pinned);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (leaf != nullptr && certificateFingerprint(leaf) == expected) {
    return 1;
  }
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_untrusted(store);
  X509* anchor = nullptr;
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    if (certificateFingerprint(sk_X509_value(chain, i)) == expected) {
      anchor = sk_X509_value(chain, i);
      break;
    }
  }
  if (anchor == nullptr) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  STACK_OF(X509)* anchors = sk_X509_new_null();
  if (anchors == nullptr || sk_X509_push(anchors, anchor) == 0) {
    sk_X509_free(anchors);
    return 0;
  }
  X509_STORE_CTX_set0_trusted_stack(store, anchors);
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(store), X509_V_FLAG_PARTIAL_CHAIN);
  const int verified = X509_verify_cert(store);
  sk_X509_free(anchors);  // the certificates belong to the chain the server sent
  return verified == 1 ? 1 : 0;
}

// Why a connection to host:port fails, in the system's words ("connection refused", "no route
// to host", "timed out"): httplib says only that it failed. Asked again, once, on a failure.
std::string connectFailure(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return std::string("cannot resolve ") + host + ": " + ::gai_strerror(rc);
  }
  std::string why = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd fd(
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    int error = fd.valid() ? 0 : errno;
    if (fd.valid() && ::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd p{fd.get(), POLLOUT, 0};
        if (::poll(&p, 1, 1000) <= 0) {
          why = "timed out";
          continue;
        }
        socklen_t length = sizeof error;
        ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      }
    }
    if (error == 0) {
      why = "it accepts connections again";
      break;
    }
    why = std::strerror(error);
    if (!why.empty()) {
      why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    }
  }
  ::freeaddrinfo(found);
  return why;
}

std::string describe(httplib::Error error, const ServerTrust& trust) {
  switch (error) {
    case httplib::Error::SSLServerVerification:
      return "the server's certificate is not trusted (check --ca-file" +
             std::string(trust.ca_file.empty() ? ", or give one" : "") + ")";
    case httplib::Error::SSLConnection:
      return trust.fingerprint.empty()
                 ? "the TLS handshake failed (is the server speaking HTTPS?)"
                 : "the TLS handshake failed: the server's certificates do not match "
                   "--server-fingerprint, or it does not speak HTTPS";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates from " +
             (trust.ca_file.empty() ? std::string("the system store") : trust.ca_file.string());
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return "timed out connecting";
    case httplib::Error::Read:
      return "the connection ended before the answer (timeout or server gone)";
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

Result<ServerUrl> parseServerUrl(const std::string& url, const ServerTrust& trust) {
  ServerUrl out;
  std::string rest;
  if (url.starts_with("https://")) {
    out.tls = true;
    out.port = 443;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return makeError(ErrorCode::InvalidArgument,
                     "--server must look like https://HOST:PORT (or http:// on loopback)");
  }
  if (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) {
      return makeError(ErrorCode::InvalidArgument, "--server: unclosed [ in " + url);
    }
    out.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') {
        return makeError(ErrorCode::InvalidArgument, "--server: bad address in " + url);
      }
      port_text = rest.substr(close + 2);
    }
  } else {
    const auto colon = rest.rfind(':');
    out.host = rest.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = rest.substr(colon + 1);
    }
  }
  if (out.host.empty() || out.host.find('/') != std::string::npos) {
    return makeError(ErrorCode::InvalidArgument, "--server: no host in " + url);
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return makeError(ErrorCode::InvalidArgument, "--server: bad port in " + url);
    }
    out.port = static_cast<uint16_t>(port);
  }
  if (!out.tls && !trust.insecure_http && !isLoopbackHost(out.host)) {
    return makeError(ErrorCode::InvalidArgument,
                     "--server: refusing http:// to " + out.host +
                         ": the agent token would cross the network in clear. Use https:// "
                         "(tmirror server --tls auto) or --insecure-http.");
  }
  if (!trust.fingerprint.empty() && normalizedFingerprint(trust.fingerprint).empty()) {
    return makeError(ErrorCode::InvalidArgument,
                     "--server-fingerprint must be sha256: and 64 hex digits");
  }
  return out;
}

class ServerClient::Impl {
 public:
  Impl(ServerUrl url, ServerTrust trust, std::string token)
      : url_(std::move(url)),
        trust_(std::move(trust)),
        pinned_(normalizedFingerprint(trust_.fingerprint)) {
    if (url_.tls) {
      auto client = std::make_unique<httplib::SSLClient>(url_.host, url_.port);
      if (!pinned_.empty()) {
        // httplib's own check (chain and name) is off; the pin decides, during the handshake.
        client->enable_server_certificate_verification(false);
        SSL_CTX* context = client->ssl_context();
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
        SSL_CTX_set_cert_verify_callback(context, verifyPinned, &pinned_);
      } else {
        client->enable_server_certificate_verification(true);
        if (!trust_.ca_file.empty()) {
          client->set_ca_cert_path(trust_.ca_file.string());
        }
      }
      client_ = std::move(client);
    } else {
      client_ = std::make_unique<httplib::ClientImpl>(url_.host, url_.port);
    }
    client_->set_connection_timeout(std::chrono::seconds(3));
    client_->set_write_timeout(std::chrono::seconds(10));
    client_->set_keep_alive(true);
    client_->set_bearer_token_auth(token);
  }

  Result<ClientResponse> answer(const httplib::Result& result) const {
    if (!result) {
      if (result.error() == httplib::Error::Connection) {
        return makeError(ErrorCode::Io, "cannot connect: " + connectFailure(url_.host, url_.port));
      }
      return makeError(ErrorCode::Io, describe(result.error(), trust_));
    }
    ClientResponse response{result->status, result->body, {}};
    for (const auto& [name, value] : result->headers) {
      response.headers.emplace_back(name, value);
    }
    return response;
  }

  ServerUrl url_;
  ServerTrust trust_;
  std::string pinned_;  // the verify callback reads it: the Impl never moves
  std::unique_ptr<httplib::ClientImpl> client_;
};

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equalsIgnoreAsciiCase(key, name)) {
      return value;
    }
  }
  return {};
}

ServerClient::ServerClient(ServerUrl url, ServerTrust trust, std::string token)
    : impl_(std::make_unique<Impl>(std::move(url), std::move(trust), std::move(token))) {}

ServerClient::~ServerClient() = default;
ServerClient::ServerClient(ServerClient&&) noexcept = default;
ServerClient& ServerClient::operator=(ServerClient&&) noexcept = default;

Result<ClientResponse> ServerClient::get(const std::string& target, std::chrono::seconds timeout) {
  impl_->client_->set_read_timeout(timeout);
  return impl_->answer(impl_->client_->Get(target));
}

Result<ClientResponse> ServerClient::postJson(const std::string& path, const std::string& body,
                                              std::chrono::seconds timeout) {
  impl_->client_->set_read_timeout(timeout);
  return impl_->answer(impl_->client_->Post(path, body, "application/json"));
}

void ServerClient::cancel() {
  impl_->client_->stop();
}

}  // namespace tmirror::http
