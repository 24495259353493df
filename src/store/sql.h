// The store's SQL driver seam: a connection to one database (SQLite or PostgreSQL), its
// prepared statements, its write transactions and its schema migrations. MirrorStore writes
// one set of statements in SQLite's dialect; the PostgreSQL driver translates the few
// constructs that differ (store/postgres.h). Nothing here throws; failures are Result errors
// with the database's own message.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace tmirror::store {

enum class Dialect { Sqlite, Postgresql };

// What this process's PostgreSQL connections did, for /metrics (SQLite's statements run in
// process and are not timed).
struct DatabaseStats {
  std::atomic<uint64_t> statements{0};   // statements and commands sent
  std::atomic<uint64_t> nanoseconds{0};  // their round trips, summed
  std::atomic<uint64_t> errors{0};       // refused by the database (a constraint, a conflict)
  std::atomic<uint64_t> unavailable{0};  // failed because it could not be reached
};

DatabaseStats& databaseStats();

// One statement as a driver prepared it. It belongs to its connection, which reuses it.
class PreparedStatement {
 public:
  virtual ~PreparedStatement() = default;

  virtual void bindText(int index, std::string_view text) = 0;  // 1-based
  virtual void bindInteger(int index, int64_t value) = 0;
  virtual void bindNull(int index) = 0;

  // Executes on the first call; then true while a row is available.
  virtual Result<bool> step() = 0;

  virtual bool isNull(int column) const = 0;  // 0-based
  virtual std::string text(int column) const = 0;
  virtual int64_t integer(int column) const = 0;
};

// One connection of a driver. Not thread-safe: one thread at a time.
class Connection {
 public:
  virtual ~Connection() = default;

  virtual Dialect dialect() const = 0;

  // A statement compiled once per connection and reused: give it back with release().
  virtual Result<PreparedStatement*> prepare(std::string_view sql) = 0;
  virtual void release(PreparedStatement* statement) = 0;

  // One or more statements, no rows, no parameters.
  virtual Result<void> exec(std::string_view sql) = 0;

  // A write transaction that excludes every other writer of the same database, in this
  // process or another, until it ends: what it reads stays true until it commits.
  virtual Result<void> beginWrite() = 0;
  virtual Result<void> commit() = 0;
  virtual void rollback() = 0;

  // False once the database ended the transaction by itself (SQLite rolls back on a full
  // disk or an I/O error; PostgreSQL's connection may be gone), or when none was begun.
  // A PostgreSQL transaction that an error left aborted is still in it (a savepoint undoes
  // the error).
  virtual bool inTransaction() const = 0;

  // False while the database cannot be reached (SQLite's is always there).
  virtual bool connected() const = 0;

  // The number of migrations applied (read and written inside beginWrite()).
  virtual Result<int64_t> schemaVersion() = 0;
  virtual Result<void> setSchemaVersion(int64_t version) = 0;

  // Where this connection goes, for messages ("tmirror-data/tmirror.db", "db.example:5432/tm").
  virtual std::string where() const = 0;
};

// A prepared statement on loan from its connection: bind, step, read columns; returned to the
// connection when the handle goes away.
class Statement {
 public:
  Statement() = default;

  Statement(Connection* connection, PreparedStatement* prepared)
      : connection_(connection), prepared_(prepared) {}

  Statement(Statement&& other) noexcept
      : connection_(std::exchange(other.connection_, nullptr)),
        prepared_(std::exchange(other.prepared_, nullptr)) {}

  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  ~Statement() { release(); }

  // Binds by 1-based position. Returns *this for chaining; errors surface at step().
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, const std::optional<int64_t>& value);
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bindNull(int index);

  // True while a row is available; false when done. Errors are Result errors.
  Result<bool> step() { return prepared_->step(); }

  // Runs to completion (for statements that return no rows).
  Result<void> run();

  std::string text(int column) const { return prepared_->text(column); }

  std::optional<std::string> optionalText(int column) const;

  int64_t integer(int column) const { return prepared_->integer(column); }

  std::optional<int64_t> optionalInteger(int column) const;

 private:
  void release();

  Connection* connection_ = nullptr;
  PreparedStatement* prepared_ = nullptr;
};

// An open, migrated connection of either driver.
class Database {
 public:
  // Applies `migrations[i]` for every i >= the stored schema version, each in a write
  // transaction of its own (so that processes opening one database at once migrate it once).
  static Result<Database> migrate(std::unique_ptr<Connection> connection,
                                  std::span<const std::string_view> migrations);

  // A connection used as it is (a reader of a database a writer migrated).
  explicit Database(std::unique_ptr<Connection> connection) : connection_(std::move(connection)) {}

  Database() = default;
  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;

  Dialect dialect() const { return connection_->dialect(); }

  // One statement, compiled once per connection and reused.
  Result<Statement> prepare(std::string_view sql);
  Result<void> run(std::string_view sql);  // one statement, no rows (cached as prepare)

  Result<void> exec(std::string_view sql) { return connection_->exec(sql); }

  Result<void> begin() { return connection_->beginWrite(); }

  Result<void> commit() { return connection_->commit(); }

  void rollback() { connection_->rollback(); }

  bool inTransaction() const { return connection_ != nullptr && connection_->inTransaction(); }

  bool connected() const { return connection_ != nullptr && connection_->connected(); }

  std::string where() const { return connection_->where(); }

 private:
  std::unique_ptr<Connection> connection_;
};

}  // namespace tmirror::store
