// Runs the real `tmirror` binary and captures its exit code, stdout and stderr.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace tmirror::cli::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 if the process did not exit normally
  std::string out;
  std::string err;
};

// ctest sets TMIRROR_BINARY_DIR / TMIRROR_SOURCE_DIR; the compiled-in paths serve a direct run.
inline std::filesystem::path tmirrorBinary() {
  const char* dir = std::getenv("TMIRROR_BINARY_DIR");
  return dir != nullptr ? std::filesystem::path(dir) / "tmirror"
                        : std::filesystem::path(TMIRROR_DEFAULT_BINARY);
}

inline std::filesystem::path sourceDir() {
  const char* dir = std::getenv("TMIRROR_SOURCE_DIR");
  return dir != nullptr ? std::filesystem::path(dir)
                        : std::filesystem::path(TMIRROR_DEFAULT_SOURCE_DIR);
}

namespace detail {

// Everything written to a memfd, which (unlike a pipe) cannot fill up and block the child.
inline std::string drain(int fd) {
  std::string text;
  ::lseek(fd, 0, SEEK_SET);
  char buffer[4096];
  for (ssize_t n = ::read(fd, buffer, sizeof buffer); n > 0;
       n = ::read(fd, buffer, sizeof buffer)) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace detail

// `tmirror args...`; waits for it to finish.
inline ProcessResult runTmirror(const std::vector<std::string>& args) {
  const std::string binary = tmirrorBinary().string();
  std::vector<char*> argv{const_cast<char*>(binary.c_str())};
  for (const auto& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);

  ProcessResult result;
  const int out_fd = ::memfd_create("tmirror-stdout", MFD_CLOEXEC);
  const int err_fd = ::memfd_create("tmirror-stderr", MFD_CLOEXEC);
  if (out_fd < 0 || err_fd < 0) {
    ADD_FAILURE() << "memfd_create failed";
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    ADD_FAILURE() << "cannot run " << binary << ": " << std::strerror(spawned);
    ::close(out_fd);
    ::close(err_fd);
    return result;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = detail::drain(out_fd);
  result.err = detail::drain(err_fd);
  return result;
}

// For failure messages: how a run ended and what it said.
inline std::string describe(const ProcessResult& result) {
  return "exit " + std::to_string(result.exit_code) + "\n--- stdout:\n" + result.out +
         "--- stderr:\n" + result.err;
}

}  // namespace tmirror::cli::testing
