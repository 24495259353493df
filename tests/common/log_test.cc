// The logging facility's three formats, read back from a real stderr (a temporary file put in
// place of fd 2), and its flags' parsers.
#include "common/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tmirror::log {
namespace {

// Puts a temporary file in place of stderr while it lives; text() is what was written to it.
class CapturedStderr {
 public:
  CapturedStderr() {
    char path[] = "/tmp/tmirror-log-test-XXXXXX";
    fd_ = ::mkstemp(path);
    path_ = path;
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(fd_, STDERR_FILENO);
  }

  ~CapturedStderr() {
    restore();
    ::close(fd_);
    ::unlink(path_.c_str());
  }

  void restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
      saved_ = -1;
    }
  }

  // "DEV:INODE" of the file, as systemd sets JOURNAL_STREAM for the journal's stream.
  std::string journalStream() const {
    struct stat st {};

    ::fstat(fd_, &st);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }

  std::string text() const {
    std::ifstream in(path_);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
  std::string path_;
};

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ::unsetenv("JOURNAL_STREAM");
    configure(Settings{});
  }
};

TEST_F(LogTest, TextLinesCarryTimeLevelAndComponent) {
  CapturedStderr captured;
  configure(Settings{.level = spdlog::level::info, .format = Format::Text, .timestamps = true});
  logger("agent")->warn("registering with {} failed: {}", "https://a:8900", "connection refused");
  captured.restore();
  const std::string text = captured.text();
  // 2026-12-07T16:20:00.123Z warn  agent: ...
  ASSERT_GE(text.size(), 25u) << text;
  EXPECT_EQ(text[4], '-');
  EXPECT_EQ(text[10], 'T');
  EXPECT_EQ(text[23], 'Z');
  EXPECT_NE(text.find(" warn  agent: registering with https://a:8900 failed: connection refused\n"),
            std::string::npos)
      << text;
}

TEST_F(LogTest, OneEventIsOneLineEvenWithNewlinesInIt) {
  CapturedStderr captured;
  configure(Settings{.format = Format::Text, .timestamps = false});
  logger("server")->error("first\nsecond");
  captured.restore();
  EXPECT_EQ(captured.text(), "server: first second\n");
}

TEST_F(LogTest, LinesBelowTheLevelAreDropped) {
  CapturedStderr captured;
  configure(Settings{.level = spdlog::level::warn, .format = Format::Text, .timestamps = false});
  logger("collector")->info("not this");
  logger("collector")->debug("nor this");
  logger("collector")->error("this");
  captured.restore();
  EXPECT_EQ(captured.text(), "collector: this\n");
}

TEST_F(LogTest, JsonLinesParseAndKeepTheMessageExactly) {
  CapturedStderr captured;
  configure(Settings{.format = Format::Json});
  const std::string message = "quote \" backslash \\ tab \t newline \n bell \x07 é";
  logger("store")->info("{}", message);
  captured.restore();
  const std::string text = captured.text();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line: " << text;
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["component"], "store");
  EXPECT_EQ(j["message"], message);
  EXPECT_EQ(j["time"].get<std::string>().size(), 24u) << j["time"];
}

TEST_F(LogTest, UnderTheJournalLinesCarryTheirPriorityAndNoTime) {
  CapturedStderr captured;
  ::setenv("JOURNAL_STREAM", captured.journalStream().c_str(), 1);
  EXPECT_TRUE(stderrIsJournal());
  configure(Settings{.format = Format::Text});
  logger("agent")->warn("w");
  logger("agent")->info("i");
  logger("agent")->error("e");
  captured.restore();
  EXPECT_EQ(captured.text(), "<4>agent: w\n<6>agent: i\n<3>agent: e\n");
}

TEST_F(LogTest, AJournalStreamOfAnotherFileIsNotTheJournal) {
  CapturedStderr captured;
  ::setenv("JOURNAL_STREAM", "1:1", 1);
  EXPECT_FALSE(stderrIsJournal());
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(stderrIsJournal());
}

TEST(LogSettings, LevelsAndFormatsParseAndOthersAreRefusedByName) {
  EXPECT_EQ(parseLevel("debug").value(), spdlog::level::debug);
  EXPECT_EQ(parseLevel("warning").value(), spdlog::level::warn);
  EXPECT_EQ(parseLevel("off").value(), spdlog::level::off);
  ASSERT_FALSE(parseLevel("loud"));
  EXPECT_NE(parseLevel("loud").error().message.find("'loud'"), std::string::npos);
  EXPECT_EQ(parseFormat("json").value(), Format::Json);
  EXPECT_FALSE(parseFormat("xml"));
}

TEST(LogJson, StringsAreEscapedAndNonUtf8BytesKept) {
  EXPECT_EQ(jsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(jsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  // Not UTF-8: every byte survives as a code point, and the document still parses.
  const std::string odd = jsonString("x\xff");
  EXPECT_EQ(odd, "\"x\\u00ff\"");
  EXPECT_EQ(nlohmann::json::parse(odd).get<std::string>(), "x\xc3\xbf");
}

}  // namespace
}  // namespace tmirror::log
