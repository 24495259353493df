#include "testing/postgres_server.h"

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <libpq-fe.h>

namespace tmirror::testing {

namespace {

// Debian keeps the server's programs out of PATH: /usr/lib/postgresql/<major>/bin.
std::filesystem::path serverBinDir() {
  std::filesystem::path best;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (std::filesystem::exists(entry.path() / "bin" / "postgres") &&
        (best.empty() ||
         entry.path().filename().string() > best.parent_path().filename().string())) {
      best = entry.path() / "bin";
    }
  }
  return best;
}

int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Who runs the server: the `postgres` user when we are root, else ourselves.
struct RunAs {
  bool change = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

RunAs serverUser(std::string* why) {
  RunAs as;
  if (::geteuid() != 0) {
    return as;
  }
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    *why = "running as root and there is no `postgres` user to run the server as";
    return as;
  }
  as.change = true;
  as.uid = pw->pw_uid;
  as.gid = pw->pw_gid;
  return as;
}

// fork + (drop to the server's user) + exec; the child's output goes to `log`.
pid_t spawn(const RunAs& as, const std::vector<std::string>& argv, const std::filesystem::path& log,
            bool die_with_parent) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) {
    return pid;
  }
  if (as.change &&
      (::setgroups(0, nullptr) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0)) {
    ::_exit(126);
  }
  // After the change of user: a change of credentials clears the parent-death signal.
  if (die_with_parent && (::prctl(PR_SET_PDEATHSIG, SIGINT) != 0 || ::getppid() != parent)) {
    ::_exit(125);
  }
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (out >= 0) {
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::close(out);
  }
  ::execv(args[0], args.data());
  ::_exit(127);
}

int waitFor(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::unique_ptr<PostgresServer> PostgresServer::start(std::string* why) {
  const auto bin = serverBinDir();
  if (bin.empty()) {
    *why =
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres; "
        "scripts/install-deps.sh test installs it)";
    return nullptr;
  }
  const RunAs as = serverUser(why);
  if (::geteuid() == 0 && !as.change) {
    return nullptr;
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  char pattern[] = "/tmp/tmirror-pg-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    *why = "mkdtemp failed";
    return nullptr;
  }
  server->dir_ = pattern;
  if (as.change && ::chown(pattern, as.uid, as.gid) != 0) {
    *why = "cannot hand " + server->dir_.string() + " to the postgres user";
    return nullptr;
  }
  const auto data = server->dir_ / "data";
  const auto log = server->dir_ / "server.log";
  const int initdb =
      waitFor(spawn(as,
                    {(bin / "initdb").string(), "-D", data.string(), "-U", "postgres", "-A",
                     "trust", "-E", "UTF8", "--no-sync", "--no-instructions"},
                    log, false));
  if (initdb != 0) {
    *why = "initdb failed (" + std::to_string(initdb) + "): " + readFile(log);
    return nullptr;
  }
  server->port_ = freeLoopbackPort();
  // Durability is not what these tests are about: no fsync (the database process outlives
  // every tmirror process the tests kill).
  server->pid_ =
      spawn(as,
            {(bin / "postgres").string(), "-D", data.string(), "-p", std::to_string(server->port_),
             "-k", server->dir_.string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "full_page_writes=off", "-c", "max_connections=300"},
            log, true);
  const std::string probe = server->url("postgres");
  for (int i = 0; i < 300; ++i) {
    if (PQping(probe.c_str()) == PQPING_OK) {
      return server;
    }
    int status = 0;
    if (::waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      server->pid_ = -1;
      *why = "postgres exited at start: " + readFile(log);
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *why = "postgres did not accept connections within 30 s: " + readFile(log);
  return nullptr;
}

namespace {

struct SharedServer {
  std::string why;
  std::unique_ptr<PostgresServer> server;
};

SharedServer& sharedServer() {
  static SharedServer shared = [] {
    SharedServer s;
    s.server = PostgresServer::startOrJoin(&s.why);
    return s;
  }();
  return shared;
}

}  // namespace

std::unique_ptr<PostgresServer> PostgresServer::startOrJoin(std::string* why) {
  // The run's server, which ctest started (tests/testing/pg_server.py, fixture `postgres`).
  if (const char* dir = std::getenv("TMIRROR_TEST_POSTGRES_DIR"); dir != nullptr) {
    const std::string port = readFile(std::filesystem::path(dir) / "port");
    if (!port.empty()) {
      std::unique_ptr<PostgresServer> server(new PostgresServer());
      server->port_ = std::stoi(port);
      return server;
    }
  }
  return start(why);
}

PostgresServer* PostgresServer::shared() {
  return sharedServer().server.get();
}

const std::string& PostgresServer::sharedWhy() {
  return sharedServer().why;
}

PostgresServer::~PostgresServer() {
  stop();
}

void PostgresServer::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGINT);  // fast shutdown: clients are disconnected
    waitFor(pid_);
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string PostgresServer::url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::createDatabase() {
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
  PGconn* conn = PQconnectdb(url("postgres").c_str());
  PGresult* result = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  const std::string message = PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  if (!ok) {
    throw std::runtime_error("CREATE DATABASE " + name + ": " + message);
  }
  return url(name);
}

}  // namespace tmirror::testing
