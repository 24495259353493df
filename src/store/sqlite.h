// The SQLite driver of the store's SQL seam (store/sql.h): the embedded default, one file in
// the data directory.
#pragma once

#include <filesystem>
#include <memory>

#include "common/result.h"
#include "store/sql.h"

namespace tmirror::store {

// Opens (creating if needed) in WAL mode with synchronous=FULL and foreign keys on. A write
// transaction is BEGIN IMMEDIATE: SQLite's one writer at a time, across processes.
Result<std::unique_ptr<Connection>> openSqlite(const std::filesystem::path& path);

// Opens an existing database for reading only (query_only), as one of several connections
// that read concurrently with the writer (WAL): each statement sees the last commit.
Result<std::unique_ptr<Connection>> openSqliteReader(const std::filesystem::path& path);

}  // namespace tmirror::store
