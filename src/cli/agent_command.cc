#include "cli/agent_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "cli/service_manager.h"
#include "common/log.h"

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
    log::logger("agent")->error("{}", agent.error().message);
    return 1;
  }
  std::atomic<bool> stop{false};
  std::thread waiter([&stop, &stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    notifyStopping();
    stop = true;
  });
  auto ran = (*agent)->run(stop, [&command] {
    notifyReady("running; desired state from " + command.options.server_urls.front());
  });
  if (!ran) {
    log::logger("agent")->error("{}", ran.error().message);
    // Wake the waiter so that it can be joined.
    ::kill(::getpid(), SIGTERM);
  }
  waiter.join();
  return ran ? 0 : 1;
}

}  // namespace tmirror::cli
