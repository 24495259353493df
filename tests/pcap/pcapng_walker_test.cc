#include "pcap/pcapng_walker.h"

#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "pcap/pcap_reader.h"
#include "pcap_test_printers.h"
#include "pcapng_builder.h"
#include "pcapng_scenario.h"
#include "scratch_dir.h"

namespace tmirror::pcap {
namespace {

using testing::buildDirectionScenario;
using testing::ByteOrder;
using testing::patternBytes;
using testing::PcapngBuilder;
using testing::ScratchDir;

// Upper bound on next() calls in a walk, so a walker that never finishes fails instead of hangs.
constexpr int kMaxSteps = 100000;

std::vector<packet::PacketDirection> walkAll(PcapngDirectionWalker& walker) {
  std::vector<packet::PacketDirection> out;
  for (int i = 0; i < kMaxSteps; ++i) {
    const packet::PacketDirection d = walker.next();
    if (walker.finished()) {
      break;
    }
    out.push_back(d);
  }
  return out;
}

std::vector<packet::PacketDirection> walkFile(const std::filesystem::path& path) {
  auto walker = PcapngDirectionWalker::open(path);
  EXPECT_TRUE(walker.has_value()) << (walker ? "" : walker.error().message);
  if (!walker) {
    return {};
  }
  return walkAll(*walker);
}

// A small valid file: SHB, IDB, EPB inbound, EPB outbound, EPB inbound.
PcapngBuilder threeFlaggedPackets(ByteOrder order) {
  PcapngBuilder b(order);
  b.sectionHeader().interfaceDescription(1, 65535, std::nullopt);
  b.enhancedPacket(0, 1, patternBytes(40, 1), 40, {b.epbFlags(1)});
  b.enhancedPacket(0, 2, patternBytes(40, 2), 40, {b.epbFlags(2)});
  b.enhancedPacket(0, 3, patternBytes(40, 3), 40, {b.epbFlags(1)});
  return b;
}

class PcapngDirectionWalkerByteOrder : public ::testing::TestWithParam<ByteOrder> {};

TEST_P(PcapngDirectionWalkerByteOrder, YieldsEpbFlagsDirectionPerPacketBlockInFileOrder) {
  ScratchDir dir;
  const auto scenario = buildDirectionScenario(GetParam());
  auto walker = PcapngDirectionWalker::open(dir.write("s.pcapng", scenario.file));
  ASSERT_TRUE(walker) << walker.error().message;

  std::vector<packet::PacketDirection> expected;
  for (const auto& p : scenario.packets) {
    expected.push_back(p.direction);
  }
  EXPECT_EQ(walkAll(*walker), expected);
  EXPECT_TRUE(walker->finished());
  EXPECT_FALSE(walker->malformed());
}

INSTANTIATE_TEST_SUITE_P(BothByteOrders, PcapngDirectionWalkerByteOrder,
                         ::testing::Values(ByteOrder::Little, ByteOrder::Big),
                         [](const auto& param_info) {
                           return testing::byteOrderName(param_info.param);
                         });

TEST(PcapngDirectionWalker, SectionHeaderMidFileSwitchesByteOrder) {
  ScratchDir dir;
  PcapngBuilder b(ByteOrder::Little);
  b.sectionHeader().interfaceDescription(1, 65535, std::nullopt);
  b.enhancedPacket(0, 1, patternBytes(20, 1), 20, {b.epbFlags(2)});
  b.useByteOrder(ByteOrder::Big);
  b.sectionHeader().interfaceDescription(1, 65535, std::nullopt);
  b.enhancedPacket(0, 2, patternBytes(20, 2), 20, {b.epbFlags(1)});
  b.enhancedPacket(0, 3, patternBytes(20, 3), 20, {b.epbFlags(2)});

  EXPECT_EQ(walkFile(dir.write("mixed.pcapng", b.bytes())),
            (std::vector{packet::PacketDirection::Outbound, packet::PacketDirection::Inbound,
                         packet::PacketDirection::Outbound}));
}

TEST(PcapngDirectionWalker, KeepsReturningUnknownOnceExhausted) {
  ScratchDir dir;
  auto walker = PcapngDirectionWalker::open(
      dir.write("three.pcapng", threeFlaggedPackets(ByteOrder::Little).bytes()));
  ASSERT_TRUE(walker);
  EXPECT_EQ(walker->next(), packet::PacketDirection::Inbound);
  EXPECT_EQ(walker->next(), packet::PacketDirection::Outbound);
  EXPECT_EQ(walker->next(), packet::PacketDirection::Inbound);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(walker->next(), packet::PacketDirection::Unknown);
  }
  EXPECT_TRUE(walker->finished());
  EXPECT_FALSE(walker->malformed());
}

TEST(PcapngDirectionWalker, EpbFlagsOfWrongSizeAreIgnored) {
  ScratchDir dir;
  PcapngBuilder b(ByteOrder::Little);
  b.sectionHeader().interfaceDescription(1, 65535, std::nullopt);
  b.enhancedPacket(0, 1, patternBytes(20, 1), 20,
                   {{PcapngBuilder::kOptEpbFlags, {std::byte{1}, std::byte{0}}}});
  b.enhancedPacket(0, 2, patternBytes(20, 2), 20, {b.epbFlags(2)});
  EXPECT_EQ(walkFile(dir.write("short-flags.pcapng", b.bytes())),
            (std::vector{packet::PacketDirection::Unknown, packet::PacketDirection::Outbound}));
}

TEST(PcapngDirectionWalker, MissingFileIsNotFound) {
  ScratchDir dir;
  auto walker = PcapngDirectionWalker::open(dir.file("absent.pcapng"));
  ASSERT_FALSE(walker);
  EXPECT_EQ(walker.error().code, ErrorCode::NotFound);
  EXPECT_NE(walker.error().message.find("absent.pcapng"), std::string::npos);
}

TEST(PcapngDirectionWalker, FileWithoutSectionHeaderIsRejectedAtOpen) {
  ScratchDir dir;
  auto walker = PcapngDirectionWalker::open(dir.write("text", testing::bytesOf("hello world!")));
  ASSERT_FALSE(walker);
  EXPECT_EQ(walker.error().code, ErrorCode::InvalidArgument);
}

// --- Hostile input: each corruption hits the second EPB, so the first direction survives and
// everything from the corrupted block on is Unknown. ---

struct Corruption {
  const char* name;
  void (*apply)(PcapngBuilder& b, std::size_t second_epb, std::vector<std::byte>& file);
};

std::size_t secondEpbOffset(ByteOrder order) {
  PcapngBuilder b(order);
  b.sectionHeader().interfaceDescription(1, 65535, std::nullopt);
  b.enhancedPacket(0, 1, patternBytes(40, 1), 40, {b.epbFlags(1)});
  return b.bytes().size();
}

void expectRestUnknown(ByteOrder order,
                       void (*corrupt)(PcapngBuilder&, std::size_t, std::vector<std::byte>&)) {
  ScratchDir dir;
  PcapngBuilder b = threeFlaggedPackets(order);
  std::vector<std::byte> file;
  corrupt(b, secondEpbOffset(order), file);
  if (file.empty()) {
    file = b.bytes();
  }
  auto walker = PcapngDirectionWalker::open(dir.write("bad.pcapng", file));
  ASSERT_TRUE(walker) << walker.error().message;
  EXPECT_EQ(walker->next(), packet::PacketDirection::Inbound);
  EXPECT_EQ(walker->next(), packet::PacketDirection::Unknown);
  EXPECT_EQ(walker->next(), packet::PacketDirection::Unknown);
  EXPECT_EQ(walker->next(), packet::PacketDirection::Unknown);
  EXPECT_TRUE(walker->malformed());
}

class PcapngDirectionWalkerMalformed : public ::testing::TestWithParam<ByteOrder> {};

TEST_P(PcapngDirectionWalkerMalformed, BlockLengthBelowTwelveMakesRestUnknown) {
  expectRestUnknown(GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>&) {
    b.patchU32(epb + 4, 8);
  });
}

TEST_P(PcapngDirectionWalkerMalformed, ZeroBlockLengthMakesRestUnknown) {
  expectRestUnknown(GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>&) {
    b.patchU32(epb + 4, 0);
  });
}

TEST_P(PcapngDirectionWalkerMalformed, BlockLengthNotMultipleOfFourMakesRestUnknown) {
  expectRestUnknown(GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>&) {
    b.patchU32(epb + 4, 70);
  });
}

TEST_P(PcapngDirectionWalkerMalformed, BlockLengthBeyondFileEndMakesRestUnknown) {
  expectRestUnknown(GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>&) {
    b.patchU32(epb + 4, 0xFFFFFFFC);
  });
}

TEST_P(PcapngDirectionWalkerMalformed, TrailingLengthMismatchMakesRestUnknown) {
  expectRestUnknown(GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>&) {
    // EPB with 40 data bytes and epb_flags: 28 + 40 + 8 + 4 (end of options) + 4 = 84 bytes.
    b.patchU32(epb + 80, 88);
  });
}

TEST_P(PcapngDirectionWalkerMalformed, CapturedLengthOverflowingBlockMakesRestUnknown) {
  expectRestUnknown(GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>&) {
    b.patchU32(epb + 20, 0xFFFFFFFF);
  });
}

TEST_P(PcapngDirectionWalkerMalformed, OptionLengthOverflowingBlockMakesRestUnknown) {
  expectRestUnknown(GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>&) {
    b.patchU16(epb + 28 + 40 + 2, 0xFFFF);  // epb_flags length
  });
}

TEST_P(PcapngDirectionWalkerMalformed, OptionLengthOnePastBlockMakesRestUnknown) {
  expectRestUnknown(GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>&) {
    // 12 bytes of options (flags 8 + end 4): a value of 9 bytes pads to 12, 4 too many.
    b.patchU16(epb + 28 + 40 + 2, 9);
  });
}

TEST_P(PcapngDirectionWalkerMalformed, FileTruncatedMidBlockMakesRestUnknown) {
  expectRestUnknown(
      GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>& file) {
        file.assign(b.bytes().begin(), b.bytes().begin() + static_cast<std::ptrdiff_t>(epb + 50));
      });
}

TEST_P(PcapngDirectionWalkerMalformed, FileTruncatedMidBlockHeaderMakesRestUnknown) {
  expectRestUnknown(
      GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>& file) {
        file.assign(b.bytes().begin(), b.bytes().begin() + static_cast<std::ptrdiff_t>(epb + 6));
      });
}

TEST_P(PcapngDirectionWalkerMalformed, BadByteOrderMagicInLaterSectionMakesRestUnknown) {
  expectRestUnknown(GetParam(), [](PcapngBuilder& b, std::size_t epb, std::vector<std::byte>&) {
    // Turn the second EPB into an SHB whose byte-order magic is garbage.
    b.patchU32(epb, PcapngBuilder::kSectionHeader);
    b.patchU32(epb + 8, 0xDEADBEEF);
  });
}

INSTANTIATE_TEST_SUITE_P(BothByteOrders, PcapngDirectionWalkerMalformed,
                         ::testing::Values(ByteOrder::Little, ByteOrder::Big),
                         [](const auto& param_info) {
                           return testing::byteOrderName(param_info.param);
                         });

TEST(PcapngDirectionWalker, MalformedFirstSectionHeaderYieldsOnlyUnknown) {
  ScratchDir dir;
  PcapngBuilder b = threeFlaggedPackets(ByteOrder::Little);
  b.patchU32(4, 12);  // SHB shorter than its fixed fields
  auto walker = PcapngDirectionWalker::open(dir.write("bad-shb.pcapng", b.bytes()));
  ASSERT_TRUE(walker);
  EXPECT_EQ(walker->next(), packet::PacketDirection::Unknown);
  EXPECT_TRUE(walker->malformed());
}

TEST(PcapngDirectionWalker, EveryTruncationOfAValidFileEndsWithoutCrashing) {
  ScratchDir dir;
  const auto full = buildDirectionScenario(ByteOrder::Big).file;
  for (std::size_t cut = 4; cut < full.size(); ++cut) {
    const std::vector<std::byte> prefix(full.begin(),
                                        full.begin() + static_cast<std::ptrdiff_t>(cut));
    auto walker = PcapngDirectionWalker::open(dir.write("cut.pcapng", prefix));
    ASSERT_TRUE(walker) << "cut at " << cut;
    walkAll(*walker);
    EXPECT_TRUE(walker->finished()) << "cut at " << cut;
  }
}

// Random byte corruption of a valid file, walked by the walker and by the reader that zips it
// with libpcap: under the ASan build any out-of-bounds read fails here.
TEST(PcapngDirectionWalker, RandomlyCorruptedFilesEndWithoutCrashing) {
  ScratchDir dir;
  std::mt19937 rng(20240601);
  for (ByteOrder order : {ByteOrder::Little, ByteOrder::Big}) {
    const auto full = buildDirectionScenario(order).file;
    for (int round = 0; round < 500; ++round) {
      std::vector<std::byte> file = full;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) {
        // Keep the SHB magic so open() succeeds and the walk itself is exercised.
        const std::size_t at = 4 + rng() % (file.size() - 4);
        file[at] = static_cast<std::byte>(rng());
      }
      if (rng() % 4 == 0) {
        file.resize(4 + rng() % (file.size() - 4));
      }
      const auto path = dir.write("fuzz.pcapng", file);
      auto walker = PcapngDirectionWalker::open(path);
      ASSERT_TRUE(walker) << "round " << round;
      walkAll(*walker);
      EXPECT_TRUE(walker->finished()) << "round " << round;

      auto reader = PcapReader::open(path);
      if (reader) {
        for (int i = 0; i < kMaxSteps; ++i) {
          auto packet = reader->next();
          if (!packet || !*packet) {
            break;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace tmirror::pcap
