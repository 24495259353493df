#include "pcap/pcap_reader.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include "pcap/pcap_writer.h"
#include "pcap_test_printers.h"
#include "pcapng_builder.h"
#include "pcapng_scenario.h"
#include "scratch_dir.h"
#include "tshark.h"

namespace tmirror::pcap {
namespace {

using testing::buildDirectionScenario;
using testing::ByteOrder;
using testing::patternBytes;
using testing::PcapngBuilder;
using testing::ScratchDir;

std::vector<std::byte> toVector(std::span<const std::byte> s) {
  return {s.begin(), s.end()};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A classic pcap with `count` Ethernet packets of 100 bytes, written by PcapWriter.
std::filesystem::path writeClassicPcap(const ScratchDir& dir, const std::string& name, int count) {
  const auto path = dir.file(name);
  auto writer = PcapWriter::create(path, DLT_EN10MB);
  EXPECT_TRUE(writer) << writer.error().message;
  for (int i = 0; i < count; ++i) {
    EXPECT_TRUE(writer->write(1'000'000'000LL * (i + 1) + i,
                              patternBytes(100, static_cast<uint8_t>(i)), 100));
  }
  EXPECT_TRUE(writer->commit());
  return path;
}

class PcapReaderPcapng : public ::testing::TestWithParam<ByteOrder> {};

TEST_P(PcapReaderPcapng, ReturnsEveryPacketWithDataLengthsTimestampAndDirection) {
  ScratchDir dir;
  const auto scenario = buildDirectionScenario(GetParam());
  auto reader = PcapReader::open(dir.write("s.pcapng", scenario.file));
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_TRUE(reader->isPcapng());
  EXPECT_EQ(reader->linkType(), DLT_EN10MB);

  for (std::size_t i = 0; i < scenario.packets.size(); ++i) {
    SCOPED_TRACE("packet " + std::to_string(i));
    const auto& want = scenario.packets[i];
    auto got = reader->next();
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(toVector((*got)->data), want.data);
    EXPECT_EQ((*got)->original_length, want.original_length);
    EXPECT_EQ((*got)->timestamp_ns, want.timestamp_ns);
    EXPECT_EQ((*got)->direction, want.direction);
  }
  auto end = reader->next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->has_value());
  EXPECT_EQ(reader->packetsRead(), scenario.packets.size());
  auto after_end = reader->next();
  ASSERT_TRUE(after_end);
  EXPECT_FALSE(after_end->has_value());
}

// tshark, an independent pcapng decoder, reads the same directions from our hand-made bytes
// as the walker does: proof the fixture bytes mean what the tests think.
TEST_P(PcapReaderPcapng, DirectionsAgreeWithTshark) {
  if (!testing::haveTshark()) {
    GTEST_SKIP() << testing::kTsharkPath << " not installed; cannot cross-check with tshark";
  }
  ScratchDir dir;
  const auto scenario = buildDirectionScenario(GetParam());
  const auto path = dir.write("s.pcapng", scenario.file);
  // Wireshark also lists the pcapng custom block as a record; only packets have an interface.
  const auto fields =
      testing::tsharkFields(path, "frame.packet_flags_direction", "frame.interface_id");
  ASSERT_TRUE(fields) << "tshark failed on " << path;
  ASSERT_EQ(fields->size(), scenario.packets.size());

  auto reader = PcapReader::open(path);
  ASSERT_TRUE(reader);
  for (std::size_t i = 0; i < fields->size(); ++i) {
    auto packet = reader->next();
    ASSERT_TRUE(packet && *packet);
    // tshark prints the masked direction bits; nothing (no epb_flags) or 0/3 mean unknown.
    const std::string& f = (*fields)[i];
    const packet::PacketDirection tshark_direction =
        (f == "0x1" || f == "0x00000001" || f == "1")   ? packet::PacketDirection::Inbound
        : (f == "0x2" || f == "0x00000002" || f == "2") ? packet::PacketDirection::Outbound
                                                        : packet::PacketDirection::Unknown;
    EXPECT_EQ((*packet)->direction, tshark_direction)
        << "packet " << i << ", tshark says '" << f << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(BothByteOrders, PcapReaderPcapng,
                         ::testing::Values(ByteOrder::Little, ByteOrder::Big),
                         [](const auto& param_info) {
                           return testing::byteOrderName(param_info.param);
                         });

TEST(PcapReader, PcapngWithMalformedOptionsStillReadsPacketsButDirectionsTurnUnknown) {
  ScratchDir dir;
  PcapngBuilder b(ByteOrder::Little);
  b.sectionHeader().interfaceDescription(DLT_EN10MB, 65535, std::nullopt);
  b.enhancedPacket(0, 1, patternBytes(40, 1), 40, {b.epbFlags(1)});
  const std::size_t second = b.bytes().size();
  b.enhancedPacket(0, 2, patternBytes(40, 2), 40, {b.epbFlags(2)});
  b.enhancedPacket(0, 3, patternBytes(40, 3), 40, {b.epbFlags(2)});
  b.patchU16(second + 28 + 40 + 2, 0x7FFF);  // epb_flags length overflows the block

  auto reader = PcapReader::open(dir.write("bad-opt.pcapng", b.bytes()));
  ASSERT_TRUE(reader) << reader.error().message;
  std::vector<packet::PacketDirection> directions;
  for (;;) {
    auto packet = reader->next();
    ASSERT_TRUE(packet) << packet.error().message;  // libpcap does not parse EPB options
    if (!*packet) {
      break;
    }
    directions.push_back((*packet)->direction);
  }
  EXPECT_EQ(directions,
            (std::vector{packet::PacketDirection::Inbound, packet::PacketDirection::Unknown,
                         packet::PacketDirection::Unknown}));
}

TEST(PcapReader, ClassicPcapHasNanosecondTimestampsAndUnknownDirections) {
  ScratchDir dir;
  auto reader = PcapReader::open(writeClassicPcap(dir, "c.pcap", 3));
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_FALSE(reader->isPcapng());
  EXPECT_EQ(reader->linkType(), DLT_EN10MB);
  for (int i = 0; i < 3; ++i) {
    auto packet = reader->next();
    ASSERT_TRUE(packet && *packet);
    EXPECT_EQ((*packet)->timestamp_ns, 1'000'000'000LL * (i + 1) + i);
    EXPECT_EQ((*packet)->direction, packet::PacketDirection::Unknown);
  }
}

TEST(PcapReader, MissingFileIsNotFoundNamingTheFile) {
  ScratchDir dir;
  auto reader = PcapReader::open(dir.file("no-such.pcap"));
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::NotFound);
  EXPECT_TRUE(contains(reader.error().message, "no-such.pcap")) << reader.error().message;
}

TEST(PcapReader, FileNamedDashIsAFileNotStdin) {
  ScratchDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto reader = PcapReader::open("-");
  std::filesystem::current_path(cwd);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::NotFound);
}

TEST(PcapReader, GarbageFileIsErrorNamingFileWithLibpcapMessage) {
  ScratchDir dir;
  const auto path =
      dir.write("garbage.pcap", testing::bytesOf("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto reader = PcapReader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(contains(reader.error().message, "garbage.pcap")) << reader.error().message;
  EXPECT_TRUE(contains(reader.error().message, "unknown file format")) << reader.error().message;
}

TEST(PcapReader, EmptyFileIsError) {
  ScratchDir dir;
  auto reader = PcapReader::open(dir.write("empty.pcap", {}));
  ASSERT_FALSE(reader);
  EXPECT_TRUE(contains(reader.error().message, "empty.pcap")) << reader.error().message;
}

TEST(PcapReader, PcapTruncatedMidRecordIsErrorNamingFileAndPacketIndex) {
  ScratchDir dir;
  auto bytes = testing::readFile(writeClassicPcap(dir, "full.pcap", 3));
  // 24-byte file header, then records of 16 + 100 bytes: cut inside the second record's data.
  bytes.resize(24 + 116 + 16 + 50);
  const auto path = dir.write("cut.pcap", bytes);

  auto reader = PcapReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  auto first = reader->next();
  ASSERT_TRUE(first && *first);
  auto second = reader->next();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(contains(second.error().message, "cut.pcap")) << second.error().message;
  EXPECT_TRUE(contains(second.error().message, "packet index 1")) << second.error().message;
  EXPECT_TRUE(contains(second.error().message, "truncated")) << second.error().message;
  // The error sticks rather than turning into a clean end of file.
  EXPECT_FALSE(reader->next());
}

TEST(PcapReader, PcapTruncatedMidRecordHeaderIsError) {
  ScratchDir dir;
  auto bytes = testing::readFile(writeClassicPcap(dir, "full.pcap", 2));
  bytes.resize(24 + 116 + 7);
  auto reader = PcapReader::open(dir.write("cut.pcap", bytes));
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->next());
  auto second = reader->next();
  ASSERT_FALSE(second);
  EXPECT_TRUE(contains(second.error().message, "packet index 1")) << second.error().message;
}

TEST(PcapReader, PcapngTruncatedMidBlockIsErrorNamingFile) {
  ScratchDir dir;
  auto bytes = buildDirectionScenario(ByteOrder::Little).file;
  bytes.resize(bytes.size() - 10);
  auto reader = PcapReader::open(dir.write("cut.pcapng", bytes));
  ASSERT_TRUE(reader) << reader.error().message;
  Result<std::optional<PcapPacket>> packet;
  for (int i = 0; i < 100; ++i) {
    packet = reader->next();
    if (!packet || !*packet) {
      break;
    }
  }
  ASSERT_FALSE(packet);
  EXPECT_TRUE(contains(packet.error().message, "cut.pcapng")) << packet.error().message;
}

TEST(PcapReader, TimestampBeyondInt64NanosecondsIsErrorNotWrap) {
  ScratchDir dir;
  PcapngBuilder b(ByteOrder::Little);
  b.sectionHeader().interfaceDescription(DLT_EN10MB, 65535, 9);
  b.enhancedPacket(0, 0xFFFFFFFFFFFFFFFF, patternBytes(40, 1), 40, {});
  auto reader = PcapReader::open(dir.write("far-future.pcapng", b.bytes()));
  ASSERT_TRUE(reader) << reader.error().message;
  auto packet = reader->next();
  ASSERT_FALSE(packet);
  EXPECT_TRUE(contains(packet.error().message, "far-future.pcapng")) << packet.error().message;
  EXPECT_TRUE(contains(packet.error().message, "packet index 0")) << packet.error().message;
}

TEST(PcapReader, MovedReaderKeepsReadingWhereItWas) {
  ScratchDir dir;
  const auto scenario = buildDirectionScenario(ByteOrder::Big);
  auto opened = PcapReader::open(dir.write("s.pcapng", scenario.file));
  ASSERT_TRUE(opened);
  ASSERT_TRUE(opened->next());
  PcapReader moved = std::move(*opened);
  auto second = moved.next();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(toVector((*second)->data), scenario.packets[1].data);
  EXPECT_EQ((*second)->direction, scenario.packets[1].direction);
}

}  // namespace
}  // namespace tmirror::pcap
