#include "agent/mirror_sender.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/ip.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tmirror::agent {

Result<MirrorSender> MirrorSender::open() {
  MirrorSender sender;
  // Protocol 0: this socket only sends, it never receives a copy of the traffic.
  sender.packet_fd_ = UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!sender.packet_fd_.valid()) {
    return makeSystemError("AF_PACKET send socket (needs CAP_NET_RAW)", errno);
  }
  const int one = 1;
  // Best effort: skip the qdisc (and its lock) on the way out. Not fatal where unsupported.
  ::setsockopt(sender.packet_fd_.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  sender.ip_fd_ = UniqueFd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
  if (!sender.ip_fd_.valid()) {
    return makeSystemError("raw IPv4 send socket (needs CAP_NET_RAW)", errno);
  }
  const int buffer = 4 << 20;
  for (int fd : {sender.packet_fd_.get(), sender.ip_fd_.get()}) {
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0) {
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    }
  }
  return sender;
}

std::size_t MirrorSender::queue(const packet::MirrorCopy& copy, packet::EncapSlot& slot,
                                const NextHop& hop, uint32_t destination) {
  Pending& p = pending_[count_];
  if (hop.resolved) {
    // The outer Ethernet header is the first 12 bytes of the slot: next hop, then us.
    std::memcpy(slot.header.data(), hop.dst_mac.octets.data(), 6);
    std::memcpy(slot.header.data() + 6, hop.src_mac.octets.data(), 6);
  }
  p.raw = hop.resolved;
  p.iov_count = copy.piece_count;
  for (int i = 0; i < copy.piece_count; ++i) {
    p.iov[i].iov_base = const_cast<std::byte*>(copy.pieces[i].data());
    p.iov[i].iov_len = copy.pieces[i].size();
  }
  if (p.raw) {
    p.link = sockaddr_ll{};
    p.link.sll_family = AF_PACKET;
    p.link.sll_ifindex = hop.ifindex;
    p.link.sll_protocol = htons(ETH_P_IP);
    p.link.sll_halen = 6;
    std::memcpy(p.link.sll_addr, hop.dst_mac.octets.data(), 6);
  } else {
    // The kernel builds the link header: start at the outer IPv4 header.
    p.iov[0].iov_base = static_cast<std::byte*>(p.iov[0].iov_base) + packet::kOuterEthernetSize;
    p.iov[0].iov_len -= packet::kOuterEthernetSize;
    p.ip = sockaddr_in{};
    p.ip.sin_family = AF_INET;
    p.ip.sin_addr.s_addr = htonl(destination);
  }
  return count_++;
}

void MirrorSender::sendGroup(int fd, bool raw, std::array<bool, kSendBatch>& sent) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    Pending& p = pending_[i];
    if (p.raw != raw) {
      continue;
    }
    mmsghdr& m = messages_[n];
    m = mmsghdr{};
    m.msg_hdr.msg_iov = p.iov.data();
    m.msg_hdr.msg_iovlen = static_cast<std::size_t>(p.iov_count);
    if (raw) {
      m.msg_hdr.msg_name = &p.link;
      m.msg_hdr.msg_namelen = sizeof p.link;
    } else {
      m.msg_hdr.msg_name = &p.ip;
      m.msg_hdr.msg_namelen = sizeof p.ip;
    }
    positions_[n++] = i;
  }
  std::size_t done = 0;
  while (done < n) {
    ++stats_.send_calls;
    const int r = ::sendmmsg(fd, &messages_[done], static_cast<unsigned>(n - done), MSG_DONTWAIT);
    if (r > 0) {
      for (int k = 0; k < r; ++k) {
        sent[positions_[done + static_cast<std::size_t>(k)]] = true;
      }
      (raw ? stats_.raw_frames : stats_.routed_packets) += static_cast<uint64_t>(r);
      done += static_cast<std::size_t>(r);
      continue;
    }
    const int error = r < 0 ? errno : EAGAIN;
    if (error == EINTR) {
      continue;
    }
    stats_.last_errno = error;
    if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) {
      // The socket or the device queue is full: drop the rest of this batch now rather than
      // wait (production traffic first).
      stats_.would_block += n - done;
      break;
    }
    if (error == ENETDOWN || error == ENXIO || error == ENODEV) {
      // The way out is down: the rest of this group would fail the same way.
      stats_.errors += n - done;
      break;
    }
    // This one copy cannot go (too big, no route): skip it, send the rest.
    ++stats_.errors;
    ++done;
  }
}

void MirrorSender::flush(std::array<bool, kSendBatch>& sent) {
  sent.fill(false);
  if (count_ == 0) {
    return;
  }
  sendGroup(packet_fd_.get(), true, sent);
  sendGroup(ip_fd_.get(), false, sent);
  count_ = 0;
}

}  // namespace tmirror::agent
