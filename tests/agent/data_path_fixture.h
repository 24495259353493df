// A veth pair between two network namespaces, set up for watching an InterfaceWorker: the
// worker runs in "a" on tm0 (198.51.100.1), copies go to a UDP socket on 198.51.100.2:4789 in
// "b", and frames are injected with packet sockets on both ends (from tm1: ingress on tm0;
// from tm0: egress). Skips unless root.
#pragma once

#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "agent/interface_worker.h"
#include "netns_fixture.h"
#include "testing/packet_builder.h"

namespace tmirror::agent {

class DataPathLab : public ::testing::Test {
 protected:
  using Frame = std::vector<std::byte>;

  void SetUp() override {
    std::string why;
    if (!lab_.create(why)) {
      GTEST_SKIP() << why;
    }
    mac_a_ = lab_.mac("a", "tm0");
    mac_b_ = lab_.mac("b", "tm1");
    ASSERT_TRUE(lab_.enter("b"));
    receiver_ = testing::NetnsPair::udpReceiver(0xC6336402, 4789);  // 198.51.100.2
    ASSERT_TRUE(receiver_.valid());
    injector_b_ = packetSocket("tm1");
    ASSERT_TRUE(lab_.enter("a"));
    injector_a_ = packetSocket("tm0");
  }

  void TearDown() override {
    if (worker_) {
      worker_->stop();
    }
    lab_.destroy();
  }

  static UniqueFd packetSocket(const char* device) {
    UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_ifindex = static_cast<int>(::if_nametoindex(device));
    address.sll_protocol = 0;
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return fd;
  }

  static void inject(const UniqueFd& fd, const Frame& frame) {
    ASSERT_EQ(::send(fd.get(), frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
  }

  Frame ingressFrame(uint16_t dport, std::size_t payload, std::optional<uint16_t> vlan = {},
                     const char* source = "198.51.100.2") {
    testing::PacketBuilder b;
    b.macs(packet::formatMacAddress(mac_a_), packet::formatMacAddress(mac_b_));
    if (vlan) {
      b.vlan(*vlan);
    }
    return b.ipv4(source, "198.51.100.1").udp(5000, dport).payload(payload).build();
  }

  Frame egressFrame(uint16_t sport, std::size_t payload) {
    return testing::PacketBuilder()
        .macs(packet::formatMacAddress(mac_b_), packet::formatMacAddress(mac_a_))
        .ipv4("198.51.100.1", "198.51.100.2")
        .udp(sport, 5000)
        .payload(payload)
        .build();
  }

  // VXLAN payloads received in namespace b until `count` arrived or a quiet second passed.
  std::vector<Frame> receive(std::size_t count) {
    return testing::NetnsPair::readDatagrams(receiver_, count, 1000);
  }

  testing::NetnsPair lab_;
  packet::MacAddress mac_a_{}, mac_b_{};
  UniqueFd receiver_, injector_a_, injector_b_;
  std::unique_ptr<InterfaceWorker> worker_;
};

}  // namespace tmirror::agent
