// What the pcapng output holds per session: a small first buffer that grows while a session is
// busy and within the shared budget, freed when an idle file is finished; a cap on open files
// kept by finishing the least recently written; frames of any size written whole.
#include <map>

#include <gtest/gtest.h>

#include "collector/pcapng_file_sink.h"
#include "collector/session_file.h"
#include "collector/session_table.h"
#include "collector_test_util.h"
#include "pcap/scratch_dir.h"

namespace tmirror::collector {
namespace {

using testing::filesIn;
using testing::makeFrame;
using testing::readCapture;

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kStart = 1'800'000'000 * kSecond;

class FileFootprintTest : public ::testing::Test {
 protected:
  FileOutputOptions options() {
    FileOutputOptions o;
    o.directory = dir.path();
    o.buffer_bytes = 256 * 1024;
    o.idle_seconds = 5;
    return o;
  }

  std::size_t packetsInFiles() {
    std::size_t n = 0;
    for (const auto& f : filesIn(dir.path(), ".pcapng")) {
      n += readCapture(f).size();
    }
    return n;
  }

  pcap::testing::ScratchDir dir;
  CollectorCounters counters;
};

TEST_F(FileFootprintTest, ABufferStartsAtAPageGrowsWhileBusyAndIsFreedWhenIdle) {
  const auto o = options();
  PcapngFileSink sink(o, counters, 4,
                      FileSinkLimits{.max_open_files = 16, .buffer_budget_bytes = 1 << 20});
  SessionTable table(4);
  ReceivedSession* s = table.findOrCreate({packet::IpAddress::v4(0x0A000001), 5});
  ASSERT_NE(s, nullptr);
  const auto frame = makeFrame(100, 1);
  sink.write(*s, ReceivedFrame{kStart, frame, 100});
  EXPECT_EQ(sink.statistics().buffer_bytes, 4096u) << "one frame costs one page";
  EXPECT_EQ(sink.statistics().open_files, 1u);
  for (uint32_t i = 0; i < 20'000; ++i) {
    sink.write(*s, ReceivedFrame{kStart + i, makeFrame(200, i), 200});
  }
  EXPECT_EQ(sink.statistics().buffer_bytes, 256u * 1024) << "busy: grown to buffer_bytes";
  sink.tick(kStart + 3 * kSecond);
  EXPECT_EQ(sink.statistics().open_files, 1u) << "not idle yet";
  sink.tick(kStart + 6 * kSecond);
  EXPECT_EQ(sink.statistics().open_files, 0u) << "idle: finished";
  EXPECT_EQ(sink.statistics().buffer_bytes, 0u) << "and its buffer freed";
  EXPECT_EQ(filesIn(dir.path(), ".pcapng").size(), 1u);
  EXPECT_TRUE(filesIn(dir.path(), ".part").empty());
  sink.write(*s, ReceivedFrame{kStart + 7 * kSecond, frame, 100});
  sink.close();
  EXPECT_EQ(filesIn(dir.path(), ".pcapng").size(), 2u) << "the next frame starts a new file";
  EXPECT_EQ(packetsInFiles(), 20'002u);
}

TEST_F(FileFootprintTest, TheBudgetBoundsGrowthAndLosesNoFrame) {
  PcapngFileSink sink(options(), counters, 64,
                      FileSinkLimits{.max_open_files = 64, .buffer_budget_bytes = 3 * 4096});
  SessionTable table(64);
  std::vector<ReceivedSession*> sessions;
  for (uint32_t v = 0; v < 32; ++v) {
    sessions.push_back(table.findOrCreate({packet::IpAddress::v4(0x0A000001), v}));
  }
  for (uint32_t i = 0; i < 200; ++i) {
    for (ReceivedSession* s : sessions) {
      sink.write(*s, ReceivedFrame{kStart + i, makeFrame(300, i), 300});
    }
  }
  // 32 first pages, plus growth of at most the budget.
  EXPECT_LE(sink.statistics().buffer_bytes, 32u * 4096 + 3 * 4096);
  EXPECT_GE(sink.statistics().buffer_bytes, 32u * 4096);
  sink.close();
  EXPECT_EQ(packetsInFiles(), 200u * 32);
  for (std::size_t i = 0; i < static_cast<std::size_t>(DropReason::kCount); ++i) {
    EXPECT_EQ(counters.drops(static_cast<DropReason>(i)), 0u);
  }
}

TEST_F(FileFootprintTest, AtTheOpenFileCapTheLeastRecentlyWrittenFilesAreFinished) {
  constexpr std::size_t kCap = 8;
  PcapngFileSink sink(options(), counters, 128, FileSinkLimits{.max_open_files = kCap});
  SessionTable table(128);
  std::vector<ReceivedSession*> sessions;
  for (uint32_t v = 0; v < 100; ++v) {
    sessions.push_back(table.findOrCreate({packet::IpAddress::v4(0x0A000001), v}));
  }
  std::size_t most_open = 0;
  uint64_t t = kStart;
  for (int round = 0; round < 3; ++round) {
    for (ReceivedSession* s : sessions) {
      sink.write(*s, ReceivedFrame{t++, makeFrame(80, static_cast<uint32_t>(t)), 80});
      most_open = std::max(most_open, sink.statistics().open_files);
    }
  }
  EXPECT_LE(most_open, kCap);
  EXPECT_GT(sink.statistics().closed_for_cap, 0u);
  sink.close();
  EXPECT_EQ(packetsInFiles(), 300u);
  // Each session's frames, across its files, in the order sent.
  std::map<std::string, uint64_t> last_time;
  for (const auto& f : filesIn(dir.path(), ".pcapng")) {
    const std::string session = f.filename().string().substr(0, f.filename().string().find("-2"));
    for (const auto& p : readCapture(f)) {
      EXPECT_GT(p.timestamp_ns, last_time[session]) << f;
      last_time[session] = p.timestamp_ns;
    }
  }
  EXPECT_EQ(last_time.size(), 100u);
}

TEST_F(FileFootprintTest, AFrameOfAnySizeIsWrittenWhole) {
  PcapngFileSink sink(options(), counters, 4, FileSinkLimits{.buffer_budget_bytes = 0});
  SessionTable table(4);
  ReceivedSession* s = table.findOrCreate({packet::IpAddress::v4(0x0A000001), 9});
  const auto big = makeFrame(65000, 3);
  sink.write(*s, ReceivedFrame{kStart, makeFrame(60, 1), 60});
  sink.write(*s, ReceivedFrame{kStart + 1, big, 65000});
  sink.write(*s, ReceivedFrame{kStart + 2, makeFrame(60, 2), 60});
  sink.close();
  const auto files = filesIn(dir.path(), ".pcapng");
  ASSERT_EQ(files.size(), 1u);
  const auto packets = readCapture(files[0]);
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[1].data, big);
  EXPECT_EQ(counters.drops(DropReason::WriteError), 0u);
}

}  // namespace
}  // namespace tmirror::collector
