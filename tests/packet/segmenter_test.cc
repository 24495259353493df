// Segmenter: random TCP and UDP super-frames (IPv4 and IPv6, with and without tags in the
// frame or restored by the capture, with IP and TCP options) are cut into wire packets whose
// every header is checked against an independent reading of the bytes, and whose payloads
// put back together give the original payload; frames that cannot be cut get their reason.
#include "packet/segmenter.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "packet/checksum.h"
#include "packet/frame.h"

namespace tmirror::packet {
namespace {

using Frame = std::vector<std::byte>;

// --- an independent reader of the bytes ---------------------------------------------------

unsigned u8(const Frame& b, std::size_t off) {
  return static_cast<unsigned>(b.at(off));
}

unsigned u16(const Frame& b, std::size_t off) {
  return (u8(b, off) << 8) | u8(b, off + 1);
}

uint32_t u32(const Frame& b, std::size_t off) {
  return (uint32_t{u16(b, off)} << 16) | u16(b, off + 2);
}

// Naive RFC 1071 sum over [off, off + n), folded.
uint32_t naiveSum(const Frame& b, std::size_t off, std::size_t n, uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) {
    sum += u16(b, off + i);
  }
  if (n % 2 == 1) {
    sum += u8(b, off + n - 1) << 8;
  }
  while (sum >> 16) {
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return sum;
}

void put16(Frame& b, std::size_t off, unsigned v) {
  b[off] = std::byte(v >> 8);
  b[off + 1] = std::byte(v & 0xFF);
}

void put32(Frame& b, std::size_t off, uint32_t v) {
  put16(b, off, v >> 16);
  put16(b, off + 2, v & 0xFFFF);
}

// --- super-frames as a kernel hands them over ---------------------------------------------

struct Shape {
  bool ipv6 = false;
  bool udp = false;
  int tags_in_frame = 0;  // 802.1Q tags in the bytes
  int ip_option_words = 0;
  int tcp_option_words = 0;
  uint32_t payload = 0;
  uint8_t tcp_flags = 0x18;  // PSH ACK
};

struct Built {
  Frame frame;
  std::size_t l3 = 0;
  std::size_t l4 = 0;
  std::size_t head = 0;  // payload offset
};

Built buildSuperFrame(const Shape& s, std::mt19937& random) {
  Built b;
  Frame& f = b.frame;
  for (int i = 0; i < 6; ++i) {
    f.push_back(std::byte(0x02));
  }
  for (int i = 0; i < 6; ++i) {
    f.push_back(std::byte(0x04 + i));
  }
  for (int t = 0; t < s.tags_in_frame; ++t) {
    f.insert(f.end(), {std::byte{0x81}, std::byte{0x00}, std::byte(0x00), std::byte(10 + t)});
  }
  f.insert(f.end(), {std::byte(s.ipv6 ? 0x86 : 0x08), std::byte(s.ipv6 ? 0xDD : 0x00)});
  b.l3 = f.size();
  const std::size_t ip_header = s.ipv6 ? 40 : 20 + 4 * static_cast<std::size_t>(s.ip_option_words);
  const std::size_t l4_header = s.udp ? 8 : 20 + 4 * static_cast<std::size_t>(s.tcp_option_words);
  f.resize(b.l3 + ip_header + l4_header + s.payload);
  b.l4 = b.l3 + ip_header;
  b.head = b.l4 + l4_header;
  const auto ip_total = static_cast<unsigned>(ip_header + l4_header + s.payload);
  if (s.ipv6) {
    put32(f, b.l3, 0x60000000);
    put16(f, b.l3 + 4, l4_header + s.payload);
    f[b.l3 + 6] = std::byte(s.udp ? 17 : 6);
    f[b.l3 + 7] = std::byte{64};
    for (int i = 0; i < 16; ++i) {
      f[b.l3 + 8 + i] = std::byte(0x20 + i);
      f[b.l3 + 24 + i] = std::byte(0x40 + i);
    }
  } else {
    f[b.l3] = std::byte(0x40 | (ip_header / 4));
    put16(f, b.l3 + 2, ip_total);
    put16(f, b.l3 + 4, random() & 0xFFFF);
    put16(f, b.l3 + 6, 0x4000);  // DF
    f[b.l3 + 8] = std::byte{64};
    f[b.l3 + 9] = std::byte(s.udp ? 17 : 6);
    put32(f, b.l3 + 12, 0xC6336401);
    put32(f, b.l3 + 16, 0xC6336414);
    for (std::size_t i = 20; i < ip_header; ++i) {
      f[b.l3 + i] = std::byte{1};  // NOP options
    }
    // A header checksum the kernel would have left as is (the segmenter recomputes it).
    put16(f, b.l3 + 10, 0xFFFF ^ naiveSum(f, b.l3, ip_header));
  }
  put16(f, b.l4, 40000);
  put16(f, b.l4 + 2, 443);
  if (s.udp) {
    put16(f, b.l4 + 4, 8 + s.payload);
    put16(f, b.l4 + 6, 0x1234);  // partial: pseudo-header sum, not the real one
  } else {
    put32(f, b.l4 + 4, random());
    put32(f, b.l4 + 8, random());
    f[b.l4 + 12] = std::byte((l4_header / 4) << 4);
    f[b.l4 + 13] = std::byte(s.tcp_flags);
    put16(f, b.l4 + 14, 501);
    put16(f, b.l4 + 16, 0xBEEF);  // partial
    for (std::size_t i = 20; i < l4_header; ++i) {
      f[b.l4 + i] = std::byte{1};
    }
  }
  for (std::size_t i = b.head; i < f.size(); ++i) {
    f[i] = std::byte(random() & 0xFF);
  }
  return b;
}

// Cuts `frame` under `offload`; each packet as the bytes a NIC would send.
SegmentStatus cut(const Frame& frame, const Offload& offload, const VlanTag& tag,
                  std::vector<Frame>& packets, SegmentPlan& plan) {
  ParsedFrame parsed;
  parseFrame(frame, parsed);
  const SegmentStatus status =
      planSegments(frame, static_cast<uint32_t>(frame.size()), parsed, offload, plan);
  packets.clear();
  if (status != SegmentStatus::Ok) {
    return status;
  }
  std::array<std::byte, kMaxSegmentHead> head{};
  for (uint32_t i = 0; i < plan.count; ++i) {
    head.fill(std::byte{0xEE});
    const Segment s = writeSegment(frame, plan, i, tag, head);
    Frame p(s.head.begin(), s.head.end());
    p.insert(p.end(), s.payload.begin(), s.payload.end());
    EXPECT_EQ(p.size(), s.length());
    packets.push_back(std::move(p));
  }
  return status;
}

// Checks one wire packet against the super-frame it came from and returns its payload.
Frame checkPacket(const Built& original, const Shape& shape, const Frame& p, uint32_t index,
                  uint32_t count, uint32_t gso_size, bool tag_restored) {
  const Frame& o = original.frame;
  const std::size_t shift = tag_restored ? 4 : 0;
  const std::size_t l3 = original.l3 + shift;
  const std::size_t l4 = original.l4 + shift;
  const std::size_t head = original.head + shift;
  EXPECT_TRUE(std::equal(o.begin(), o.begin() + 12, p.begin())) << "MAC addresses";
  if (tag_restored) {
    EXPECT_EQ(u16(p, 12), 0x8100u);
    EXPECT_EQ(u16(p, 14), 0x0123u);
  }
  EXPECT_TRUE(std::equal(o.begin() + 12, o.begin() + static_cast<long>(original.l3),
                         p.begin() + 12 + static_cast<long>(shift)));
  const std::size_t payload = p.size() - head;
  EXPECT_GT(payload, 0u);
  EXPECT_LE(payload, gso_size);
  if (index + 1 < count) {
    EXPECT_EQ(payload, gso_size) << "only the last packet is short";
  }
  // IP: length, ID, header checksum; everything else as in the super-frame.
  if (shape.ipv6) {
    EXPECT_EQ(u16(p, l3 + 4), p.size() - l3 - 40);
    EXPECT_TRUE(std::equal(o.begin() + static_cast<long>(original.l3) + 6,
                           o.begin() + static_cast<long>(original.l3) + 40,
                           p.begin() + static_cast<long>(l3) + 6));
  } else {
    EXPECT_EQ(u16(p, l3 + 2), p.size() - l3);
    EXPECT_EQ(u16(p, l3 + 4), (u16(o, original.l3 + 4) + index) & 0xFFFF);
    EXPECT_EQ(u16(p, l3 + 6), 0x4000u) << "DF kept";
    EXPECT_EQ(naiveSum(p, l3, l4 - l3), 0xFFFFu) << "IPv4 header checksum";
  }
  // L4 checksum over the pseudo-header.
  uint32_t pseudo = 0;
  if (shape.ipv6) {
    pseudo = naiveSum(p, l3 + 8, 32);
  } else {
    pseudo = naiveSum(p, l3 + 12, 8);
  }
  const std::size_t l4_length = p.size() - l4;
  pseudo += (shape.udp ? 17 : 6) + static_cast<uint32_t>(l4_length);
  EXPECT_EQ(naiveSum(p, l4, l4_length, pseudo), 0xFFFFu) << "L4 checksum, packet " << index;
  if (shape.udp) {
    EXPECT_EQ(u16(p, l4 + 4), l4_length);
    EXPECT_NE(u16(p, l4 + 6), 0u);
  } else {
    EXPECT_EQ(u32(p, l4 + 4), u32(o, original.l4 + 4) + index * gso_size) << "sequence";
    EXPECT_EQ(u32(p, l4 + 8), u32(o, original.l4 + 8)) << "ack";
    const unsigned flags = u8(p, l4 + 13);
    const unsigned original_flags = u8(o, original.l4 + 13);
    const unsigned fin_psh = original_flags & 0x09;
    EXPECT_EQ(flags & 0x09, index + 1 == count ? fin_psh : 0u) << "FIN/PSH only on the last";
    EXPECT_EQ(flags & 0x80, index == 0 ? (original_flags & 0x80) : 0u) << "CWR only on the first";
    EXPECT_EQ(flags & 0x76, original_flags & 0x76) << "the other flags everywhere";
    EXPECT_TRUE(std::equal(o.begin() + static_cast<long>(original.l4) + 14,
                           o.begin() + static_cast<long>(original.l4) + 16,
                           p.begin() + static_cast<long>(l4) + 14))
        << "window";
    EXPECT_TRUE(std::equal(o.begin() + static_cast<long>(original.l4) + 18,
                           o.begin() + static_cast<long>(original.head),
                           p.begin() + static_cast<long>(l4) + 18))
        << "urgent pointer and options";
  }
  return Frame(p.begin() + static_cast<long>(head), p.end());
}

TEST(Checksum, MatchesTheNaiveSumAtEveryLengthAndAlignment) {
  std::mt19937 random(7);
  Frame bytes(300);
  for (auto& b : bytes) {
    b = std::byte(random() & 0xFF);
  }
  for (std::size_t start = 0; start < 8; ++start) {
    for (std::size_t n = 0; n + start <= bytes.size(); n += 1) {
      const uint16_t fast = checksumFold(checksumAdd(Bytes(bytes).subspan(start, n)));
      uint32_t naive = naiveSum(bytes, start, n);
      // 0 and 0xFFFF are the same number in one's complement.
      if (naive == 0xFFFF && fast == 0) {
        naive = 0;
      }
      ASSERT_EQ(fast, naive) << "start " << start << " length " << n;
    }
  }
}

TEST(Checksum, AllOnesDoesNotOverflow) {
  Frame bytes(65536, std::byte{0xFF});
  EXPECT_EQ(checksumFold(checksumAdd(bytes)), 0xFFFF);
  EXPECT_EQ(checksumFinish(checksumAdd(bytes)), 0);
}

TEST(Segmenter, RandomSuperFramesBecomeWirePacketsThatReassembleToThePayload) {
  std::mt19937 random(20261206);
  int cut_frames = 0;
  int packets_checked = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    Shape s;
    s.ipv6 = random() % 2 == 0;
    s.udp = random() % 4 == 0;
    s.tags_in_frame = static_cast<int>(random() % 3);
    s.ip_option_words = s.ipv6 ? 0 : static_cast<int>(random() % 11);
    s.tcp_option_words = s.udp ? 0 : static_cast<int>(random() % 11);
    s.tcp_flags = static_cast<uint8_t>(random() & 0xFF);
    const uint32_t gso_size = 1 + random() % 9000;
    s.payload = gso_size + random() % (63000 - 2 * gso_size / 3);
    s.payload = std::min<uint32_t>(s.payload, 65000 - 200);
    const Built b = buildSuperFrame(s, random);
    Offload offload;
    offload.gso = s.udp ? GsoKind::Udp : GsoKind::Tcp;
    offload.gso_size = static_cast<uint16_t>(gso_size);
    offload.checksum_partial = random() % 2 == 0;
    VlanTag tag;
    tag.present = random() % 3 == 0;
    tag.tci = 0x0123;
    std::vector<Frame> packets;
    SegmentPlan plan;
    ASSERT_EQ(cut(b.frame, offload, tag, packets, plan), SegmentStatus::Ok) << "trial " << trial;
    ASSERT_EQ(packets.size(), (s.payload + gso_size - 1) / gso_size);
    Frame reassembled;
    for (uint32_t i = 0; i < packets.size(); ++i) {
      const Frame payload = checkPacket(b, s, packets[i], i, static_cast<uint32_t>(packets.size()),
                                        gso_size, tag.present);
      reassembled.insert(reassembled.end(), payload.begin(), payload.end());
      ++packets_checked;
    }
    ASSERT_EQ(reassembled.size(), s.payload);
    ASSERT_TRUE(std::equal(reassembled.begin(), reassembled.end(),
                           b.frame.begin() + static_cast<long>(b.head)))
        << "trial " << trial;
    if (HasFailure()) {
      FAIL() << "trial " << trial;
    }
    ++cut_frames;
  }
  EXPECT_EQ(cut_frames, 2000);
  EXPECT_GT(packets_checked, 10000);
}

TEST(Segmenter, AFrameWhoseChecksumWasLeftToTheNicGetsItCompletedAndStaysWhole) {
  std::mt19937 random(3);
  for (bool ipv6 : {false, true}) {
    for (bool udp : {false, true}) {
      Shape s{.ipv6 = ipv6, .udp = udp, .payload = 333};
      Built b = buildSuperFrame(s, random);
      b.frame.insert(b.frame.end(), 6, std::byte{0});  // Ethernet padding stays
      Offload offload{.checksum_partial = true};
      std::vector<Frame> packets;
      SegmentPlan plan;
      ASSERT_EQ(cut(b.frame, offload, VlanTag{}, packets, plan), SegmentStatus::Ok);
      ASSERT_EQ(packets.size(), 1u);
      ASSERT_FALSE(plan.segmented);
      Frame expected = b.frame;
      const std::size_t field = b.l4 + (udp ? 6 : 16);
      expected[field] = packets[0][field];
      expected[field + 1] = packets[0][field + 1];
      EXPECT_EQ(packets[0], expected) << "only the checksum changes";
      uint32_t pseudo = ipv6 ? naiveSum(expected, b.l3 + 8, 32) : naiveSum(expected, b.l3 + 12, 8);
      const std::size_t l4_length = b.frame.size() - 6 - b.l4;
      pseudo += (udp ? 17 : 6) + static_cast<uint32_t>(l4_length);
      EXPECT_EQ(naiveSum(expected, b.l4, l4_length, pseudo), 0xFFFFu);
    }
  }
}

TEST(Segmenter, WithoutGsoMetadataATcpFrameOverTheMtuIsCutToIt) {
  std::mt19937 random(5);
  Shape s{.tcp_option_words = 3, .payload = 10000};
  const Built b = buildSuperFrame(s, random);
  Offload offload{.gso_from_mtu = true, .mtu = 1500};
  std::vector<Frame> packets;
  SegmentPlan plan;
  ASSERT_EQ(cut(b.frame, offload, VlanTag{}, packets, plan), SegmentStatus::Ok);
  const uint32_t mss = 1500 - 20 - 32;
  EXPECT_EQ(plan.segment_size, mss);
  ASSERT_EQ(packets.size(), (10000 + mss - 1) / mss);
  for (const auto& p : packets) {
    EXPECT_LE(p.size() - 14, 1500u);
  }
  Shape u{.udp = true, .payload = 10000};
  EXPECT_EQ(cut(buildSuperFrame(u, random).frame, offload, VlanTag{}, packets, plan),
            SegmentStatus::UnsupportedGsoType)
      << "a UDP GSO size cannot be guessed";
}

TEST(Segmenter, FramesThatCannotBeCutAsTheyClaimGetANamedReason) {
  std::mt19937 random(11);
  std::vector<Frame> packets;
  SegmentPlan plan;
  const Offload tcp{.gso = GsoKind::Tcp, .gso_size = 1000};
  const Built good = buildSuperFrame(Shape{.payload = 5000}, random);
  ASSERT_EQ(cut(good.frame, tcp, VlanTag{}, packets, plan), SegmentStatus::Ok);

  EXPECT_EQ(cut(good.frame, Offload{.gso = GsoKind::Tcp, .gso_size = 0}, VlanTag{}, packets, plan),
            SegmentStatus::BadGsoSize);
  EXPECT_EQ(
      cut(good.frame, Offload{.gso = GsoKind::Tcp, .gso_size = 5001}, VlanTag{}, packets, plan),
      SegmentStatus::BadGsoSize);
  EXPECT_EQ(
      cut(good.frame, Offload{.gso = GsoKind::Other, .gso_size = 1000}, VlanTag{}, packets, plan),
      SegmentStatus::UnsupportedGsoType);
  EXPECT_EQ(
      cut(good.frame, Offload{.gso = GsoKind::Udp, .gso_size = 1000}, VlanTag{}, packets, plan),
      SegmentStatus::NotTcpOrUdp)
      << "UDP GSO on a TCP frame";

  Frame longer = good.frame;  // IP length says less than the frame holds
  longer.resize(longer.size() + 100);
  EXPECT_EQ(cut(longer, tcp, VlanTag{}, packets, plan), SegmentStatus::InconsistentLength);
  Frame claims_more = good.frame;  // IP length says more (a capture cut)
  put16(claims_more, good.l3 + 2, u16(claims_more, good.l3 + 2) + 100);
  EXPECT_EQ(cut(claims_more, tcp, VlanTag{}, packets, plan), SegmentStatus::InconsistentLength);
  {
    ParsedFrame parsed;
    parseFrame(good.frame, parsed);
    EXPECT_EQ(planSegments(Bytes(good.frame).first(good.frame.size() - 10),
                           static_cast<uint32_t>(good.frame.size()), parsed, tcp, plan),
              SegmentStatus::InconsistentLength)
        << "wire length above the captured length";
  }
  Frame bad_offset = good.frame;  // TCP data offset past the end of the frame
  Frame tiny = buildSuperFrame(Shape{.payload = 20}, random).frame;
  tiny[good.l4 + 12] = std::byte{0xF0};
  EXPECT_EQ(cut(tiny, Offload{.gso = GsoKind::Tcp, .gso_size = 10}, VlanTag{}, packets, plan),
            SegmentStatus::HeaderTooLong);
  Frame fragment = good.frame;
  put16(fragment, good.l3 + 6, 0x2000);  // MF
  EXPECT_EQ(cut(fragment, tcp, VlanTag{}, packets, plan), SegmentStatus::Fragment);

  // IPv6 with a hop-by-hop header before TCP.
  Built v6 = buildSuperFrame(Shape{.ipv6 = true, .payload = 5000}, random);
  Frame with_ext(v6.frame.begin(), v6.frame.begin() + static_cast<long>(v6.l4));
  with_ext[v6.l3 + 6] = std::byte{0};  // next: hop-by-hop
  put16(with_ext, v6.l3 + 4, u16(v6.frame, v6.l3 + 4) + 8);
  with_ext.insert(with_ext.end(), {std::byte{6}, std::byte{0}, std::byte{1}, std::byte{4},
                                   std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}});
  with_ext.insert(with_ext.end(), v6.frame.begin() + static_cast<long>(v6.l4), v6.frame.end());
  EXPECT_EQ(cut(with_ext, tcp, VlanTag{}, packets, plan), SegmentStatus::Ipv6ExtensionHeaders);

  Frame arp(60, std::byte{0});
  arp[12] = std::byte{0x08};
  arp[13] = std::byte{0x06};
  EXPECT_EQ(cut(arp, tcp, VlanTag{}, packets, plan), SegmentStatus::NotTcpOrUdp);
  for (int i = 0; i < static_cast<int>(SegmentStatus::kCount); ++i) {
    EXPECT_NE(std::string(segmentStatusName(static_cast<SegmentStatus>(i))), "unknown");
  }
}

}  // namespace
}  // namespace tmirror::packet
