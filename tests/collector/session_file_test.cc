// One session's files: size and time rotation, retention, what a reader sees before close.
#include "collector/session_file.h"

#include <gtest/gtest.h>

#include "collector/pcapng_file_sink.h"
#include "collector_test_util.h"
#include "pcap/scratch_dir.h"
#include "pcap/tshark.h"

namespace tmirror::collector {
namespace {

using testing::filesIn;
using testing::makeFrame;
using testing::readCapture;

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kStart = 1'800'000'000 * kSecond;

class SessionFileTest : public ::testing::Test {
 protected:
  FileOutputOptions optionsWith(uint64_t rotate_bytes, uint64_t rotate_seconds) {
    FileOutputOptions o;
    o.directory = dir.path();
    o.rotate_bytes = rotate_bytes;
    o.rotate_seconds = rotate_seconds;
    o.buffer_bytes = 64 * 1024;
    return o;
  }

  // All packets of all finished files, in file order.
  std::vector<testing::ReadPacket> allPackets() {
    std::vector<testing::ReadPacket> out;
    for (const auto& f : filesIn(dir.path(), ".pcapng")) {
      auto packets = readCapture(f);
      out.insert(out.end(), packets.begin(), packets.end());
    }
    return out;
  }

  pcap::testing::ScratchDir dir;
  CollectorCounters counters;
};

TEST_F(SessionFileTest, SizeRotationKeepsEveryFileUnderTheLimitAndLosesNothing) {
  const auto options = optionsWith(20'000, 0);
  std::vector<std::vector<std::byte>> sent;
  {
    SessionFile file(options, "10.0.0.1-vni5", {"tmirror-5", "test"}, counters);
    for (uint32_t i = 0; i < 300; ++i) {
      sent.push_back(makeFrame(60 + i % 200, i));
      file.write(kStart + i * 1000, sent.back(), static_cast<uint32_t>(sent.back().size()),
                 packet::PacketDirection::Unknown);
    }
    file.close();
  }
  const auto files = filesIn(dir.path(), ".pcapng");
  EXPECT_GE(files.size(), 3u);  // ~57 kB of blocks in 20 kB files
  for (const auto& f : files) {
    EXPECT_LE(std::filesystem::file_size(f), 20'000u) << f;
    EXPECT_TRUE(f.filename().string().starts_with("10.0.0.1-vni5-")) << f;
  }
  EXPECT_TRUE(filesIn(dir.path(), ".part").empty());
  const auto packets = allPackets();
  ASSERT_EQ(packets.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(packets[i].data, sent[i]) << i;
  }
}

TEST_F(SessionFileTest, TimeRotationStartsANewFileEachPeriod) {
  const auto options = optionsWith(0, 2);
  SessionFile file(options, "s", {"tmirror-1", "t"}, counters);
  const auto frame = makeFrame(60, 1);
  for (uint64_t t = 0; t < 7; ++t) {
    file.write(kStart + t * kSecond, frame, 60, packet::PacketDirection::Unknown);
  }
  // A period ending without traffic also closes the file (tick).
  file.tick(kStart + 10 * kSecond);
  EXPECT_EQ(filesIn(dir.path(), ".pcapng").size(), 4u);  // [0,1] [2,3] [4,5] [6]
  EXPECT_TRUE(filesIn(dir.path(), ".part").empty());
  EXPECT_EQ(allPackets().size(), 7u);
}

TEST_F(SessionFileTest, RetentionKeepsTheNewestFilesByCountAndBytes) {
  auto options = optionsWith(10'000, 0);
  options.retention.keep_files = 3;
  {
    SessionFile file(options, "s", {"tmirror-1", "t"}, counters);
    for (uint32_t i = 0; i < 500; ++i) {
      const auto frame = makeFrame(200, i);
      file.write(kStart + i, frame, 200, packet::PacketDirection::Unknown);
    }
  }
  auto files = filesIn(dir.path(), ".pcapng");
  ASSERT_EQ(files.size(), 3u);
  // The newest survive: the last packet written is in the last file.
  const auto last = readCapture(files.back());
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back().data, makeFrame(200, 499));

  options.retention = {0, 25'000};
  SessionFile more(options, "s", {"tmirror-1", "t"}, counters);
  for (uint32_t i = 0; i < 100; ++i) {
    more.write(kStart + kSecond * 100 + i, makeFrame(200, i), 200,
               packet::PacketDirection::Unknown);
  }
  more.close();
  uint64_t total = 0;
  for (const auto& f : filesIn(dir.path(), ".pcapng")) {
    total += std::filesystem::file_size(f);
  }
  EXPECT_LE(total, 25'000u);
  EXPECT_GE(filesIn(dir.path(), ".pcapng").size(), 2u);
}

TEST_F(SessionFileTest, FileBeingWrittenIsReadableUpToItsLastFlushedBlock) {
  const auto options = optionsWith(0, 0);
  SessionFile file(options, "s", {"tmirror-1", "t"}, counters);
  for (uint32_t i = 0; i < 10; ++i) {
    file.write(kStart + i, makeFrame(100, i), 100, packet::PacketDirection::Unknown);
  }
  file.tick(kStart + 2 * kSecond);  // data older than a second is flushed
  const auto parts = filesIn(dir.path(), ".pcapng.part");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(filesIn(dir.path(), ".pcapng").empty());  // only finished files get that name
  EXPECT_EQ(readCapture(parts[0]).size(), 10u);
  if (pcap::testing::haveTshark()) {
    EXPECT_EQ(testing::runQuiet("tshark -r '" + parts[0].string() + "'"), 0);
  }
}

TEST_F(SessionFileTest, SnaplenCutsFramesAndKeepsTheOriginalLength) {
  auto options = optionsWith(0, 0);
  options.snaplen = 64;
  {
    SessionFile file(options, "s", {"tmirror-1", "t"}, counters);
    file.write(kStart, makeFrame(1000, 9), 1000, packet::PacketDirection::Unknown);
  }
  const auto packets = allPackets();
  ASSERT_EQ(packets.size(), 1u);
  const auto frame = makeFrame(1000, 9);
  EXPECT_EQ(packets[0].data, std::vector<std::byte>(frame.begin(), frame.begin() + 64));
  EXPECT_EQ(packets[0].original_length, 1000u);
}

TEST_F(SessionFileTest, SinkRecoversPartFilesOfAnEarlierRun) {
  // What a killed run leaves: whole blocks under a ".part" name.
  std::vector<std::byte> bytes = pcapngPreamble({"tmirror-1", "t"});
  const auto frame = makeFrame(100, 1);
  std::vector<std::byte> block(
      enhancedPacketBlockSize(frame.size(), packet::PacketDirection::Unknown));
  writeEnhancedPacketBlock(block, kStart, frame, 100, packet::PacketDirection::Unknown);
  bytes.insert(bytes.end(), block.begin(), block.end());
  dir.write("s-20270115T080000Z-000000.pcapng.part", bytes);
  PcapngFileSink sink(optionsWith(0, 0), counters, 4);
  EXPECT_TRUE(filesIn(dir.path(), ".part").empty());
  const auto files = filesIn(dir.path(), ".pcapng");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename(), "s-20270115T080000Z-000000.pcapng");
  const auto packets = readCapture(files[0]);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].data, frame);
}

}  // namespace
}  // namespace tmirror::collector
