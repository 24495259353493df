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

#include <memory>
#include <string>
#include <string_view>

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
