// Thin RAII wrappers over SQLite: a connection, prepared statements, transactions and
// versioned schema migrations. Nothing here throws; failures are Result errors with
// SQLite's message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tmirror::store {

// A connection's prepared statements kept for reuse (sqlite.cc): SQLite compiles each SQL text
// once per connection, not once per call.
class StatementCache;

class Statement {
 public:
  Statement() = default;
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds by 1-based position. Returns *this for chaining; errors surface at step().
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, const std::optional<int64_t>& value);
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bindNull(int index);

  // True while a row is available; false when done. Errors are Result errors.
  Result<bool> step();

  // Runs to completion (for statements that return no rows).
  Result<void> run();

  std::string text(int column) const;
  std::optional<std::string> optionalText(int column) const;
  int64_t integer(int column) const;
  std::optional<int64_t> optionalInteger(int column) const;

 private:
  friend class Database;

  Statement(sqlite3* db, sqlite3_stmt* stmt, StatementCache* cache)
      : db_(db), stmt_(stmt), cache_(cache) {}

  // Back to the cache (reset, bindings cleared), or finalized.
  void release();

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  StatementCache* cache_ = nullptr;  // the connection's; a statement never outlives it
};

class Database {
 public:
  // Opens (creating if needed) in WAL mode with synchronous=FULL and foreign keys on, then
  // applies `migrations[i]` for every i >= the stored user_version, each in a transaction.
  static Result<Database> open(const std::filesystem::path& path,
                               std::span<const std::string_view> migrations);
  // Opens an existing database for reading only (query_only), as one of several connections
  // that read concurrently with the writer (WAL): each statement sees the last commit.
  static Result<Database> openReader(const std::filesystem::path& path);

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // One statement, compiled once per connection and reused.
  Result<Statement> prepare(std::string_view sql);
  Result<void> run(std::string_view sql);   // one statement, no rows (cached as prepare)
  Result<void> exec(std::string_view sql);  // one or more statements, no rows

  // BEGIN IMMEDIATE / COMMIT / ROLLBACK.
  Result<void> begin();
  Result<void> commit();
  void rollback();

  int64_t changes() const;

  // False once SQLite ended the transaction by itself (it rolls back on a full disk or an
  // I/O error), or when none was begun.
  bool inTransaction() const;

 private:
  explicit Database(sqlite3* db);

  sqlite3* db_ = nullptr;
  std::unique_ptr<StatementCache> cache_;  // on the heap: its address survives moves
};

}  // namespace tmirror::store
