#include "store/sql.h"

namespace tmirror::store {

DatabaseStats& databaseStats() {
  static DatabaseStats stats;
  return stats;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    release();
    connection_ = std::exchange(other.connection_, nullptr);
    prepared_ = std::exchange(other.prepared_, nullptr);
  }
  return *this;
}

void Statement::release() {
  if (prepared_ != nullptr) {
    connection_->release(std::exchange(prepared_, nullptr));
  }
}

Statement& Statement::bind(int index, std::string_view text) {
  prepared_->bindText(index, text);
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  prepared_->bindInteger(index, value);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bindNull(index);
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bindNull(index);
}

Statement& Statement::bindNull(int index) {
  prepared_->bindNull(index);
  return *this;
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

std::optional<std::string> Statement::optionalText(int column) const {
  if (prepared_->isNull(column)) {
    return std::nullopt;
  }
  return text(column);
}

std::optional<int64_t> Statement::optionalInteger(int column) const {
  if (prepared_->isNull(column)) {
    return std::nullopt;
  }
  return integer(column);
}

Result<Database> Database::migrate(std::unique_ptr<Connection> connection,
                                   std::span<const std::string_view> migrations) {
  Database db(std::move(connection));
  const auto known = static_cast<int64_t>(migrations.size());
  for (;;) {
    // The version is read under the writers' lock: a process that migrated meanwhile is seen.
    if (auto r = db.begin(); !r) {
      return std::unexpected(std::move(r.error()).withContext(db.where()));
    }
    auto version = db.connection_->schemaVersion();
    if (!version) {
      db.rollback();
      return std::unexpected(std::move(version.error()).withContext(db.where()));
    }
    if (*version > known) {
      db.rollback();
      return makeError(ErrorCode::Unsupported,
                       db.where() + ": schema version " + std::to_string(*version) +
                           " is newer than this tmirror knows (" + std::to_string(known) + ")");
    }
    if (*version == known) {
      db.rollback();  // nothing was written
      return db;
    }
    auto applied = db.exec(migrations[static_cast<std::size_t>(*version)]);
    if (applied) {
      applied = db.connection_->setSchemaVersion(*version + 1);
    }
    if (applied) {
      applied = db.commit();
    }
    if (!applied) {
      db.rollback();
      return std::unexpected(
          std::move(applied.error())
              .withContext(db.where() + ": migration " + std::to_string(*version + 1)));
    }
  }
}

Result<Statement> Database::prepare(std::string_view sql) {
  auto prepared = connection_->prepare(sql);
  if (!prepared) {
    return std::unexpected(prepared.error());
  }
  return Statement(connection_.get(), *prepared);
}

Result<void> Database::run(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  return stmt->run();
}

}  // namespace tmirror::store
