#include "store/mirror_store.h"

#include <algorithm>
#include <array>

#include "common/random.h"
#include "store/postgres.h"
#include "store/sqlite.h"
#include "store/statement_rows.h"

namespace tmirror::store {

namespace {

// Schema versions, applied in order; never edit a released one, append a new one.
constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE access_keys (
  access_key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE network_interfaces (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, subnet_id TEXT NOT NULL,
  description TEXT NOT NULL, mac TEXT NOT NULL, private_ip TEXT, ipv6 TEXT,
  mtu INTEGER NOT NULL, instance_id TEXT, device_name TEXT);
CREATE TABLE targets (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
  network_interface_id TEXT, network_load_balancer_arn TEXT,
  gateway_load_balancer_endpoint_id TEXT, description TEXT);
CREATE TABLE filters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, description TEXT,
  amazon_dns INTEGER NOT NULL DEFAULT 0);
CREATE TABLE filter_rules (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  filter_id TEXT NOT NULL REFERENCES filters(id) ON DELETE CASCADE,
  direction TEXT NOT NULL, rule_number INTEGER NOT NULL, action TEXT NOT NULL,
  protocol INTEGER, source_cidr TEXT NOT NULL, destination_cidr TEXT NOT NULL,
  source_from_port INTEGER, source_to_port INTEGER,
  destination_from_port INTEGER, destination_to_port INTEGER, description TEXT,
  UNIQUE (filter_id, direction, rule_number));
CREATE TABLE sessions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  network_interface_id TEXT NOT NULL REFERENCES network_interfaces(id),
  target_id TEXT NOT NULL REFERENCES targets(id),
  filter_id TEXT NOT NULL REFERENCES filters(id),
  session_number INTEGER NOT NULL, virtual_network_id INTEGER NOT NULL,
  packet_length INTEGER, description TEXT,
  UNIQUE (network_interface_id, session_number));
CREATE TABLE tags (
  resource_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (resource_id, key));
CREATE TABLE client_tokens (
  action TEXT NOT NULL, token TEXT NOT NULL, fingerprint TEXT NOT NULL,
  resource_id TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (action, token));
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  access_key_id TEXT NOT NULL, action TEXT NOT NULL, resource_id TEXT NOT NULL,
  result TEXT NOT NULL, request_id TEXT NOT NULL, remote_address TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('revision', '0');
)sql",
    // 2: hosts running an agent, and the tokens agents authenticate with.
    R"sql(
CREATE TABLE instances (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, host_key TEXT NOT NULL UNIQUE,
  hostname TEXT NOT NULL, dns_resolvers TEXT NOT NULL DEFAULT '',
  registered_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  last_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));
CREATE TABLE agent_tokens (
  token_sha256 TEXT PRIMARY KEY, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));
CREATE INDEX network_interfaces_by_instance ON network_interfaces (instance_id, mac);
)sql",
    // 3: an agent's interface that vanished from its host stays known (its id, its sessions)
    // but is no longer attached.
    R"sql(
ALTER TABLE network_interfaces ADD COLUMN attached INTEGER NOT NULL DEFAULT 1;
)sql",
    // 4: collectors registered as members of a network load balancer (its target's copies
    // are spread over the healthy ones).
    R"sql(
CREATE TABLE load_balancer_members (
  load_balancer_arn TEXT NOT NULL, network_interface_id TEXT NOT NULL,
  PRIMARY KEY (load_balancer_arn, network_interface_id));
CREATE INDEX load_balancer_members_by_interface ON load_balancer_members (network_interface_id);
)sql",
    // 5: each host's own desired-state revision: the global revision at the last change that
    // touched that host, so that a change wakes only the agents it concerns.
    R"sql(
ALTER TABLE instances ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
UPDATE instances SET revision = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'revision');
CREATE INDEX instances_by_revision ON instances (revision);
CREATE INDEX sessions_by_filter ON sessions (filter_id);
CREATE INDEX sessions_by_target ON sessions (target_id);
)sql",
    // 6: the agent's control endpoints (its servers' addresses and ports), as it registered
    // them: `tmirror explain` names the traffic they exclude.
    R"sql(
ALTER TABLE instances ADD COLUMN control_endpoints TEXT NOT NULL DEFAULT '';
)sql",
    // 7: metric history (store/metric_history.cc): a series per namespace, metric and
    // dimensions; an hour of a series' minute counts per row (per writer: each server writes
    // its own rows, so replicas never race); 5-minute and 1-hour rollups with the statistics
    // of their minutes.
    R"sql(
CREATE TABLE metric_series (
  id INTEGER PRIMARY KEY AUTOINCREMENT, namespace TEXT NOT NULL, metric_name TEXT NOT NULL,
  dimensions TEXT NOT NULL, UNIQUE (namespace, metric_name, dimensions));
CREATE TABLE metric_hours (
  series_id INTEGER NOT NULL, hour INTEGER NOT NULL, writer INTEGER NOT NULL,
  minutes TEXT NOT NULL, PRIMARY KEY (series_id, hour, writer)) WITHOUT ROWID;
CREATE TABLE metric_rollups (
  series_id INTEGER NOT NULL, period INTEGER NOT NULL, start_time INTEGER NOT NULL,
  sum INTEGER NOT NULL, minimum INTEGER NOT NULL, maximum INTEGER NOT NULL,
  samples INTEGER NOT NULL, PRIMARY KEY (series_id, period, start_time)) WITHOUT ROWID;
)sql",
};

// The hosts whose desired state depends on a resource, by the resource's kind (its id's
// prefix): the hosts of the sessions that use it, and for an interface or a host, the host.
constexpr std::string_view kHostsOfSessions =
    "SELECT DISTINCT ni.instance_id FROM sessions s "
    "JOIN network_interfaces ni ON ni.id = s.network_interface_id "
    "WHERE ni.instance_id IS NOT NULL AND ";

std::string affectedHostsQuery(std::string_view resource_id) {
  const std::string sessions(kHostsOfSessions);
  if (resource_id.starts_with("tms-")) {
    return sessions + "s.id = ?1";
  }
  if (resource_id.starts_with("tmfr-")) {
    return sessions + "s.filter_id = (SELECT filter_id FROM filter_rules WHERE id = ?1)";
  }
  if (resource_id.starts_with("tmf-")) {
    return sessions + "s.filter_id = ?1";
  }
  if (resource_id.starts_with("tmt-")) {
    return sessions + "s.target_id = ?1";
  }
  if (resource_id.starts_with("eni-")) {
    // Its own host, and the hosts mirroring to it (an interface target's address is its).
    return sessions +
           "s.target_id IN (SELECT id FROM targets WHERE network_interface_id = ?1) "
           "UNION SELECT instance_id FROM network_interfaces "
           "WHERE id = ?1 AND instance_id IS NOT NULL";
  }
  if (resource_id.starts_with("arn:")) {  // a load balancer: its members are the addresses
    return sessions +
           "s.target_id IN (SELECT id FROM targets WHERE network_load_balancer_arn = ?1)";
  }
  if (resource_id.starts_with("i-")) {
    return "SELECT id FROM instances WHERE id = ?1";
  }
  return {};
}

Result<void> runWith(Database& db, std::string_view sql, const std::string& arg) {
  auto stmt = db.prepare(sql);
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(arg));
  return stmt->run();
}

constexpr std::string_view kInterfaceColumns =
    "seq, id, subnet_id, description, mac, private_ip, ipv6, mtu, instance_id, device_name, "
    "attached";

NetworkInterfaceRecord readInterface(const Statement& s) {
  return {s.integer(0),      s.text(1),         s.text(2),         s.text(3),
          s.text(4),         s.optionalText(5), s.optionalText(6), s.integer(7),
          s.optionalText(8), s.optionalText(9), s.integer(10) != 0};
}

constexpr std::string_view kTargetColumns =
    "seq, id, type, network_interface_id, network_load_balancer_arn, "
    "gateway_load_balancer_endpoint_id, description";

TargetRecord readTarget(const Statement& s) {
  return {s.integer(0),      s.text(1),         s.text(2),        s.optionalText(3),
          s.optionalText(4), s.optionalText(5), s.optionalText(6)};
}

constexpr std::string_view kFilterColumns = "seq, id, description, amazon_dns";

FilterRecord readFilter(const Statement& s) {
  return {s.integer(0), s.text(1), s.optionalText(2), s.integer(3) != 0};
}

constexpr std::string_view kRuleColumns =
    "seq, id, filter_id, direction, rule_number, action, protocol, source_cidr, "
    "destination_cidr, source_from_port, source_to_port, destination_from_port, "
    "destination_to_port, description";

RuleRecord readRule(const Statement& s) {
  return {s.integer(0),
          s.text(1),
          s.text(2),
          s.text(3),
          s.integer(4),
          s.text(5),
          s.optionalInteger(6),
          s.text(7),
          s.text(8),
          s.optionalInteger(9),
          s.optionalInteger(10),
          s.optionalInteger(11),
          s.optionalInteger(12),
          s.optionalText(13)};
}

constexpr std::string_view kSessionColumns =
    "seq, id, network_interface_id, target_id, filter_id, session_number, virtual_network_id, "
    "packet_length, description";

SessionRecord readSession(const Statement& s) {
  return {s.integer(0),     s.text(1),    s.text(2),    s.text(3),
          s.text(4),        s.integer(5), s.integer(6), s.optionalInteger(7),
          s.optionalText(8)};
}

std::string select(std::string_view columns, std::string_view table, std::string_view where) {
  return "SELECT " + std::string(columns) + " FROM " + std::string(table) + " " +
         std::string(where);
}

}  // namespace

Result<MirrorStore> MirrorStore::opened(Result<Database> db, bool read_only) {
  if (!db) {
    return std::unexpected(db.error());
  }
  MirrorStore store(std::move(*db));
  store.read_only_ = read_only;
  if (auto r = store.loadAccountId(); !r) {
    return std::unexpected(r.error());
  }
  return store;
}

namespace {

Result<Database> migrated(Result<std::unique_ptr<Connection>> connection) {
  if (!connection) {
    return std::unexpected(connection.error());
  }
  return Database::migrate(std::move(*connection), kMigrations);
}

Result<Database> unmigrated(Result<std::unique_ptr<Connection>> connection) {
  if (!connection) {
    return std::unexpected(connection.error());
  }
  return Database(std::move(*connection));
}

}  // namespace

Result<MirrorStore> MirrorStore::open(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return makeError(ErrorCode::Io, "creating " + data_dir.string() + ": " + ec.message());
  }
  return opened(migrated(openSqlite(data_dir / "tmirror.db")), false);
}

Result<MirrorStore> MirrorStore::openReader(const std::filesystem::path& data_dir) {
  return opened(unmigrated(openSqliteReader(data_dir / "tmirror.db")), true);
}

Result<MirrorStore> MirrorStore::openPostgres(const std::string& url) {
  return opened(migrated(store::openPostgres(url)), false);
}

Result<MirrorStore> MirrorStore::openPostgresReader(const std::string& url) {
  return opened(unmigrated(store::openPostgresReader(url)), true);
}

Result<MirrorStore> MirrorStore::open(const StoreLocation& location) {
  return location.postgresql() ? openPostgres(location.database_url) : open(location.data_dir);
}

Result<MirrorStore> MirrorStore::openReader(const StoreLocation& location) {
  return location.postgresql() ? openPostgresReader(location.database_url)
                               : openReader(location.data_dir);
}

Result<void> MirrorStore::loadAccountId() {
  auto read = [&] {
    return first(collect<std::string>(db_, "SELECT value FROM meta WHERE key = 'account_id'",
                                      nullptr, [](const Statement& s) { return s.text(0); }));
  };
  auto existing = read();
  if (!existing) {
    return std::unexpected(existing.error());
  }
  if (*existing) {
    account_id_ = **existing;
    return {};
  }
  if (read_only_) {
    return makeError(ErrorCode::NotFound,
                     "the store has no account id yet (open it for writing first)");
  }
  // Made once, under the writers' lock: another process may be opening the store too.
  if (auto r = db_.begin(); !r) {
    return r;
  }
  existing = read();
  if (!existing) {
    db_.rollback();
    return std::unexpected(existing.error());
  }
  if (*existing) {
    account_id_ = **existing;
    db_.rollback();
    return {};
  }
  // A 12-digit account id, fixed for this installation (AWS ownerId shape).
  account_id_ = secureRandomString("123456789", 1) + secureRandomString("0123456789", 11);
  auto stmt = db_.prepare("INSERT INTO meta (key, value) VALUES ('account_id', ?)");
  if (!stmt) {
    db_.rollback();
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(account_id_));
  auto inserted = stmt->run();
  *stmt = Statement();
  if (inserted) {
    inserted = db_.commit();
  }
  if (!inserted) {
    db_.rollback();
  }
  return inserted;
}

Result<int64_t> MirrorStore::revision() {
  auto value =
      first(collect<int64_t>(db_, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'revision'",
                             nullptr, [](const Statement& s) { return s.integer(0); }));
  if (!value) {
    return std::unexpected(value.error());
  }
  return value->value_or(0);
}

Result<void> MirrorStore::bumpRevision() {
  return db_.run(
      "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'revision'");
}

Result<std::vector<std::string>> MirrorStore::hostsAffectedBy(const std::string& resource_id) {
  const std::string query = affectedHostsQuery(resource_id);
  if (query.empty()) {
    return std::vector<std::string>{};
  }
  return collect<std::string>(db_, query, &resource_id,
                              [](const Statement& s) { return s.text(0); });
}

Result<void> MirrorStore::markHostsChanged(const std::vector<std::string>& instance_ids) {
  if (instance_ids.empty()) {
    return {};
  }
  // One statement for any number of hosts: the ids as a JSON array (they are [a-z0-9-]).
  std::string ids = "[";
  for (const std::string& id : instance_ids) {
    ids += (ids.size() > 1 ? ",\"" : "\"") + id + "\"";
  }
  ids += "]";
  return runWith(db_,
                 "UPDATE instances SET revision = (SELECT CAST(value AS INTEGER) FROM meta "
                 "WHERE key = 'revision') WHERE id IN (SELECT value FROM json_each(?))",
                 ids);
}

Result<std::optional<int64_t>> MirrorStore::hostRevision(const std::string& instance_id) {
  return first(collect<int64_t>(db_, "SELECT revision FROM instances WHERE id = ?", &instance_id,
                                [](const Statement& s) { return s.integer(0); }));
}

Result<std::vector<std::pair<std::string, int64_t>>> MirrorStore::hostsChangedAfter(
    int64_t revision) {
  // The column's INTEGER affinity compares the bound text as a number.
  const std::string after = std::to_string(revision);
  return collect<std::pair<std::string, int64_t>>(
      db_, "SELECT id, revision FROM instances WHERE revision > ?", &after, [](const Statement& s) {
        return std::pair{s.text(0), s.integer(1)};
      });
}

Result<void> MirrorStore::insertAccessKey(const std::string& id, const std::string& secret) {
  auto stmt = db_.prepare(
      "INSERT INTO access_keys (access_key_id, secret, created_at) VALUES (?, ?, "
      "strftime('%s','now'))");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(id)).bind(2, std::string_view(secret));
  return stmt->run();
}

Result<std::optional<std::string>> MirrorStore::secretFor(const std::string& access_key_id) {
  return first(collect<std::string>(db_, "SELECT secret FROM access_keys WHERE access_key_id = ?",
                                    &access_key_id, [](const Statement& s) { return s.text(0); }));
}

Result<std::optional<MirrorStore::ClientTokenEntry>> MirrorStore::findClientToken(
    const std::string& action, const std::string& token) {
  auto stmt = db_.prepare(
      "SELECT fingerprint, resource_id FROM client_tokens WHERE action = ? AND token = ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(action)).bind(2, std::string_view(token));
  auto row = stmt->step();
  if (!row) {
    return std::unexpected(row.error());
  }
  if (!*row) {
    return std::optional<ClientTokenEntry>();
  }
  return std::optional<ClientTokenEntry>(ClientTokenEntry{stmt->text(0), stmt->text(1)});
}

Result<void> MirrorStore::insertClientToken(const std::string& action, const std::string& token,
                                            const std::string& fingerprint,
                                            const std::string& resource_id) {
  auto stmt = db_.prepare(
      "INSERT INTO client_tokens (action, token, fingerprint, resource_id, created_at) "
      "VALUES (?, ?, ?, ?, strftime('%s','now'))");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(action))
      .bind(2, std::string_view(token))
      .bind(3, std::string_view(fingerprint))
      .bind(4, std::string_view(resource_id));
  return stmt->run();
}

Transaction::~Transaction() {
  if (db_ == nullptr) {
    return;
  }
  if (savepoint_) {
    // Undoes this member's writes only; fails harmlessly if SQLite already ended the group.
    (void)db_->exec("ROLLBACK TO member; RELEASE member");
  } else {
    db_->rollback();
  }
}

Result<void> Transaction::commit() {
  Database* db = std::exchange(db_, nullptr);
  if (db == nullptr) {
    return makeError(ErrorCode::Internal, "the transaction is already over");
  }
  if (savepoint_) {
    // Kept in the group's transaction, which makes it durable with the others' or not at all.
    if (auto r = db->run("RELEASE member"); !r) {
      (void)db->exec("ROLLBACK TO member; RELEASE member");
      return r;
    }
    return {};
  }
  if (auto r = db->commit(); !r) {
    db->rollback();
    return r;
  }
  return {};
}

Result<Transaction> MirrorStore::transaction() {
  if (read_only_) {
    return makeError(ErrorCode::Internal, "a transaction on a read-only view of the store");
  }
  if (grouped_) {
    if (auto r = db_.run("SAVEPOINT member"); !r) {
      return std::unexpected(r.error());
    }
    return Transaction(&db_, true);
  }
  if (auto r = db_.begin(); !r) {
    return std::unexpected(r.error());
  }
  return Transaction(&db_, false);
}

Result<void> MirrorStore::beginGroup() {
  if (auto r = db_.begin(); !r) {
    return r;
  }
  grouped_ = true;
  return {};
}

bool MirrorStore::groupIntact() const {
  return db_.inTransaction();
}

Result<void> MirrorStore::commitGroup() {
  grouped_ = false;
  if (auto r = db_.commit(); !r) {
    db_.rollback();
    return r;
  }
  return {};
}

void MirrorStore::abandonGroup() {
  grouped_ = false;
  if (db_.inTransaction()) {
    db_.rollback();
  }
}

Result<std::vector<AuditEntry>> MirrorStore::auditLog() {
  return collect<AuditEntry>(
      db_,
      "SELECT access_key_id, action, resource_id, result, request_id, remote_address "
      "FROM audit_log ORDER BY seq",
      nullptr, [](const Statement& st) {
        return AuditEntry{st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5)};
      });
}

Result<void> MirrorStore::appendAudit(const AuditEntry& e) {
  auto stmt = db_.prepare(
      "INSERT INTO audit_log (access_key_id, action, resource_id, result, request_id, "
      "remote_address) VALUES (?, ?, ?, ?, ?, ?)");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(e.access_key_id))
      .bind(2, std::string_view(e.action))
      .bind(3, std::string_view(e.resource_id))
      .bind(4, std::string_view(e.result))
      .bind(5, std::string_view(e.request_id))
      .bind(6, std::string_view(e.remote_address));
  return stmt->run();
}

Result<void> MirrorStore::insertNetworkInterface(const NetworkInterfaceRecord& r) {
  auto stmt = db_.prepare(
      "INSERT INTO network_interfaces (id, subnet_id, description, mac, private_ip, ipv6, mtu, "
      "instance_id, device_name, attached) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(r.id))
      .bind(2, std::string_view(r.subnet_id))
      .bind(3, std::string_view(r.description))
      .bind(4, std::string_view(r.mac))
      .bind(5, r.private_ip)
      .bind(6, r.ipv6)
      .bind(7, r.mtu)
      .bind(8, r.instance_id)
      .bind(9, r.device_name)
      .bind(10, int64_t{r.attached ? 1 : 0});
  return stmt->run();
}

Result<std::vector<NetworkInterfaceRecord>> MirrorStore::networkInterfaces() {
  return collect<NetworkInterfaceRecord>(
      db_, select(kInterfaceColumns, "network_interfaces", "ORDER BY seq"), nullptr, readInterface);
}

Result<std::optional<NetworkInterfaceRecord>> MirrorStore::networkInterface(const std::string& id) {
  return first(collect<NetworkInterfaceRecord>(
      db_, select(kInterfaceColumns, "network_interfaces", "WHERE id = ?"), &id, readInterface));
}

Result<std::vector<NetworkInterfaceRecord>> MirrorStore::interfacesWithAddress(
    const std::string& private_ip) {
  return collect<NetworkInterfaceRecord>(
      db_, select(kInterfaceColumns, "network_interfaces", "WHERE private_ip = ? ORDER BY seq"),
      &private_ip, readInterface);
}

Result<void> MirrorStore::deleteNetworkInterface(const std::string& id) {
  return runWith(db_, "DELETE FROM network_interfaces WHERE id = ?", id);
}

Result<void> MirrorStore::insertTarget(const TargetRecord& r) {
  auto stmt = db_.prepare(
      "INSERT INTO targets (id, type, network_interface_id, network_load_balancer_arn, "
      "gateway_load_balancer_endpoint_id, description) VALUES (?, ?, ?, ?, ?, ?)");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(r.id))
      .bind(2, std::string_view(r.type))
      .bind(3, r.network_interface_id)
      .bind(4, r.network_load_balancer_arn)
      .bind(5, r.gateway_load_balancer_endpoint_id)
      .bind(6, r.description);
  return stmt->run();
}

Result<std::vector<TargetRecord>> MirrorStore::targets() {
  return collect<TargetRecord>(db_, select(kTargetColumns, "targets", "ORDER BY seq"), nullptr,
                               readTarget);
}

Result<std::optional<TargetRecord>> MirrorStore::target(const std::string& id) {
  return first(collect<TargetRecord>(db_, select(kTargetColumns, "targets", "WHERE id = ?"), &id,
                                     readTarget));
}

Result<void> MirrorStore::deleteTarget(const std::string& id) {
  return runWith(db_, "DELETE FROM targets WHERE id = ?", id);
}

Result<void> MirrorStore::insertFilter(const FilterRecord& r) {
  auto stmt = db_.prepare("INSERT INTO filters (id, description, amazon_dns) VALUES (?, ?, ?)");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(r.id))
      .bind(2, r.description)
      .bind(3, int64_t{r.amazon_dns ? 1 : 0});
  return stmt->run();
}

Result<std::vector<FilterRecord>> MirrorStore::filters() {
  return collect<FilterRecord>(db_, select(kFilterColumns, "filters", "ORDER BY seq"), nullptr,
                               readFilter);
}

Result<std::optional<FilterRecord>> MirrorStore::filter(const std::string& id) {
  return first(collect<FilterRecord>(db_, select(kFilterColumns, "filters", "WHERE id = ?"), &id,
                                     readFilter));
}

Result<void> MirrorStore::setAmazonDns(const std::string& filter_id, bool on) {
  auto stmt = db_.prepare("UPDATE filters SET amazon_dns = ? WHERE id = ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, int64_t{on ? 1 : 0}).bind(2, std::string_view(filter_id));
  return stmt->run();
}

Result<void> MirrorStore::deleteFilter(const std::string& id) {
  // Rules go with the filter (ON DELETE CASCADE); their tags are removed explicitly.
  if (auto r = runWith(db_,
                       "DELETE FROM tags WHERE resource_id IN "
                       "(SELECT id FROM filter_rules WHERE filter_id = ?)",
                       id);
      !r) {
    return r;
  }
  return runWith(db_, "DELETE FROM filters WHERE id = ?", id);
}

Result<void> MirrorStore::insertRule(const RuleRecord& r) {
  auto stmt = db_.prepare(
      "INSERT INTO filter_rules (id, filter_id, direction, rule_number, action, protocol, "
      "source_cidr, destination_cidr, source_from_port, source_to_port, destination_from_port, "
      "destination_to_port, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(r.id))
      .bind(2, std::string_view(r.filter_id))
      .bind(3, std::string_view(r.direction))
      .bind(4, r.rule_number)
      .bind(5, std::string_view(r.action))
      .bind(6, r.protocol)
      .bind(7, std::string_view(r.source_cidr))
      .bind(8, std::string_view(r.destination_cidr))
      .bind(9, r.source_from_port)
      .bind(10, r.source_to_port)
      .bind(11, r.destination_from_port)
      .bind(12, r.destination_to_port)
      .bind(13, r.description);
  return stmt->run();
}

Result<void> MirrorStore::updateRule(const RuleRecord& r) {
  auto stmt = db_.prepare(
      "UPDATE filter_rules SET direction = ?, rule_number = ?, action = ?, protocol = ?, "
      "source_cidr = ?, destination_cidr = ?, source_from_port = ?, source_to_port = ?, "
      "destination_from_port = ?, destination_to_port = ?, description = ? WHERE id = ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(r.direction))
      .bind(2, r.rule_number)
      .bind(3, std::string_view(r.action))
      .bind(4, r.protocol)
      .bind(5, std::string_view(r.source_cidr))
      .bind(6, std::string_view(r.destination_cidr))
      .bind(7, r.source_from_port)
      .bind(8, r.source_to_port)
      .bind(9, r.destination_from_port)
      .bind(10, r.destination_to_port)
      .bind(11, r.description)
      .bind(12, std::string_view(r.id));
  return stmt->run();
}

Result<std::vector<RuleRecord>> MirrorStore::rules() {
  return collect<RuleRecord>(db_, select(kRuleColumns, "filter_rules", "ORDER BY seq"), nullptr,
                             readRule);
}

Result<std::vector<RuleRecord>> MirrorStore::rulesOf(const std::string& filter_id) {
  return collect<RuleRecord>(
      db_, select(kRuleColumns, "filter_rules", "WHERE filter_id = ? ORDER BY seq"), &filter_id,
      readRule);
}

Result<std::optional<RuleRecord>> MirrorStore::rule(const std::string& id) {
  return first(collect<RuleRecord>(db_, select(kRuleColumns, "filter_rules", "WHERE id = ?"), &id,
                                   readRule));
}

Result<void> MirrorStore::deleteRule(const std::string& id) {
  return runWith(db_, "DELETE FROM filter_rules WHERE id = ?", id);
}

Result<void> MirrorStore::insertSession(const SessionRecord& r) {
  auto stmt = db_.prepare(
      "INSERT INTO sessions (id, network_interface_id, target_id, filter_id, session_number, "
      "virtual_network_id, packet_length, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(r.id))
      .bind(2, std::string_view(r.network_interface_id))
      .bind(3, std::string_view(r.target_id))
      .bind(4, std::string_view(r.filter_id))
      .bind(5, r.session_number)
      .bind(6, r.virtual_network_id)
      .bind(7, r.packet_length)
      .bind(8, r.description);
  return stmt->run();
}

Result<void> MirrorStore::updateSession(const SessionRecord& r) {
  auto stmt = db_.prepare(
      "UPDATE sessions SET target_id = ?, filter_id = ?, session_number = ?, "
      "virtual_network_id = ?, packet_length = ?, description = ? WHERE id = ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(r.target_id))
      .bind(2, std::string_view(r.filter_id))
      .bind(3, r.session_number)
      .bind(4, r.virtual_network_id)
      .bind(5, r.packet_length)
      .bind(6, r.description)
      .bind(7, std::string_view(r.id));
  return stmt->run();
}

Result<std::vector<SessionRecord>> MirrorStore::sessions() {
  return collect<SessionRecord>(db_, select(kSessionColumns, "sessions", "ORDER BY seq"), nullptr,
                                readSession);
}

Result<std::vector<SessionRecord>> MirrorStore::sessionsOf(
    const std::string& network_interface_id) {
  // The (network_interface_id, session_number) key is the index: a host's desired state costs
  // its own sessions, not every session of the fleet.
  return collect<SessionRecord>(
      db_, select(kSessionColumns, "sessions", "WHERE network_interface_id = ? ORDER BY seq"),
      &network_interface_id, readSession);
}

Result<std::optional<SessionRecord>> MirrorStore::session(const std::string& id) {
  return first(collect<SessionRecord>(db_, select(kSessionColumns, "sessions", "WHERE id = ?"), &id,
                                      readSession));
}

Result<void> MirrorStore::deleteSession(const std::string& id) {
  return runWith(db_, "DELETE FROM sessions WHERE id = ?", id);
}

Result<void> MirrorStore::deleteSessionsOfInterface(const std::string& network_interface_id) {
  if (auto r = runWith(db_,
                       "DELETE FROM tags WHERE resource_id IN "
                       "(SELECT id FROM sessions WHERE network_interface_id = ?)",
                       network_interface_id);
      !r) {
    return r;
  }
  return runWith(db_, "DELETE FROM sessions WHERE network_interface_id = ?", network_interface_id);
}

Result<std::map<std::string, std::vector<Tag>>> MirrorStore::allTags() {
  auto rows = collect<std::pair<std::string, Tag>>(
      db_, "SELECT resource_id, key, value FROM tags ORDER BY resource_id, key", nullptr,
      [](const Statement& s) {
        return std::pair{s.text(0), Tag{s.text(1), s.text(2)}};
      });
  if (!rows) {
    return std::unexpected(rows.error());
  }
  std::map<std::string, std::vector<Tag>> out;
  for (auto& [id, tag] : *rows) {
    out[id].push_back(std::move(tag));
  }
  return out;
}

Result<std::vector<Tag>> MirrorStore::tagsOf(const std::string& resource_id) {
  return collect<Tag>(db_, "SELECT key, value FROM tags WHERE resource_id = ? ORDER BY key",
                      &resource_id, [](const Statement& s) {
                        return Tag{s.text(0), s.text(1)};
                      });
}

Result<void> MirrorStore::putTag(const std::string& resource_id, const Tag& tag) {
  auto stmt = db_.prepare(
      "INSERT INTO tags (resource_id, key, value) VALUES (?, ?, ?) "
      "ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(resource_id))
      .bind(2, std::string_view(tag.key))
      .bind(3, std::string_view(tag.value));
  return stmt->run();
}

Result<void> MirrorStore::deleteTag(const std::string& resource_id, const std::string& key) {
  auto stmt = db_.prepare("DELETE FROM tags WHERE resource_id = ? AND key = ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(resource_id)).bind(2, std::string_view(key));
  return stmt->run();
}

Result<void> MirrorStore::deleteAllTags(const std::string& resource_id) {
  return runWith(db_, "DELETE FROM tags WHERE resource_id = ?", resource_id);
}

Result<void> MirrorStore::setLoadBalancerMembership(const std::string& network_interface_id,
                                                    const std::optional<std::string>& arn) {
  if (auto r = runWith(db_, "DELETE FROM load_balancer_members WHERE network_interface_id = ?",
                       network_interface_id);
      !r) {
    return r;
  }
  if (!arn) {
    return {};
  }
  auto stmt = db_.prepare(
      "INSERT INTO load_balancer_members (load_balancer_arn, network_interface_id) "
      "VALUES (?, ?)");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(*arn)).bind(2, std::string_view(network_interface_id));
  return stmt->run();
}

Result<std::vector<std::string>> MirrorStore::loadBalancerMembers(const std::string& arn) {
  return collect<std::string>(db_,
                              "SELECT network_interface_id FROM load_balancer_members "
                              "WHERE load_balancer_arn = ? ORDER BY network_interface_id",
                              &arn, [](const Statement& s) { return s.text(0); });
}

Result<std::vector<std::pair<std::string, std::string>>> MirrorStore::allLoadBalancerMembers() {
  return collect<std::pair<std::string, std::string>>(
      db_,
      "SELECT load_balancer_arn, network_interface_id FROM load_balancer_members "
      "ORDER BY load_balancer_arn, network_interface_id",
      nullptr, [](const Statement& s) {
        return std::pair{s.text(0), s.text(1)};
      });
}

Result<void> MirrorStore::insertAgentToken(const std::string& token_sha256) {
  return runWith(db_, "INSERT INTO agent_tokens (token_sha256) VALUES (?)", token_sha256);
}

Result<bool> MirrorStore::hasAgentToken(const std::string& token_sha256) {
  auto found =
      first(collect<int64_t>(db_, "SELECT 1 FROM agent_tokens WHERE token_sha256 = ?",
                             &token_sha256, [](const Statement& s) { return s.integer(0); }));
  if (!found) {
    return std::unexpected(found.error());
  }
  return found->has_value();
}

namespace {

constexpr std::string_view kInstanceColumns =
    "seq, id, host_key, hostname, dns_resolvers, control_endpoints";

InstanceRecord readInstance(const Statement& s) {
  return {s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5)};
}

}  // namespace

Result<std::optional<InstanceRecord>> MirrorStore::instanceByHostKey(const std::string& host_key) {
  return first(collect<InstanceRecord>(
      db_, select(kInstanceColumns, "instances", "WHERE host_key = ?"), &host_key, readInstance));
}

Result<std::optional<InstanceRecord>> MirrorStore::instance(const std::string& id) {
  return first(collect<InstanceRecord>(db_, select(kInstanceColumns, "instances", "WHERE id = ?"),
                                       &id, readInstance));
}

Result<std::vector<InstanceRecord>> MirrorStore::instances() {
  return collect<InstanceRecord>(db_, select(kInstanceColumns, "instances", "ORDER BY seq"),
                                 nullptr, readInstance);
}

Result<void> MirrorStore::upsertInstance(const InstanceRecord& r) {
  auto stmt = db_.prepare(
      "INSERT INTO instances (id, host_key, hostname, dns_resolvers, control_endpoints) "
      "VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, "
      "dns_resolvers = excluded.dns_resolvers, control_endpoints = excluded.control_endpoints, "
      "last_seen = strftime('%Y-%m-%dT%H:%M:%SZ','now')");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, std::string_view(r.id))
      .bind(2, std::string_view(r.host_key))
      .bind(3, std::string_view(r.hostname))
      .bind(4, std::string_view(r.dns_resolvers))
      .bind(5, std::string_view(r.control_endpoints));
  return stmt->run();
}

Result<std::vector<NetworkInterfaceRecord>> MirrorStore::interfacesOf(
    const std::string& instance_id) {
  return collect<NetworkInterfaceRecord>(
      db_, select(kInterfaceColumns, "network_interfaces", "WHERE instance_id = ? ORDER BY seq"),
      &instance_id, readInterface);
}

Result<void> MirrorStore::updateNetworkInterface(const NetworkInterfaceRecord& r) {
  auto stmt = db_.prepare(
      "UPDATE network_interfaces SET private_ip = ?, ipv6 = ?, mtu = ?, device_name = ?, "
      "attached = ? WHERE id = ?");
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  stmt->bind(1, r.private_ip)
      .bind(2, r.ipv6)
      .bind(3, r.mtu)
      .bind(4, r.device_name)
      .bind(5, int64_t{r.attached ? 1 : 0})
      .bind(6, std::string_view(r.id));
  return stmt->run();
}

Result<int64_t> MirrorStore::count(std::string_view table) {
  static constexpr std::string_view kTables[] = {"network_interfaces", "targets",  "filters",
                                                 "filter_rules",       "sessions", "instances"};
  if (std::find(std::begin(kTables), std::end(kTables), table) == std::end(kTables)) {
    return makeError(ErrorCode::InvalidArgument, "no table " + std::string(table));
  }
  auto n = first(collect<int64_t>(db_, "SELECT COUNT(*) FROM " + std::string(table), nullptr,
                                  [](const Statement& s) { return s.integer(0); }));
  if (!n) {
    return std::unexpected(n.error());
  }
  return n->value_or(0);
}

Result<std::map<std::string, int64_t>> MirrorStore::countsByKind() {
  auto rows = collect<std::pair<std::string, int64_t>>(
      db_,
      "SELECT 'instance', COUNT(*) FROM instances UNION ALL "
      "SELECT 'network-interface', COUNT(*) FROM network_interfaces UNION ALL "
      "SELECT 'traffic-mirror-target', COUNT(*) FROM targets UNION ALL "
      "SELECT 'traffic-mirror-filter', COUNT(*) FROM filters UNION ALL "
      "SELECT 'traffic-mirror-filter-rule', COUNT(*) FROM filter_rules UNION ALL "
      "SELECT 'traffic-mirror-session', COUNT(*) FROM sessions",
      nullptr, [](const Statement& s) {
        return std::pair{s.text(0), s.integer(1)};
      });
  if (!rows) {
    return std::unexpected(rows.error());
  }
  return std::map<std::string, int64_t>(rows->begin(), rows->end());
}

}  // namespace tmirror::store
