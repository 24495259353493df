// A test's own scratch directory: under the system's temporary directory, named after the
// prefix, the process and the running test (so parallel runs never share one), and empty.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace tmirror::testing {

inline std::filesystem::path freshTestDirectory(std::string_view prefix) {
  const auto dir = std::filesystem::temp_directory_path() /
                   (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace tmirror::testing
