#include "server/capture_files.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tmirror::server {
namespace {

class CaptureFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tmirror-captures-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "sub");
    for (const char* name :
         {"198.51.100.20-vni100-20261122T071343Z-000000.pcapng",
          "198.51.100.20-vni100-20261122T071400Z-000001.pcapng.part", "notes.txt",
          "sub/198.51.100.20-vni7-x.pcapng", ".hidden-vni1.pcapng"}) {
      std::ofstream(dir_ / name) << "data";
    }
    std::filesystem::create_symlink("/etc/passwd", dir_ / "link-vni1.pcapng");
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(CaptureFilesTest, ListsOnlyTheCollectorsFilesInTheDirectory) {
  const auto files = listCaptureFiles(dir_);
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) {
    EXPECT_EQ(f.vni, 100u);
    EXPECT_EQ(f.bytes, 4u);
    EXPECT_EQ(f.complete, f.name.ends_with(".pcapng"));
  }
  const auto json = nlohmann::json::parse(captureFilesToJson(files));
  EXPECT_EQ(json["Files"].size(), 2u);
  EXPECT_EQ(json["Files"][0]["Vni"], 100);
}

TEST_F(CaptureFilesTest, ResolvesNothingOutsideTheDirectory) {
  EXPECT_TRUE(resolveCaptureFile(dir_, "198.51.100.20-vni100-20261122T071343Z-000000.pcapng"));
  for (const char* bad :
       {"../etc/passwd", "notes.txt", "sub/198.51.100.20-vni7-x.pcapng", "link-vni1.pcapng",
        "..-vni1.pcapng", "", ".hidden-vni1.pcapng", "missing-vni1.pcapng"}) {
    EXPECT_FALSE(resolveCaptureFile(dir_, bad)) << bad;
  }
}

}  // namespace
}  // namespace tmirror::server
