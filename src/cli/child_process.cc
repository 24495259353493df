#include "cli/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <memory>

namespace tmirror::cli {

std::string selfExecutable() {
  char path[PATH_MAX] = {};
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string("tmirror");
}

std::optional<std::vector<std::string>> runSelf(const std::vector<std::string>& args,
                                                std::vector<std::string>* failure_output) {
  std::vector<std::string> argv{selfExecutable()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto lines = std::make_shared<std::vector<std::string>>();
  auto lines_mutex = std::make_shared<std::mutex>();
  ChildProcess child("tmirror", argv, [lines, lines_mutex](const std::string& line) {
    std::lock_guard lock(*lines_mutex);
    lines->push_back(line);
  });
  if (!child.start()) {
    return std::nullopt;
  }
  while (child.running()) {
    ::usleep(5000);
  }
  child.stop();
  if (!WIFEXITED(child.exitStatus()) || WEXITSTATUS(child.exitStatus()) != 0) {
    if (failure_output != nullptr) {
      *failure_output = *lines;
    }
    return std::nullopt;
  }
  return *lines;
}

ChildProcess::ChildProcess(std::string name, std::vector<std::string> argv, LineHandler on_line)
    : name_(std::move(name)), argv_(std::move(argv)), on_line_(std::move(on_line)) {}

ChildProcess::~ChildProcess() {
  stop();
}

Result<void> ChildProcess::start() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return makeSystemError("pipe", errno);
  }
  std::vector<char*> args;
  for (auto& a : argv_) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return makeSystemError("fork", errno);
  }
  if (pid == 0) {
    // The child dies with its parent, whatever kills the parent.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) {
      ::_exit(1);
    }
    // Signals blocked in the parent (for sigwait) must not stay blocked in the child.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  pid_ = pid;
  reader_ = std::thread([this, fd = fds[0]] {
    std::string pending;
    char buffer[4096];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        break;
      }
      pending.append(buffer, static_cast<std::size_t>(n));
      std::size_t newline;
      while ((newline = pending.find('\n')) != std::string::npos) {
        on_line_(pending.substr(0, newline));
        pending.erase(0, newline + 1);
      }
    }
    if (!pending.empty()) {
      on_line_(pending);
    }
    ::close(fd);
  });
  return {};
}

bool ChildProcess::running() {
  if (pid_ <= 0) {
    return false;
  }
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

void ChildProcess::stop(int grace_ms) {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    while (running() && std::chrono::steady_clock::now() < deadline) {
      ::usleep(20000);
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      status_ = status;
      pid_ = -1;
    }
  }
  if (reader_.joinable()) {
    reader_.join();
  }
}

}  // namespace tmirror::cli
