#include "store/sqlite.h"

#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sqlite3.h>

namespace tmirror::store {

namespace {

std::unexpected<Error> sqliteError(sqlite3* db, std::string_view what) {
  return makeError(ErrorCode::Io,
                   std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : "no database"));
}

class SqliteStatement final : public PreparedStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  ~SqliteStatement() override { sqlite3_finalize(stmt_); }

  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void bindText(int index, std::string_view text) override {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }

  void bindInteger(int index, int64_t value) override { sqlite3_bind_int64(stmt_, index, value); }

  void bindNull(int index) override { sqlite3_bind_null(stmt_, index); }

  Result<bool> step() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc == SQLITE_DONE) {
      return false;
    }
    return sqliteError(db_, "sqlite step");
  }

  bool isNull(int column) const override {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }

  std::string text(int column) const override {
    const auto* p = sqlite3_column_text(stmt_, column);
    const int n = sqlite3_column_bytes(stmt_, column);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
  }

  int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }

  sqlite3_stmt* raw() const { return stmt_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}

  ~SqliteConnection() override {
    idle_.clear();  // finalizes the idle statements before the connection closes
    sqlite3_close_v2(db_);
  }

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Dialect dialect() const override { return Dialect::Sqlite; }

  Result<PreparedStatement*> prepare(std::string_view sql) override {
    // SQLite compiles each SQL text once per connection, not once per call.
    const auto it = idle_.find(sql);
    if (it != idle_.end() && !it->second.empty()) {
      PreparedStatement* stmt = it->second.back().release();
      it->second.pop_back();
      --idle_count_;
      return stmt;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt, nullptr) != SQLITE_OK) {
      return sqliteError(db_, "sqlite prepare");
    }
    if (stmt == nullptr) {
      return makeError(ErrorCode::Internal, "sqlite prepare: no statement in the text");
    }
    return new SqliteStatement(db_, stmt);
  }

  void release(PreparedStatement* statement) override {
    std::unique_ptr<SqliteStatement> stmt(static_cast<SqliteStatement*>(statement));
    sqlite3_reset(stmt->raw());
    sqlite3_clear_bindings(stmt->raw());
    if (idle_count_ >= kMaxIdle) {
      return;  // finalized
    }
    std::string sql = sqlite3_sql(stmt->raw());
    idle_[std::move(sql)].push_back(std::move(stmt));
    ++idle_count_;
  }

  Result<void> exec(std::string_view sql) override {
    const std::string text(sql);
    char* message = nullptr;
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string error = message != nullptr ? message : "unknown error";
      sqlite3_free(message);
      return makeError(ErrorCode::Io, "sqlite: " + error);
    }
    return {};
  }

  Result<void> beginWrite() override { return exec("BEGIN IMMEDIATE"); }

  Result<void> commit() override { return exec("COMMIT"); }

  void rollback() override { (void)exec("ROLLBACK"); }

  bool inTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }

  bool connected() const override { return true; }

  Result<int64_t> schemaVersion() override {
    auto stmt = prepare("PRAGMA user_version");
    if (!stmt) {
      return std::unexpected(stmt.error());
    }
    Statement version(this, *stmt);
    auto row = version.step();
    if (!row) {
      return std::unexpected(row.error());
    }
    return *row ? version.integer(0) : 0;
  }

  Result<void> setSchemaVersion(int64_t version) override {
    return exec("PRAGMA user_version = " + std::to_string(version));
  }

  std::string where() const override { return path_.string(); }

 private:
  static constexpr std::size_t kMaxIdle = 256;  // the store has fewer distinct queries

  struct TextHash {
    using is_transparent = void;

    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  sqlite3* db_;
  std::filesystem::path path_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<SqliteStatement>>, TextHash,
                     std::equal_to<>>
      idle_;
  std::size_t idle_count_ = 0;
};

}  // namespace

Result<std::unique_ptr<Connection>> openSqlite(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  auto db = std::make_unique<SqliteConnection>(raw, path);
  if (rc != SQLITE_OK) {
    return sqliteError(raw, "opening " + path.string());
  }
  sqlite3_busy_timeout(raw, 5000);
  // WAL: readers never block the writer; synchronous=FULL: a committed transaction survives
  // power loss, so an acknowledged API request is durable.
  if (auto r =
          db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
      !r) {
    return std::unexpected(std::move(r.error()).withContext(path.string()));
  }
  return std::unique_ptr<Connection>(std::move(db));
}

Result<std::unique_ptr<Connection>> openSqliteReader(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  // One connection per reading thread: no mutex of SQLite's own is needed.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto db = std::make_unique<SqliteConnection>(raw, path);
  if (rc != SQLITE_OK) {
    return sqliteError(raw, "opening " + path.string());
  }
  sqlite3_busy_timeout(raw, 5000);
  // Read-write at the file level (a WAL reader writes the shared-memory index), but no
  // statement may change the database.
  if (auto r = db->exec("PRAGMA query_only=ON; PRAGMA foreign_keys=ON;"); !r) {
    return std::unexpected(std::move(r.error()).withContext(path.string()));
  }
  return std::unique_ptr<Connection>(std::move(db));
}

}  // namespace tmirror::store
