// ServerRegistration against a stand-in server on 127.0.0.1: the collector's reports carry what
// it received per mirror session, named by the sessions the server gave it, even when copies
// arrived before it knew their session.
#include "collector/server_registration.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http/listener.h"
#include "model/agent_protocol.h"

namespace tmirror::collector {
namespace {

using std::chrono::milliseconds;

// Answers registration, collector-sessions and counters as the agent channel does, and keeps
// every counters report. It serves no session until told to.
class StandInServer final : public http::Handler {
 public:
  void serve(http::Request request, http::Responder respond) override {
    const std::string path(request.path());
    std::lock_guard lock(mutex_);
    if (path == "/agent/v1/register") {
      model::RegisterResponse answer;
      answer.instance_id = "i-0c011ec7000000000";
      answer.interfaces.push_back({"lo", {}, "eni-0c011ec7000000000"});
      respond(json(model::registerResponseToJson(answer)));
    } else if (path == "/agent/v1/collector-sessions") {
      respond(json(model::collectorSessionsToJson(sessions_)));
    } else if (path == "/agent/v1/counters") {
      if (auto report = model::parseCountersReport(request.body)) {
        reports_.push_back(std::move(*report));
      }
      respond(json(model::countersAnswerToJson({1, milliseconds(1000)})));
    } else {
      respond({.status = 404});
    }
  }

  http::Response refusal(http::Refusal) override { return {.status = 400, .close = true}; }

  void serveSessions(std::vector<model::CollectorSession> sessions) {
    std::lock_guard lock(mutex_);
    sessions_ = std::move(sessions);
  }

  std::vector<model::CountersReport> reports() const {
    std::lock_guard lock(mutex_);
    return reports_;
  }

 private:
  static http::Response json(std::string body) {
    return {.status = 200, .content_type = "application/json", .body = std::move(body)};
  }

  mutable std::mutex mutex_;
  std::vector<model::CollectorSession> sessions_;
  std::vector<model::CountersReport> reports_;
};

// The first report (after `after` reports) that `ok` accepts, waiting up to 10 s.
template <typename Predicate>
std::optional<model::CountersReport> awaitReport(const StandInServer& server, std::size_t after,
                                                 Predicate ok) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto reports = server.reports();
    for (std::size_t i = after; i < reports.size(); ++i) {
      if (ok(reports[i])) {
        return reports[i];
      }
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return std::nullopt;
}

const model::ResourceCounters* sessionItem(const model::CountersReport& report,
                                           const std::string& id) {
  for (const auto& s : report.sessions) {
    if (s.id == id) {
      return &s;
    }
  }
  return nullptr;
}

uint64_t countOf(const model::ResourceCounters& item, const std::string& name) {
  for (const auto& [n, value] : item.counts) {
    if (n == name) {
      return value;
    }
  }
  ADD_FAILURE() << item.id << " has no " << name;
  return 0;
}

TEST(ServerRegistrationTest, ReportsWhatArrivedPerSessionOnceTheServerNamesTheVni) {
  StandInServer server;
  auto listener = http::HttpListener::create({}, server);
  ASSERT_TRUE(listener) << listener.error().message;
  ASSERT_TRUE((*listener)->start());
  const http::ServerTrust trust;
  auto servers =
      http::ServerList::parse({"http://127.0.0.1:" + std::to_string((*listener)->port())}, trust);
  ASSERT_TRUE(servers) << servers.error().message;

  // Copies of VNI 5 from two senders, and of VNI 9, arrive before the server named any session.
  SessionTable table(16);
  const auto sender = [](const char* ip) { return *packet::parseIpAddress(ip); };
  ReceivedSession* a = table.findOrCreate({sender("198.51.100.1"), 5});
  ReceivedSession* b = table.findOrCreate({sender("198.51.100.2"), 5});
  ReceivedSession* other = table.findOrCreate({sender("198.51.100.1"), 9});
  ASSERT_TRUE(a && b && other);
  a->packets = 3;
  a->bytes = 300;
  b->packets = 4;
  b->bytes = 440;
  other->packets = 50;

  LocalInterface interface;
  interface.name = "lo";
  interface.ipv4 = packet::IpAddress::v4(0x7F000001);
  ServerRegistration registration(
      *servers, trust, "tma-test", "collector-test-key-0123456789", interface, 4789,
      [] {
        return std::map<std::string, double>{{"CollectorDatagrams", 57}};
      },
      milliseconds(20));
  registration.onSessions(
      [&table](std::map<uint32_t, SessionMetadata> m) { table.setServerMetadata(std::move(m)); });
  registration.reportSessions(
      [&table](std::size_t max_ids) { return table.totalsBySessionId(max_ids); });
  registration.start();

  // Before the server names a session: the interface's item alone, as ever.
  const auto first = awaitReport(server, 0, [](const auto&) { return true; });
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->instance_id.empty()) << "a collector's report";
  ASSERT_EQ(first->interfaces.size(), 1u);
  EXPECT_EQ(first->interfaces[0].id, "eni-0c011ec7000000000");
  EXPECT_EQ(first->interfaces[0].counts,
            (std::vector<std::pair<std::string, uint64_t>>{{"CollectorHealthy", 1}}));
  EXPECT_TRUE(first->sessions.empty());

  // The server names VNI 5 (and VNI 6, whose copies have not come): the sessions created before
  // take the name at report time.
  model::CollectorSession received{.session_id = "tms-0000000000000005", .virtual_network_id = 5};
  model::CollectorSession silent{.session_id = "tms-0000000000000006", .virtual_network_id = 6};
  server.serveSessions({received, silent});
  const std::size_t seen = server.reports().size();
  const auto named =
      awaitReport(server, seen, [](const model::CountersReport& r) { return !r.sessions.empty(); });
  ASSERT_TRUE(named);
  ASSERT_EQ(named->sessions.size(), 2u) << "VNI 9 is no session's";
  const auto* five = sessionItem(*named, "tms-0000000000000005");
  ASSERT_NE(five, nullptr);
  EXPECT_EQ(countOf(*five, "CollectorDatagrams"), 7u) << "both senders";
  EXPECT_EQ(countOf(*five, "CollectorBytes"), 740u);
  const auto* six = sessionItem(*named, "tms-0000000000000006");
  ASSERT_NE(six, nullptr);
  EXPECT_EQ(countOf(*six, "CollectorDatagrams"), 0u) << "known, and nothing arrived";
  EXPECT_EQ(named->interfaces.size(), 1u);

  // Totals since the start: later copies add to them.
  a->packets += 10;
  const auto later = awaitReport(server, seen, [](const model::CountersReport& r) {
    const auto* item = sessionItem(r, "tms-0000000000000005");
    return item != nullptr && countOf(*item, "CollectorDatagrams") == 17;
  });
  EXPECT_TRUE(later) << "the later copies never reached a report";
}

}  // namespace
}  // namespace tmirror::collector
