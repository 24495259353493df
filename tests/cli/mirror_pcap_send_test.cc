// `tmirror mirror-pcap --send`: the datagrams a UDP receiver on loopback gets. Only loopback
// addresses are used.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/mirror_inputs.h"
#include "cli/mirror_traffic.h"
#include "cli/tmirror_process.h"
#include "common/unique_fd.h"
#include "pcap/scratch_dir.h"

namespace tmirror::cli::testing {
namespace {

using pcap::testing::ScratchDir;
using tmirror::testing::toHex;

// A UDP socket bound to an ephemeral loopback port.
class LoopbackReceiver {
 public:
  // nullopt if the family is unavailable (no IPv6 on this host).
  static std::optional<LoopbackReceiver> bind(bool ipv6) {
    LoopbackReceiver receiver;
    receiver.fd_ = UniqueFd(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!receiver.fd_.valid()) {
      return std::nullopt;
    }
    sockaddr_storage address{};
    socklen_t length = 0;
    if (ipv6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&address);
      sa->sin6_family = AF_INET6;
      sa->sin6_addr = in6addr_loopback;
      length = sizeof(sockaddr_in6);
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&address);
      sa->sin_family = AF_INET;
      sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      length = sizeof(sockaddr_in);
    }
    if (::bind(receiver.fd_.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::getsockname(receiver.fd_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return std::nullopt;
    }
    receiver.port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    int buffer = 4 << 20;  // the sender does not wait for us
    ::setsockopt(receiver.fd_.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    return receiver;
  }

  uint16_t port() const { return port_; }

  // Every datagram that arrives until none has for `quiet_ms` (at most `limit`).
  std::vector<Frame> receiveAll(int quiet_ms = 500, std::size_t limit = 1000) {
    std::vector<Frame> datagrams;
    std::vector<std::byte> buffer(65536);
    while (datagrams.size() < limit) {
      pollfd pfd{fd_.get(), POLLIN, 0};
      if (::poll(&pfd, 1, quiet_ms) <= 0) {
        break;
      }
      const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) {
        break;
      }
      datagrams.emplace_back(buffer.begin(), buffer.begin() + n);
    }
    return datagrams;
  }

 private:
  LoopbackReceiver() = default;

  UniqueFd fd_;
  uint16_t port_ = 0;
};

Frame vxlanHeader(uint32_t vni) {
  return {std::byte{0x08},
          std::byte{0},
          std::byte{0},
          std::byte{0},
          static_cast<std::byte>(vni >> 16),
          static_cast<std::byte>(vni >> 8),
          static_cast<std::byte>(vni),
          std::byte{0}};
}

struct SendCase {
  const char* name;
  bool ipv6;
  uint32_t vni;
  std::optional<uint32_t> packet_length;
};

class MirrorPcapSend : public ::testing::TestWithParam<SendCase> {};

TEST_P(MirrorPcapSend, EachDatagramIsVxlanHeaderAndInnerFrame) {
  const SendCase& c = GetParam();
  auto receiver = LoopbackReceiver::bind(c.ipv6);
  if (!receiver) {
    GTEST_SKIP() << "cannot bind a UDP socket on " << (c.ipv6 ? "[::1]" : "127.0.0.1");
  }
  ScratchDir dir;
  const std::vector<TrafficFrame> frames = bothDirectionsTraffic();
  writePcap(dir.file("in.pcap"), bytesOf(frames));
  SessionSpec session{.number = 1, .vni = c.vni};
  session.packet_length = c.packet_length;
  writeJson(dir.file("cfg.json"), hostConfig({session}));
  const std::string destination = (c.ipv6 ? std::string("[::1]:") : std::string("127.0.0.1:")) +
                                  std::to_string(receiver->port());

  const ProcessResult run = runTmirror({"mirror-pcap", "-r", dir.file("in.pcap").string(), "-c",
                                        dir.file("cfg.json").string(), "--send", destination});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const Json summary = parseSummary(run.out);
  ASSERT_TRUE(summary.contains("CopiesSent")) << run.out;
  EXPECT_EQ(summary["CopiesSent"], frames.size());
  EXPECT_EQ(summary["CopiesWritten"], 0);

  const std::vector<Frame> datagrams = receiver->receiveAll();
  EXPECT_EQ(summary["CopiesSent"], datagrams.size());
  ASSERT_EQ(datagrams.size(), frames.size());
  const Frame header = vxlanHeader(c.vni);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE("datagram " + std::to_string(i) + " (" + frames[i].name + ")");
    const std::size_t inner =
        std::min<std::size_t>(frames[i].bytes.size(), c.packet_length.value_or(65535));
    Frame expected = header;
    expected.insert(expected.end(), frames[i].bytes.begin(), frames[i].bytes.begin() + inner);
    EXPECT_EQ(toHex(datagrams[i]), toHex(expected));
  }
}

INSTANTIATE_TEST_SUITE_P(Loopback, MirrorPcapSend,
                         ::testing::Values(SendCase{"Ipv4MaxVni", false, 16777215, std::nullopt},
                                           SendCase{"Ipv4PacketLength200", false, 0x123456, 200},
                                           SendCase{"Ipv6VniZero", true, 0, std::nullopt}),
                         [](const ::testing::TestParamInfo<SendCase>& case_info) {
                           return std::string(case_info.param.name);
                         });

TEST(MirrorPcapSendAndWrite, SendAndOutputCarryTheSameCopies) {
  auto receiver = LoopbackReceiver::bind(false);
  ASSERT_TRUE(receiver.has_value());
  ScratchDir dir;
  const std::vector<TrafficFrame> frames = bothDirectionsTraffic();
  writePcap(dir.file("in.pcap"), bytesOf(frames));
  writeJson(dir.file("cfg.json"), hostConfig({SessionSpec{}}));
  const ProcessResult run = runTmirror(
      {"mirror-pcap", "-r", dir.file("in.pcap").string(), "-c", dir.file("cfg.json").string(), "-w",
       dir.file("out.pcap").string(), "--send", "127.0.0.1:" + std::to_string(receiver->port())});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const Json summary = parseSummary(run.out);
  EXPECT_EQ(summary["CopiesSent"], frames.size());
  EXPECT_EQ(summary["CopiesWritten"], frames.size());
  const std::vector<Frame> datagrams = receiver->receiveAll();
  const std::vector<PcapRecord> records = readPcap(dir.file("out.pcap"));
  ASSERT_EQ(datagrams.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    // The record is [Ethernet 14][IPv4 20][UDP 8][datagram]; the kernel builds the first three.
    EXPECT_EQ(toHex(std::span(records[i].bytes).subspan(42)), toHex(datagrams[i])) << i;
  }
}

}  // namespace
}  // namespace tmirror::cli::testing
