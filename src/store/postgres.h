// The PostgreSQL driver of the store's SQL seam (store/sql.h), on libpq: for several server
// replicas that share one state in a database the operator already runs.
//
// A URL is whatever libpq takes ("postgresql://USER@HOST:PORT/DB", or "host=... dbname=..."),
// with the password, if any, from the URL, PGPASSWORD or ~/.pgpass, and every other PG*
// variable honoured. tmirror adds a 5-second connect timeout and TCP keepalives unless the
// URL sets its own.
//
// MirrorStore's statements are written in SQLite's dialect; postgresSql() translates the few
// constructs that differ, once per statement text and connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "store/sql.h"

namespace tmirror::store {

// A connection for the writer: its write transactions take one advisory lock of the
// database, so that writers of every replica take turns (as SQLite's BEGIN IMMEDIATE does
// for processes on one file), and each write commit notifies kChangeChannel.
Result<std::unique_ptr<Connection>> openPostgres(const std::string& url);

// A connection whose every statement only reads (default_transaction_read_only).
Result<std::unique_ptr<Connection>> openPostgresReader(const std::string& url);

// The LISTEN/NOTIFY channel on which every committed write is announced.
inline constexpr std::string_view kChangeChannel = "tmirror_changes";

// Listens on kChangeChannel on a connection of its own and calls `changed` (on its own
// thread) after each notification: a write committed by this process or another replica.
// While the database is away it reconnects (at most once a second) and then calls `changed`
// once, since what was announced meanwhile is lost.
class ChangeListener {
 public:
  static Result<std::unique_ptr<ChangeListener>> start(const std::string& url,
                                                       std::function<void()> changed);
  ~ChangeListener();  // stops and joins its thread
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  uint64_t notifications() const { return notifications_.load(); }

 private:
  ChangeListener() = default;
  void run();

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::function<void()> changed_;
  std::atomic<uint64_t> notifications_{0};
  std::thread thread_;
};

struct TranslatedSql {
  std::string text;
  int parameters = 0;  // $1..$parameters
};

// SQLite's spelling → PostgreSQL's: `?` and `?N` → `$N`; INTEGER → BIGINT (SQLite's integers
// are 64-bit); TEXT columns → TEXT COLLATE "C" (SQLite compares bytes); AUTOINCREMENT keys →
// identity columns; strftime(…,'now') → now(); json_each → json_array_elements_text.
// String literals and quoted identifiers are left as they are.
TranslatedSql postgresSql(std::string_view sqlite_sql);

// The URL with its password, if it has one, replaced by "***" (for messages and logs).
std::string redactedUrl(std::string_view url);

}  // namespace tmirror::store
