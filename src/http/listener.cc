#include "http/listener.h"

#include <arpa/inet.h>

#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "http/connection.h"

namespace tmirror::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using BoostError = boost::system::error_code;

// What a connection over a cap is told before it is closed: written once, without reading the
// request, so a refusal costs the server one accept, one send and one close.
constexpr std::string_view kOverCapacity =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
    "Connection: close\r\n\r\n";

// After accept() fails for want of descriptors or memory, wait this long before trying again
// rather than spinning.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

std::string endpointText(const std::string& address, uint16_t port) {
  const bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

// An IPv4-mapped IPv6 client is shown as the IPv4 address it is.
std::string clientAddress(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// TLS 1.2 and later only, with the certificate chain and key from files.
Result<asio::ssl::context> makeTlsContext(const TlsFiles& files) {
  asio::ssl::context context(asio::ssl::context::tls_server);
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use |
                      asio::ssl::context::no_compression);
  // A parked long-poll's connection keeps no TLS record buffers (about 34 KiB) while it waits.
  SSL_CTX_set_mode(context.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  BoostError error;
  context.use_certificate_chain_file(files.certificate_chain.string(), error);
  if (error) {
    return makeError(
        tmirror::ErrorCode::InvalidArgument,
        "cannot use TLS certificate " + files.certificate_chain.string() + ": " + error.message());
  }
  context.use_private_key_file(files.private_key.string(), asio::ssl::context::pem, error);
  if (error) {
    return makeError(tmirror::ErrorCode::InvalidArgument,
                     "cannot use TLS key " + files.private_key.string() + ": " + error.message());
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return makeError(tmirror::ErrorCode::InvalidArgument, "TLS key " + files.private_key.string() +
                                                              " does not match certificate " +
                                                              files.certificate_chain.string());
  }
  return context;
}

}  // namespace

class HttpListener::Impl {
 public:
  Impl(const ListenerOptions& options, Handler& handler, asio::ip::address address,
       std::optional<asio::ssl::context> tls)
      : state_(std::make_shared<detail::ListenerState>(options, handler)),
        address_(address),
        acceptor_(asio::make_strand(*state_->io.front())),
        backoff_(acceptor_.get_executor()) {
    state_->tls = std::move(tls);
  }

  ~Impl() { stop(); }

  Result<void> start() {
    std::lock_guard lock(lifecycle_mutex_);
    if (started_ || stopped_) {
      return makeError(tmirror::ErrorCode::InvalidArgument,
                       "the HTTP listener was already started or stopped");
    }
    started_ = true;
    const auto& options = state_->options;
    const std::string endpoint = endpointText(options.address, options.port);
    const auto fail = [&](const boost::system::error_code& error) {
      stopped_ = true;
      if (error.category() == boost::system::system_category()) {
        return makeSystemError("cannot listen on " + endpoint, error.value());
      }
      return makeError(tmirror::ErrorCode::Io,
                       "cannot listen on " + endpoint + ": " + error.message());
    };
    BoostError error;
    const tcp::endpoint at(address_, options.port);
    acceptor_.open(at.protocol(), error);
    if (!error) {
      // SO_REUSEADDR only: SO_REUSEPORT would let a second server share a port in use.
      acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
    }
    if (!error && at.address().is_v6()) {
      acceptor_.set_option(asio::ip::v6_only(true), error);
    }
    if (!error) {
      acceptor_.bind(at, error);
    }
    if (!error) {
      acceptor_.listen(asio::socket_base::max_listen_connections, error);
    }
    if (error) {
      BoostError ignored;
      acceptor_.close(ignored);
      return fail(error);
    }
    port_ = acceptor_.local_endpoint(error).port();
    for (const auto& io : state_->io) {
      work_.emplace_back(io->get_executor());
    }
    accept();
    for (const auto& io : state_->io) {
      threads_.emplace_back([io = io.get()] {
        // A handler that throws (it should not) costs its connection, not the process.
        while (true) {
          try {
            io->run();
            return;
          } catch (...) {
          }
        }
      });
    }
    return {};
  }

  uint16_t port() const { return port_ != 0 ? port_ : state_->options.port; }

  void stop() {
    std::lock_guard lock(lifecycle_mutex_);
    if (stopped_ || !started_) {
      stopped_ = true;
      return;
    }
    stopped_ = true;
    // The acceptor belongs to its strand: close it there, and wait until it is closed.
    std::promise<void> closed;
    asio::post(acceptor_.get_executor(), [this, &closed] {
      BoostError ignored;
      acceptor_.close(ignored);
      backoff_.cancel();
      closed.set_value();
    });
    closed.get_future().wait();
    state_->abortAll();
    work_.clear();
    for (std::thread& thread : threads_) {
      thread.join();
    }
    threads_.clear();
  }

  ListenerStats stats() const {
    return ListenerStats{.open = state_->open.load(),
                         .accepted = state_->accepted.load(),
                         .refused_total_cap = state_->refused_total_cap.load(),
                         .refused_address_cap = state_->refused_address_cap.load()};
  }

 private:
  void accept() {
    acceptor_.async_accept(
        asio::make_strand(state_->nextIo()),
        [this](BoostError error, tcp::socket socket) { onAccept(error, std::move(socket)); });
  }

  void onAccept(BoostError error, tcp::socket socket) {
    if (!acceptor_.is_open()) {
      return;
    }
    if (error) {
      if (error == asio::error::no_descriptors || error == asio::error::no_buffer_space ||
          error == asio::error::no_memory) {
        backoff_.expires_after(kAcceptBackoff);
        backoff_.async_wait([this](BoostError waited) {
          if (!waited && acceptor_.is_open()) {
            accept();
          }
        });
        return;
      }
      accept();  // the client gave up before we took it (ECONNABORTED and the like)
      return;
    }
    BoostError peer_error;
    const tcp::endpoint peer = socket.remote_endpoint(peer_error);
    std::string remote = peer_error ? std::string() : clientAddress(peer);
    const auto admission = state_->admit(remote);
    if (admission == detail::ListenerState::Admission::Admitted) {
      detail::startConnection(std::move(socket), state_, std::move(remote));
    } else {
      // Counted first: once the client sees the close, the count says why.
      try {
        state_->handler.connectionRefused(admission == detail::ListenerState::Admission::OverAddress
                                              ? ConnectionCap::PerAddress
                                              : ConnectionCap::Total);
      } catch (...) {
      }
      BoostError ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(asio::buffer(kOverCapacity.data(), kOverCapacity.size()), ignored);
      socket.close(ignored);
    }
    accept();
  }

  const std::shared_ptr<detail::ListenerState> state_;
  const asio::ip::address address_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::mutex lifecycle_mutex_;
  bool started_ = false;
  bool stopped_ = false;
  uint16_t port_ = 0;
};

Result<std::unique_ptr<HttpListener>> HttpListener::create(const ListenerOptions& options,
                                                           Handler& handler) {
  BoostError error;
  const auto address = asio::ip::make_address(options.address, error);
  if (error || options.address.find('%') != std::string::npos) {
    return makeError(tmirror::ErrorCode::InvalidArgument,
                     "listen address '" + options.address + "' is not an IPv4 or IPv6 address");
  }
  if (options.io_threads == 0 || options.max_connections == 0 ||
      options.max_connections_per_address == 0 || options.max_header_bytes == 0 ||
      options.max_target_bytes == 0 || options.max_body_bytes == 0 ||
      options.max_requests_per_connection == 0) {
    return makeError(tmirror::ErrorCode::InvalidArgument,
                     "HTTP thread, connection, size and request limits must be at least 1");
  }
  using std::chrono::milliseconds;
  for (const milliseconds timeout :
       {options.header_timeout, options.read_timeout, options.request_timeout, options.idle_timeout,
        options.write_timeout}) {
    if (timeout <= milliseconds(0)) {
      return makeError(tmirror::ErrorCode::InvalidArgument, "HTTP timeouts must be positive");
    }
  }
  std::optional<asio::ssl::context> tls;
  if (options.tls) {
    auto context = makeTlsContext(*options.tls);
    if (!context) {
      return std::unexpected(context.error());
    }
    tls.emplace(std::move(*context));
  }
  return std::unique_ptr<HttpListener>(
      new HttpListener(std::make_unique<Impl>(options, handler, address, std::move(tls))));
}

HttpListener::HttpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpListener::~HttpListener() = default;

Result<void> HttpListener::start() {
  return impl_->start();
}

uint16_t HttpListener::port() const {
  return impl_->port();
}

void HttpListener::stop() {
  impl_->stop();
}

ListenerStats HttpListener::stats() const {
  return impl_->stats();
}

}  // namespace tmirror::http
