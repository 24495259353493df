// VxlanEncapsulator: the outer header byte by byte, truncation to PacketLength and path MTU,
// VLAN tag restoration, and the round trip through decapsulateFrame.
#include "packet/encapsulation.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "packet/frame.h"
#include "packet/vxlan.h"
#include "testing/packet_builder.h"

namespace tmirror::packet {
namespace {

using testing::Frame;
using testing::fromHex;
using testing::ip;
using testing::PacketBuilder;

MacAddress mac(std::string_view text) {
  return *parseMacAddress(text);
}

OuterPath awsPath() {
  OuterPath path;
  path.dst_mac = mac("06:e2:43:9c:ff:5e");
  path.src_mac = mac("06:1d:3c:34:d0:77");
  path.src_ipv4 = 0xAC1F00EE;  // 172.31.0.238
  path.dst_ipv4 = 0xAC1F11BC;  // 172.31.17.188
  return path;
}

// A TCP frame of exactly `size` bytes (>= 54).
Frame frameOfSize(std::size_t size) {
  return PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(40000, 443).payload(size - 54).build();
}

// The copy as a value (encapsulate() fills a caller-owned MirrorCopy in place).
MirrorCopy encapsulateOne(const VxlanEncapsulator& encap, Bytes frame, const VlanTag& tag,
                          uint16_t source_port, EncapSlot& slot) {
  MirrorCopy copy;
  encap.encapsulate(frame, tag, source_port, slot, copy);
  return copy;
}

std::vector<std::byte> wire(const MirrorCopy& copy) {
  std::vector<std::byte> out(copy.outerLength());
  EXPECT_EQ(copy.copyTo(out), out.size());
  return out;
}

unsigned u8(const std::vector<std::byte>& b, std::size_t off) {
  return static_cast<unsigned>(b.at(off));
}

unsigned u16(const std::vector<std::byte>& b, std::size_t off) {
  return (u8(b, off) << 8) | u8(b, off + 1);
}

uint32_t u32(const std::vector<std::byte>& b, std::size_t off) {
  return (uint32_t{u16(b, off)} << 16) | u16(b, off + 2);
}

// One's-complement sum of the 20-byte IPv4 header at `off`, folded: 0xFFFF when it verifies.
unsigned ipv4HeaderSum(const std::vector<std::byte>& b, std::size_t off) {
  uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) {
    sum += u16(b, off + i);
  }
  while (sum >> 16) {
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return sum;
}

// `frame` with a 4-byte tag inserted after the MAC addresses.
Frame withTag(const Frame& frame, uint16_t tpid, uint16_t tci) {
  Frame f(frame.begin(), frame.begin() + 12);
  f.push_back(static_cast<std::byte>(tpid >> 8));
  f.push_back(static_cast<std::byte>(tpid));
  f.push_back(static_cast<std::byte>(tci >> 8));
  f.push_back(static_cast<std::byte>(tci));
  f.insert(f.end(), frame.begin() + 12, frame.end());
  return f;
}

// ---- The outer header ---------------------------------------------------------------------

TEST(VxlanEncapsulator, HundredByteFrameGetsFiftyByteOuterHeader) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  const Frame frame = frameOfSize(100);
  EncapSlot slot;
  const MirrorCopy copy = encapsulateOne(encap, Bytes(frame), VlanTag{}, 65445, slot);
  EXPECT_EQ(copy.piece_count, 2);
  EXPECT_EQ(copy.pieces[0].size(), 50u);
  EXPECT_EQ(copy.pieces[0].data(), slot.header.data());
  EXPECT_EQ(copy.pieces[1].data(), frame.data());  // the frame is not copied
  EXPECT_EQ(copy.pieces[1].size(), 100u);
  EXPECT_EQ(copy.inner_length, 100u);
  EXPECT_EQ(copy.original_length, 100u);
  EXPECT_FALSE(copy.truncated());
  EXPECT_EQ(copy.outerLength(), 150u);
}

TEST(VxlanEncapsulator, OuterEthernetCarriesPathMacsAndIpv4Type) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  const Frame frame = frameOfSize(100);
  EncapSlot slot;
  const auto w = wire(encapsulateOne(encap, Bytes(frame), VlanTag{}, 65445, slot));
  EXPECT_EQ(testing::toHex(std::span(w).first(6)), "06e2439cff5e");       // dst
  EXPECT_EQ(testing::toHex(std::span(w).subspan(6, 6)), "061d3c34d077");  // src
  EXPECT_EQ(u16(w, 12), 0x0800u);
}

TEST(VxlanEncapsulator, OuterIpv4IsAwsStyleWithValidChecksum) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  const Frame frame = frameOfSize(100);
  EncapSlot slot;
  const auto w = wire(encapsulateOne(encap, Bytes(frame), VlanTag{}, 65445, slot));
  EXPECT_EQ(u8(w, 14), 0x45u);        // version 4, IHL 5
  EXPECT_EQ(u8(w, 15), 0u);           // TOS
  EXPECT_EQ(u16(w, 16), 36u + 100u);  // total length
  EXPECT_EQ(u16(w, 18), 0u);          // ID 0
  EXPECT_EQ(u16(w, 20), 0u);          // flags/fragment: DF clear
  EXPECT_EQ(u8(w, 22), 255u);         // TTL
  EXPECT_EQ(u8(w, 23), 17u);          // UDP
  EXPECT_EQ(ipv4HeaderSum(w, 14), 0xFFFFu);
  EXPECT_EQ(u32(w, 26), 0xAC1F00EEu);
  EXPECT_EQ(u32(w, 30), 0xAC1F11BCu);
}

TEST(VxlanEncapsulator, OuterIpv4ChecksumVerifiesForManyAddressesAndLengths) {
  const uint32_t addresses[] = {0, 1, 0xFFFFFFFF, 0x0A000001, 0xFFFF0000, 0x0000FFFF, 0xC0A80101};
  for (uint32_t src : addresses) {
    for (uint32_t dst : addresses) {
      OuterPath path = awsPath();
      path.src_ipv4 = src;
      path.dst_ipv4 = dst;
      path.mtu = 9001;
      const VxlanEncapsulator encap(path, 0xABCDEF, 0);
      for (std::size_t size : {1u, 14u, 60u, 1514u, 8965u}) {
        const Frame frame(size, std::byte{0x5A});
        EncapSlot slot;
        const auto w = wire(encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot));
        ASSERT_EQ(ipv4HeaderSum(w, 14), 0xFFFFu) << std::hex << src << " " << dst << " " << size;
        ASSERT_EQ(u16(w, 16), 36u + size);
      }
    }
  }
}

TEST(VxlanEncapsulator, OuterUdpHasGivenSourcePortPort4789LengthAndZeroChecksum) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  const Frame frame = frameOfSize(100);
  EncapSlot slot;
  const auto w = wire(encapsulateOne(encap, Bytes(frame), VlanTag{}, 51234, slot));
  EXPECT_EQ(u16(w, 34), 51234u);
  EXPECT_EQ(u16(w, 36), 4789u);
  EXPECT_EQ(u16(w, 38), 16u + 100u);
  EXPECT_EQ(u16(w, 40), 0u);
}

TEST(VxlanEncapsulator, CustomDestinationPortIsWritten) {
  OuterPath path = awsPath();
  path.dst_port = 8472;
  const VxlanEncapsulator encap(path, 42, 0);
  const Frame frame = frameOfSize(100);
  EncapSlot slot;
  const auto w = wire(encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot));
  EXPECT_EQ(u16(w, 36), 8472u);
}

TEST(VxlanEncapsulator, VxlanHeaderHasFlags08AndTheVni) {
  for (uint32_t vni : {0u, 1u, 42u, 5569041u, 16777215u}) {
    const VxlanEncapsulator encap(awsPath(), vni, 0);
    EXPECT_EQ(encap.vni(), vni);
    const Frame frame = frameOfSize(100);
    EncapSlot slot;
    const auto w = wire(encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot));
    EXPECT_EQ(u32(w, 42), 0x08000000u) << vni;
    EXPECT_EQ(u32(w, 46), vni << 8) << vni;
  }
}

TEST(VxlanEncapsulator, VniAbove24BitsKeepsTheLow24Bits) {
  const VxlanEncapsulator encap(awsPath(), 0x01000005, 0);
  EXPECT_EQ(encap.vni(), 5u);
}

TEST(VxlanEncapsulator, CopyToWritesHeaderThenFrameExactly) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  const Frame frame = frameOfSize(100);
  EncapSlot slot;
  const MirrorCopy copy = encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot);
  std::vector<std::byte> big(400, std::byte{0xCC});
  ASSERT_EQ(copy.copyTo(big), 150u);
  EXPECT_TRUE(std::equal(slot.header.begin(), slot.header.end(), big.begin()));
  EXPECT_TRUE(std::equal(frame.begin(), frame.end(), big.begin() + 50));
  EXPECT_EQ(big[150], std::byte{0xCC});  // nothing past the copy

  std::vector<std::byte> small(149);
  EXPECT_EQ(copy.copyTo(small), 0u);
}

TEST(VxlanEncapsulator, ReproducesTheRealAwsOuterHeaderByteForByte) {
  const Frame aws = fromHex(testing::kAwsMirrorFrameHex);
  const Frame inner(aws.begin() + 50, aws.end());
  const VxlanEncapsulator encap(awsPath(), 5569041, 0);
  EncapSlot slot;
  const auto w = wire(encapsulateOne(encap, Bytes(inner), VlanTag{}, 65445, slot));
  EXPECT_EQ(testing::toHex(w), testing::toHex(aws));
}

TEST(VxlanEncapsulator, ReusedMirrorCopyDropsPiecesOfThePreviousCopy) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  EncapSlot slot;
  MirrorCopy copy;
  const Frame tagged_frame = frameOfSize(100);
  encap.encapsulate(Bytes(tagged_frame), VlanTag{true, 0x8100, 9}, 50000, slot, copy);
  ASSERT_EQ(copy.piece_count, 4);
  const Frame plain = frameOfSize(60);
  encap.encapsulate(Bytes(plain), VlanTag{}, 50000, slot, copy);
  EXPECT_EQ(copy.piece_count, 2);
  EXPECT_EQ(copy.inner_length, 60u);
  EXPECT_EQ(copy.original_length, 60u);
  EXPECT_FALSE(copy.truncated());
  const auto w = wire(copy);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), w.begin() + 50));
}

TEST(VxlanEncapsulator, SlotReuseWritesFreshLengthsAndChecksum) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  EncapSlot slot;
  const Frame big = frameOfSize(1000);
  (void)encapsulateOne(encap, Bytes(big), VlanTag{}, 50000, slot);
  const Frame small = frameOfSize(64);
  const auto w = wire(encapsulateOne(encap, Bytes(small), VlanTag{}, 50001, slot));
  EXPECT_EQ(u16(w, 16), 36u + 64u);
  EXPECT_EQ(u16(w, 38), 16u + 64u);
  EXPECT_EQ(u16(w, 34), 50001u);
  EXPECT_EQ(ipv4HeaderSum(w, 14), 0xFFFFu);
}

// ---- Truncation ---------------------------------------------------------------------------

TEST(VxlanEncapsulator, PacketLengthOneKeepsOneByte) {
  const VxlanEncapsulator encap(awsPath(), 42, 1);
  EXPECT_EQ(encap.maxInnerLength(), 1u);
  const Frame frame = frameOfSize(100);
  EncapSlot slot;
  const MirrorCopy copy = encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot);
  EXPECT_EQ(copy.inner_length, 1u);
  EXPECT_EQ(copy.original_length, 100u);
  EXPECT_TRUE(copy.truncated());
  const auto w = wire(copy);
  ASSERT_EQ(w.size(), 51u);
  EXPECT_EQ(w[50], frame[0]);
  EXPECT_EQ(u16(w, 16), 37u);
  EXPECT_EQ(u16(w, 38), 17u);
  EXPECT_EQ(ipv4HeaderSum(w, 14), 0xFFFFu);
}

TEST(VxlanEncapsulator, PacketLengthTenCutsInsideTheEthernetHeader) {
  const VxlanEncapsulator encap(awsPath(), 42, 10);
  const Frame frame = frameOfSize(100);
  EncapSlot slot;
  const MirrorCopy copy = encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot);
  EXPECT_EQ(copy.inner_length, 10u);
  EXPECT_TRUE(copy.truncated());
  const auto w = wire(copy);
  ASSERT_EQ(w.size(), 60u);
  EXPECT_TRUE(std::equal(w.begin() + 50, w.end(), frame.begin()));
  EXPECT_EQ(u16(w, 16), 46u);
}

TEST(VxlanEncapsulator, PacketLength8500TruncatesJumboFrameOnJumboPath) {
  OuterPath path = awsPath();
  path.mtu = 9001;
  const VxlanEncapsulator encap(path, 42, kMaxPacketLength);
  EXPECT_EQ(encap.maxInnerLength(), 8500u);
  const Frame frame(9000, std::byte{0x11});
  EncapSlot slot;
  const MirrorCopy copy = encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot);
  EXPECT_EQ(copy.inner_length, 8500u);
  EXPECT_EQ(copy.original_length, 9000u);
  EXPECT_TRUE(copy.truncated());
  const auto w = wire(copy);
  EXPECT_EQ(u16(w, 16), 8536u);
  EXPECT_EQ(u16(w, 38), 8516u);
}

TEST(VxlanEncapsulator, Mtu1500TruncatesFullSizeFrameSoOuterPacketIsExactly1500) {
  OuterPath path = awsPath();
  path.mtu = 1500;
  const VxlanEncapsulator encap(path, 42, 0);
  EXPECT_EQ(encap.maxInnerLength(), 1464u);
  const Frame frame = frameOfSize(1514);
  EncapSlot slot;
  const MirrorCopy copy = encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot);
  EXPECT_EQ(copy.inner_length, 1464u);
  EXPECT_EQ(copy.original_length, 1514u);
  EXPECT_TRUE(copy.truncated());
  const auto w = wire(copy);
  EXPECT_EQ(u16(w, 16), 1500u);
  EXPECT_EQ(w.size(), 14u + 1500u);
}

TEST(VxlanEncapsulator, MtuAndPacketLengthTheSmallerWins) {
  OuterPath path = awsPath();
  path.mtu = 1500;
  EXPECT_EQ(VxlanEncapsulator(path, 1, 8500).maxInnerLength(), 1464u);
  EXPECT_EQ(VxlanEncapsulator(path, 1, 200).maxInnerLength(), 200u);
}

TEST(VxlanEncapsulator, Mtu9001DoesNotTruncate8000ByteFrame) {
  OuterPath path = awsPath();
  path.mtu = 9001;
  const VxlanEncapsulator encap(path, 42, 0);
  EXPECT_EQ(encap.maxInnerLength(), 8965u);
  const Frame frame(8000, std::byte{0x22});
  EncapSlot slot;
  const MirrorCopy copy = encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot);
  EXPECT_EQ(copy.inner_length, 8000u);
  EXPECT_FALSE(copy.truncated());
  EXPECT_EQ(u16(wire(copy), 16), 8036u);
}

TEST(VxlanEncapsulator, PacketLengthLargerThanFrameDoesNotTruncate) {
  const VxlanEncapsulator encap(awsPath(), 42, 1000);
  const Frame frame = frameOfSize(100);
  EncapSlot slot;
  const MirrorCopy copy = encapsulateOne(encap, Bytes(frame), VlanTag{}, 50000, slot);
  EXPECT_EQ(copy.inner_length, 100u);
  EXPECT_EQ(copy.original_length, 100u);
  EXPECT_FALSE(copy.truncated());
}

TEST(VxlanEncapsulator, MtuBelowMinimumIsTreatedAs68) {
  OuterPath path = awsPath();
  path.mtu = 0;
  EXPECT_EQ(VxlanEncapsulator(path, 1, 0).maxInnerLength(), 68u - 36u);
}

// ---- VLAN tag restoration ------------------------------------------------------------------

TEST(VxlanEncapsulator, VlanTagIsRestoredAfterTheMacAddresses) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  const Frame frame = frameOfSize(100);
  const VlanTag tag{true, 0x8100, 0x2064};  // PCP 1, VID 100
  EncapSlot slot;
  const MirrorCopy copy = encapsulateOne(encap, Bytes(frame), tag, 50000, slot);
  ASSERT_EQ(copy.piece_count, 4);
  EXPECT_EQ(copy.pieces[1].size(), 12u);
  EXPECT_EQ(copy.pieces[2].size(), 4u);
  EXPECT_EQ(copy.pieces[3].size(), 88u);
  EXPECT_EQ(copy.pieces[2].data(), slot.vlan_tag.data());
  EXPECT_EQ(copy.inner_length, 104u);
  EXPECT_EQ(copy.original_length, 104u);
  EXPECT_FALSE(copy.truncated());
  const auto w = wire(copy);
  EXPECT_EQ(u16(w, 16), 36u + 104u);
  const Frame tagged = withTag(frame, 0x8100, 0x2064);
  EXPECT_EQ(testing::toHex(std::span(w).subspan(50)), testing::toHex(tagged));
  EXPECT_EQ(u16(w, 50 + 12), 0x8100u);
  EXPECT_EQ(u16(w, 50 + 14), 0x2064u);

  ParsedFrame inner;
  parseFrame(std::span(w).subspan(50), inner);
  EXPECT_EQ(inner.vlan_count, 1);
  EXPECT_EQ(inner.dst_port, 443);
}

TEST(VxlanEncapsulator, ServiceTagTpidIsRestoredAsGiven) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  const Frame frame = frameOfSize(80);
  EncapSlot slot;
  const auto w =
      wire(encapsulateOne(encap, Bytes(frame), VlanTag{true, 0x88A8, 0x0FFF}, 50000, slot));
  EXPECT_EQ(testing::toHex(std::span(w).subspan(50)),
            testing::toHex(withTag(frame, 0x88A8, 0x0FFF)));
}

TEST(VxlanEncapsulator, VlanTagRestorationRespectsTruncationBeforeInsideAndAfterTheTag) {
  const Frame frame = frameOfSize(100);
  const Frame tagged = withTag(frame, 0x8100, 0x0005);

  struct Case {
    uint32_t length;
    uint8_t pieces;
  };

  for (const Case c : {Case{5, 2}, Case{12, 2}, Case{13, 3}, Case{14, 3}, Case{16, 3}, Case{17, 4},
                       Case{103, 4}}) {
    const VxlanEncapsulator encap(awsPath(), 42, c.length);
    EncapSlot slot;
    const MirrorCopy copy =
        encapsulateOne(encap, Bytes(frame), VlanTag{true, 0x8100, 5}, 50000, slot);
    SCOPED_TRACE("packet length " + std::to_string(c.length));
    EXPECT_EQ(copy.piece_count, c.pieces);
    EXPECT_EQ(copy.inner_length, c.length);
    EXPECT_EQ(copy.original_length, 104u);
    EXPECT_TRUE(copy.truncated());
    std::size_t total = 0;
    for (uint8_t i = 0; i < copy.piece_count; ++i) {
      total += copy.pieces[i].size();
    }
    EXPECT_EQ(total, 50u + c.length);
    const auto w = wire(copy);
    ASSERT_EQ(w.size(), 50u + c.length);
    EXPECT_EQ(testing::toHex(std::span(w).subspan(50)),
              testing::toHex(std::span(tagged).first(c.length)));
    EXPECT_EQ(u16(w, 16), 36u + c.length);
  }
}

TEST(VxlanEncapsulator, VlanTagIsNotRestoredIntoFrameShorterThanTheMacAddresses) {
  const VxlanEncapsulator encap(awsPath(), 42, 0);
  const Frame frame(11, std::byte{0x33});
  EncapSlot slot;
  const MirrorCopy copy =
      encapsulateOne(encap, Bytes(frame), VlanTag{true, 0x8100, 5}, 50000, slot);
  EXPECT_EQ(copy.piece_count, 2);
  EXPECT_EQ(copy.inner_length, 11u);
  EXPECT_EQ(copy.original_length, 11u);
}

// ---- Round trip -------------------------------------------------------------------------

TEST(VxlanEncapsulator, CopyDecapsulatesBackToTheSameVniAndInnerBytes) {
  const Frame frame =
      PacketBuilder().ipv6("2001:db8::1", "2001:db8::2").udp(5000, 53).payload(300).build();
  for (uint32_t vni : {0u, 7u, 16777215u}) {
    for (bool tagged : {false, true}) {
      for (uint32_t packet_length : {0u, 100u}) {
        const VxlanEncapsulator encap(awsPath(), vni, packet_length);
        EncapSlot slot;
        const VlanTag tag{tagged, 0x8100, 300};
        const auto w = wire(encapsulateOne(encap, Bytes(frame), tag, 49999, slot));
        const DecapsulatedFrame d = decapsulateFrame(Bytes(w));
        SCOPED_TRACE("vni " + std::to_string(vni) + (tagged ? " tagged" : "") + " length " +
                     std::to_string(packet_length));
        ASSERT_EQ(d.status, DecapStatus::Ok) << decapStatusName(d.status);
        EXPECT_EQ(d.vni, vni);
        EXPECT_EQ(d.outer_src, ip("172.31.0.238"));
        EXPECT_EQ(d.outer_dst, ip("172.31.17.188"));
        EXPECT_EQ(d.outer_src_port, 49999);
        EXPECT_EQ(d.outer_dst_port, 4789);
        Frame expected = tagged ? withTag(frame, 0x8100, 300) : frame;
        if (packet_length != 0) {
          expected.resize(packet_length);
        }
        EXPECT_EQ(testing::toHex(d.inner), testing::toHex(expected));
      }
    }
  }
}

TEST(VxlanEncapsulator, PathMtuAboveIpv4MaximumIsClampedSoLengthsStayExact) {
  OuterPath path = awsPath();
  path.mtu = 70000;  // no IPv4 packet can be this long
  const VxlanEncapsulator encap(path, 1, 0);
  EXPECT_EQ(encap.maxInnerLength(), 65535u - 36u);
  const Frame frame = frameOfSize(66000);
  EncapSlot slot;
  const auto out = wire(encapsulateOne(encap, frame, {}, 50000, slot));
  EXPECT_EQ(u16(out, 14 + 2), 65535u);             // IPv4 total length
  EXPECT_EQ(u16(out, 14 + 20 + 4), 65535u - 20u);  // UDP length
  EXPECT_EQ(ipv4HeaderSum(out, 14), 0xFFFFu);
}

TEST(VxlanEncapsulator, WireLengthOfACutCaptureSetsTheOuterLengths) {
  const VxlanEncapsulator encap(awsPath(), 1, 200);
  const Frame captured = frameOfSize(100);  // a capture kept 100 bytes of a 1500-byte frame
  EncapSlot slot;
  MirrorCopy copy;
  encap.encapsulate(captured, 1500, {}, 50000, slot, copy);
  EXPECT_EQ(copy.inner_length, 100u);       // what we have
  EXPECT_EQ(copy.wire_inner_length, 200u);  // what the agent would send: the packet length
  EXPECT_EQ(copy.original_length, 1500u);
  EXPECT_TRUE(copy.truncated());
  EXPECT_EQ(copy.outerWireLength(), 250u);
  const auto out = wire(copy);
  EXPECT_EQ(out.size(), 150u);
  EXPECT_EQ(u16(out, 14 + 2), 236u);  // 20 + 8 + 8 + 200
}

}  // namespace
}  // namespace tmirror::packet
