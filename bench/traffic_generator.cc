// A fast, rate-controlled UDP frame generator for the agent benchmark (bench/agent_benchmark.py).
//
// Raw AF_PACKET socket with PACKET_QDISC_BYPASS, frames built once per flow, sent with
// sendmmsg() in batches; the rate is kept by comparing frames sent with rate x elapsed time.
// Prints one JSON line: {"sent":N,"errors":N,"seconds":S,"pps":R}.
//
//   traffic_generator --interface eth0 --dst-mac 02:00:00:00:00:11 --src-ip 198.51.100.10
//       --dst-ip 198.51.100.99 --size 64 --rate 200000 --duration 2 --flows 256 --cpu 0
//
// --gso-size N sends UDP GSO super-frames (up to 64 KiB) instead: each frame goes with a
// virtio_net_hdr (PACKET_VNET_HDR) saying UDP_L4 segmentation at N payload bytes, checksum
// partial, as a local UDP_SEGMENT sender's frames reach the device. On a veth with
// segmentation offloads on, the peer receives them whole, as a capture sees super-frames.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void onSignal(int) {
  g_stop = 1;
}

struct Options {
  std::string interface = "eth0";
  std::array<uint8_t, 6> dst_mac{};
  std::array<uint8_t, 6> src_mac{};
  bool have_src_mac = false;
  in_addr src_ip{};
  in_addr dst_ip{};
  uint16_t dst_port = 9;
  size_t size = 64;
  double rate = 0;  // frames per second; 0 = as fast as possible
  double duration = 1.0;
  unsigned flows = 256;
  unsigned batch = 64;
  int cpu = -1;
  unsigned gso_size = 0;  // UDP GSO super-frames with this segment payload; 0: plain frames
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "traffic_generator: %s\n"
               "usage: traffic_generator --dst-mac MAC --src-ip A --dst-ip B [--interface IF]\n"
               "  [--src-mac MAC] [--dst-port P] [--size BYTES (60-9000, no FCS)]\n"
               "  [--rate PPS (0 = max)] [--duration S] [--flows N] [--batch N] [--cpu N]\n"
               "  [--gso-size N (UDP GSO super-frames, --size up to 65549)]\n",
               why);
  std::exit(2);
}

bool parseMac(std::string_view text, std::array<uint8_t, 6>& mac) {
  unsigned v[6];
  if (std::sscanf(std::string(text).c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
                  &v[5]) != 6) {
    return false;
  }
  for (int i = 0; i < 6; ++i) {
    if (v[i] > 255)
      return false;
    mac[static_cast<size_t>(i)] = static_cast<uint8_t>(v[i]);
  }
  return true;
}

Options parse(int argc, char** argv) {
  Options o;
  bool have_dst_mac = false, have_src = false, have_dst = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc)
      usage("missing value");
    std::string_view v = argv[++i];
    std::string s(v);
    if (a == "--interface") {
      o.interface = s;
    } else if (a == "--dst-mac") {
      have_dst_mac = parseMac(v, o.dst_mac);
      if (!have_dst_mac)
        usage("bad --dst-mac");
    } else if (a == "--src-mac") {
      o.have_src_mac = parseMac(v, o.src_mac);
      if (!o.have_src_mac)
        usage("bad --src-mac");
    } else if (a == "--src-ip") {
      have_src = inet_pton(AF_INET, s.c_str(), &o.src_ip) == 1;
    } else if (a == "--dst-ip") {
      have_dst = inet_pton(AF_INET, s.c_str(), &o.dst_ip) == 1;
    } else if (a == "--dst-port") {
      o.dst_port = static_cast<uint16_t>(std::stoul(s));
    } else if (a == "--size") {
      o.size = std::stoul(s);
    } else if (a == "--rate") {
      o.rate = std::stod(s);
    } else if (a == "--duration") {
      o.duration = std::stod(s);
    } else if (a == "--flows") {
      o.flows = static_cast<unsigned>(std::stoul(s));
    } else if (a == "--batch") {
      o.batch = static_cast<unsigned>(std::stoul(s));
    } else if (a == "--cpu") {
      o.cpu = std::stoi(s);
    } else if (a == "--gso-size") {
      o.gso_size = static_cast<unsigned>(std::stoul(s));
    } else {
      usage("unknown option");
    }
  }
  if (!have_dst_mac || !have_src || !have_dst)
    usage("--dst-mac, --src-ip, --dst-ip needed");
  if (o.size < 60 || o.size > (o.gso_size != 0 ? 65535u + 14 : 9000u))
    usage("--size must be 60..9000 (65549 with --gso-size)");
  if (o.gso_size != 0 && (o.gso_size < 8 || o.gso_size >= o.size - 42))
    usage("--gso-size must be below the UDP payload");
  if (o.flows == 0 || o.flows > 65536 || o.batch == 0 || o.batch > 1024)
    usage("bad counts");
  return o;
}

uint16_t ipChecksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2)
    sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// One Ethernet/IPv4/UDP frame per flow; flows differ in the UDP source port.
std::vector<uint8_t> buildFrames(const Options& o) {
  std::vector<uint8_t> all(o.size * o.flows, 0);
  for (unsigned f = 0; f < o.flows; ++f) {
    uint8_t* p = all.data() + f * o.size;
    std::memcpy(p, o.dst_mac.data(), 6);
    std::memcpy(p + 6, o.src_mac.data(), 6);
    put16(p + 12, ETHERTYPE_IP);
    uint8_t* ip = p + 14;
    size_t ip_len = o.size - 14;
    ip[0] = 0x45;
    put16(ip + 2, static_cast<uint16_t>(ip_len));
    put16(ip + 4, static_cast<uint16_t>(f));
    ip[8] = 64;
    ip[9] = IPPROTO_UDP;
    std::memcpy(ip + 12, &o.src_ip, 4);
    std::memcpy(ip + 16, &o.dst_ip, 4);
    put16(ip + 10, ipChecksum(ip, 20));
    uint8_t* udp = ip + 20;
    put16(udp, static_cast<uint16_t>(10000 + f));
    put16(udp + 2, o.dst_port);
    put16(udp + 4, static_cast<uint16_t>(ip_len - 20));
    for (size_t i = 8; i < ip_len - 20; ++i)
      udp[i] = static_cast<uint8_t>(i);
    if (o.gso_size != 0) {
      // Checksum partial: the field holds the pseudo-header sum, the device adds the rest.
      uint32_t sum = IPPROTO_UDP + static_cast<uint32_t>(ip_len - 20);
      for (int k = 12; k < 20; k += 2)
        sum += static_cast<uint32_t>(ip[k] << 8 | ip[k + 1]);
      while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
      put16(udp + 6, static_cast<uint16_t>(sum));
    }
  }
  return all;
}

// struct virtio_net_hdr, little-endian as the packet socket reads it.
std::array<uint8_t, 10> gsoHeader(unsigned gso_size) {
  std::array<uint8_t, 10> h{};
  h[0] = 1;                               // VIRTIO_NET_HDR_F_NEEDS_CSUM
  h[1] = 5;                               // VIRTIO_NET_HDR_GSO_UDP_L4
  h[2] = 42;                              // hdr_len: Ethernet + IPv4 + UDP
  h[4] = static_cast<uint8_t>(gso_size);  // gso_size
  h[5] = static_cast<uint8_t>(gso_size >> 8);
  h[6] = 34;  // csum_start: the UDP header
  h[8] = 6;   // csum_offset: its checksum field
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  if (o.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(o.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
      std::perror("sched_setaffinity");
  }
  int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: send only, receives nothing
  if (fd < 0) {
    std::perror("socket(AF_PACKET)");
    return 1;
  }
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0) {
    std::perror("PACKET_QDISC_BYPASS");
  }
  if (o.gso_size != 0 && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0) {
    std::perror("PACKET_VNET_HDR");
    return 1;
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  unsigned ifindex = if_nametoindex(o.interface.c_str());
  if (ifindex == 0) {
    std::perror(o.interface.c_str());
    return 1;
  }
  if (!o.have_src_mac) {
    ifreq req{};
    std::snprintf(req.ifr_name, sizeof req.ifr_name, "%s", o.interface.c_str());
    if (ioctl(fd, SIOCGIFHWADDR, &req) != 0) {
      std::perror("SIOCGIFHWADDR");
      return 1;
    }
    std::memcpy(o.src_mac.data(), req.ifr_hwaddr.sa_data, 6);
  }
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = static_cast<int>(ifindex);
  addr.sll_protocol = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("bind");
    return 1;
  }
  std::vector<uint8_t> frames = buildFrames(o);
  // Per flow: [virtio_net_hdr] (with --gso-size) and the frame.
  std::array<uint8_t, 10> vnet = gsoHeader(o.gso_size);
  const unsigned parts = o.gso_size != 0 ? 2 : 1;
  std::vector<iovec> iov(static_cast<size_t>(o.flows) * parts);
  for (unsigned f = 0; f < o.flows; ++f) {
    if (parts == 2)
      iov[f * parts] = {vnet.data(), vnet.size()};
    iov[f * parts + parts - 1] = {frames.data() + f * o.size, o.size};
  }
  std::vector<mmsghdr> msgs(o.batch);

  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(o.duration);
  uint64_t sent = 0, errors = 0;
  // Paced runs send a burst at most every millisecond (a whole batch at high rates).
  const uint64_t burst =
      o.rate > 0 ? std::clamp<uint64_t>(static_cast<uint64_t>(o.rate / 1000), 1, o.batch) : o.batch;
  unsigned next_flow = 0;
  while (!g_stop) {
    auto now = Clock::now();
    if (now >= end)
      break;
    uint64_t want = o.batch;
    if (o.rate > 0) {
      double due = std::chrono::duration<double>(now - start).count() * o.rate;
      uint64_t due_n = static_cast<uint64_t>(due);
      if (due_n < sent + burst) {
        // Sleep until a whole batch is due rather than spin: the generator's own CPU time then
        // stays small and its system time is mostly the receive path it drives (veth).
        double wait_s = (static_cast<double>(sent + burst) - due) / o.rate;
        if (wait_s > 60e-6) {
          std::this_thread::sleep_for(std::chrono::duration<double>(wait_s - 50e-6));
          continue;
        }
        if (due_n <= sent)
          continue;
      }
      want = std::min<uint64_t>(o.batch, due_n - sent);
    }
    for (uint64_t i = 0; i < want; ++i) {
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[next_flow * parts];
      msgs[i].msg_hdr.msg_iovlen = parts;
      next_flow = next_flow + 1 == o.flows ? 0 : next_flow + 1;
    }
    int n = sendmmsg(fd, msgs.data(), static_cast<unsigned>(want), 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      ++errors;  // ENOBUFS/EAGAIN: the device queue is full; count and go on
      continue;
    }
    sent += static_cast<uint64_t>(n);
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("{\"sent\":%llu,\"errors\":%llu,\"seconds\":%.6f,\"pps\":%.1f}\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(errors), secs,
              static_cast<double>(sent) / secs);
  close(fd);
  return 0;
}
