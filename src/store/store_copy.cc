// MirrorStore::copyInto: a whole store into an empty one (`tmirror server migrate`, SQLite
// into PostgreSQL), row for row, keys and creation order (seq) kept.
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/mirror_store.h"

namespace tmirror::store {

namespace {

struct Table {
  std::string_view name;
  std::string_view columns;
  std::string_view order;  // a total order, so that the copy is made in creation order
  // Its auto-increment key column, if any ("seq"; PostgreSQL's identity is reset after the copy).
  std::string_view identity;
};

// Every table of the schema after the last migration, parents before children (foreign keys),
// every column. A migration that adds a table or a column adds it here too: the round-trip
// test (tests/store/store_copy_test.cc) compares every record of every kind.
constexpr std::array kTables = {
    Table{"access_keys", "access_key_id, secret, created_at", "access_key_id", ""},
    Table{"agent_tokens", "token_sha256, created_at", "token_sha256", ""},
    Table{"instances",
          "seq, id, host_key, hostname, dns_resolvers, registered_at, last_seen, revision, "
          "control_endpoints",
          "seq", "seq"},
    Table{"network_interfaces",
          "seq, id, subnet_id, description, mac, private_ip, ipv6, mtu, instance_id, "
          "device_name, attached",
          "seq", "seq"},
    Table{"targets",
          "seq, id, type, network_interface_id, network_load_balancer_arn, "
          "gateway_load_balancer_endpoint_id, description",
          "seq", "seq"},
    Table{"filters", "seq, id, description, amazon_dns", "seq", "seq"},
    Table{"filter_rules",
          "seq, id, filter_id, direction, rule_number, action, protocol, source_cidr, "
          "destination_cidr, source_from_port, source_to_port, destination_from_port, "
          "destination_to_port, description",
          "seq", "seq"},
    Table{"sessions",
          "seq, id, network_interface_id, target_id, filter_id, session_number, "
          "virtual_network_id, packet_length, description",
          "seq", "seq"},
    Table{"tags", "resource_id, key, value", "resource_id, key", ""},
    Table{"client_tokens", "action, token, fingerprint, resource_id, created_at", "action, token",
          ""},
    Table{"audit_log",
          "seq, time, access_key_id, action, resource_id, result, request_id, remote_address",
          "seq", "seq"},
    Table{"load_balancer_members", "load_balancer_arn, network_interface_id",
          "load_balancer_arn, network_interface_id", ""},
    Table{"metric_series", "id, namespace, metric_name, dimensions", "id", "id"},
    Table{"metric_hours", "series_id, hour, writer, minutes", "series_id, hour, writer", ""},
    Table{"metric_rollups", "series_id, period, start_time, sum, minimum, maximum, samples",
          "series_id, period, start_time", ""},
};

std::size_t columnCount(std::string_view columns) {
  std::size_t n = 1;
  for (char c : columns) {
    n += c == ',' ? 1 : 0;
  }
  return n;
}

Result<int64_t> rows(Database& db, const Table& table) {
  auto stmt = db.prepare("SELECT COUNT(*) FROM " + std::string(table.name));
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  auto row = stmt->step();
  if (!row) {
    return std::unexpected(row.error());
  }
  return stmt->integer(0);
}

// One table, every row, each value as text or NULL (both drivers read and bind integers as
// their decimal text; the target column's type takes it back).
Result<int64_t> copyTable(Database& from, Database& to, const Table& table) {
  const std::size_t n = columnCount(table.columns);
  auto read = from.prepare("SELECT " + std::string(table.columns) + " FROM " +
                           std::string(table.name) + " ORDER BY " + std::string(table.order));
  if (!read) {
    return std::unexpected(read.error());
  }
  std::string insert =
      "INSERT INTO " + std::string(table.name) + " (" + std::string(table.columns) + ") VALUES (";
  for (std::size_t i = 0; i < n; ++i) {
    insert += i == 0 ? "?" : ", ?";
  }
  insert += ")";
  int64_t copied = 0;
  while (true) {
    auto row = read->step();
    if (!row) {
      return std::unexpected(row.error());
    }
    if (!*row) {
      break;
    }
    auto write = to.prepare(insert);
    if (!write) {
      return std::unexpected(write.error());
    }
    for (std::size_t i = 0; i < n; ++i) {
      write->bind(static_cast<int>(i + 1), read->optionalText(static_cast<int>(i)));
    }
    if (auto r = write->run(); !r) {
      return std::unexpected(
          std::move(r.error()).withContext("copying " + std::string(table.name)));
    }
    ++copied;
  }
  // PostgreSQL's identity does not follow explicit keys: the next row must come after these.
  if (!table.identity.empty() && to.dialect() == Dialect::Postgresql) {
    const std::string name(table.name);
    const std::string key(table.identity);
    if (auto r = to.run("SELECT setval(pg_get_serial_sequence('" + name + "', '" + key + "'), " +
                        "(SELECT COALESCE(MAX(" + key + "), 0) + 1 FROM " + name + "), false)");
        !r) {
      return std::unexpected(r.error());
    }
  }
  return copied;
}

Result<void> setMeta(Database& db, std::string_view key, const std::string& value) {
  auto stmt = db.prepare("UPDATE meta SET value = ? WHERE key = ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(value)).bind(2, key);
  return stmt->run();
}

}  // namespace

Result<std::vector<std::pair<std::string, int64_t>>> MirrorStore::copyInto(MirrorStore& target) {
  if (read_only_ || target.read_only_) {
    return makeError(ErrorCode::Internal, "copyInto needs both stores open for writing");
  }
  auto revision = this->revision();
  if (!revision) {
    return std::unexpected(revision.error());
  }
  // Under the target's writers' lock: nothing can be added between the check and the copy.
  if (auto r = target.db_.begin(); !r) {
    return std::unexpected(r.error());
  }
  auto fail = [&](Error error) {
    target.db_.rollback();
    return std::unexpected(std::move(error));
  };
  for (const Table& table : kTables) {
    auto n = rows(target.db_, table);
    if (!n) {
      return fail(n.error());
    }
    if (*n != 0) {
      return fail(Error{ErrorCode::AlreadyExists,
                        target.where() + " is not empty: " + std::to_string(*n) + " rows in " +
                            std::string(table.name) + " (migrate copies into a new database)"});
    }
  }
  std::vector<std::pair<std::string, int64_t>> copied;
  for (const Table& table : kTables) {
    auto n = copyTable(db_, target.db_, table);
    if (!n) {
      return fail(n.error());
    }
    copied.emplace_back(table.name, *n);
  }
  // The same account (every ownerId in answers) and the same revision agents hold.
  if (auto r = setMeta(target.db_, "account_id", account_id_); !r) {
    return fail(r.error());
  }
  if (auto r = setMeta(target.db_, "revision", std::to_string(*revision)); !r) {
    return fail(r.error());
  }
  if (auto r = target.db_.commit(); !r) {
    return fail(r.error());
  }
  target.account_id_ = account_id_;
  return copied;
}

}  // namespace tmirror::store
