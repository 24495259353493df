// vxlan_sender: a fast VXLAN traffic generator for bench/collector_benchmark.py. Sends
// [VXLAN header][64-byte inner Ethernet frame] UDP datagrams with sendmmsg batches at a fixed
// offered rate, from several source ports (so SO_REUSEPORT spreads them), for a duration; prints
// one JSON line: {"sent": N, "seconds": S}.
//
//   vxlan_sender ADDRESS PORT RATE_PPS SECONDS [INNER_BYTES] [VNI] [SOURCE_PORTS] [VNI_COUNT]
//
// With VNI_COUNT > 1 the datagrams cycle through VNIs VNI .. VNI + VNI_COUNT - 1 (one session
// each at the collector), and the sender stops after COUNT datagrams when SECONDS is negative
// (-COUNT): one frame per session.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "packet/vxlan.h"

namespace {

constexpr int kBatch = 64;

double now() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: %s ADDRESS PORT RATE_PPS SECONDS [INNER_BYTES] [VNI] [SOURCE_PORTS] "
                 "[VNI_COUNT]\n",
                 argv[0]);
    return 2;
  }
  const char* address = argv[1];
  const int port = std::atoi(argv[2]);
  const double rate = std::atof(argv[3]);
  const double seconds = std::atof(argv[4]);
  const std::size_t inner_bytes = argc > 5 ? std::strtoul(argv[5], nullptr, 10) : 64;
  const uint32_t vni = argc > 6 ? static_cast<uint32_t>(std::strtoul(argv[6], nullptr, 10)) : 42;
  const int sockets = argc > 7 ? std::atoi(argv[7]) : 8;
  const uint32_t vni_count =
      argc > 8 ? std::max<uint32_t>(1, static_cast<uint32_t>(std::strtoul(argv[8], nullptr, 10)))
               : 1;
  // SECONDS < 0: send exactly -SECONDS datagrams (as fast as RATE allows), then stop.
  const uint64_t limit = seconds < 0 ? static_cast<uint64_t>(-seconds) : 0;

  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address, &to.sin_addr) != 1) {
    std::fprintf(stderr, "not an IPv4 address: %s\n", address);
    return 2;
  }
  std::vector<int> fds;
  for (int i = 0; i < sockets; ++i) {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      std::perror("socket");
      return 1;
    }
    const int bytes = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    fds.push_back(fd);
  }
  // One datagram per batch slot, the inner frame's bytes varying per slot.
  const std::size_t size = tmirror::packet::kVxlanHeaderSize + inner_bytes;
  std::vector<std::byte> payloads(size * kBatch);
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> messages{};
  for (int i = 0; i < kBatch; ++i) {
    std::byte* p = payloads.data() + size * static_cast<std::size_t>(i);
    tmirror::packet::writeVxlanHeader(std::span<std::byte, 8>(p, 8), vni);
    for (std::size_t k = 0; k < inner_bytes; ++k) {
      p[8 + k] = static_cast<std::byte>((k < 12 ? 0x02 : k * 7 + static_cast<std::size_t>(i)));
    }
    if (inner_bytes >= 14) {
      p[8 + 12] = std::byte{0x08};  // EtherType IPv4 (the rest is filler)
      p[8 + 13] = std::byte{0x00};
    }
    iov[i] = iovec{p, size};
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  const double start = now();
  const double end = limit != 0 ? start + 3600 : start + seconds;
  uint64_t next_vni = 0;
  uint64_t sent = 0;
  uint64_t batches = 0;
  while (true) {
    const double t = now();
    if (t >= end) {
      break;
    }
    // Stay on the offered rate: wait until this batch is due.
    const double due = start + static_cast<double>(sent + kBatch) / rate;
    if (due > t) {
      if (due - t > 100e-6) {
        timespec pause{0, static_cast<long>((due - t - 50e-6) * 1e9)};
        nanosleep(&pause, nullptr);
      }
      continue;
    }
    if (limit != 0 && sent >= limit) {
      break;
    }
    const unsigned count =
        limit != 0 ? static_cast<unsigned>(std::min<uint64_t>(kBatch, limit - sent)) : kBatch;
    if (vni_count > 1) {
      for (unsigned i = 0; i < count; ++i) {
        std::byte* p = payloads.data() + size * i;
        tmirror::packet::writeVxlanHeader(std::span<std::byte, 8>(p, 8),
                                          vni + static_cast<uint32_t>((next_vni + i) % vni_count));
      }
    }
    const int fd = fds[batches++ % fds.size()];
    const int n = sendmmsg(fd, messages.data(), count, 0);
    if (n > 0) {
      next_vni += static_cast<uint64_t>(n);
    }
    if (n > 0) {
      sent += static_cast<uint64_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
      std::perror("sendmmsg");
      return 1;
    }
  }
  std::printf("{\"sent\": %llu, \"seconds\": %.6f}\n", static_cast<unsigned long long>(sent),
              now() - start);
  return 0;
}
