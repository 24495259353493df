// The two stores a test runs against: SQLite in a scratch directory, and PostgreSQL in a fresh
// database on the test program's own server (testing/postgres_server.h). A test suite derives
// from StoreBackendTest and is instantiated with kStoreBackends.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "store/mirror_store.h"
#include "testing/postgres_server.h"
#include "testing/scratch_dir.h"

namespace tmirror::testing {

enum class StoreBackend { Sqlite, Postgresql };

inline const auto kStoreBackends =
    ::testing::Values(StoreBackend::Sqlite, StoreBackend::Postgresql);

inline std::string storeBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param == StoreBackend::Sqlite ? "Sqlite" : "Postgresql";
}

// How gtest (and so ctest's test names) shows the parameter.
inline void PrintTo(StoreBackend backend, std::ostream* os) {
  *os << (backend == StoreBackend::Sqlite ? "Sqlite" : "Postgresql");
}

class StoreBackendTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  // A new, empty store of the parameter's kind. PostgreSQL must start: make test installs it.
  void makeLocation(std::string_view prefix) {
    location_.data_dir = freshTestDirectory(prefix);
    location_.database_url.clear();
    if (GetParam() == StoreBackend::Postgresql) {
      PostgresServer* server = PostgresServer::shared();
      ASSERT_NE(server, nullptr) << PostgresServer::sharedWhy();
      location_.database_url = server->createDatabase();
    }
  }

  void removeLocation() {
    std::error_code ec;
    std::filesystem::remove_all(location_.data_dir, ec);
  }

  bool postgresql() const { return GetParam() == StoreBackend::Postgresql; }

  store::StoreLocation location_;
};

}  // namespace tmirror::testing
