// agent_swarm: N simulated agents in one process, for bench/agent_swarm.py. Each is a distinct
// host (its own host key, two interfaces with their own MAC and IPv4 addresses) and talks to the
// server with the agent's own client code (agent::ControlClient over http::ServerClient, so
// HTTPS with the agent's certificate checks): it registers, long-polls its desired state on a
// kept-alive connection, and pushes counters paced as the agent paces them (agent::ReportPacer:
// the interval the server asks for; on a connection of their own at short intervals, between
// two polls on the poll's connection at long ones).
//
// With several --server URLs (replicas on one database), host i talks to the (i mod count)-th:
// half a swarm on each of two replicas. A host does not fail over; the driver measures how a
// change made through one replica reaches hosts held by another.
//
// Differences from a real agent: the counters change at every report (a host with traffic: the
// most reports the server asks for), and registration uses the poll connection (a real agent
// opens one for it).
//
// Output, one line per event (the driver parses it; times are CLOCK_MONOTONIC nanoseconds):
//   registered AGENT T_NS INSTANCE_ID ENI...
//   state AGENT T_NS REVISION DIGEST SESSIONS   (a desired state unlike the one held before)
//   error AGENT MESSAGE                         (the first error of an agent, then every 100th)
//   stats pushes=N polls=N errors=N registered=N riding=N (on "stats" from stdin; riding:
//                                               agents whose reports go with their polls)
// "quit" (or the end of stdin) ends the process at once.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "agent/control_client.h"
#include "agent/report_pacer.h"
#include "model/mirror_config_json.h"

namespace {

using tmirror::agent::ControlClient;
using tmirror::agent::ReportPacer;

struct Options {
  std::vector<std::string> servers;
  std::string token;
  std::string ca_file;
  std::string run_id = "swarm";
  int agents = 100;
  int wait_seconds = 55;  // the agent's (AgentOptions::poll_wait)
  int pushers = 2;
  bool counters = true;
  std::size_t stack_kib = 256;
};

std::mutex out_mutex;

void emit(const std::string& line) {
  std::lock_guard lock(out_mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h = (h ^ c) * 1099511628211ULL;
  }
  return h;
}

std::atomic<uint64_t> pushes{0};
std::atomic<uint64_t> polls{0};
std::atomic<uint64_t> errors{0};
std::atomic<uint64_t> registered{0};

struct Shared {
  Options options;
  std::vector<tmirror::http::ServerUrl> urls;
  tmirror::http::ServerTrust trust;
};

struct Agent {
  int index = 0;
  const Shared* shared = nullptr;
  const tmirror::http::ServerUrl* url = nullptr;  // the replica this host talks to
  std::mutex mutex;
  std::string instance_id;  // set once registered
  std::vector<std::string> interface_ids;
  uint64_t errors = 0;
  // Counters, paced as the agent paces them (its pusher thread or its poll loop sends them).
  std::mutex report_mutex;
  ReportPacer pacer{std::chrono::milliseconds(1000), std::chrono::seconds(60)};
  uint64_t reports = 0;
};

void noteError(Agent& agent, const std::string& message) {
  ++errors;
  if (agent.errors++ % 100 == 0) {
    emit("error " + std::to_string(agent.index) + " " + message + " @" + std::to_string(nowNs()));
  }
}

tmirror::model::RegisterRequest registration(const Agent& agent) {
  const int i = agent.index;
  tmirror::model::RegisterRequest request;
  request.host_key = agent.shared->options.run_id + "-host-" + std::to_string(i);
  request.hostname = "swarm-" + std::to_string(i);
  for (int n = 0; n < 2; ++n) {
    tmirror::model::ReportedInterface eth;
    eth.name = "eth" + std::to_string(n);
    eth.mac = {0x02,
               static_cast<uint8_t>(0x50 + n),
               static_cast<uint8_t>(i >> 16),
               static_cast<uint8_t>(i >> 8),
               static_cast<uint8_t>(i),
               0x01};
    const std::string address = (n == 0 ? "10." : "172.") +
                                std::to_string(n == 0 ? 64 + (i >> 16) : 16 + (i >> 16)) + "." +
                                std::to_string((i >> 8) & 0xff) + "." + std::to_string(i & 0xff);
    eth.ipv4 = tmirror::packet::parseIpAddress(address);
    eth.mtu = n == 0 ? 9001 : 1500;
    request.interfaces.push_back(eth);
  }
  return request;
}

std::chrono::milliseconds backoff(int failures) {
  const int capped = std::min(failures, 5);
  const int64_t base = 250LL << capped;  // 0.5 s .. 8 s
  return std::chrono::milliseconds(base / 2 + std::rand() % (base / 2 + 1));
}

// The agent's counters report if it is due and goes by this path (the agent's Agent::dueReport).
std::optional<tmirror::model::CountersReport> dueReport(
    Agent& agent, bool on_poll_connection,
    std::chrono::milliseconds ahead = std::chrono::milliseconds(0)) {
  const auto now = ReportPacer::Clock::now() + ahead;
  std::lock_guard report_lock(agent.report_mutex);
  if (now < agent.pacer.nextCheck() || agent.pacer.onPollConnection() != on_poll_connection) {
    return std::nullopt;
  }
  tmirror::model::CountersReport report;
  {
    std::lock_guard lock(agent.mutex);
    report.instance_id = agent.instance_id;
    for (const auto& eni : agent.interface_ids) {
      tmirror::model::ResourceCounters item;
      item.id = eni;
      // A host with traffic: the counts move at every report.
      item.counts = {{"NetworkMirrorIn", 1500 * agent.reports},
                     {"NetworkPacketsMirrorIn", agent.reports},
                     {"NetworkSkipMirrorIn", 0}};
      report.interfaces.push_back(std::move(item));
    }
  }
  if (report.instance_id.empty()) {
    agent.pacer.skip(now);
    return std::nullopt;
  }
  if (!agent.pacer.shouldSend(report, now)) {
    return std::nullopt;
  }
  return report;
}

bool send(Agent& agent, ControlClient& client, const tmirror::model::CountersReport& report) {
  const auto now = ReportPacer::Clock::now();
  auto answer = client.pushCounters(report);
  ++pushes;
  std::lock_guard lock(agent.report_mutex);
  ++agent.reports;
  agent.pacer.sent(report, now, answer ? std::optional(*answer) : std::nullopt);
  if (!answer) {
    noteError(agent, answer.error().message);
  }
  return answer.has_value();
}

void pollLoop(Agent& agent) {
  const Shared& shared = *agent.shared;
  auto client = std::make_unique<ControlClient>(*agent.url, shared.trust, shared.options.token);
  int failures = 0;
  std::string instance_id;
  uint64_t have = 0;
  uint64_t digest = 0;
  while (true) {
    if (instance_id.empty()) {
      auto r = client->registerHost(registration(agent));
      if (!r) {
        noteError(agent, r.error().message);
        client = std::make_unique<ControlClient>(*agent.url, shared.trust, shared.options.token);
        std::this_thread::sleep_for(backoff(++failures));
        continue;
      }
      failures = 0;
      instance_id = r->instance_id;
      have = 0;
      {
        std::lock_guard lock(agent.report_mutex);
        agent.pacer.adopt(r->report_interval, ReportPacer::Clock::now());
      }
      {
        std::lock_guard lock(agent.mutex);
        agent.instance_id = instance_id;
        agent.interface_ids.clear();
        for (const auto& i : r->interfaces) {
          agent.interface_ids.push_back(i.network_interface_id);
        }
      }
      ++registered;
      std::string line = "registered " + std::to_string(agent.index) + " " +
                         std::to_string(nowNs()) + " " + instance_id;
      for (const auto& i : r->interfaces) {
        line += " " + i.network_interface_id;
      }
      emit(line);
    }
    // As the agent does: a report that falls due within half a wait rides the poll.
    std::chrono::seconds wait(shared.options.wait_seconds);
    if (shared.options.counters) {
      std::lock_guard lock(agent.report_mutex);
      wait = agent.pacer.pollWait(wait);
    }
    const auto report = shared.options.counters ? dueReport(agent, true, wait / 2) : std::nullopt;
    const auto polled_at = ReportPacer::Clock::now();
    auto desired = client->desiredState(instance_id, have, wait, report ? &*report : nullptr);
    ++polls;
    if (report) {
      ++pushes;
      std::lock_guard lock(agent.report_mutex);
      ++agent.reports;
      agent.pacer.sent(*report, polled_at,
                       desired ? std::optional(desired->reportAnswer()) : std::nullopt);
    }
    if (!desired) {
      noteError(agent, desired.error().message);
      if (desired.error().code == tmirror::ErrorCode::NotFound) {
        instance_id.clear();
      }
      client = std::make_unique<ControlClient>(*agent.url, shared.trust, shared.options.token);
      std::this_thread::sleep_for(backoff(++failures));
      continue;
    }
    failures = 0;
    if (!desired->config) {
      continue;  // nothing new
    }
    const int64_t t = nowNs();
    tmirror::model::HostMirrorConfig unrevised = *desired->config;
    const uint64_t revision = unrevised.revision;
    unrevised.revision = 0;
    const uint64_t d = fnv1a(tmirror::model::hostMirrorConfigToJson(unrevised));
    if (revision != have || d != digest) {
      std::size_t sessions = 0;
      for (const auto& i : unrevised.interfaces) {
        sessions += i.sessions.size();
      }
      have = revision;
      digest = d;
      emit("state " + std::to_string(agent.index) + " " + std::to_string(t) + " " +
           std::to_string(have) + " " + std::to_string(d) + " " + std::to_string(sessions));
    }
  }
}

// One pusher serves many agents, each with its own connection, earliest due first. Agents whose
// reports go on their poll connection are looked at again a second later.
void pushLoop(std::vector<Agent*> agents, const Shared* shared) {
  std::vector<std::unique_ptr<ControlClient>> clients(agents.size());
  using Due = std::pair<ReportPacer::Clock::time_point, std::size_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> queue;
  for (std::size_t i = 0; i < agents.size(); ++i) {
    std::lock_guard lock(agents[i]->report_mutex);
    queue.push({agents[i]->pacer.nextCheck(), i});
  }
  while (!queue.empty()) {
    const auto [when, i] = queue.top();
    queue.pop();
    std::this_thread::sleep_until(when);
    Agent& agent = *agents[i];
    if (auto report = dueReport(agent, false)) {
      if (!clients[i]) {
        clients[i] =
            std::make_unique<ControlClient>(*agent.url, shared->trust, shared->options.token);
      }
      if (!send(agent, *clients[i], *report)) {
        clients[i].reset();
      }
    }
    std::lock_guard lock(agent.report_mutex);
    if (agent.pacer.onPollConnection()) {
      clients[i].reset();  // its reports go on the poll connection now
    }
    queue.push({std::max(agent.pacer.nextCheck(),
                         ReportPacer::Clock::now() +
                             std::chrono::milliseconds(agent.pacer.onPollConnection() ? 5000 : 0)),
                i});
  }
}

void startThread(std::size_t stack_bytes, std::function<void()> body) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  auto* heap = new std::function<void()>(std::move(body));
  pthread_t thread;
  const int rc = pthread_create(
      &thread, &attr,
      [](void* arg) -> void* {
        std::unique_ptr<std::function<void()>> fn(static_cast<std::function<void()>*>(arg));
        (*fn)();
        return nullptr;
      },
      heap);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    std::fprintf(stderr, "agent_swarm: pthread_create: %d\n", rc);
    std::_Exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Shared shared;
  Options& o = shared.options;
  CLI::App app{"Simulated tmirror agents (bench/agent_swarm.py drives it)"};
  app.add_option("--server", o.servers, "http(s)://HOST:PORT (repeat: host i uses the i mod n-th)")
      ->required();
  app.add_option("--token", o.token, "agent token")->required();
  app.add_option("--ca-file", o.ca_file, "the server's CA (https)");
  app.add_option("--run-id", o.run_id, "prefix of the host keys");
  app.add_option("--agents", o.agents, "simulated hosts")->check(CLI::Range(1, 100000));
  app.add_option("--wait", o.wait_seconds, "long-poll wait, seconds");
  app.add_option("--pushers", o.pushers, "threads pushing counters")->check(CLI::Range(1, 64));
  app.add_flag("!--no-counters", o.counters, "no counter pushes");
  CLI11_PARSE(app, argc, argv);

  // As the agent: a connection the server closed must fail a write, not end the process.
  ::signal(SIGPIPE, SIG_IGN);
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  shared.trust.ca_file = o.ca_file;
  for (const auto& server : o.servers) {
    auto url = tmirror::http::parseServerUrl(server, shared.trust);
    if (!url) {
      std::fprintf(stderr, "agent_swarm: %s\n", url.error().message.c_str());
      return 2;
    }
    shared.urls.push_back(*url);
  }

  std::vector<std::unique_ptr<Agent>> agents;
  for (int i = 0; i < o.agents; ++i) {
    auto agent = std::make_unique<Agent>();
    agent->index = i;
    agent->shared = &shared;
    agent->url = &shared.urls[static_cast<std::size_t>(i) % shared.urls.size()];
    agents.push_back(std::move(agent));
  }
  for (auto& agent : agents) {
    Agent* raw = agent.get();
    startThread(o.stack_kib * 1024, [raw] { pollLoop(*raw); });
  }
  if (o.counters) {
    for (int p = 0; p < o.pushers; ++p) {
      std::vector<Agent*> mine;
      for (int i = p; i < o.agents; i += o.pushers) {
        mine.push_back(agents[static_cast<std::size_t>(i)].get());
      }
      startThread(o.stack_kib * 1024, [mine = std::move(mine), s = &shared] { pushLoop(mine, s); });
    }
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "stats") {
      std::size_t riding = 0;  // agents whose reports ride their polls now
      for (const auto& agent : agents) {
        std::lock_guard lock(agent->report_mutex);
        riding += agent->pacer.onPollConnection() ? 1 : 0;
      }
      emit("stats pushes=" + std::to_string(pushes.load()) +
           " polls=" + std::to_string(polls.load()) + " errors=" + std::to_string(errors.load()) +
           " registered=" + std::to_string(registered.load()) +
           " riding=" + std::to_string(riding));
    } else if (line == "quit") {
      break;
    }
  }
  std::fflush(stdout);
  std::_Exit(0);  // the agents' threads are blocked in long-polls: do not wait for them
}
