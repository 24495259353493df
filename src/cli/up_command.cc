#include "cli/up_command.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/child_process.h"
#include "cli/command_line.h"
#include "cli/demo_lab.h"
#include "cli/demo_setup.h"
#include "cli/service_manager.h"
#include "common/durable_file.h"
#include "common/loopback.h"

namespace tmirror::cli {

namespace {

using json = nlohmann::json;

std::mutex output_mutex;

void say(const std::string& line) {
  std::lock_guard lock(output_mutex);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string agent_token;
};

// The data directory's credentials, made on first use (an access key for the user and a
// token for the local agent and collector), kept in credentials.json (mode 0600).
std::optional<Credentials> credentials(const std::filesystem::path& data_dir) {
  const auto path = data_dir / "credentials.json";
  if (std::ifstream file(path); file) {
    std::stringstream text;
    text << file.rdbuf();
    const json j = json::parse(text.str(), nullptr, false);
    if (j.is_object() && j.value("AccessKeyId", json()).is_string() &&
        j.value("SecretAccessKey", json()).is_string() &&
        j.value("AgentToken", json()).is_string()) {
      return Credentials{j["AccessKeyId"], j["SecretAccessKey"], j["AgentToken"]};
    }
    say(path.string() + " is damaged; move it away to make new credentials");
    return std::nullopt;
  }
  const std::string server_dir = (data_dir / "server").string();
  std::vector<std::string> failure;
  auto key = runSelf({"server", "--config", "", "--data-dir", server_dir, "--create-access-key"},
                     &failure);
  auto token = runSelf({"server", "--config", "", "--data-dir", server_dir, "--create-agent-token"},
                       &failure);
  if (!key || key->empty() || !token || token->empty()) {
    say("could not create the access key and agent token in " + server_dir);
    for (const auto& l : failure) {
      say("  " + l);
    }
    return std::nullopt;
  }
  const json k = json::parse(key->back(), nullptr, false);
  if (!k.is_object()) {
    return std::nullopt;
  }
  Credentials c{k.value("AccessKeyId", ""), k.value("SecretAccessKey", ""), token->back()};
  const json out = {{"AccessKeyId", c.access_key_id},
                    {"SecretAccessKey", c.secret_access_key},
                    {"AgentToken", c.agent_token}};
  if (auto saved = replaceFileDurably(path, out.dump(2) + "\n"); !saved) {
    say(saved.error().message);
    return std::nullopt;
  }
  return c;
}

bool canConnect(const std::string& address, uint16_t port) {
  const bool v6 = address.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  bool ok = false;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    ::inet_pton(AF_INET6, address.c_str(), &a.sin6_addr);
    ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, address == "0.0.0.0" ? "127.0.0.1" : address.c_str(), &a.sin_addr);
    ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ::close(fd);
  return ok;
}

struct Supervised {
  std::string name;
  std::vector<std::string> args;
  std::unique_ptr<ChildProcess> process;
  std::vector<std::chrono::steady_clock::time_point> restarts;
};

// Starts `argv` as is (argv[0] a full path).
std::unique_ptr<ChildProcess> launchArgv(const std::string& name,
                                         const std::vector<std::string>& argv) {
  auto child = std::make_unique<ChildProcess>(
      name, argv, [name](const std::string& line) { say("[" + name + "] " + line); });
  if (auto started = child->start(); !started) {
    say("[" + name + "] cannot start: " + started.error().message);
    return nullptr;
  }
  return child;
}

// Starts `tmirror <args>`.
std::unique_ptr<ChildProcess> launch(const std::string& name,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> argv{selfExecutable()};
  argv.insert(argv.end(), args.begin(), args.end());
  return launchArgv(name, argv);
}

}  // namespace

int runUp(const UpOptions& options) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const auto listen = parseListenAddress(options.listen);
  if (!listen) {
    say("tmirror up: --listen: '" + options.listen + "' is not address:port");
    return 2;
  }
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) {
    say("tmirror up: " + options.data_dir.string() + ": " + error.message());
    return 1;
  }
  const auto data_dir = std::filesystem::absolute(options.data_dir);
  const auto creds = credentials(data_dir);
  if (!creds) {
    return 1;
  }
  const std::string host = listen->first.find(':') != std::string::npos
                               ? "[" + listen->first + "]"
                               : (listen->first == "0.0.0.0" ? "127.0.0.1" : listen->first);
  // Loopback stays plain HTTP (the newcomer's path); any other address gets HTTPS from the
  // server's private CA, which the agent and the collector are told to trust.
  const bool tls = !isLoopbackHost(listen->first);
  const std::string scheme = tls ? "https://" : "http://";
  const std::string url = scheme + host + ":" + std::to_string(listen->second);
  const std::string ca_file = tls ? (data_dir / "server" / "tls" / "ca.pem").string() : "";
  const auto trusting = [&](std::vector<std::string> args) {
    if (tls) {
      args.insert(args.end(), {"--ca-file", ca_file});
    }
    return args;
  };

  std::vector<Supervised> children;
  auto add = [&children](std::string name, std::vector<std::string> args) {
    Supervised s;
    s.name = std::move(name);
    s.args = std::move(args);
    children.push_back(std::move(s));
  };
  std::vector<std::string> server_args{"server",
                                       "--listen",
                                       options.listen,
                                       "--data-dir",
                                       (data_dir / "server").string(),
                                       "--captures-dir",
                                       (data_dir / "captures").string()};
  if (tls) {
    server_args.insert(server_args.end(), {"--tls", "auto"});
  }
  add("server", std::move(server_args));
  if (!options.no_collector && !options.demo) {
    add("collect",
        trusting({"collect", "--listen", options.collector_listen, "--output-dir",
                  (data_dir / "captures").string(), "--metrics-listen", options.collector_metrics,
                  "--server", url, "--token", creds->agent_token, "--health-interval", "2",
                  "--state-dir", (data_dir / "collector").string()}));
  }
  const bool root = ::geteuid() == 0;
  if (!options.no_agent && root && !options.demo) {
    std::vector<std::string> args{"agent",
                                  "--server",
                                  url,
                                  "--token",
                                  creds->agent_token,
                                  "--state-dir",
                                  (data_dir / "agent").string(),
                                  "--metrics-listen",
                                  options.agent_metrics};
    for (const auto& i : options.interfaces) {
      args.push_back("--interface");
      args.push_back(i);
    }
    add("agent", trusting(std::move(args)));
  }

  for (Supervised& child : children) {
    // Its settings are up's: not those of a standalone daemon in /etc/tmirror.
    child.args.insert(child.args.end(), {"--log-level", options.log_level, "--log-format",
                                         options.log_format, "--config", ""});
  }

  // The server first: the others register with it.
  children[0].process = launch("server", children[0].args);
  if (!children[0].process) {
    return 1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!canConnect(listen->first, listen->second)) {
    if (!children[0].process->running() || std::chrono::steady_clock::now() > deadline) {
      say("tmirror up: the server did not start (see above)");
      children[0].process->stop();
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (std::size_t i = 1; i < children.size(); ++i) {
    children[i].process = launch(children[i].name, children[i].args);
  }

  std::unique_ptr<DemoLab> lab;
  std::optional<DemoResources> demo;
  if (options.demo) {
    auto made = DemoLab::create(listen->second);
    if (!made) {
      say("tmirror up --demo: " + made.error().message);
      children[0].process->stop();
      return 1;
    }
    lab = std::move(*made);
    // Inside the lab the server is at the same loopback address and port (a relay).
    const std::string lab_url = scheme + "127.0.0.1:" + std::to_string(listen->second);
    auto in = [&](const std::string& lab_host, std::vector<std::string> args) {
      args.insert(args.begin(), selfExecutable());
      return lab->inHost(lab_host, args);
    };
    Supervised collector;
    collector.name = "collect";
    collector.args = in("tgt", trusting({"collect",
                                         "--listen",
                                         "0.0.0.0:4789",
                                         "--output-dir",
                                         (data_dir / "captures").string(),
                                         "--metrics-listen",
                                         "127.0.0.1:8902",
                                         "--server",
                                         lab_url,
                                         "--token",
                                         creds->agent_token,
                                         "--health-interval",
                                         "2",
                                         "--state-dir",
                                         (data_dir / "demo-collector").string(),
                                         "--log-level",
                                         options.log_level,
                                         "--log-format",
                                         options.log_format,
                                         "--config",
                                         ""}));
    Supervised agent;
    agent.name = "agent";
    agent.args = in(
        "src", trusting({"agent", "--server", lab_url, "--token", creds->agent_token, "--state-dir",
                         (data_dir / "demo-agent").string(), "--interface", "eth0",
                         "--metrics-listen", "127.0.0.1:8901", "--log-level", options.log_level,
                         "--log-format", options.log_format, "--config", ""}));
    for (Supervised* s : {&collector, &agent}) {
      s->process = launchArgv(s->name, s->args);
      children.push_back(std::move(*s));
    }
    ::setenv("AWS_ACCESS_KEY_ID", creds->access_key_id.c_str(), 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", creds->secret_access_key.c_str(), 1);
    auto resources = createDemoResources(url, ca_file, lab->mac("src"), lab->mac("tgt"));
    if (!resources) {
      say("tmirror up --demo: " + resources.error().message);
    } else {
      demo = *resources;
      lab->startTraffic();
    }
  }

  say("");
  say("tmirror is up. Data in " + data_dir.string());
  say("  console      " + url + "/console/");
  say("  API          " + url + "   (aws ec2 --endpoint-url " + url +
      (tls ? " --ca-bundle " + ca_file : std::string()) + " --region us-east-1 ...)");
  if (tls) {
    say("  TLS          private CA " + ca_file + ": agents elsewhere use --server " + url +
        " --ca-file <a copy of it>");
  }
  say("  access key   AWS_ACCESS_KEY_ID=" + creds->access_key_id +
      " AWS_SECRET_ACCESS_KEY=" + creds->secret_access_key);
  say("               (kept in " + (data_dir / "credentials.json").string() + ")");
  if (!options.no_collector && !options.demo) {
    say("  collector    VXLAN on udp " + options.collector_listen + ", captures in " +
        (data_dir / "captures").string() + ", http://" + options.collector_metrics + "/metrics");
  }
  if (!options.no_agent && root && !options.demo) {
    say("  agent        this host's interfaces, http://" + options.agent_metrics + "/metrics");
  } else if (!options.no_agent && !options.demo) {
    say("  agent        not started: it needs root (packet sockets); run tmirror up as root");
  }
  if (demo) {
    say("  demo         client 198.51.100.10 -> web server 198.51.100.20 (namespaces " +
        lab->namespaceOf("cli") + ", " + lab->namespaceOf("src") + "): port 80 is mirrored, " +
        "port 22 is not");
    say("               session " + demo->session_id + " (VNI " + std::to_string(demo->vni) +
        ") -> target " + demo->target_id + " on the collector (" + lab->namespaceOf("tgt") + ")");
    say("               captures: ls " + (data_dir / "captures").string() + "; tshark -r <file>");
  }
  say("Stop with Ctrl-C.");
  say("");
  notifyReady("console " + url + "/console/");

  timespec tick{0, 200'000'000};
  while (true) {
    siginfo_t info;
    if (::sigtimedwait(&stop_signals, &info, &tick) > 0) {
      notifyStopping();
      break;
    }
    // A child that died is started again, at most 5 times a minute.
    for (auto& s : children) {
      const std::string& name = s.name;
      if (!s.process || s.process->running()) {
        continue;
      }
      const auto now = std::chrono::steady_clock::now();
      std::erase_if(s.restarts, [&](auto t) { return now - t > std::chrono::minutes(1); });
      if (s.restarts.size() >= 5) {
        continue;  // given up: already said so
      }
      s.restarts.push_back(now);
      s.process->stop();
      if (s.restarts.size() == 5) {
        say("[" + name + "] exited 5 times in a minute; not restarting it");
        continue;
      }
      say("[" + name + "] exited; restarting");
      s.process = s.args.empty() || s.args[0].starts_with("/") ? launchArgv(name, s.args)
                                                               : launch(name, s.args);
    }
  }
  say("stopping");
  // In reverse: agent and collector first, the server last.
  for (auto it = children.rbegin(); it != children.rend(); ++it) {
    if (it->process) {
      it->process->stop();
    }
  }
  if (lab) {
    lab->destroy();
  }
  return 0;
}

}  // namespace tmirror::cli
