#include "cli/agent_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

namespace tmirror::cli {

int runAgent(const AgentCommand& command) {
  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto agent = agent::Agent::create(command.options);
  if (!agent) {
    std::fprintf(stderr, "tmirror agent: %s\n", agent.error().message.c_str());
    return 1;
  }
  std::atomic<bool> stop{false};
  std::thread waiter([&stop, &stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    stop = true;
  });
  auto ran = (*agent)->run(stop);
  if (!ran) {
    std::fprintf(stderr, "tmirror agent: %s\n", ran.error().message.c_str());
    // Wake the waiter so that it can be joined.
    ::kill(::getpid(), SIGTERM);
  }
  waiter.join();
  return ran ? 0 : 1;
}

}  // namespace tmirror::cli
