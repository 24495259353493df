// ChildProcess: a `tmirror` subcommand run as a child of `tmirror up`, its output relayed line
// by line with a "[name] " prefix, stopped with SIGTERM (then SIGKILL) when asked.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace tmirror::cli {

class ChildProcess {
 public:
  // Called for every line the child prints (stdout and stderr), without the newline.
  using LineHandler = std::function<void(const std::string& line)>;

  ChildProcess(std::string name, std::vector<std::string> argv, LineHandler on_line);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  Result<void> start();

  // Non-blocking: true while the child runs. Reaps it when it has exited.
  bool running();

  int exitStatus() const { return status_; }

  // SIGTERM, then SIGKILL after `grace_ms`; waits for it.
  void stop(int grace_ms = 5000);

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<std::string> argv_;
  LineHandler on_line_;
  pid_t pid_ = -1;
  int status_ = 0;
  std::thread reader_;
};

// The path of the running executable (/proc/self/exe), to start its own subcommands.
std::string selfExecutable();

// Runs `tmirror <args>` to completion: its output lines, or nullopt when it failed (its
// output then goes to `failure_output`, if given).
std::optional<std::vector<std::string>> runSelf(const std::vector<std::string>& args,
                                                std::vector<std::string>* failure_output = nullptr);

}  // namespace tmirror::cli
