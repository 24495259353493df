// DemoLab: the namespace lab `tmirror up --demo` builds on this machine: a client, a web
// server host (the mirror source, where the agent runs) and a target host (where the
// collector runs), joined by a bridge in their own namespaces with no route out. Traffic
// (web requests and SSH-port connections from the client) runs on threads of this process,
// whose sockets are made inside the namespaces. The hosts reach the tmirror server on the
// machine's loopback through relays (a loopback listener inside each namespace), so the lab
// needs no route to the machine either. Everything is removed on destruction.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace tmirror::cli {

class DemoLab {
 public:
  // Host names: "cli", "src", "tgt". Needs root.
  static Result<std::unique_ptr<DemoLab>> create(uint16_t server_port);
  ~DemoLab();

  std::string namespaceOf(const std::string& host) const { return prefix_ + "-" + host; }

  // argv that runs `command` inside a host's namespace (ip netns exec).
  std::vector<std::string> inHost(const std::string& host,
                                  const std::vector<std::string>& command) const;

  // The host's eth0 address and MAC.
  static std::string address(const std::string& host);
  std::string mac(const std::string& host) const;

  // Web and SSH-port traffic from the client to the source host until stopped.
  void startTraffic();

  // Removes the namespaces (also done by the destructor). Safe to call twice.
  void destroy();

  // Removes what a crashed demo left behind.
  static void removeLeftovers();

 private:
  explicit DemoLab(std::string prefix) : prefix_(std::move(prefix)) {}

  Result<void> build();
  Result<void> startRelay(const std::string& host, uint16_t server_port);

  std::string prefix_;
  bool built_ = false;
  std::atomic<bool> stop_{false};
  std::vector<int> listeners_;
  std::vector<std::thread> threads_;
};

}  // namespace tmirror::cli
