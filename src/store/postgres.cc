#include "store/postgres.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include "common/log.h"

namespace tmirror::store {

namespace {

// The writers' advisory lock: "tmirror" in ASCII, one key for every replica of a database.
constexpr std::string_view kWriterLock = "SELECT pg_advisory_xact_lock(32770283264569202)";

// A failed reconnect is not retried for this long: while the database is down, a request
// fails at once instead of waiting out a connect timeout each time.
constexpr auto kReconnectPause = std::chrono::seconds(1);

void replaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

std::string trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

// SQLSTATE classes that mean "the database is not there now", not "the request is wrong":
// 08 connection exceptions, 57P01-57P03 shutdown and start-up.
bool unavailableState(std::string_view state) {
  return state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03";
}

class PgConnection;

// One round trip to the server, counted and timed for databaseStats().
class Timed {
 public:
  Timed() : start_(std::chrono::steady_clock::now()) {}

  ~Timed() {
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    databaseStats().statements.fetch_add(1, std::memory_order_relaxed);
    databaseStats().nanoseconds.fetch_add(
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()),
        std::memory_order_relaxed);
  }

  Timed(const Timed&) = delete;
  Timed& operator=(const Timed&) = delete;

 private:
  std::chrono::steady_clock::time_point start_;
};

// A statement text prepared on the server once per connection (and again after a reconnect).
struct ServerStatement {
  std::string name;
  TranslatedSql sql;
  uint64_t generation = 0;  // the connection's generation it was prepared in; 0: not yet
};

class PgStatement final : public PreparedStatement {
 public:
  PgStatement(PgConnection* connection, ServerStatement* statement)
      : connection_(connection), statement_(statement) {
    values_.resize(static_cast<std::size_t>(statement->sql.parameters));
    null_.assign(values_.size(), true);
  }

  ~PgStatement() override { clearResult(); }

  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  void bindText(int index, std::string_view text) override {
    if (slot(index)) {
      values_[index - 1].assign(text);
      null_[index - 1] = false;
    }
  }

  void bindInteger(int index, int64_t value) override {
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
    bindText(index, std::string_view(digits, static_cast<std::size_t>(end - digits)));
  }

  void bindNull(int index) override {
    if (slot(index)) {
      null_[index - 1] = true;
    }
  }

  Result<bool> step() override;

  bool isNull(int column) const override { return PQgetisnull(result_, row_, column) != 0; }

  std::string text(int column) const override {
    return std::string(PQgetvalue(result_, row_, column),
                       static_cast<std::size_t>(PQgetlength(result_, row_, column)));
  }

  int64_t integer(int column) const override {
    const char* value = PQgetvalue(result_, row_, column);
    int64_t out = 0;
    std::from_chars(value, value + PQgetlength(result_, row_, column), out);
    return out;
  }

  // Back to unbound and unexecuted, for the next loan.
  void reset() {
    clearResult();
    null_.assign(values_.size(), true);
    executed_ = false;
    bad_index_ = false;
  }

  const ServerStatement& statement() const { return *statement_; }

 private:
  bool slot(int index) {
    if (index < 1 || index > static_cast<int>(values_.size())) {
      bad_index_ = true;
      return false;
    }
    return true;
  }

  void clearResult() {
    if (result_ != nullptr) {
      PQclear(result_);
      result_ = nullptr;
    }
  }

  PgConnection* connection_;
  ServerStatement* statement_;
  std::vector<std::string> values_;
  std::vector<bool> null_;
  PGresult* result_ = nullptr;
  int rows_ = 0;
  int row_ = -1;
  bool executed_ = false;
  bool bad_index_ = false;
};

class PgConnection final : public Connection {
 public:
  PgConnection(PGconn* conn, std::string url, bool writer)
      : conn_(conn), url_(std::move(url)), writer_(writer) {}

  ~PgConnection() override {
    idle_.clear();
    PQfinish(conn_);
  }

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Dialect dialect() const override { return Dialect::Postgresql; }

  Result<PreparedStatement*> prepare(std::string_view sql) override {
    auto& statement = statements_[std::string(sql)];
    if (statement == nullptr) {
      statement = std::make_unique<ServerStatement>();
      statement->name = "t" + std::to_string(statements_.size());
      statement->sql = postgresSql(sql);
    }
    auto& idle = idle_[statement.get()];
    if (!idle.empty()) {
      PreparedStatement* loan = idle.back().release();
      idle.pop_back();
      return loan;
    }
    return new PgStatement(this, statement.get());
  }

  void release(PreparedStatement* statement) override {
    std::unique_ptr<PgStatement> stmt(static_cast<PgStatement*>(statement));
    stmt->reset();
    auto& idle = idle_[&stmt->statement()];
    if (idle.size() < kMaxIdlePerText) {
      idle.push_back(std::move(stmt));
    }
  }

  Result<void> exec(std::string_view sql) override {
    if (auto r = ensureConnected(); !r) {
      return r;
    }
    const Timed timed;
    PGresult* result = PQexec(conn_, postgresSql(sql).text.c_str());
    auto checked = check(result, "postgresql");
    PQclear(result);
    return checked;
  }

  Result<void> beginWrite() override {
    if (auto r = exec("BEGIN ISOLATION LEVEL READ COMMITTED"); !r) {
      return r;
    }
    // Every statement after this one sees what the writer before us committed (read
    // committed takes a snapshot per statement), and no other writer runs until we end.
    if (auto r = exec(kWriterLock); !r) {
      rollback();
      return r;
    }
    return {};
  }

  Result<void> commit() override {
    if (auto r = ensureConnected(); !r) {
      return r;
    }
    // The notification is delivered with the commit, or not at all.
    if (writer_) {
      const std::string notify = "NOTIFY " + std::string(kChangeChannel);
      if (auto r = exec(notify); !r) {
        return r;
      }
    }
    const Timed timed;
    PGresult* result = PQexec(conn_, "COMMIT");
    auto checked = check(result, "postgresql commit");
    // COMMIT of a transaction an error aborted succeeds as a ROLLBACK: nothing was saved.
    if (checked && std::string_view(PQcmdStatus(result)) == "ROLLBACK") {
      checked = makeError(ErrorCode::Io,
                          "postgresql commit: the transaction had failed and "
                          "was rolled back");
    }
    PQclear(result);
    return checked;
  }

  void rollback() override {
    if (PQstatus(conn_) == CONNECTION_OK) {
      PQclear(PQexec(conn_, "ROLLBACK"));
    }
  }

  bool connected() const override { return PQstatus(conn_) == CONNECTION_OK; }

  bool inTransaction() const override {
    if (PQstatus(conn_) != CONNECTION_OK) {
      return false;
    }
    const auto status = PQtransactionStatus(conn_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
  }

  Result<int64_t> schemaVersion() override {
    auto exists = single("SELECT to_regclass('tmirror_schema') IS NOT NULL");
    if (!exists) {
      return std::unexpected(exists.error());
    }
    if (*exists != "t") {
      return 0;
    }
    auto version = single("SELECT version FROM tmirror_schema");
    if (!version) {
      return std::unexpected(version.error());
    }
    int64_t out = 0;
    std::from_chars(version->data(), version->data() + version->size(), out);
    return out;
  }

  Result<void> setSchemaVersion(int64_t version) override {
    return exec(
        "CREATE TABLE IF NOT EXISTS tmirror_schema (version BIGINT NOT NULL); "
        "DELETE FROM tmirror_schema; INSERT INTO tmirror_schema (version) VALUES (" +
        std::to_string(version) + ")");
  }

  std::string where() const override {
    std::string out = "postgresql://";
    const char* user = PQuser(conn_);
    const char* host = PQhost(conn_);
    const char* port = PQport(conn_);
    const char* db = PQdb(conn_);
    if (user != nullptr && *user != '\0') {
      out += std::string(user) + "@";
    }
    out += host != nullptr ? host : "";
    if (port != nullptr && *port != '\0') {
      out += ":" + std::string(port);
    }
    out += "/" + std::string(db != nullptr ? db : "");
    return out;
  }

  // Runs a statement of this connection (prepared on the server first if it is not yet).
  Result<PGresult*> execute(ServerStatement& statement, const std::vector<const char*>& values) {
    if (auto r = ensureConnected(); !r) {
      return std::unexpected(r.error());
    }
    if (statement.generation != generation_) {
      PGresult* prepared =
          PQprepare(conn_, statement.name.c_str(), statement.sql.text.c_str(), 0, nullptr);
      auto checked = check(prepared, "postgresql prepare");
      PQclear(prepared);
      if (!checked) {
        return std::unexpected(std::move(checked.error()).withContext(statement.sql.text));
      }
      statement.generation = generation_;
    }
    const Timed timed;
    PGresult* result =
        PQexecPrepared(conn_, statement.name.c_str(), static_cast<int>(values.size()),
                       values.data(), nullptr, nullptr, 0);
    if (auto checked = check(result, "postgresql"); !checked) {
      PQclear(result);
      return std::unexpected(checked.error());
    }
    return result;
  }

 private:
  static constexpr std::size_t kMaxIdlePerText = 4;

  // A lost connection is made again (at most once a second); the server forgot its prepared
  // statements and its transaction, so both start over.
  Result<void> ensureConnected() {
    if (PQstatus(conn_) == CONNECTION_OK) {
      return {};
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_reconnect_ >= kReconnectPause) {
      last_reconnect_ = now;
      PQreset(conn_);
      if (PQstatus(conn_) == CONNECTION_OK) {
        ++generation_;
        if (!writer_) {
          PQclear(PQexec(conn_, "SET default_transaction_read_only = on"));
        }
        return {};
      }
    }
    databaseStats().unavailable.fetch_add(1);
    return makeError(ErrorCode::Unavailable, "postgresql: no connection to " + redactedUrl(url_) +
                                                 ": " + trimmed(PQerrorMessage(conn_)));
  }

  Result<void> check(PGresult* result, std::string_view what) const {
    const auto status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      return {};
    }
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string message =
        trimmed(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
    const bool gone =
        PQstatus(conn_) != CONNECTION_OK || (state != nullptr && unavailableState(state));
    (gone ? databaseStats().unavailable : databaseStats().errors).fetch_add(1);
    return makeError(gone ? ErrorCode::Unavailable : ErrorCode::Io,
                     std::string(what) + ": " +
                         (message.empty() ? std::string("no answer") : message) +
                         (state != nullptr ? " (SQLSTATE " + std::string(state) + ")" : ""));
  }

  Result<std::string> single(std::string_view sql) {
    if (auto r = ensureConnected(); !r) {
      return std::unexpected(r.error());
    }
    PGresult* result = PQexec(conn_, std::string(sql).c_str());
    if (auto checked = check(result, "postgresql"); !checked) {
      PQclear(result);
      return std::unexpected(checked.error());
    }
    std::string value = PQntuples(result) > 0 ? PQgetvalue(result, 0, 0) : "";
    PQclear(result);
    return value;
  }

  PGconn* conn_;
  std::string url_;
  bool writer_;
  uint64_t generation_ = 1;
  std::chrono::steady_clock::time_point last_reconnect_{};
  std::unordered_map<std::string, std::unique_ptr<ServerStatement>> statements_;
  std::unordered_map<const ServerStatement*, std::vector<std::unique_ptr<PgStatement>>> idle_;
};

Result<bool> PgStatement::step() {
  if (!executed_) {
    if (bad_index_) {
      return makeError(ErrorCode::Internal,
                       "a parameter index out of range for: " + statement_->sql.text);
    }
    std::vector<const char*> values(values_.size());
    for (std::size_t i = 0; i < values_.size(); ++i) {
      values[i] = null_[i] ? nullptr : values_[i].c_str();
    }
    auto result = connection_->execute(*statement_, values);
    if (!result) {
      return std::unexpected(result.error());
    }
    result_ = *result;
    rows_ = PQntuples(result_);
    row_ = -1;
    executed_ = true;
  }
  if (row_ + 1 >= rows_) {
    row_ = rows_;
    return false;
  }
  ++row_;
  return true;
}

// A connection with tmirror's defaults: a 5 s connect timeout and TCP keepalives (a peer
// that vanished is noticed in ~25 s). Ours come first: the URL's own settings, which libpq
// expands from "dbname", come later and win.
PGconn* connectWithDefaults(const std::string& url, const char* application_name) {
  const char* keywords[] = {
      "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
      "keepalives_count", "application_name", "dbname",          nullptr};
  const char* values[] = {"5", "1", "10", "5", "3", application_name, url.c_str(), nullptr};
  return PQconnectdbParams(keywords, values, 1);
}

Result<std::unique_ptr<Connection>> connect(const std::string& url, bool writer) {
  PGconn* conn = connectWithDefaults(url, "tmirror");
  if (conn == nullptr) {
    return makeError(ErrorCode::Internal, "postgresql: out of memory");
  }
  auto connection = std::make_unique<PgConnection>(conn, url, writer);
  if (PQstatus(conn) != CONNECTION_OK) {
    return makeError(ErrorCode::Unavailable, "cannot connect to " + redactedUrl(url) + ": " +
                                                 trimmed(PQerrorMessage(conn)));
  }
  // Quiet: notices (e.g. "relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  if (!writer) {
    if (auto r = connection->exec("SET default_transaction_read_only = on"); !r) {
      return std::unexpected(r.error());
    }
  }
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace

struct ChangeListener::Impl {
  PGconn* conn = nullptr;
  std::string url;     // for the log
  int stop_read = -1;  // a pipe: the destructor writes, the thread's poll() wakes
  int stop_write = -1;

  ~Impl() {
    PQfinish(conn);
    if (stop_read >= 0) {
      ::close(stop_read);
    }
    if (stop_write >= 0) {
      ::close(stop_write);
    }
  }

  bool listen() {
    const std::string sql = "LISTEN " + std::string(kChangeChannel);
    PGresult* result = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    return ok;
  }
};

Result<std::unique_ptr<ChangeListener>> ChangeListener::start(const std::string& url,
                                                              std::function<void()> changed) {
  std::unique_ptr<ChangeListener> listener(new ChangeListener());
  listener->impl_ = std::make_unique<Impl>();
  listener->changed_ = std::move(changed);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return makeError(ErrorCode::Io, std::string("pipe: ") + std::strerror(errno));
  }
  listener->impl_->stop_read = fds[0];
  listener->impl_->stop_write = fds[1];
  listener->impl_->conn = connectWithDefaults(url, "tmirror-listen");
  listener->impl_->url = url;
  if (PQstatus(listener->impl_->conn) != CONNECTION_OK || !listener->impl_->listen()) {
    return makeError(ErrorCode::Unavailable, "listening to " + redactedUrl(url) + ": " +
                                                 trimmed(PQerrorMessage(listener->impl_->conn)));
  }
  PQsetNoticeProcessor(
      listener->impl_->conn, [](void*, const char*) {}, nullptr);
  ChangeListener* raw = listener.get();
  listener->thread_ = std::thread([raw] {
    pthread_setname_np(pthread_self(), "store-listen");
    raw->run();
  });
  return listener;
}

ChangeListener::~ChangeListener() {
  if (thread_.joinable()) {
    const char byte = 1;
    (void)!::write(impl_->stop_write, &byte, 1);
    thread_.join();
  }
}

void ChangeListener::run() {
  auto last_attempt = std::chrono::steady_clock::now();
  // The listener's connection stands for the database's reachability in the log: one line when
  // it goes, one when it is back (the pool's connections follow the same fate, quietly).
  bool was_connected = true;
  for (;;) {
    const bool connected = PQstatus(impl_->conn) == CONNECTION_OK;
    if (connected != was_connected && !connected) {
      log::logger("store")->warn("lost the connection to {}: {}; reconnecting every {} s",
                                 redactedUrl(impl_->url), trimmed(PQerrorMessage(impl_->conn)),
                                 kReconnectPause.count());
    }
    was_connected = connected;
    pollfd fds[2] = {{connected ? PQsocket(impl_->conn) : -1, POLLIN, 0},
                     {impl_->stop_read, POLLIN, 0}};
    (void)::poll(fds, 2, connected ? 1000 : 200);
    if ((fds[1].revents & POLLIN) != 0) {
      return;
    }
    if (!connected) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_attempt < kReconnectPause) {
        continue;
      }
      last_attempt = now;
      PQreset(impl_->conn);
      if (PQstatus(impl_->conn) == CONNECTION_OK && impl_->listen()) {
        log::logger("store")->info("connected to {} again", redactedUrl(impl_->url));
        was_connected = true;
        changed_();  // whatever was committed while we were away
      }
      continue;
    }
    if (PQconsumeInput(impl_->conn) == 0) {
      continue;  // the connection broke: PQstatus says so on the next turn
    }
    bool any = false;
    while (PGnotify* notification = PQnotifies(impl_->conn)) {
      PQfreemem(notification);
      any = true;
      notifications_.fetch_add(1);
    }
    if (any) {
      changed_();
    }
  }
}

Result<std::unique_ptr<Connection>> openPostgres(const std::string& url) {
  return connect(url, true);
}

Result<std::unique_ptr<Connection>> openPostgresReader(const std::string& url) {
  return connect(url, false);
}

TranslatedSql postgresSql(std::string_view sqlite_sql) {
  std::string s(sqlite_sql);
  // Whole constructs first: their SQLite spelling holds string literals.
  static constexpr std::pair<std::string_view, std::string_view> kConstructs[] = {
      {"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
      {"strftime('%Y-%m-%dT%H:%M:%fZ','now')",
       "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"},
      {"strftime('%Y-%m-%dT%H:%M:%SZ','now')",
       "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"},
      {"strftime('%s','now')", "CAST(floor(extract(epoch FROM now())) AS BIGINT)"},
      {"json_each(", "json_array_elements_text("},
      {") WITHOUT ROWID", ")"},  // SQLite's clustered table; PostgreSQL's are heaps anyway
  };
  for (const auto& [from, to] : kConstructs) {
    replaceAll(s, from, to);
  }
  TranslatedSql out;
  out.text.reserve(s.size() + 16);
  int next = 0;
  std::string previous_word;
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\'' || c == '"') {  // a literal or a quoted identifier ('' and "" escape)
      std::size_t end = i + 1;
      while (end < s.size()) {
        if (s[end] == c) {
          if (end + 1 < s.size() && s[end + 1] == c) {
            end += 2;
            continue;
          }
          break;
        }
        ++end;
      }
      end = std::min(end + 1, s.size());
      out.text.append(s, i, end - i);
      i = end;
      continue;
    }
    if (c == '?') {
      std::size_t end = i + 1;
      while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end])) != 0) {
        ++end;
      }
      int n = 0;
      if (end > i + 1) {
        std::from_chars(s.data() + i + 1, s.data() + end, n);
      } else {
        n = ++next;
      }
      out.parameters = std::max(out.parameters, n);
      out.text += "$" + std::to_string(n);
      i = end;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_') {
      std::size_t end = i;
      while (end < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[end])) != 0 || s[end] == '_')) {
        ++end;
      }
      const std::string_view word(s.data() + i, end - i);
      if (word == "INTEGER") {
        out.text += "BIGINT";
      } else if (word == "TEXT" && previous_word != "AS") {
        out.text += "TEXT COLLATE \"C\"";  // a column's type, not a cast's
      } else {
        out.text += word;
      }
      previous_word = word;
      i = end;
      continue;
    }
    out.text += c;
    ++i;
  }
  return out;
}

std::string redactedUrl(std::string_view url) {
  std::string out(url);
  // postgresql://user:password@host/db
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto at = out.find('@', scheme + 3);
    const auto colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... in a key=value string or a URL's query
  for (std::string_view key : {"password=", "password%3D"}) {
    for (auto at = out.find(key); at != std::string::npos; at = out.find(key, at + 1)) {
      const auto start = at + key.size();
      auto end = out.find_first_of(" &", start);
      if (end == std::string::npos) {
        end = out.size();
      }
      out.replace(start, end - start, "***");
    }
  }
  return out;
}

}  // namespace tmirror::store
