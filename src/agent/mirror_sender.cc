#include "agent/mirror_sender.h"

#include <arpa/inet.h>
#include <endian.h>
#include <linux/if_ether.h>
#include <netinet/ip.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "packet/byte_reader.h"
#include "packet/checksum.h"

namespace tmirror::agent {

namespace {

constexpr uint8_t kVirtioNeedsChecksum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr uint8_t kVirtioGsoUdpL4 = 5;       // VIRTIO_NET_HDR_GSO_UDP_L4 (UDP_SEGMENT)
constexpr std::size_t kIpOffset = packet::kOuterEthernetSize;
constexpr std::size_t kUdpOffset = kIpOffset + packet::kOuterIpv4Size;
constexpr std::size_t kVxlanOffset = kUdpOffset + packet::kUdpHeaderSize;
// The UDP payload of one IPv4 datagram, all copies of a GSO buffer together.
constexpr uint32_t kMaxUdpPayload = 65535 - packet::kOuterIpv4Size - packet::kUdpHeaderSize;

bool sameBytes(const std::byte* a, const std::byte* b, std::size_t from, std::size_t to) {
  return std::memcmp(a + from, b + from, to - from) == 0;
}

}  // namespace

Result<MirrorSender> MirrorSender::open(GsoSend gso) {
  MirrorSender sender;
  sender.gso_ = gso;
  // Protocol 0: this socket only sends, it never receives a copy of the traffic.
  sender.packet_fd_ = UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!sender.packet_fd_.valid()) {
    return makeSystemError("AF_PACKET send socket (needs CAP_NET_RAW)", errno);
  }
  const int one = 1;
  // Best effort: skip the qdisc (and its lock) on the way out. Not fatal where unsupported.
  ::setsockopt(sender.packet_fd_.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  // GSO buffers take the qdisc path: the direct one drops a buffer the kernel has to cut
  // for the device. Each frame on this socket starts with a virtio_net_hdr.
  sender.gso_fd_ = UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!sender.gso_fd_.valid() ||
      ::setsockopt(sender.gso_fd_.get(), SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0) {
    sender.gso_ = GsoSend::Off;  // a kernel without it: every copy alone
  }
  sender.ip_fd_ = UniqueFd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
  if (!sender.ip_fd_.valid()) {
    return makeSystemError("raw IPv4 send socket (needs CAP_NET_RAW)", errno);
  }
  const int buffer = 4 << 20;
  for (int fd : {sender.packet_fd_.get(), sender.gso_fd_.get(), sender.ip_fd_.get()}) {
    if (fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0) {
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
  p.header = slot.header.data();
  p.inner_length = copy.inner_length;
  // A copy whose headers announce more than it carries (a frame the capture cut) goes alone.
  p.gso = p.raw && copy.wire_inner_length == copy.inner_length && copy.piece_count >= 2 &&
          copy.pieces[0].size() == packet::kOuterHeaderSize &&
          (gso_ == GsoSend::On || (gso_ == GsoSend::Auto && hop.segments_gso));
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

std::size_t MirrorSender::runLength(std::size_t first) const {
  const Pending& a = pending_[first];
  if (!a.gso || gso_ == GsoSend::Off) {
    return 1;
  }
  // Every copy of a GSO buffer is cut at the first one's size: only the last may be shorter.
  uint32_t payload = static_cast<uint32_t>(packet::kVxlanHeaderSize) + a.inner_length;
  std::size_t n = 1;
  for (std::size_t j = first + 1; j < count_; ++j) {
    const Pending& b = pending_[j];
    // Same MAC addresses, IPv4 addresses, ports and VXLAN header; lengths differ.
    if (!b.gso || b.link.sll_ifindex != a.link.sll_ifindex || b.inner_length > a.inner_length ||
        !sameBytes(a.header, b.header, 0, 12) ||
        !sameBytes(a.header, b.header, kIpOffset + 12, kUdpOffset + 4) ||
        !sameBytes(a.header, b.header, kVxlanOffset, packet::kOuterHeaderSize)) {
      break;
    }
    const uint32_t size = static_cast<uint32_t>(packet::kVxlanHeaderSize) + b.inner_length;
    if (payload + size > kMaxUdpPayload) {
      break;
    }
    payload += size;
    ++n;
    if (b.inner_length < a.inner_length) {
      break;
    }
  }
  return n;
}

void MirrorSender::addSingle(std::size_t position, std::size_t message, std::size_t& iov_used) {
  Pending& p = pending_[position];
  iovec* iov = &iov_[iov_used];
  std::size_t k = 0;
  for (int i = 0; i < p.iov_count; ++i) {
    iov[k++] = p.iov[i];
  }
  iov_used += k;
  if (p.raw) {
    setMessage(message, iov, k, &p.link, sizeof p.link, Span{position, 1, false});
  } else {
    setMessage(message, iov, k, &p.ip, sizeof p.ip, Span{position, 1, false});
  }
}

void MirrorSender::setMessage(std::size_t message, iovec* iov, std::size_t iov_count, void* address,
                              socklen_t address_length, Span span) {
  mmsghdr& m = messages_[message];
  m = mmsghdr{};
  m.msg_hdr.msg_iov = iov;
  m.msg_hdr.msg_iovlen = iov_count;
  m.msg_hdr.msg_name = address;
  m.msg_hdr.msg_namelen = address_length;
  spans_[message] = span;
}

void MirrorSender::addGsoBuffer(std::size_t first, std::size_t count, std::size_t message,
                                std::size_t& iov_used) {
  Pending& a = pending_[first];
  uint32_t payload = 0;
  for (std::size_t i = first; i < first + count; ++i) {
    payload += static_cast<uint32_t>(packet::kVxlanHeaderSize) + pending_[i].inner_length;
  }
  // The first copy's Ethernet, IPv4 and UDP headers, lengths for the whole buffer. The kernel
  // rewrites lengths, IDs and checksums per packet when it cuts the buffer.
  std::span<std::byte> head(gso_heads_[message]);
  std::memcpy(head.data(), a.header, kGsoHeadSize);
  const uint32_t ip_length = packet::kOuterIpv4Size + packet::kUdpHeaderSize + payload;
  packet::storeU16(head, kIpOffset + 2, static_cast<uint16_t>(ip_length));
  packet::storeU16(head, kIpOffset + 10, 0);
  packet::storeU16(head, kIpOffset + 10,
                   packet::checksumFinish(packet::checksumAdd(
                       packet::Bytes(head.subspan(kIpOffset, packet::kOuterIpv4Size)))));
  const uint32_t udp_length = packet::kUdpHeaderSize + payload;
  packet::storeU16(head, kUdpOffset + 4, static_cast<uint16_t>(udp_length));
  // A checksum left to the device holds the pseudo-header sum, folded, not complemented.
  const uint64_t pseudo =
      packet::checksumAdd(packet::Bytes(head.subspan(kIpOffset + 12, 8)), 17 + udp_length);
  packet::storeU16(head, kUdpOffset + 6, packet::checksumFold(pseudo));

  VirtioHeader& v = virtio_[message];
  v.flags = kVirtioNeedsChecksum;
  v.gso_type = kVirtioGsoUdpL4;
  v.hdr_len = htole16(static_cast<uint16_t>(kGsoHeadSize));
  v.gso_size = htole16(static_cast<uint16_t>(packet::kVxlanHeaderSize + a.inner_length));
  v.csum_start = htole16(static_cast<uint16_t>(kUdpOffset));
  v.csum_offset = htole16(6);

  iovec* iov = &iov_[iov_used];
  std::size_t k = 0;
  iov[k++] = iovec{&v, sizeof v};
  iov[k++] = iovec{head.data(), head.size()};
  for (std::size_t i = first; i < first + count; ++i) {
    Pending& p = pending_[i];
    // The copy's own VXLAN header (the end of its outer header), then its frame.
    iov[k++] = iovec{const_cast<std::byte*>(p.header) + kVxlanOffset, packet::kVxlanHeaderSize};
    for (int j = 1; j < p.iov_count; ++j) {
      iov[k++] = p.iov[j];
    }
  }
  iov_used += k;
  setMessage(message, iov, k, &a.link, sizeof a.link, Span{first, count, true});
}

std::size_t MirrorSender::buildRaw(std::size_t from) {
  std::size_t n = 0;
  std::size_t iov_used = 0;
  for (std::size_t i = from; i < count_;) {
    if (!pending_[i].raw) {
      ++i;
      continue;
    }
    const std::size_t run = runLength(i);
    if (run >= 2) {
      addGsoBuffer(i, run, n, iov_used);
    } else {
      addSingle(i, n, iov_used);
    }
    ++n;
    i += run;
  }
  return n;
}

std::size_t MirrorSender::sendMessages(int fd, std::size_t first, std::size_t n, bool raw,
                                       std::array<bool, kSendBatch>& sent) {
  std::size_t done = first;
  auto copies = [&](std::size_t from, std::size_t to) {
    uint64_t total = 0;
    for (std::size_t k = from; k < to; ++k) {
      total += spans_[k].count;
    }
    return total;
  };
  while (done < n) {
    ++stats_.send_calls;
    const int r = ::sendmmsg(fd, &messages_[done], static_cast<unsigned>(n - done), MSG_DONTWAIT);
    if (r > 0) {
      for (std::size_t k = done; k < done + static_cast<std::size_t>(r); ++k) {
        const Span& s = spans_[k];
        for (std::size_t i = s.first; i < s.first + s.count; ++i) {
          sent[i] = true;
        }
        (raw ? stats_.raw_frames : stats_.routed_packets) += s.count;
        if (spans_[k].gso) {
          ++stats_.gso_buffers;
          stats_.gso_copies += s.count;
        }
      }
      done += static_cast<std::size_t>(r);
      continue;
    }
    const int error = r < 0 ? errno : EAGAIN;
    if (error == EINTR) {
      continue;
    }
    stats_.last_errno = error;
    if (error == EINVAL && spans_[done].gso) {
      return done;  // this kernel cannot take the buffer: the caller sends its copies alone
    }
    if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) {
      // The socket or the device queue is full: drop the rest of this batch now rather than
      // wait (production traffic first).
      stats_.would_block += copies(done, n);
      break;
    }
    if (error == ENETDOWN || error == ENXIO || error == ENODEV) {
      // The way out is down: the rest of this group would fail the same way.
      stats_.errors += copies(done, n);
      break;
    }
    // This one message cannot go (too big, no route): skip it, send the rest.
    stats_.errors += spans_[done].count;
    ++done;
  }
  return n;
}

void MirrorSender::flush(std::array<bool, kSendBatch>& sent) {
  sent.fill(false);
  if (count_ == 0) {
    return;
  }
  std::size_t from = 0;
  for (;;) {
    const std::size_t n = buildRaw(from);
    // In queue order, each stretch of GSO buffers or of single copies on its own socket.
    std::size_t refused = n;
    for (std::size_t k = 0; k < n;) {
      std::size_t end = k;
      while (end < n && spans_[end].gso == spans_[k].gso) {
        ++end;
      }
      const std::size_t r =
          sendMessages(spans_[k].gso ? gso_fd_.get() : packet_fd_.get(), k, end, true, sent);
      if (r != end) {
        refused = r;
        break;
      }
      k = end;
    }
    if (refused == n) {
      break;
    }
    // From now on every copy goes alone; resend the refused buffer's copies and the rest.
    ++stats_.gso_refused;
    gso_ = GsoSend::Off;
    from = spans_[refused].first;
  }
  std::size_t n = 0;
  std::size_t iov_used = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    if (!pending_[i].raw) {
      addSingle(i, n++, iov_used);
    }
  }
  sendMessages(ip_fd_.get(), 0, n, false, sent);
  count_ = 0;
}

}  // namespace tmirror::agent
