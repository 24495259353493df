#include "store/sqlite.h"

#include <utility>

#include <sqlite3.h>

namespace tmirror::store {

namespace {

std::unexpected<Error> sqliteError(sqlite3* db, std::string_view what) {
  return makeError(ErrorCode::Io,
                   std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : "no database"));
}

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
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

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Database::~Database() {
  sqlite3_close_v2(db_);
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return sqliteError(db_, "sqlite prepare");
  }
  return Statement(db_, stmt);
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
  return exec("BEGIN IMMEDIATE");
}

Result<void> Database::commit() {
  return exec("COMMIT");
}

void Database::rollback() {
  (void)exec("ROLLBACK");
}

int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

}  // namespace tmirror::store
