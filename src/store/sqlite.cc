#include "store/sqlite.h"

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sqlite3.h>

namespace tmirror::store {

class StatementCache {
 public:
  ~StatementCache() { clear(); }

  // An idle statement compiled from exactly this text, if there is one.
  sqlite3_stmt* take(std::string_view sql) {
    const auto it = idle_.find(std::string(sql));
    if (it == idle_.end() || it->second.empty()) {
      return nullptr;
    }
    sqlite3_stmt* stmt = it->second.back();
    it->second.pop_back();
    --count_;
    return stmt;
  }

  void give(sqlite3_stmt* stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (count_ >= kMaxIdle) {
      sqlite3_finalize(stmt);
      return;
    }
    idle_[sqlite3_sql(stmt)].push_back(stmt);
    ++count_;
  }

  void clear() {
    for (auto& [sql, statements] : idle_) {
      for (sqlite3_stmt* stmt : statements) {
        sqlite3_finalize(stmt);
      }
    }
    idle_.clear();
    count_ = 0;
  }

 private:
  static constexpr std::size_t kMaxIdle = 256;  // the store has fewer distinct queries

  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> idle_;
  std::size_t count_ = 0;
};

namespace {

std::unexpected<Error> sqliteError(sqlite3* db, std::string_view what) {
  return makeError(ErrorCode::Io,
                   std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : "no database"));
}

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      cache_(std::exchange(other.cache_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    release();
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    cache_ = std::exchange(other.cache_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  release();
}

void Statement::release() {
  if (stmt_ == nullptr) {
    return;
  }
  if (cache_ != nullptr) {
    cache_->give(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bindNull(index);
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bindNull(index);
}

Statement& Statement::bindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return sqliteError(db_, "sqlite step");
}

Result<void> Statement::run() {
  while (true) {
    auto more = step();
    if (!more) {
      return std::unexpected(more.error());
    }
    if (!*more) {
      return {};
    }
  }
}

std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  const int n = sqlite3_column_bytes(stmt_, column);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::optional<std::string> Statement::optionalText(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) {
    return std::nullopt;
  }
  return text(column);
}

int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<int64_t> Statement::optionalInteger(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) {
    return std::nullopt;
  }
  return integer(column);
}

Result<Database> Database::open(const std::filesystem::path& path,
                                std::span<const std::string_view> migrations) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK) {
    return sqliteError(raw, "opening " + path.string());
  }
  sqlite3_busy_timeout(raw, 5000);
  // WAL: readers never block the writer; synchronous=FULL: a committed transaction survives
  // power loss, so an acknowledged API request is durable.
  if (auto r = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
      !r) {
    return std::unexpected(std::move(r.error()).withContext(path.string()));
  }
  auto version_stmt = db.prepare("PRAGMA user_version");
  if (!version_stmt) {
    return std::unexpected(version_stmt.error());
  }
  auto has_row = version_stmt->step();
  if (!has_row) {
    return std::unexpected(has_row.error());
  }
  const int64_t version = version_stmt->integer(0);
  version_stmt = Statement();
  if (version > static_cast<int64_t>(migrations.size())) {
    return makeError(ErrorCode::Unsupported, path.string() + ": schema version " +
                                                 std::to_string(version) +
                                                 " is newer than this tmirror knows (" +
                                                 std::to_string(migrations.size()) + ")");
  }
  for (std::size_t i = static_cast<std::size_t>(version); i < migrations.size(); ++i) {
    if (auto r = db.begin(); !r) {
      return std::unexpected(r.error());
    }
    auto applied = db.exec(migrations[i]);
    if (applied) {
      applied = db.exec("PRAGMA user_version = " + std::to_string(i + 1));
    }
    if (!applied) {
      db.rollback();
      return std::unexpected(
          std::move(applied.error())
              .withContext(path.string() + ": migration " + std::to_string(i + 1)));
    }
    if (auto r = db.commit(); !r) {
      return std::unexpected(r.error());
    }
  }
  return db;
}

Result<Database> Database::openReader(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  // One connection per reading thread: no mutex of SQLite's own is needed.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK) {
    return sqliteError(raw, "opening " + path.string());
  }
  sqlite3_busy_timeout(raw, 5000);
  // Read-write at the file level (a WAL reader writes the shared-memory index), but no
  // statement may change the database.
  if (auto r = db.exec("PRAGMA query_only=ON; PRAGMA foreign_keys=ON;"); !r) {
    return std::unexpected(std::move(r.error()).withContext(path.string()));
  }
  return db;
}

Database::Database(sqlite3* db) : db_(db), cache_(std::make_unique<StatementCache>()) {}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), cache_(std::move(other.cache_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    cache_.reset();
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    cache_ = std::move(other.cache_);
  }
  return *this;
}

Database::~Database() {
  cache_.reset();  // finalizes the idle statements before the connection closes
  sqlite3_close_v2(db_);
}

Result<Statement> Database::prepare(std::string_view sql) {
  if (sqlite3_stmt* cached = cache_->take(sql)) {
    return Statement(db_, cached, cache_.get());
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return sqliteError(db_, "sqlite prepare");
  }
  if (stmt == nullptr) {
    return makeError(ErrorCode::Internal, "sqlite prepare: no statement in the text");
  }
  return Statement(db_, stmt, cache_.get());
}

Result<void> Database::run(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  return stmt->run();
}

Result<void> Database::exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string error = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return makeError(ErrorCode::Io, "sqlite: " + error);
  }
  return {};
}

Result<void> Database::begin() {
  return run("BEGIN IMMEDIATE");
}

Result<void> Database::commit() {
  return run("COMMIT");
}

void Database::rollback() {
  (void)run("ROLLBACK");
}

int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

bool Database::inTransaction() const {
  return db_ != nullptr && sqlite3_get_autocommit(db_) == 0;
}

}  // namespace tmirror::store
