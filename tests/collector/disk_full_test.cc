// A full disk pauses the file output with a counter, keeps what was written readable, and
// resumes when space returns. Needs root: it mounts a 1 MiB tmpfs of its own.
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "collector/session_file.h"
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

TEST(DiskFull, PausesWithACounterKeepsFilesReadableAndResumes) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to mount a small tmpfs";
  }
  pcap::testing::ScratchDir dir;
  ASSERT_EQ(::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=1m"), 0);

  struct Unmount {
    std::string path;

    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{dir.path()};

  // Leave ~300 kB free.
  {
    std::ofstream filler(dir.file("filler"), std::ios::binary);
    std::vector<char> chunk(700 * 1024, 'x');
    filler.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  }
  FileOutputOptions options;
  options.directory = dir.path();
  options.buffer_bytes = 64 * 1024;
  options.rotate_bytes = 100 * 1024;
  options.min_free_bytes = 128 * 1024;
  CollectorCounters counters;
  SessionFile file(options, "s", {"tmirror-1", "t"}, counters);
  uint64_t t = kStart;
  uint32_t written = 0;
  for (; written < 5000 && counters.drops(DropReason::DiskFull) == 0; ++written) {
    file.write(t++, makeFrame(1000, written), 1000, packet::PacketDirection::Unknown);
  }
  ASSERT_GT(counters.drops(DropReason::DiskFull), 0u) << "the disk never filled";
  // Paused: more frames are counted, not written.
  const uint64_t before = counters.drops(DropReason::DiskFull);
  file.write(t++, makeFrame(1000, 1), 1000, packet::PacketDirection::Unknown);
  EXPECT_EQ(counters.drops(DropReason::DiskFull), before + 1);

  // Everything on disk is a valid capture of frames that were sent, in order.
  std::size_t on_disk = 0;
  for (const auto& f : filesIn(dir.path(), ".pcapng")) {
    for (const auto& p : readCapture(f)) {
      EXPECT_EQ(p.data, makeFrame(1000, static_cast<uint32_t>(on_disk)));
      ++on_disk;
    }
  }
  for (const auto& f : filesIn(dir.path(), ".part")) {
    const auto packets = readCapture(f);
    on_disk += packets.size();
    if (pcap::testing::haveTshark()) {
      EXPECT_EQ(testing::runQuiet("tshark -r '" + f.string() + "'"), 0) << f;
    }
  }
  EXPECT_GT(on_disk, 100u);
  EXPECT_EQ(on_disk + counters.drops(DropReason::DiskFull), written + 1);

  // Space returns: writing resumes after the retry interval.
  std::filesystem::remove(dir.file("filler"));
  t += 2 * kSecond;
  for (uint32_t i = 0; i < 10; ++i) {
    file.write(t++, makeFrame(100, 90000 + i), 100, packet::PacketDirection::Unknown);
  }
  file.close();
  EXPECT_EQ(counters.drops(DropReason::DiskFull), before + 1);
  std::size_t resumed = 0;
  for (const auto& f : filesIn(dir.path(), ".pcapng")) {
    for (const auto& p : readCapture(f)) {
      resumed += p.data == makeFrame(100, 90000) ? 1 : 0;
    }
  }
  EXPECT_EQ(resumed, 1u);
}

}  // namespace
}  // namespace tmirror::collector
