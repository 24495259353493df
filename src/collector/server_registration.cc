#include "collector/server_registration.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <netpacket/packet.h>

#include "collector/collector_log.h"
#include "collector/socket_address.h"
#include "common/random.h"
#include "common/unique_fd.h"
#include "model/agent_protocol.h"

namespace tmirror::collector {

namespace {

constexpr std::chrono::seconds kRequestTimeout{10};

struct IfaddrsDeleter {
  void operator()(ifaddrs* p) const { freeifaddrs(p); }
};

int interfaceMtu(const std::string& name) {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (s.valid() && ::ioctl(s.get(), SIOCGIFMTU, &ifr) == 0) {
    return ifr.ifr_mtu;
  }
  return 1500;
}

}  // namespace

Result<LocalInterface> findLocalInterface(const packet::IpAddress& address) {
  ifaddrs* raw = nullptr;
  if (::getifaddrs(&raw) != 0) {
    return makeSystemError("getifaddrs", errno);
  }
  std::unique_ptr<ifaddrs, IfaddrsDeleter> list(raw);
  const bool wildcard = address.value == 0;
  std::map<std::string, LocalInterface> by_name;
  std::string chosen;
  for (ifaddrs* a = list.get(); a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) {
      continue;
    }
    LocalInterface& i = by_name[a->ifa_name];
    i.name = a->ifa_name;
    const int family = a->ifa_addr->sa_family;
    if (family == AF_PACKET) {
      sockaddr_ll ll{};
      std::memcpy(&ll, a->ifa_addr, sizeof ll);
      for (int k = 0; k < 6 && k < ll.sll_halen; ++k) {
        i.mac.octets[k] = ll.sll_addr[k];
      }
      continue;
    }
    if (family != AF_INET && family != AF_INET6) {
      continue;
    }
    sockaddr_storage storage{};
    std::memcpy(&storage, a->ifa_addr,
                family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    const packet::IpAddress ip = fromSocketAddress(storage);
    if (ip.family == packet::IpFamily::V4 && !i.ipv4) {
      i.ipv4 = ip;
    } else if (ip.family == packet::IpFamily::V6 && !i.ipv6) {
      i.ipv6 = ip;
    }
    const bool usable = (a->ifa_flags & IFF_UP) != 0 && (a->ifa_flags & IFF_LOOPBACK) == 0;
    if (chosen.empty() &&
        (wildcard ? usable && ip.family == packet::IpFamily::V4 : ip == address)) {
      chosen = a->ifa_name;
    }
  }
  if (chosen.empty()) {
    return makeError(ErrorCode::NotFound,
                     "no local interface holds " + packet::formatIpAddress(address));
  }
  LocalInterface out = by_name[chosen];
  if (!wildcard) {
    // Register the address the collector listens on, not another one of the interface's.
    (address.family == packet::IpFamily::V4 ? out.ipv4 : out.ipv6) = address;
  }
  // Loopback's 65536 is beyond what an IPv4 path MTU can be (and what the server accepts).
  out.mtu = static_cast<uint32_t>(std::min(interfaceMtu(chosen), 65535));
  return out;
}

std::string registrationBody(const std::string& host_key, const std::string& hostname,
                             const LocalInterface& interface,
                             const std::string& load_balancer_arn) {
  model::RegisterRequest request;
  request.host_key = host_key;
  request.hostname = hostname;
  request.role = model::HostRole::Collector;
  request.interfaces.push_back(interface);
  if (!load_balancer_arn.empty()) {
    request.load_balancer_arn = load_balancer_arn;
  }
  return model::registerRequestToJson(request);
}

ServerRegistration::ServerRegistration(http::ServerList servers, http::ServerTrust trust,
                                       std::string token, std::string host_key,
                                       LocalInterface interface, uint16_t vxlan_port,
                                       CounterSource counters, std::chrono::milliseconds interval,
                                       std::string load_balancer_arn)
    : load_balancer_arn_(std::move(load_balancer_arn)),
      servers_(std::move(servers)),
      trust_(std::move(trust)),
      token_(std::move(token)),
      host_key_(std::move(host_key)),
      interface_(std::move(interface)),
      vxlan_port_(vxlan_port),
      counters_(std::move(counters)),
      interval_(interval) {}

ServerRegistration::~ServerRegistration() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

http::ServerClient& ServerRegistration::client() {
  if (client_ == nullptr || client_server_ != servers_.index()) {
    client_server_ = servers_.index();
    client_ = std::make_unique<http::ServerClient>(servers_.url(client_server_), trust_, token_);
  }
  return *client_;
}

void ServerRegistration::failed(const std::string& why) {
  const std::size_t server = client_server_;
  if (servers_.failedAt(server)) {
    logger().warn("{}: {}; going on with {}", servers_.text(server), why,
                  servers_.text(servers_.index()));
  }
}

void ServerRegistration::start() {
  thread_ = std::thread([this] { loop(); });
}

RegistrationState ServerRegistration::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

bool ServerRegistration::registerOnce(std::chrono::milliseconds retry) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  // Known by its own key: collectors that share a host name and port (containers, cloned
  // VMs, namespaces) are still separate instances and interfaces.
  auto res = client().postJson("/agent/v1/register",
                               registrationBody(host_key_, host, interface_, load_balancer_arn_),
                               kRequestTimeout);
  if (!res || res->status != 200) {
    const std::string why =
        res ? model::describeRefusal(res->status, res->body) : res.error().message;
    if (why != last_error_) {  // one line per new problem, not one per retry
      logger().warn("registering with {} failed: {}; retrying in {:.1f} s",
                    servers_.text(client_server_), why,
                    static_cast<double>(retry.count()) / 1000.0);
      last_error_ = why;
    }
    failed(why);
    return false;
  }
  const auto answer = model::parseRegisterResponse(res->body);
  if (!answer || answer->interfaces.empty()) {
    logger().error("unexpected registration answer from {}", servers_.text(client_server_));
    return false;
  }
  std::lock_guard lock(mutex_);
  state_.instance_id = answer->instance_id;
  state_.network_interface_id = answer->interfaces.front().network_interface_id;
  last_error_.clear();
  logger().info("registered as {}, interface {} ({}) is {}", state_.instance_id, interface_.name,
                interface_.ipv4 ? packet::formatIpAddress(*interface_.ipv4) : "-",
                state_.network_interface_id);
  return true;
}

void ServerRegistration::fetchSessions() {
  if (!on_sessions_) {
    return;
  }
  auto res = client().get(
      "/agent/v1/collector-sessions?network-interface-id=" + state().network_interface_id,
      kRequestTimeout);
  if (!res || res->status != 200) {
    return;
  }
  const auto sessions = model::parseCollectorSessions(res->body);
  if (!sessions) {
    return;
  }
  std::map<uint32_t, SessionMetadata> out;
  for (const auto& s : *sessions) {
    SessionMetadata m;
    m.session_id = s.session_id;
    m.interface_id = s.network_interface_id;
    m.source_mac = s.mac;
    out[s.virtual_network_id] = std::move(m);
  }
  on_sessions_(std::move(out));
}

bool ServerRegistration::reportOnce() {
  // Its health, and its counters as the server's metrics.
  model::ResourceCounters item;
  item.id = state().network_interface_id;
  item.counts.emplace_back("CollectorHealthy", 1);
  for (const auto& [name, value] : counters_()) {
    item.values.emplace_back(name, value);
  }
  model::CountersReport report;
  report.interfaces.push_back(std::move(item));
  // Totals since the collector started, as the agents report theirs: the server takes the
  // differences, and a lost report loses nothing.
  if (session_totals_) {
    for (const auto& [session_id, totals] : session_totals_(model::kMaxCounterItems)) {
      model::ResourceCounters session;
      session.id = session_id;
      session.counts = {{"CollectorDatagrams", totals.packets}, {"CollectorBytes", totals.bytes}};
      report.sessions.push_back(std::move(session));
    }
  }
  auto res =
      client().postJson("/agent/v1/counters", model::countersReportToJson(report), kRequestTimeout);
  if (!res || res->status != 200) {
    failed(res ? model::describeRefusal(res->status, res->body) : res.error().message);
    return false;
  }
  std::lock_guard lock(mutex_);
  ++state_.health_reports;
  return true;
}

void ServerRegistration::loop() {
  bool registered = false;
  bool warned = false;
  int failures = 0;
  for (;;) {
    std::chrono::milliseconds wait = interval_;
    if (!registered) {
      wait = retryDelay(failures + 1);
      registered = registerOnce(wait);
      if (registered) {
        failures = 0;
        wait = interval_;
        fetchSessions();
      } else {
        ++failures;
      }
    } else if (reportOnce()) {
      fetchSessions();  // sessions made since: their files get their ids and direction
    } else if (!warned) {
      logger().warn("health report to {} failed; will retry every {} s",
                    servers_.text(client_server_),
                    std::chrono::duration_cast<std::chrono::seconds>(interval_).count());
      warned = true;
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, wait, [this] { return stopping_; })) {
      return;
    }
  }
}

}  // namespace tmirror::collector
