#include "cli/demo_lab.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/unique_fd.h"

namespace tmirror::cli {

namespace {

constexpr const char* kPrefix = "tmdemo";
constexpr const char* kHosts[] = {"cli", "src", "tgt"};

int shell(const std::string& script) {
  return std::system(("/bin/sh -c '" + script + "' >/dev/null 2>&1").c_str());
}

std::string ipCommand() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(path, X_OK) == 0) {
      return path;
    }
  }
  return "ip";
}

// A socket made inside namespace `ns` (sockets keep the namespace they were made in); the
// calling thread returns to its own namespace.
int socketIn(const std::string& ns, int domain, int type) {
  UniqueFd self(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  UniqueFd target(::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!self.valid() || !target.valid() || ::setns(target.get(), CLONE_NEWNET) != 0) {
    return -1;
  }
  const int fd = ::socket(domain, type | SOCK_CLOEXEC, 0);
  ::setns(self.get(), CLONE_NEWNET);
  return fd;
}

sockaddr_in ipv4(const std::string& address, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  return a;
}

int listenIn(const std::string& ns, const std::string& address, uint16_t port) {
  const int fd = socketIn(ns, AF_INET, SOCK_STREAM);
  if (fd < 0) {
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in a = ipv4(address, port);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Copies bytes both ways until either side closes.
void pump(int a, int b) {
  char buffer[16384];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  while (::poll(fds, 2, 60000) > 0) {
    bool done = false;
    for (int i = 0; i < 2 && !done; ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
        if (n <= 0 || ::write(fds[1 - i].fd, buffer, static_cast<std::size_t>(n)) != n) {
          done = true;
        }
      }
    }
    if (done) {
      break;
    }
  }
  ::close(a);
  ::close(b);
}

bool waitReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

}  // namespace

void DemoLab::removeLeftovers() {
  for (const char* host : {"net", "cli", "src", "tgt"}) {
    shell(ipCommand() + " netns del " + std::string(kPrefix) + "-" + host);
  }
}

Result<std::unique_ptr<DemoLab>> DemoLab::create(uint16_t server_port) {
  if (::geteuid() != 0) {
    return makeError(ErrorCode::Unsupported, "the demo builds network namespaces: run it as root");
  }
  removeLeftovers();
  std::unique_ptr<DemoLab> lab(new DemoLab(kPrefix));
  if (auto built = lab->build(); !built) {
    return std::unexpected(built.error());
  }
  for (const char* host : {"src", "tgt"}) {
    if (auto relay = lab->startRelay(host, server_port); !relay) {
      return std::unexpected(relay.error());
    }
  }
  return lab;
}

std::string DemoLab::address(const std::string& host) {
  return host == "cli" ? "198.51.100.10" : host == "src" ? "198.51.100.20" : "198.51.100.30";
}

std::string DemoLab::mac(const std::string& host) const {
  // A fixed, locally administered MAC per host (set in build()).
  return host == "cli"   ? "02:00:c6:33:64:0a"
         : host == "src" ? "02:00:c6:33:64:14"
                         : "02:00:c6:33:64:1e";
}

std::vector<std::string> DemoLab::inHost(const std::string& host,
                                         const std::vector<std::string>& command) const {
  std::vector<std::string> argv{ipCommand(), "netns", "exec", namespaceOf(host)};
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

Result<void> DemoLab::build() {
  const std::string ip = ipCommand();
  const std::string net = namespaceOf("net");
  std::string script = "set -e; " + ip + " netns add " + net + "; " + ip + " -n " + net +
                       " link add br0 type bridge; " + ip + " -n " + net + " link set br0 up";
  for (const char* host : kHosts) {
    const std::string ns = namespaceOf(host);
    const std::string port = std::string("d-") + host;
    script += "; " + ip + " netns add " + ns + "; " + ip + " link add " + port + " netns " + net +
              " type veth peer name eth0 netns " + ns + "; " + ip + " -n " + net + " link set " +
              port + " master br0 up; " + ip + " -n " + ns + " link set lo up; " + ip + " -n " +
              ns + " link set eth0 address " + mac(host) + "; " + ip + " -n " + ns + " addr add " +
              address(host) + "/24 dev eth0; " + ip + " -n " + ns + " link set eth0 up";
  }
  built_ = true;
  if (shell(script) != 0) {
    return makeError(ErrorCode::Io, "could not build the demo namespaces (ip netns, veth, bridge)");
  }
  return {};
}

Result<void> DemoLab::startRelay(const std::string& host, uint16_t server_port) {
  const int listener = listenIn(namespaceOf(host), "127.0.0.1", server_port);
  if (listener < 0) {
    return makeSystemError("relay listener in " + namespaceOf(host), errno);
  }
  listeners_.push_back(listener);
  threads_.emplace_back([this, listener, server_port] {
    while (!stop_) {
      if (!waitReadable(listener, 200)) {
        continue;
      }
      const int inside = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (inside < 0) {
        continue;
      }
      // This thread is in the machine's namespace: the outside socket reaches its loopback.
      const int outside = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const sockaddr_in server = ipv4("127.0.0.1", server_port);
      if (outside < 0 ||
          ::connect(outside, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
        ::close(inside);
        if (outside >= 0) {
          ::close(outside);
        }
        continue;
      }
      std::thread(pump, inside, outside).detach();
    }
  });
  return {};
}

void DemoLab::startTraffic() {
  const int web = listenIn(namespaceOf("src"), address("src"), 80);
  const int ssh = listenIn(namespaceOf("src"), address("src"), 22);
  for (int listener : {web, ssh}) {
    if (listener < 0) {
      continue;
    }
    listeners_.push_back(listener);
    const bool is_web = listener == web;
    threads_.emplace_back([this, listener, is_web] {
      const std::string page(1800, 'x');
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
          std::to_string(page.size()) + "\r\nConnection: close\r\n\r\n" + page;
      while (!stop_) {
        if (!waitReadable(listener, 200)) {
          continue;
        }
        const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
          continue;
        }
        char buffer[2048];
        if (is_web) {
          if (waitReadable(c, 1000)) {
            (void)::read(c, buffer, sizeof buffer);
          }
          (void)::write(c, response.data(), response.size());
        } else {
          const std::string banner = "SSH-2.0-tmirror-demo\r\n";
          (void)::write(c, banner.data(), banner.size());
          if (waitReadable(c, 1000)) {
            (void)::read(c, buffer, sizeof buffer);
          }
        }
        ::close(c);
      }
    });
  }
  threads_.emplace_back([this] {
    const std::string client = namespaceOf("cli");
    int round = 0;
    while (!stop_) {
      const bool is_ssh = ++round % 5 == 0;
      const int c = socketIn(client, AF_INET, SOCK_STREAM);
      if (c >= 0) {
        timeval timeout{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        const sockaddr_in to = ipv4(address("src"), is_ssh ? 22 : 80);
        if (::connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) {
          const std::string request = is_ssh ? std::string("SSH-2.0-client\r\n")
                                             : "GET /index.html HTTP/1.1\r\nHost: web\r\n\r\n";
          (void)::write(c, request.data(), request.size());
          char buffer[4096];
          while (::read(c, buffer, sizeof buffer) > 0) {
          }
        }
        ::close(c);
      }
      for (int i = 0; i < 4 && !stop_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  });
}

void DemoLab::destroy() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  threads_.clear();
  for (int fd : listeners_) {
    ::close(fd);
  }
  listeners_.clear();
  if (built_) {
    removeLeftovers();
    built_ = false;
  }
}

DemoLab::~DemoLab() {
  destroy();
}

}  // namespace tmirror::cli
