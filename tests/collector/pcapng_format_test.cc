// The hand-written pcapng blocks, read back by libpcap, our epb_flags walker and tshark.
#include "collector/pcapng_format.h"

#include <gtest/gtest.h>

#include "collector_test_util.h"
#include "pcap/scratch_dir.h"
#include "pcap/tshark.h"

namespace tmirror::collector {
namespace {

using testing::makeFrame;
using testing::readCapture;

std::filesystem::path writeCapture(const pcap::testing::ScratchDir& dir,
                                   const std::vector<std::vector<std::byte>>& frames,
                                   const std::vector<uint32_t>& original_lengths,
                                   const std::vector<packet::PacketDirection>& directions) {
  std::vector<std::byte> file =
      pcapngPreamble({"tmirror-42", "VXLAN mirror from 10.9.8.7 VNI 42 session tms-1"});
  for (std::size_t i = 0; i < frames.size(); ++i) {
    std::vector<std::byte> block(enhancedPacketBlockSize(frames[i].size(), directions[i]));
    const std::size_t n = writeEnhancedPacketBlock(block, 1'700'000'000'123'456'789ULL + i,
                                                   frames[i], original_lengths[i], directions[i]);
    EXPECT_EQ(n, block.size());
    file.insert(file.end(), block.begin(), block.end());
  }
  return dir.write("test.pcapng", file);
}

TEST(PcapngFormat, FramesReadBackByteForByteWithLengthsTimesAndDirections) {
  pcap::testing::ScratchDir dir;
  const std::vector<std::vector<std::byte>> frames{makeFrame(60, 1), makeFrame(61, 2),
                                                   makeFrame(1514, 3)};
  // The third is stored cut to 100 bytes of a 1514-byte frame.
  std::vector<std::vector<std::byte>> stored = frames;
  stored[2].resize(100);
  const auto path =
      writeCapture(dir, stored, {60, 61, 1514},
                   {packet::PacketDirection::Inbound, packet::PacketDirection::Outbound,
                    packet::PacketDirection::Unknown});
  const auto packets = readCapture(path);
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[0].data, frames[0]);
  EXPECT_EQ(packets[1].data, frames[1]);
  EXPECT_EQ(packets[2].data, stored[2]);
  EXPECT_EQ(packets[2].original_length, 1514u);
  EXPECT_EQ(packets[0].timestamp_ns, 1'700'000'000'123'456'789LL);
  EXPECT_EQ(packets[0].direction, packet::PacketDirection::Inbound);
  EXPECT_EQ(packets[1].direction, packet::PacketDirection::Outbound);
  EXPECT_EQ(packets[2].direction, packet::PacketDirection::Unknown);
}

TEST(PcapngFormat, TsharkAndCapinfosAcceptTheFileAndSeeTheInterfaceNames) {
  if (!pcap::testing::haveTshark()) {
    GTEST_SKIP() << "tshark not installed";
  }
  pcap::testing::ScratchDir dir;
  const auto path =
      writeCapture(dir, {makeFrame(60, 1), makeFrame(100, 2)}, {60, 400},
                   {packet::PacketDirection::Inbound, packet::PacketDirection::Unknown});
  EXPECT_EQ(testing::runQuiet("capinfos '" + path.string() + "'"), 0);
  EXPECT_EQ(*pcap::testing::tsharkFields(path, "frame.interface_name"),
            (std::vector<std::string>{"tmirror-42", "tmirror-42"}));
  const auto description = pcap::testing::tsharkFields(path, "frame.interface_description");
  ASSERT_TRUE(description);
  EXPECT_EQ(description->at(0), "VXLAN mirror from 10.9.8.7 VNI 42 session tms-1");
  EXPECT_EQ(*pcap::testing::tsharkFields(path, "frame.len"),
            (std::vector<std::string>{"60", "400"}));
  EXPECT_EQ(*pcap::testing::tsharkFields(path, "frame.cap_len"),
            (std::vector<std::string>{"60", "100"}));
  EXPECT_EQ(*pcap::testing::tsharkFields(path, "udp.dstport"),
            (std::vector<std::string>{"53", "53"}));
}

TEST(PcapngFormat, BlockThatDoesNotFitIsNotWritten) {
  const auto frame = makeFrame(60, 1);
  std::vector<std::byte> small(enhancedPacketBlockSize(60, packet::PacketDirection::Unknown) - 1);
  EXPECT_EQ(writeEnhancedPacketBlock(small, 0, frame, 60, packet::PacketDirection::Unknown), 0u);
  EXPECT_EQ(enhancedPacketBlockSize(61, packet::PacketDirection::Unknown), 32u + 64u);
  EXPECT_EQ(enhancedPacketBlockSize(60, packet::PacketDirection::Inbound), 32u + 60u + 12u);
}

}  // namespace
}  // namespace tmirror::collector
