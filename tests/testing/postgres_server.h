// A PostgreSQL server for a test program. Under ctest it is the run's server (fixture
// `postgres`, TMIRROR_TEST_POSTGRES_DIR); a test binary run by hand starts one of its own
// through the same script (tests/testing/pg_server.py: initdb and pg_ctl from Debian's
// postgresql, as the `postgres` user when root), stopped and removed at exit.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace tmirror::testing {

class PostgresServer {
 public:
  // The one server of this test program, joined or started on first use (null: see
  // sharedWhy()).
  static PostgresServer* shared();
  static const std::string& sharedWhy();

  // The run's server if ctest started one, else a new one of our own (null, `why` set).
  static std::unique_ptr<PostgresServer> startOrJoin(std::string* why);

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A new, empty database on it; its URL (postgresql://postgres@127.0.0.1:PORT/NAME).
  std::string createDatabase();
  std::string url(const std::string& database) const;

  int port() const { return port_; }

 private:
  PostgresServer() = default;

  std::filesystem::path own_;  // the handle directory of a server we started, else empty
  int port_ = 0;
  int databases_ = 0;
};

}  // namespace tmirror::testing
