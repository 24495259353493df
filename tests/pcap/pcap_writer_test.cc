#include "pcap/pcap_writer.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include "pcap/pcap_reader.h"
#include "pcapng_builder.h"
#include "scratch_dir.h"
#include "tshark.h"

namespace tmirror::pcap {
namespace {

using testing::patternBytes;
using testing::ScratchDir;

uint32_t hostU32(const std::vector<std::byte>& b, std::size_t off) {
  uint32_t v = 0;
  std::memcpy(&v, b.data() + off, sizeof(v));
  return v;
}

TEST(PcapWriter, CommittedFileReadsBackThroughPcapReader) {
  ScratchDir dir;
  const auto path = dir.file("out.pcap");

  struct Sent {
    int64_t ts;
    std::vector<std::byte> data;
    uint32_t original_length;
  };

  const std::vector<Sent> sent = {
      {1'700'000'000'123'456'789, patternBytes(60, 1), 60},
      {1'700'000'000'999'999'999, patternBytes(1514, 2), 1514},
      {1'700'000'001'000'000'000, patternBytes(128, 3), 9000},  // truncated capture
      {0, patternBytes(1, 4), 1},
  };
  {
    auto writer = PcapWriter::create(path, DLT_EN10MB);
    ASSERT_TRUE(writer) << writer.error().message;
    for (const auto& s : sent) {
      ASSERT_TRUE(writer->write(s.ts, s.data, s.original_length));
    }
    EXPECT_EQ(writer->packetsWritten(), sent.size());
    ASSERT_TRUE(writer->commit());
  }

  auto reader = PcapReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_FALSE(reader->isPcapng());
  EXPECT_EQ(reader->linkType(), DLT_EN10MB);
  for (const auto& s : sent) {
    auto packet = reader->next();
    ASSERT_TRUE(packet && *packet);
    EXPECT_EQ(std::vector<std::byte>((*packet)->data.begin(), (*packet)->data.end()), s.data);
    EXPECT_EQ((*packet)->original_length, s.original_length);
    EXPECT_EQ((*packet)->timestamp_ns, s.ts);
  }
  auto end = reader->next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->has_value());
}

TEST(PcapWriter, HeaderIsNanosecondPcapWithSnaplen262144AndLinkType) {
  ScratchDir dir;
  const auto path = dir.file("raw.pcap");
  auto writer = PcapWriter::create(path, DLT_RAW);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->commit());
  const auto bytes = testing::readFile(path);
  ASSERT_EQ(bytes.size(), 24u);               // file header only
  EXPECT_EQ(hostU32(bytes, 0), 0xa1b23c4du);  // written in host byte order
  EXPECT_EQ(hostU32(bytes, 16), 262144u);
  EXPECT_EQ(hostU32(bytes, 20),
            101u);  // LINKTYPE_RAW: the file holds the portable value, not DLT_RAW
}

TEST(PcapWriter, TsharkReadsEveryWrittenPacket) {
  if (!testing::haveTshark()) {
    GTEST_SKIP() << testing::kTsharkPath << " not installed; cannot cross-check with tshark";
  }
  ScratchDir dir;
  const auto path = dir.file("t.pcap");
  auto writer = PcapWriter::create(path, DLT_EN10MB);
  ASSERT_TRUE(writer);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(writer->write(1'700'000'000'000'000'000 + i, patternBytes(60 + i, 9), 60 + i));
  }
  ASSERT_TRUE(writer->commit());

  const auto lengths = testing::tsharkFields(path, "frame.len");
  ASSERT_TRUE(lengths) << "tshark failed on " << path;
  EXPECT_EQ(*lengths, (std::vector<std::string>{"60", "61", "62", "63", "64"}));
  const auto times = testing::tsharkFields(path, "frame.time_epoch");
  ASSERT_TRUE(times);
  ASSERT_EQ(times->size(), 5u);
  EXPECT_EQ((*times)[4], "1700000000.000000004");
}

TEST(PcapWriter, DestroyedWithoutCommitLeavesNoFileAndNoTemporaryFile) {
  ScratchDir dir;
  const auto path = dir.file("never.pcap");
  {
    auto writer = PcapWriter::create(path, DLT_EN10MB);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write(1, patternBytes(60, 1), 60));
    // While writing, only the temporary file exists.
    EXPECT_EQ(dir.entries(), std::vector<std::string>{writer->temporaryPath().filename().string()});
    EXPECT_TRUE(writer->temporaryPath().string().starts_with(path.string() + ".tmp-"));
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(PcapWriter, CommitLeavesExactlyTheTargetFile) {
  ScratchDir dir;
  const auto path = dir.file("done.pcap");
  auto writer = PcapWriter::create(path, DLT_EN10MB);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->write(1, patternBytes(60, 1), 60));
  ASSERT_TRUE(writer->commit());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"done.pcap"});
  // The committed file outlives the writer.
  writer = PcapWriter::create(dir.file("other.pcap"), DLT_EN10MB);
  EXPECT_EQ(dir.entries(),
            (std::vector<std::string>{"done.pcap", writer->temporaryPath().filename().string()}));
}

TEST(PcapWriter, ExistingFileStaysIntactUntilCommitReplacesIt) {
  ScratchDir dir;
  const auto old_bytes = testing::bytesOf("previous contents");
  const auto path = dir.write("replace.pcap", old_bytes);
  auto writer = PcapWriter::create(path, DLT_EN10MB);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->write(1, patternBytes(60, 1), 60));
  EXPECT_EQ(testing::readFile(path), old_bytes);
  ASSERT_TRUE(writer->commit());

  auto reader = PcapReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  auto packet = reader->next();
  ASSERT_TRUE(packet && *packet);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"replace.pcap"});
}

TEST(PcapWriter, AbandonedWriterLeavesExistingFileUntouched) {
  ScratchDir dir;
  const auto old_bytes = testing::bytesOf("previous contents");
  const auto path = dir.write("keep.pcap", old_bytes);
  {
    auto writer = PcapWriter::create(path, DLT_EN10MB);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write(1, patternBytes(60, 1), 60));
  }
  EXPECT_EQ(testing::readFile(path), old_bytes);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.pcap"});
}

TEST(PcapWriter, RejectsOriginalLengthShorterThanCapturedBytes) {
  ScratchDir dir;
  auto writer = PcapWriter::create(dir.file("x.pcap"), DLT_EN10MB);
  ASSERT_TRUE(writer);
  auto result = writer->write(1, patternBytes(60, 1), 59);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(writer->packetsWritten(), 0u);
  EXPECT_TRUE(writer->write(1, patternBytes(60, 1), 60));  // still usable
}

TEST(PcapWriter, RejectsPacketLongerThanSnaplen) {
  ScratchDir dir;
  auto writer = PcapWriter::create(dir.file("x.pcap"), DLT_EN10MB);
  ASSERT_TRUE(writer);
  const std::vector<std::byte> big(kPcapWriterSnaplen + 1);
  auto result = writer->write(1, big, static_cast<uint32_t>(big.size()));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
}

TEST(PcapWriter, RejectsTimestampsOutsidePcapRange) {
  ScratchDir dir;
  auto writer = PcapWriter::create(dir.file("x.pcap"), DLT_EN10MB);
  ASSERT_TRUE(writer);
  EXPECT_FALSE(writer->write(-1, patternBytes(60, 1), 60));
  EXPECT_FALSE(writer->write(4'294'967'296'000'000'000, patternBytes(60, 1), 60));
  EXPECT_TRUE(writer->write(4'294'967'295'999'999'999, patternBytes(60, 1), 60));
}

TEST(PcapWriter, WriteAndCommitAfterCommitAreErrors) {
  ScratchDir dir;
  auto writer = PcapWriter::create(dir.file("x.pcap"), DLT_EN10MB);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->commit());
  EXPECT_FALSE(writer->write(1, patternBytes(60, 1), 60));
  EXPECT_FALSE(writer->commit());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"x.pcap"});
}

TEST(PcapWriter, CreateInMissingDirectoryIsNotFound) {
  ScratchDir dir;
  auto writer = PcapWriter::create(dir.file("no-dir") / "x.pcap", DLT_EN10MB);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code, ErrorCode::NotFound);
  EXPECT_NE(writer.error().message.find("no-dir"), std::string::npos) << writer.error().message;
}

TEST(PcapWriter, LinkTypePcapCannotHoldIsRejectedAndLeavesNothing) {
  ScratchDir dir;
  auto writer = PcapWriter::create(dir.file("x.pcap"), 123456);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(PcapWriter, MovedWriterCommitsAndMovedFromOneRemovesNothing) {
  ScratchDir dir;
  const auto path = dir.file("moved.pcap");
  auto created = PcapWriter::create(path, DLT_EN10MB);
  ASSERT_TRUE(created);
  ASSERT_TRUE(created->write(1, patternBytes(60, 1), 60));
  PcapWriter writer = std::move(*created);
  ASSERT_TRUE(writer.write(2, patternBytes(60, 2), 60));
  EXPECT_EQ(writer.packetsWritten(), 2u);
  ASSERT_TRUE(writer.commit());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"moved.pcap"});

  auto reader = PcapReader::open(path);
  ASSERT_TRUE(reader);
  int count = 0;
  while (auto packet = reader->next()) {
    if (!*packet) {
      break;
    }
    ++count;
  }
  EXPECT_EQ(count, 2);
}

TEST(PcapWriter, MoveAssignOverUncommittedWriterRemovesItsTemporaryFile) {
  ScratchDir dir;
  auto first = PcapWriter::create(dir.file("first.pcap"), DLT_EN10MB);
  auto second = PcapWriter::create(dir.file("second.pcap"), DLT_EN10MB);
  ASSERT_TRUE(first && second);
  *first = std::move(*second);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{first->temporaryPath().filename().string()});
  ASSERT_TRUE(first->commit());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"second.pcap"});
}

}  // namespace
}  // namespace tmirror::pcap
