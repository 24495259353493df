// Two network namespaces joined by a veth pair, made and torn down by the test itself:
//   "a": the source host (tm0, 198.51.100.1/24) - the worker under test runs here
//   "b": the target / peer (tm1, 198.51.100.2/24)
// The calling thread moves between them with enter(); sockets stay in the namespace they
// were made in, threads start in the namespace of the thread that made them. No route
// leaves either namespace. Needs root; tests skip otherwise.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "packet/ip_address.h"

namespace tmirror::testing {

class NetnsPair {
 public:
  NetnsPair() : prefix_("tmut" + std::to_string(::getpid())) {}

  ~NetnsPair() { destroy(); }

  // False (with a reason) when the pair cannot be made here.
  bool create(std::string& why) {
    if (::geteuid() != 0) {
      why = "needs root (network namespaces)";
      return false;
    }
    original_ = UniqueFd(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    const std::string a = name("a"), b = name("b");
    const std::string script =
        "set -e; ip netns add " + a + "; ip netns add " + b + "; ip link add tm0 netns " + a +
        " type veth peer name tm1 netns " + b + "; for n in " + a + " " + b +
        "; do ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1;"
        " ip -n $n link set lo up; done"
        "; ip -n " +
        a + " addr add 198.51.100.1/24 dev tm0; ip -n " + a + " link set tm0 up" + "; ip -n " + b +
        " addr add 198.51.100.2/24 dev tm1; ip -n " + b + " link set tm1 up";
    created_ = true;
    if (run(script) != 0) {
      why = "could not build the namespaces (ip netns, veth)";
      return false;
    }
    return true;
  }

  void destroy() {
    if (!created_) {
      return;
    }
    if (original_.valid()) {
      ::setns(original_.get(), CLONE_NEWNET);
    }
    run("ip netns del " + name("a") + " 2>/dev/null; ip netns del " + name("b") + " 2>/dev/null");
    created_ = false;
  }

  std::string name(const char* which) const { return prefix_ + which; }

  // Moves the calling thread into namespace "a" or "b".
  bool enter(const char* which) const {
    UniqueFd fd(::open(("/var/run/netns/" + name(which)).c_str(), O_RDONLY | O_CLOEXEC));
    return fd.valid() && ::setns(fd.get(), CLONE_NEWNET) == 0;
  }

  int run(const std::string& script) const {
    return std::system(("/bin/sh -c '" + script + "' >/dev/null 2>&1").c_str());
  }

  // A UDP socket bound to `address` (host order):`port` in the current namespace, with a
  // large receive buffer.
  static UniqueFd udpReceiver(uint32_t address, uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    bound.sin_port = htons(port);
    bound.sin_addr.s_addr = htonl(address);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0) {
      return UniqueFd();
    }
    const int big = 8 << 20;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    return fd;
  }

  // Datagrams (or frames) read from `fd` until `count` arrived or `quiet_ms` passed without one.
  static std::vector<std::vector<std::byte>> readDatagrams(const UniqueFd& fd, std::size_t count,
                                                           int quiet_ms) {
    std::vector<std::vector<std::byte>> out;
    std::vector<std::byte> buffer(1 << 17);
    while (out.size() < count) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, quiet_ms) <= 0) {
        break;
      }
      const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
      if (n > 0) {
        out.emplace_back(buffer.begin(), buffer.begin() + n);
      }
    }
    return out;
  }

  // tmN's MAC as seen from its namespace.
  packet::MacAddress mac(const char* which, const char* device) const {
    std::string text;
    const std::string command =
        "ip netns exec " + name(which) + " cat /sys/class/net/" + device + "/address";
    if (FILE* p = ::popen(command.c_str(), "r")) {
      char buffer[64] = {};
      if (std::fgets(buffer, sizeof buffer, p)) {
        text = buffer;
      }
      ::pclose(p);
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
      text.pop_back();
    }
    return packet::parseMacAddress(text).value_or(packet::MacAddress{});
  }

 private:
  std::string prefix_;
  UniqueFd original_;
  bool created_ = false;
};

}  // namespace tmirror::testing
