// MirrorStore: the durable state of the traffic-mirroring API (network interfaces, targets,
// filters, rules, sessions, tags, access keys, client tokens, the audit log) in SQLite (the
// embedded default) or PostgreSQL (several server replicas on one database): one set of
// statements and migrations over the driver seam of store/sql.h.
//
// Not thread-safe: one thread at a time uses one MirrorStore. SharedStore (shared_store.h)
// gives threads a writer and read-only views of the same file, and commits concurrent
// mutations in groups. Every mutation runs in one transaction (begin/commit), so an
// acknowledged request is durable and a failed one changes nothing.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "store/sql.h"

namespace tmirror::store {

struct Tag {
  std::string key;
  std::string value;

  bool operator==(const Tag&) const = default;
};

struct NetworkInterfaceRecord {
  int64_t seq = 0;
  std::string id;
  std::string subnet_id;
  std::string description;
  std::string mac;
  std::optional<std::string> private_ip;
  std::optional<std::string> ipv6;
  int64_t mtu = 1500;
  std::optional<std::string> instance_id;  // set for interfaces an agent registered
  std::optional<std::string> device_name;
  bool attached = true;  // false: the agent's host no longer reports it

  bool operator==(const NetworkInterfaceRecord&) const = default;
};

struct TargetRecord {
  int64_t seq = 0;
  std::string id;
  std::string type;  // network-interface | network-load-balancer | gateway-load-balancer-endpoint
  std::optional<std::string> network_interface_id;
  std::optional<std::string> network_load_balancer_arn;
  std::optional<std::string> gateway_load_balancer_endpoint_id;
  std::optional<std::string> description;

  bool operator==(const TargetRecord&) const = default;
};

struct FilterRecord {
  int64_t seq = 0;
  std::string id;
  std::optional<std::string> description;
  bool amazon_dns = false;

  bool operator==(const FilterRecord&) const = default;
};

struct RuleRecord {
  int64_t seq = 0;
  std::string id;
  std::string filter_id;
  std::string direction;  // ingress | egress
  int64_t rule_number = 0;
  std::string action;  // accept | reject
  std::optional<int64_t> protocol;
  std::string source_cidr;
  std::string destination_cidr;
  std::optional<int64_t> source_from_port;
  std::optional<int64_t> source_to_port;
  std::optional<int64_t> destination_from_port;
  std::optional<int64_t> destination_to_port;
  std::optional<std::string> description;

  bool operator==(const RuleRecord&) const = default;
};

struct SessionRecord {
  int64_t seq = 0;
  std::string id;
  std::string network_interface_id;
  std::string target_id;
  std::string filter_id;
  int64_t session_number = 0;
  int64_t virtual_network_id = 0;
  std::optional<int64_t> packet_length;
  std::optional<std::string> description;

  bool operator==(const SessionRecord&) const = default;
};

struct InstanceRecord {
  int64_t seq = 0;
  std::string id;        // i-...
  std::string host_key;  // the agent's stable host identity (machine id)
  std::string hostname;
  std::string dns_resolvers;  // comma-separated, as the agent reported them
  // Comma-separated address:port ([v6]:port), as the agent reported them.
  std::string control_endpoints;

  bool operator==(const InstanceRecord&) const = default;
};

// A metric's time series: CloudWatch's namespace, metric name and dimensions
// ("Name=Value,..." sorted by name).
struct MetricSeriesRecord {
  int64_t id = 0;
  std::string namespace_name;
  std::string metric_name;
  std::string dimensions;

  bool operator==(const MetricSeriesRecord&) const = default;
};

// An hour of one series' minute counts as one writer (a server) counted them; a minute without
// a report has no value.
struct HourOfMinutes {
  int64_t series_id = 0;
  int64_t hour = 0;  // Unix time / 3600
  std::array<std::optional<int64_t>, 60> minutes{};

  bool operator==(const HourOfMinutes&) const = default;
};

// One stored point: a minute (its value is sum, minimum and maximum; one sample) or a rollup
// of the minutes of 5 minutes or an hour (samples: the minutes that had a value).
struct MetricPoint {
  int64_t start_time = 0;  // Unix seconds, a multiple of the period
  int64_t sum = 0;
  int64_t minimum = 0;
  int64_t maximum = 0;
  int64_t samples = 0;

  bool operator==(const MetricPoint&) const = default;
};

// CloudWatch's retention of each resolution.
inline constexpr int64_t kMinuteRetentionSeconds = 15 * 86400;
inline constexpr int64_t kFiveMinuteRetentionSeconds = 63 * 86400;
inline constexpr int64_t kHourRetentionSeconds = 455 * 86400;

struct AuditEntry {
  std::string access_key_id;
  std::string action;
  std::string resource_id;
  std::string result;  // "ok" or the error code
  std::string request_id;
  std::string remote_address;

  bool operator==(const AuditEntry&) const = default;
};

// Where the state lives: DIR/tmirror.db (SQLite, the default), or the PostgreSQL database
// `database_url` names when it is set.
struct StoreLocation {
  std::filesystem::path data_dir;
  std::string database_url;

  bool postgresql() const { return !database_url.empty(); }
};

// One transaction of the store (BEGIN IMMEDIATE, or a savepoint inside a commit group): what
// the store's calls write meanwhile is kept by commit() and dropped when the object goes away
// uncommitted, so that no error path can leave half a change behind.
class Transaction {
 public:
  Transaction(Transaction&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)), savepoint_(other.savepoint_) {}

  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // On failure the transaction is rolled back.
  Result<void> commit();

 private:
  friend class MirrorStore;

  Transaction(Database* db, bool savepoint) : db_(db), savepoint_(savepoint) {}

  Database* db_;    // null once committed or rolled back
  bool savepoint_;  // a member of a commit group: commit() keeps it in the group's transaction
};

class MirrorStore {
 public:
  // Opens DIR/tmirror.db, creating and migrating it as needed.
  static Result<MirrorStore> open(const std::filesystem::path& data_dir);

  // The same file, read-only (for SharedStore's readers); the writer must have opened it.
  static Result<MirrorStore> openReader(const std::filesystem::path& data_dir);

  // A PostgreSQL database (a libpq URL, store/postgres.h), migrated as needed; and a
  // read-only connection to one a writer opened.
  static Result<MirrorStore> openPostgres(const std::string& url);
  static Result<MirrorStore> openPostgresReader(const std::string& url);

  // Either, by location.
  static Result<MirrorStore> open(const StoreLocation& location);
  static Result<MirrorStore> openReader(const StoreLocation& location);

  // Where the store is, for messages (a file, or a database URL without its password).
  std::string where() const { return db_.where(); }

  // Starts a transaction; one at a time. Inside a commit group it is a savepoint, made
  // durable by the group's commit.
  Result<Transaction> transaction();

  // Group commit (SharedStore): one transaction around several callers' transactions.
  Result<void> beginGroup();
  bool groupIntact() const;  // false once SQLite rolled the group back by itself

  bool connected() const { return db_.connected(); }  // false while PostgreSQL is away

  Result<void> commitGroup();
  void abandonGroup();

  const std::string& accountId() const { return account_id_; }

  // Monotonic revision of the desired state; bumped by every mutation.
  Result<int64_t> revision();
  Result<void> bumpRevision();

  // Each host's revision is the global revision of the last change to its desired state.
  // The hosts whose desired state depends on a resource (a session, filter, rule, target,
  // interface, host or load-balancer ARN), as the store holds it now: ask before a change
  // (what it will no longer touch) and after (what it touches now).
  Result<std::vector<std::string>> hostsAffectedBy(const std::string& resource_id);
  // Sets those hosts' revision to the global revision (bump first).
  Result<void> markHostsChanged(const std::vector<std::string>& instance_ids);
  Result<std::optional<int64_t>> hostRevision(const std::string& instance_id);
  // (host, revision) for every host whose revision passed `revision`.
  Result<std::vector<std::pair<std::string, int64_t>>> hostsChangedAfter(int64_t revision);

  // Access keys.
  Result<void> insertAccessKey(const std::string& id, const std::string& secret);
  Result<std::optional<std::string>> secretFor(const std::string& access_key_id);

  // Client tokens: (action, token) -> (parameters fingerprint, resource id).
  struct ClientTokenEntry {
    std::string fingerprint;
    std::string resource_id;
  };

  Result<std::optional<ClientTokenEntry>> findClientToken(const std::string& action,
                                                          const std::string& token);
  Result<void> insertClientToken(const std::string& action, const std::string& token,
                                 const std::string& fingerprint, const std::string& resource_id);

  Result<void> appendAudit(const AuditEntry& entry);
  Result<std::vector<AuditEntry>> auditLog();  // oldest first

  // Network interfaces.
  Result<void> insertNetworkInterface(const NetworkInterfaceRecord& r);
  Result<std::vector<NetworkInterfaceRecord>> networkInterfaces();
  Result<std::optional<NetworkInterfaceRecord>> networkInterface(const std::string& id);
  Result<std::vector<NetworkInterfaceRecord>> interfacesWithAddress(const std::string& private_ip);
  Result<void> deleteNetworkInterface(const std::string& id);

  // Targets.
  Result<void> insertTarget(const TargetRecord& r);
  Result<std::vector<TargetRecord>> targets();
  Result<std::optional<TargetRecord>> target(const std::string& id);
  Result<void> deleteTarget(const std::string& id);

  // Filters and rules.
  Result<void> insertFilter(const FilterRecord& r);
  Result<std::vector<FilterRecord>> filters();
  Result<std::optional<FilterRecord>> filter(const std::string& id);
  Result<void> setAmazonDns(const std::string& filter_id, bool on);
  Result<void> deleteFilter(const std::string& id);  // and its rules
  Result<void> insertRule(const RuleRecord& r);
  Result<void> updateRule(const RuleRecord& r);
  Result<std::vector<RuleRecord>> rules();  // all, in creation order
  Result<std::vector<RuleRecord>> rulesOf(const std::string& filter_id);
  Result<std::optional<RuleRecord>> rule(const std::string& id);
  Result<void> deleteRule(const std::string& id);

  // Sessions.
  Result<void> insertSession(const SessionRecord& r);
  Result<void> updateSession(const SessionRecord& r);
  Result<std::vector<SessionRecord>> sessions();
  Result<std::vector<SessionRecord>> sessionsOf(const std::string& network_interface_id);
  Result<std::optional<SessionRecord>> session(const std::string& id);
  Result<void> deleteSession(const std::string& id);
  Result<void> deleteSessionsOfInterface(const std::string& network_interface_id);

  // Tags, keyed by resource id.
  Result<std::map<std::string, std::vector<Tag>>> allTags();
  Result<std::vector<Tag>> tagsOf(const std::string& resource_id);
  Result<void> putTag(const std::string& resource_id, const Tag& tag);
  Result<void> deleteTag(const std::string& resource_id, const std::string& key);
  Result<void> deleteAllTags(const std::string& resource_id);

  // Agents: tokens (stored as SHA-256), hosts, and the interfaces a host reported.
  Result<void> insertAgentToken(const std::string& token_sha256);

  // Network-load-balancer membership of collectors' interfaces (one balancer each, or none).
  Result<void> setLoadBalancerMembership(const std::string& network_interface_id,
                                         const std::optional<std::string>& arn);
  Result<std::vector<std::string>> loadBalancerMembers(const std::string& arn);  // eni ids
  Result<std::vector<std::pair<std::string, std::string>>> allLoadBalancerMembers();
  Result<bool> hasAgentToken(const std::string& token_sha256);
  Result<std::optional<InstanceRecord>> instanceByHostKey(const std::string& host_key);
  Result<std::optional<InstanceRecord>> instance(const std::string& id);
  Result<std::vector<InstanceRecord>> instances();
  Result<void> upsertInstance(const InstanceRecord& r);
  Result<std::vector<NetworkInterfaceRecord>> interfacesOf(const std::string& instance_id);
  Result<void> updateNetworkInterface(const NetworkInterfaceRecord& r);

  // Metric history (store/metric_history.cc).
  // The series' id, created on first use.
  Result<int64_t> metricSeriesId(const std::string& namespace_name, const std::string& metric_name,
                                 const std::string& dimensions);
  Result<std::vector<MetricSeriesRecord>> metricSeries();
  // Series of a namespace (and metric name, when not empty) with ids above `after_id`, in id
  // order, at most `limit`: ListMetrics' pages.
  Result<std::vector<MetricSeriesRecord>> metricSeriesPage(const std::string& namespace_name,
                                                           const std::string& metric_name,
                                                           int64_t after_id, int64_t limit);
  // The id of a series, if it exists.
  Result<std::optional<int64_t>> findMetricSeries(const std::string& namespace_name,
                                                  const std::string& metric_name,
                                                  const std::string& dimensions);
  // Replaces `writer`'s row of the series' hour. A writer is one server process: it alone
  // writes its rows, and readers add the rows of all writers up minute by minute.
  Result<void> putHourOfMinutes(int64_t writer, const HourOfMinutes& row);
  // Computes the 5-minute and 1-hour points of the hours written since the last call (and the
  // two hours before, for late writes), and drops what is past its retention. Idempotent:
  // replicas may all run it.
  Result<void> rollUpMetrics(int64_t now_seconds);
  // A series' stored points of one resolution (60, 300 or 3600 seconds) starting in
  // [from, to), oldest first.
  Result<std::vector<MetricPoint>> metricPoints(int64_t series_id, int64_t period, int64_t from,
                                                int64_t to);

  // Rows of one table ("targets", "filters", "sessions"...), for quotas.
  Result<int64_t> count(std::string_view table);

  // Resource counts by kind, for /metrics.
  Result<std::map<std::string, int64_t>> countsByKind();

  // Copies every row of this store into `target`, which must hold no resources, keys, tokens,
  // hosts or audit entries (store_copy.cc), in one write transaction of the target: keys and
  // creation order are kept, and the target takes this store's account id and revision. Rows
  // copied per table; AlreadyExists (and nothing written) when the target is not empty.
  Result<std::vector<std::pair<std::string, int64_t>>> copyInto(MirrorStore& target);

 private:
  explicit MirrorStore(Database db) : db_(std::move(db)) {}

  static Result<MirrorStore> opened(Result<Database> db, bool read_only);
  Result<void> loadAccountId();

  Database db_;
  std::string account_id_;
  bool read_only_ = false;
  bool grouped_ = false;
};

}  // namespace tmirror::store
