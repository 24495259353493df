// Reading a statement's rows into values: the loop every query of the store runs (internal to
// src/store).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/sql.h"

namespace tmirror::store {

// Steps `stmt` (bound already) to its end; `read` makes a T of each row.
template <typename T, typename F>
Result<std::vector<T>> readRows(Statement& stmt, F read) {
  std::vector<T> out;
  while (true) {
    auto row = stmt.step();
    if (!row) {
      return std::unexpected(row.error());
    }
    if (!*row) {
      return out;
    }
    out.push_back(read(stmt));
  }
}

// Prepares `sql`, binds `arg` (when given) as its one parameter, and reads its rows.
template <typename T, typename F>
Result<std::vector<T>> collect(Database& db, std::string_view sql, const std::string* arg, F read) {
  auto stmt = db.prepare(sql);
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  if (arg != nullptr) {
    stmt->bind(1, std::string_view(*arg));
  }
  return readRows<T>(*stmt, read);
}

template <typename T>
Result<std::optional<T>> first(Result<std::vector<T>> rows) {
  if (!rows) {
    return std::unexpected(rows.error());
  }
  if (rows->empty()) {
    return std::optional<T>();
  }
  return std::optional<T>(std::move(rows->front()));
}

}  // namespace tmirror::store
