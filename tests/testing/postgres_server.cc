#include "testing/postgres_server.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <libpq-fe.h>

namespace tmirror::testing {

namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The script that starts and stops the tests' servers (its path is fixed at build time).
std::string script(const char* verb, const std::filesystem::path& handle) {
  return std::string("python3 '") + TMIRROR_PG_SERVER_SCRIPT + "' " + verb + " '" +
         handle.string() + "'";
}

struct SharedServer {
  std::string why;
  std::unique_ptr<PostgresServer> server;
};

}  // namespace

std::unique_ptr<PostgresServer> PostgresServer::startOrJoin(std::string* why) {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  // The run's server, which ctest started.
  if (const char* dir = std::getenv("TMIRROR_TEST_POSTGRES_DIR"); dir != nullptr) {
    if (const std::string port = readFile(std::filesystem::path(dir) / "port"); !port.empty()) {
      server->port_ = std::stoi(port);
      return server;
    }
  }
  // Run by hand: one of our own.
  server->own_ =
      std::filesystem::temp_directory_path() / ("tmirror-pg-handle-" + std::to_string(::getpid()));
  const auto log = server->own_.string() + ".log";
  if (std::system((script("start", server->own_) + " >'" + log + "' 2>&1").c_str()) != 0) {
    *why = "tests/testing/pg_server.py could not start PostgreSQL (make test installs it):\n" +
           readFile(log);
    std::filesystem::remove(log);
    server->own_.clear();
    return nullptr;
  }
  std::filesystem::remove(log);
  server->port_ = std::stoi(readFile(server->own_ / "port"));
  return server;
}

namespace {

SharedServer& sharedServer() {
  static SharedServer shared = [] {
    SharedServer s;
    s.server = PostgresServer::startOrJoin(&s.why);
    return s;
  }();
  return shared;
}

}  // namespace

PostgresServer* PostgresServer::shared() {
  return sharedServer().server.get();
}

const std::string& PostgresServer::sharedWhy() {
  return sharedServer().why;
}

PostgresServer::~PostgresServer() {
  if (!own_.empty()) {
    (void)std::system((script("stop", own_) + " >/dev/null 2>&1").c_str());
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
