// A real Collector (the object `tmirror collect` runs) on loopback, fed over UDP with datagrams
// the agent's VxlanEncapsulator made; the pcapng files it writes are read back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "collector/collector.h"
#include "collector/collector_http.h"
#include "collector/socket_address.h"
#include "collector_test_util.h"
#include "packet/encapsulation.h"
#include "pcap/scratch_dir.h"
#include "pcap/tshark.h"

namespace tmirror::collector {
namespace {

using testing::filesIn;
using testing::makeFrame;
using testing::readCapture;

std::vector<std::byte> vxlanPayload(const std::vector<std::byte>& frame, uint32_t vni,
                                    uint32_t packet_length = 0) {
  packet::OuterPath path;
  path.mtu = 9000;
  const packet::VxlanEncapsulator encapsulator(path, vni, packet_length);
  packet::EncapSlot slot;
  packet::MirrorCopy copy;
  encapsulator.encapsulate(frame, packet::VlanTag{}, 1234, slot, copy);
  std::vector<std::byte> outer(copy.outerLength());
  copy.copyTo(outer);
  return {outer.begin() + 42, outer.end()};
}

class RunningCollector {
 public:
  explicit RunningCollector(CollectorOptions options) {
    auto created = Collector::create(options);
    if (!created) {
      ADD_FAILURE() << created.error().message;
      return;
    }
    collector_ = std::move(*created);
    thread_ = std::thread([this] { collector_->run(stop_); });
  }

  ~RunningCollector() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  Collector& operator*() { return *collector_; }

  Collector* operator->() { return collector_.get(); }

 private:
  std::unique_ptr<Collector> collector_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void sendTo(const packet::IpAddress& to, uint16_t port, const std::vector<std::byte>& payload) {
  const SocketAddress address = toSocketAddress(to, port);
  const int fd = ::socket(address.family(), SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::sendto(fd, payload.data(), payload.size(), 0, address.sockaddr(), address.length),
            static_cast<ssize_t>(payload.size()));
  ::close(fd);
}

// Waits until the collector has counted `n` datagrams (loopback delivery is asynchronous).
void waitForDatagrams(Collector& c, uint64_t n) {
  for (int i = 0; i < 500 && c.counters().datagrams() < n; ++i) {
    ::usleep(10'000);
  }
  EXPECT_EQ(c.counters().datagrams(), n);
}

struct Case {
  const char* name;
  const char* address;
  int threads;
};

class CollectorLoopback : public ::testing::TestWithParam<Case> {};

TEST_P(CollectorLoopback, TwoSessionsGoToTheirOwnFilesByteForByte) {
  pcap::testing::ScratchDir dir;
  CollectorOptions options;
  options.listen_address = *packet::parseIpAddress(GetParam().address);
  options.port = 0;
  options.threads = GetParam().threads;
  options.files = FileOutputOptions{};
  options.files->directory = dir.path();
  options.session_metadata[7].source_mac = packet::parseMacAddress("02:00:00:00:00:01");
  RunningCollector collector(options);
  ASSERT_NE(collector->port(), 0);

  std::vector<std::vector<std::byte>> vni7, vni8;
  for (uint32_t i = 0; i < 50; ++i) {
    vni7.push_back(makeFrame(60 + i * 29, i, i % 2 ? 0x01 : 0x02, i % 2 ? 0x02 : 0x01));
    vni8.push_back(makeFrame(1514, i + 1000));
    sendTo(options.listen_address, collector->port(), vxlanPayload(vni7.back(), 7));
    // Session 8 is truncated by the sender to 200 bytes: the file holds the prefix.
    sendTo(options.listen_address, collector->port(), vxlanPayload(vni8.back(), 8, 200));
  }
  waitForDatagrams(*collector, 100);
  collector.stop();

  const auto files = filesIn(dir.path(), ".pcapng");
  ASSERT_EQ(files.size(), 2u);
  const std::string sender = GetParam().address;
  const std::string label = sender == "::1" ? "--1" : sender;
  const auto& f7 = files[0].filename().string().starts_with(label + "-vni7-") ? files[0] : files[1];
  const auto& f8 = &f7 == &files[0] ? files[1] : files[0];
  const auto p7 = readCapture(f7);
  const auto p8 = readCapture(f8);
  ASSERT_EQ(p7.size(), 50u);
  ASSERT_EQ(p8.size(), 50u);
  // With several threads, one session's datagrams may be written out of order: match as sets.
  auto sortedData = [](const std::vector<testing::ReadPacket>& packets) {
    std::vector<std::vector<std::byte>> out;
    for (const auto& p : packets) {
      out.push_back(p.data);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  auto sorted7 = vni7;
  std::sort(sorted7.begin(), sorted7.end());
  EXPECT_EQ(sortedData(p7), sorted7);
  for (std::size_t i = 0; i < 50; ++i) {
    if (GetParam().threads == 1) {
      EXPECT_EQ(p7[i].data, vni7[i]) << i;
      EXPECT_EQ(p8[i].data, std::vector<std::byte>(vni8[i].begin(), vni8[i].begin() + 200));
      EXPECT_EQ(p7[i].direction,
                i % 2 ? packet::PacketDirection::Outbound : packet::PacketDirection::Inbound);
    }
  }
  if (pcap::testing::haveTshark()) {
    EXPECT_EQ(testing::runQuiet("capinfos '" + f7.string() + "'"), 0);
    const auto vnis = pcap::testing::tsharkFields(f8, "frame.interface_name");
    ASSERT_TRUE(vnis);
    EXPECT_EQ(vnis->front(), "tmirror-8");
  }
}

INSTANTIATE_TEST_SUITE_P(Listeners, CollectorLoopback,
                         ::testing::Values(Case{"ipv4", "127.0.0.1", 1}, Case{"ipv6", "::1", 1},
                                           Case{"two_threads", "127.0.0.1", 2}),
                         [](const auto& test) { return std::string(test.param.name); });

TEST(CollectorCounters, JsonCountsDropsAndSessions) {
  pcap::testing::ScratchDir dir;
  CollectorOptions options;
  options.listen_address = packet::IpAddress::v4(0x7F000001);
  options.port = 0;
  options.files = FileOutputOptions{};
  options.files->directory = dir.path();
  options.admission.denied_vnis = {66};
  RunningCollector collector(options);
  sendTo(options.listen_address, collector->port(), vxlanPayload(makeFrame(60, 1), 65));
  sendTo(options.listen_address, collector->port(), vxlanPayload(makeFrame(60, 1), 66));
  sendTo(options.listen_address, collector->port(), std::vector<std::byte>(3));
  waitForDatagrams(*collector, 3);
  const std::string json = countersJson(*collector);
  EXPECT_NE(json.find("\"vni_denied\":1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"short_packet\":1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"vni\":65"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"vni\":66"), std::string::npos) << json;
}

class CountingSink : public FrameSink {
 public:
  void write(ReceivedSession&, const ReceivedFrame&) override { ++frames; }

  uint64_t frames = 0;
};

TEST(UdpReceiver, KernelDropsOnAFullSocketAreCountedAsSocketOverflow) {
  // A tiny receive buffer, filled while nobody reads: the kernel drops most of the burst, and
  // SO_RXQ_OVFL reports the count on the next datagram queued.
  auto receiver = UdpReceiver::open({packet::IpAddress::v4(0x7F000001), 0, 4096});
  ASSERT_TRUE(receiver) << receiver.error().message;
  AdmissionPolicy admission;
  SessionTable sessions;
  CollectorCounters counters;
  CountingSink sink;
  FrameSink* sinks[] = {&sink};
  ReceivePath path(admission, sessions, counters, sinks);
  const auto payload = vxlanPayload(makeFrame(1000, 1), 3);
  constexpr int kBurst = 200;
  for (int i = 0; i < kBurst; ++i) {
    sendTo(packet::IpAddress::v4(0x7F000001), receiver->localPort(), payload);
  }
  while (receiver->receiveBatch(path, counters, 0) > 0) {
  }
  const uint64_t first = counters.datagrams();
  EXPECT_LT(first, static_cast<uint64_t>(kBurst));
  sendTo(packet::IpAddress::v4(0x7F000001), receiver->localPort(), payload);
  EXPECT_EQ(receiver->receiveBatch(path, counters, 1000), 1);
  EXPECT_EQ(counters.drops(DropReason::SocketOverflow), kBurst - first);
  EXPECT_EQ(sink.frames, first + 1);
}

}  // namespace
}  // namespace tmirror::collector
