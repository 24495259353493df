#include "agent/capture_ring.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

namespace tmirror::agent {

namespace {

// struct virtio_net_hdr (linux/virtio_net.h), little-endian as the packet socket writes it.
constexpr std::size_t kVirtioNetHeaderSize = 10;
constexpr uint8_t kVirtioNeedsChecksum = 1;
constexpr uint8_t kVirtioGsoTcpv4 = 1;
constexpr uint8_t kVirtioGsoUdp = 3;  // UFO: IP fragmentation, not segmentation
constexpr uint8_t kVirtioGsoTcpv6 = 4;
constexpr uint8_t kVirtioGsoUdpL4 = 5;
constexpr uint8_t kVirtioGsoEcn = 0x80;

uint16_t loadLe16(const std::byte* p) {
  return static_cast<uint16_t>(static_cast<uint16_t>(p[0]) | (static_cast<uint16_t>(p[1]) << 8));
}

packet::Offload offloadFromVirtio(const std::byte* header) {
  packet::Offload o;
  const auto flags = static_cast<uint8_t>(header[0]);
  const auto type = static_cast<uint8_t>(static_cast<uint8_t>(header[1]) & ~kVirtioGsoEcn);
  o.checksum_partial = (flags & kVirtioNeedsChecksum) != 0;
  o.gso_size = loadLe16(header + 4);
  switch (type) {
    case 0:
      o.gso = packet::GsoKind::None;
      break;
    case kVirtioGsoTcpv4:
    case kVirtioGsoTcpv6:
      o.gso = packet::GsoKind::Tcp;
      break;
    case kVirtioGsoUdpL4:
      o.gso = packet::GsoKind::Udp;
      break;
    case kVirtioGsoUdp:
    default:  // UFO, UDP tunnels (newer kernels)
      o.gso = packet::GsoKind::Other;
      break;
  }
  return o;
}

}  // namespace

void decodeFrameHeader(const tpacket3_hdr& header, const std::byte* frame_base, CapturedFrame& out,
                       OffloadSource source) {
  out.data = packet::Bytes(frame_base + header.tp_mac, header.tp_snaplen);
  out.wire_length = header.tp_len;
  out.tag.present = (header.tp_status & TP_STATUS_VLAN_VALID) != 0;
  out.tag.tci = header.hv1.tp_vlan_tci;
  out.tag.tpid = (header.tp_status & TP_STATUS_VLAN_TPID_VALID) != 0 && header.hv1.tp_vlan_tpid
                     ? header.hv1.tp_vlan_tpid
                     : 0x8100;
  // The kernel puts a sockaddr_ll right after the (aligned) frame header.
  const auto* address =
      reinterpret_cast<const sockaddr_ll*>(frame_base + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
  out.packet_type = address->sll_pkttype;
  out.timestamp_ns = static_cast<int64_t>(header.tp_sec) * 1'000'000'000 + header.tp_nsec;
  if (source.vnet_header) {
    // The kernel writes the header right before the frame (tp_mac moves past it).
    out.offload = header.tp_mac >= kVirtioNetHeaderSize
                      ? offloadFromVirtio(frame_base + header.tp_mac - kVirtioNetHeaderSize)
                      : packet::Offload{};
    return;
  }
  out.offload = packet::Offload{};
  out.offload.checksum_partial = (header.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
  // Longer than the MTU allows, even with two tags in the frame: a super-frame.
  if (source.mtu != 0 && header.tp_len > source.mtu + 14 + 8) {
    out.offload.gso_from_mtu = true;
    out.offload.mtu = static_cast<uint16_t>(std::min<uint32_t>(source.mtu, 65535));
  }
}

Result<CaptureRing> CaptureRing::open(const std::string& interface, const RingOptions& options) {
  const long page = ::sysconf(_SC_PAGESIZE);
  if (options.block_size < kMinBlockSize || options.block_size % page != 0 ||
      (options.block_size & (options.block_size - 1)) != 0) {
    return makeError(ErrorCode::InvalidArgument,
                     "ring block size must be a power of two of at least " +
                         std::to_string(kMinBlockSize) + " bytes");
  }
  if (options.block_count < 2 || options.block_count > 1024) {
    return makeError(ErrorCode::InvalidArgument, "ring block count must be 2-1024");
  }
  if (options.block_timeout_ms < 1 || options.block_timeout_ms > 1000) {
    return makeError(ErrorCode::InvalidArgument, "block timeout must be 1-1000 ms");
  }
  const unsigned ifindex = ::if_nametoindex(interface.c_str());
  if (ifindex == 0) {
    return makeSystemError("interface " + interface, errno);
  }
  CaptureRing ring;
  ring.ifindex_ = static_cast<int>(ifindex);
  // Protocol 0: the socket receives nothing until it is bound, after the ring exists.
  ring.fd_ = UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!ring.fd_.valid()) {
    return makeSystemError("AF_PACKET socket (needs CAP_NET_RAW)", errno);
  }
  const int version = TPACKET_V3;
  if (::setsockopt(ring.fd_.get(), SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
    return makeSystemError("PACKET_VERSION TPACKET_V3", errno);
  }
  // Offload metadata per frame, so super-frames can be cut as the NIC would (segmenter.h).
  // Must precede the ring. Without it, offloads are inferred from lengths and the MTU.
  const int one = 1;
  ring.vnet_header_ =
      options.offload_headers &&
      ::setsockopt(ring.fd_.get(), SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) == 0;
  {
    ifreq request{};
    std::snprintf(request.ifr_name, sizeof request.ifr_name, "%s", interface.c_str());
    if (::ioctl(ring.fd_.get(), SIOCGIFMTU, &request) == 0 && request.ifr_mtu > 0) {
      ring.mtu_ = static_cast<uint32_t>(request.ifr_mtu);
    }
  }
  tpacket_req3 request{};
  request.tp_block_size = options.block_size;
  request.tp_block_nr = options.block_count;
  request.tp_frame_size = 2048;  // only used to size tp_frame_nr in V3
  request.tp_frame_nr = options.block_size / request.tp_frame_size * options.block_count;
  request.tp_retire_blk_tov = options.block_timeout_ms;
  request.tp_feature_req_word = TP_FT_REQ_FILL_RXHASH;
  if (::setsockopt(ring.fd_.get(), SOL_PACKET, PACKET_RX_RING, &request, sizeof request) != 0) {
    return makeSystemError("PACKET_RX_RING", errno);
  }
  ring.map_size_ = static_cast<std::size_t>(options.block_size) * options.block_count;
  void* map = ::mmap(nullptr, ring.map_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED,
                     ring.fd_.get(), 0);
  if (map == MAP_FAILED) {
    // MAP_LOCKED needs RLIMIT_MEMLOCK; fall back to an ordinary mapping.
    map = ::mmap(nullptr, ring.map_size_, PROT_READ | PROT_WRITE, MAP_SHARED, ring.fd_.get(), 0);
  }
  if (map == MAP_FAILED) {
    ring.map_size_ = 0;
    return makeSystemError("mmap of the capture ring", errno);
  }
  ring.map_ = static_cast<std::byte*>(map);
  ring.block_size_ = options.block_size;
  ring.block_count_ = options.block_count;
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = ring.ifindex_;
  if (::bind(ring.fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return makeSystemError("bind to " + interface, errno);
  }
  // Start the kernel counters from zero.
  tpacket_stats_v3 discard{};
  socklen_t length = sizeof discard;
  ::getsockopt(ring.fd_.get(), SOL_PACKET, PACKET_STATISTICS, &discard, &length);
  return ring;
}

CaptureRing::CaptureRing(CaptureRing&& other) noexcept {
  *this = std::move(other);
}

CaptureRing& CaptureRing::operator=(CaptureRing&& other) noexcept {
  if (this != &other) {
    if (map_ != nullptr) {
      ::munmap(map_, map_size_);
    }
    fd_ = std::move(other.fd_);
    ifindex_ = other.ifindex_;
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    block_size_ = other.block_size_;
    block_count_ = other.block_count_;
    current_ = other.current_;
    vnet_header_ = other.vnet_header_;
    mtu_ = other.mtu_;
  }
  return *this;
}

CaptureRing::~CaptureRing() {
  if (map_ != nullptr) {
    ::munmap(map_, map_size_);
  }
}

const tpacket_block_desc* CaptureRing::currentBlock() const {
  return reinterpret_cast<const tpacket_block_desc*>(map_ + static_cast<std::size_t>(current_) *
                                                                block_size_);
}

bool CaptureRing::currentBlockReady() const {
  const auto* status = &currentBlock()->hdr.bh1.block_status;
  return (__atomic_load_n(status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

Result<bool> CaptureRing::waitForBlock(int timeout_ms) {
  if (currentBlockReady()) {
    return true;
  }
  pollfd p{fd_.get(), POLLIN | POLLERR, 0};
  const int r = ::poll(&p, 1, timeout_ms);
  if (r < 0) {
    if (errno == EINTR) {
      return false;
    }
    return makeSystemError("poll on the capture ring", errno);
  }
  if (p.revents & POLLERR) {
    // The interface went away or down; the caller rechecks it.
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error == ENETDOWN) {
      return false;  // link down: wait for it to come back
    }
    if (error != 0) {
      return makeSystemError("capture socket", error);
    }
  }
  return currentBlockReady();
}

void CaptureRing::releaseBlock() {
  auto* block = reinterpret_cast<tpacket_block_desc*>(map_ + static_cast<std::size_t>(current_) *
                                                                 block_size_);
  __atomic_store_n(&block->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  current_ = (current_ + 1) % block_count_;
}

Result<void> CaptureRing::setFilter(const std::vector<rules::BpfInstruction>& program) {
  static_assert(sizeof(rules::BpfInstruction) == sizeof(sock_filter));
  if (program.empty()) {
    int unused = 0;
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused) != 0 &&
        errno != ENOENT) {
      return makeSystemError("SO_DETACH_FILTER", errno);
    }
    return {};
  }
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.size());
  // The kernel copies the program; it does not write to it.
  fprog.filter = reinterpret_cast<sock_filter*>(const_cast<rules::BpfInstruction*>(program.data()));
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
    return makeSystemError("SO_ATTACH_FILTER", errno);
  }
  return {};
}

Result<RingStatistics> CaptureRing::readStatistics() {
  tpacket_stats_v3 stats{};
  socklen_t length = sizeof stats;
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &length) != 0) {
    return makeSystemError("PACKET_STATISTICS", errno);
  }
  // tp_packets counts every frame the socket saw, dropped ones included.
  return RingStatistics{stats.tp_packets, stats.tp_drops, stats.tp_freeze_q_cnt};
}

}  // namespace tmirror::agent
