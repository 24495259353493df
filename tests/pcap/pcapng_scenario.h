// One pcapng file exercising every block the direction walker handles, with the packets
// libpcap must return from it: shared by the walker and reader tests.
#pragma once

#include <cstdint>
#include <vector>

#include "packet/packet_direction.h"
#include "pcapng_builder.h"

namespace tmirror::pcap::testing {

struct ExpectedPacket {
  std::vector<std::byte> data;
  uint32_t original_length = 0;
  int64_t timestamp_ns = 0;
  packet::PacketDirection direction = packet::PacketDirection::Unknown;
};

struct PcapngScenario {
  std::vector<std::byte> file;
  std::vector<ExpectedPacket> packets;
};

inline constexpr uint16_t kLinkTypeEthernet = 1;  // DLT_EN10MB / LINKTYPE_ETHERNET

// Big-endian files use nanosecond timestamps (if_tsresol 9), little-endian ones the default
// microseconds, so both timestamp scalings are covered.
inline PcapngScenario buildDirectionScenario(ByteOrder order) {
  const bool nanos = order == ByteOrder::Big;
  const int64_t ns_per_unit = nanos ? 1 : 1000;
  const uint64_t base = nanos ? 1'700'000'000'123'456'789ULL : 1'700'000'000'123'456ULL;
  const std::optional<uint8_t> tsresol = nanos ? std::optional<uint8_t>(9) : std::nullopt;

  PcapngBuilder b(order);
  PcapngScenario s;
  const auto ts = [&](uint64_t units) { return static_cast<int64_t>(units) * ns_per_unit; };
  const auto epb = [&](uint64_t t, std::vector<std::byte> data, uint32_t original_length,
                       std::vector<PcapngOption> options, packet::PacketDirection direction) {
    b.enhancedPacket(0, t, data, original_length, options);
    s.packets.push_back({std::move(data), original_length, ts(t), direction});
  };

  b.sectionHeader();
  b.interfaceDescription(kLinkTypeEthernet, 65535, tsresol);
  std::vector<std::byte> custom = {std::byte{0}, std::byte{0}, std::byte{0x7f}, std::byte{0xff}};
  const auto note = bytesOf("ignored by everyone");
  custom.insert(custom.end(), note.begin(), note.end());
  b.block(PcapngBuilder::kCustom, custom);

  epb(base, patternBytes(60, 0x10), 60,
      {{PcapngBuilder::kOptComment, bytesOf("first")}, b.epbFlags(0x1)},
      packet::PacketDirection::Inbound);
  epb(base + 1, patternBytes(64, 0x20), 64, {b.epbFlags(0x2)}, packet::PacketDirection::Outbound);
  epb(base + 2, patternBytes(42, 0x30), 42, {}, packet::PacketDirection::Unknown);
  // Other flag bits (CRC error) set: only bits 0-1 decide the direction.
  epb(base + 3, patternBytes(61, 0x40), 1514, {b.epbFlags(0x01000001)},
      packet::PacketDirection::Inbound);
  epb(base + 4, patternBytes(3, 0x48), 3, {b.epbFlags(0x3)}, packet::PacketDirection::Unknown);

  b.block(0x12345678, patternBytes(20, 0xEE));  // unknown block type: skipped by both

  const auto simple = patternBytes(60, 0x50);
  b.simplePacket(simple, 60);
  s.packets.push_back(
      {simple, 60, 0, packet::PacketDirection::Unknown});  // SPBs carry no timestamp

  const auto obsolete = patternBytes(50, 0x60);
  b.obsoletePacket(0, base + 6, obsolete, 50);
  s.packets.push_back({obsolete, 50, ts(base + 6), packet::PacketDirection::Unknown});

  epb(base + 7, patternBytes(70, 0x70), 70,
      {{PcapngBuilder::kOptComment, bytesOf("odd")}, b.epbFlags(0x2)},
      packet::PacketDirection::Outbound);

  // A second section: interfaces start over.
  b.sectionHeader();
  b.interfaceDescription(kLinkTypeEthernet, 65535, tsresol);
  epb(base + 8, patternBytes(80, 0x80), 80, {b.epbFlags(0x1)}, packet::PacketDirection::Inbound);

  s.file = b.bytes();
  return s;
}

}  // namespace tmirror::pcap::testing
