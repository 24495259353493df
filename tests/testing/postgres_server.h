// A PostgreSQL server of a test's own, from Debian's postgresql package: initdb into a
// temporary directory, `postgres` started on a free loopback port (and a socket in that
// directory), as the `postgres` user when the test runs as root (the server refuses root).
// Stopped and removed when the object goes away; if the test process dies instead, the server
// gets SIGINT (parent-death signal) and stops by itself. Under ctest, every test program
// joins the one server of the run instead (fixture `postgres`, tests/testing/pg_server.py).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

namespace tmirror::testing {

class PostgresServer {
 public:
  // A started server, or null with `why` set (PostgreSQL is not installed, initdb failed...).
  static std::unique_ptr<PostgresServer> start(std::string* why);

  // The server ctest started for the run (TMIRROR_TEST_POSTGRES_DIR), else a started one.
  static std::unique_ptr<PostgresServer> startOrJoin(std::string* why);

  // The one server of this test program, joined or started on first use (null: see
  // sharedWhy()).
  static PostgresServer* shared();
  static const std::string& sharedWhy();

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A new, empty database on it; its URL (postgresql://postgres@127.0.0.1:PORT/NAME).
  std::string createDatabase();
  std::string url(const std::string& database) const;

  int port() const { return port_; }

 private:
  PostgresServer() = default;
  void stop();

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int databases_ = 0;
};

}  // namespace tmirror::testing
