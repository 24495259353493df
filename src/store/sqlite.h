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

  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Opens (creating if needed) in WAL mode with synchronous=FULL and foreign keys on, then
  // applies `migrations[i]` for every i >= the stored user_version, each in a transaction.
  static Result<Database> open(const std::filesystem::path& path,
                               std::span<const std::string_view> migrations);

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  Result<Statement> prepare(std::string_view sql);
  Result<void> exec(std::string_view sql);  // one or more statements, no rows

  // BEGIN IMMEDIATE / COMMIT / ROLLBACK.
  Result<void> begin();
  Result<void> commit();
  void rollback();

  int64_t changes() const;

 private:
  explicit Database(sqlite3* db) : db_(db) {}

  sqlite3* db_ = nullptr;
};

}  // namespace tmirror::store
