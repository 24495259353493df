// Bad inputs to `tmirror mirror-pcap`: each fails with the documented exit code and a message
// naming the file or field, prints no summary, and leaves nothing at the output path (or, if
// a file was there, leaves it as it was).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/mirror_inputs.h"
#include "cli/mirror_traffic.h"
#include "cli/tmirror_process.h"
#include "pcap/scratch_dir.h"

namespace tmirror::cli::testing {
namespace {

using pcap::testing::readFile;
using pcap::testing::ScratchDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kRuntimeError = 1;
constexpr int kUsageError = 2;
constexpr const char* kPrecious = "an earlier capture that must survive\n";

struct BadRun {
  std::vector<std::string> args;
  std::filesystem::path output;
  std::vector<std::string> stderr_mentions;
  int exit_code = kRuntimeError;
};

struct BadInputCase {
  const char* name;
  std::function<BadRun(const ScratchDir&)> setup;
  bool output_can_preexist = true;  // false when the output's directory cannot exist
};

void PrintTo(const BadInputCase& c, std::ostream* os) {
  *os << c.name;
}

std::string path(const ScratchDir& dir, const char* name) {
  return dir.file(name).string();
}

std::string validPcap(const ScratchDir& dir) {
  return writePcap(dir.file("in.pcap"), bytesOf(bothDirectionsTraffic())).string();
}

std::string configFile(const ScratchDir& dir, const Json& config) {
  return writeJson(dir.file("cfg.json"), config).string();
}

std::string validConfig(const ScratchDir& dir) {
  return configFile(dir, hostConfig({SessionSpec{}}));
}

BadRun mirror(const ScratchDir& dir, const std::string& input, const std::string& config,
              std::vector<std::string> mentions, std::vector<std::string> extra = {}) {
  BadRun run;
  run.output = dir.file("out.pcap");
  run.args = {"mirror-pcap", "-r", input, "-c", config, "-w", run.output.string()};
  run.args.insert(run.args.end(), extra.begin(), extra.end());
  run.stderr_mentions = std::move(mentions);
  return run;
}

// A valid pcap of bothDirectionsTraffic() cut to `size` bytes.
std::string cutPcap(const ScratchDir& dir, std::size_t size) {
  const auto file = validPcap(dir);
  std::filesystem::resize_file(file, size);
  return file;
}

Json sessionField(const std::string& key, const Json& value) {
  Json config = hostConfig({SessionSpec{}});
  config["NetworkInterfaces"][0]["TrafficMirrorSessions"][0][key] = value;
  return config;
}

const std::vector<BadInputCase>& badInputCases() {
  static const std::vector<BadInputCase> cases = {
      {"MissingInputFile",
       [](const ScratchDir& d) {
         return mirror(d, path(d, "missing.pcap"), validConfig(d), {"missing.pcap"});
       }},
      {"GarbageInputFile",
       [](const ScratchDir& d) {
         writeText(d.file("garbage.pcap"), std::string(200, 'x') + "\nnot a capture\n");
         return mirror(d, path(d, "garbage.pcap"), validConfig(d), {"garbage.pcap"});
       }},
      {"PcapCutInsideLastRecord",
       [](const ScratchDir& d) {
         const auto size = std::filesystem::file_size(validPcap(d));
         return mirror(d, cutPcap(d, size - 10), validConfig(d), {"in.pcap"});
       }},
      {"PcapCutInsideSecondRecordHeader",
       [](const ScratchDir& d) {
         // File header 24, record header 16, first frame, then 8 of the next 16 header bytes.
         const std::size_t size = 24 + 16 + bothDirectionsTraffic()[0].bytes.size() + 8;
         return mirror(d, cutPcap(d, size), validConfig(d), {"in.pcap"});
       }},
      {"RawIpLinkType",
       [](const ScratchDir& d) {
         writePcap(d.file("raw.pcap"), {CapturedFrame{Frame(40, std::byte{0x45}), 0}}, kDltRaw);
         return mirror(d, path(d, "raw.pcap"), validConfig(d),
                       {"raw.pcap", "link type", "not Ethernet"});
       }},
      {"ConfigUnknownField",
       [](const ScratchDir& d) {
         return mirror(d, validPcap(d), configFile(d, sessionField("Colour", "blue")),
                       {"cfg.json", "TrafficMirrorSessions[0].Colour", "unknown field"});
       }},
      {"ConfigSessionNumber40000",
       [](const ScratchDir& d) {
         return mirror(d, validPcap(d), configFile(d, sessionField("SessionNumber", 40000)),
                       {"cfg.json", "TrafficMirrorSessions[0].SessionNumber", "40000"});
       }},
      {"ConfigIngressRuleNumberTwice",
       [](const ScratchDir& d) {
         SessionSpec session;
         session.ingress_rules =
             Json::array({filterRule(100, "accept", 0, "0.0.0.0/0", "0.0.0.0/0"),
                          filterRule(100, "reject", 0, "::/0", "::/0")});
         return mirror(d, validPcap(d), configFile(d, hostConfig({session})),
                       {"cfg.json", "IngressFilterRules[1].RuleNumber", "100", "twice"});
       }},
      {"ConfigNotJson",
       [](const ScratchDir& d) {
         writeText(d.file("cfg.json"), "{\"NetworkInterfaces\": [ this is not JSON");
         return mirror(d, validPcap(d), path(d, "cfg.json"), {"cfg.json"});
       }},
      {"ConfigMissing",
       [](const ScratchDir& d) {
         return mirror(d, validPcap(d), path(d, "no-such-config.json"), {"no-such-config.json"});
       }},
      {"NetworkInterfaceIdNotInConfig",
       [](const ScratchDir& d) {
         return mirror(d, validPcap(d), validConfig(d),
                       {"--network-interface-id", "eni-0ffffffffffffffff"},
                       {"--network-interface-id", "eni-0ffffffffffffffff"});
       }},
      {"TwoInterfacesWithoutNetworkInterfaceId",
       [](const ScratchDir& d) {
         const Json config = hostConfig(Json::array(
             {interfaceJson({SessionSpec{}}),
              interfaceJson({SessionSpec{}}, "eni-0b0000000000000000", "02:00:00:00:00:0b")}));
         return mirror(d, validPcap(d), configFile(d, config), {"2", "--network-interface-id"});
       }},
      {"DirectionMacWithoutInterfaceMac",
       [](const ScratchDir& d) {
         const Json config =
             hostConfig(Json::array({interfaceJson({SessionSpec{}}, kInterfaceId, "")}));
         return mirror(d, validPcap(d), configFile(d, config),
                       {"--direction mac", kInterfaceId, "MacAddress"}, {"--direction", "mac"});
       }},
      {"OutputDirectoryMissing",
       [](const ScratchDir& d) {
         BadRun run = mirror(d, validPcap(d), validConfig(d), {"no-such-dir"});
         run.output = d.file("no-such-dir") / "out.pcap";
         run.args[6] = run.output.string();
         return run;
       },
       false},
      {"OutputParentIsAFile",
       [](const ScratchDir& d) {
         writeText(d.file("a-file"), "not a directory\n");
         BadRun run = mirror(d, validPcap(d), validConfig(d), {"a-file"});
         run.output = d.file("a-file") / "out.pcap";
         run.args[6] = run.output.string();
         return run;
       },
       false},
      {"UsageErrorSendPortZero",
       [](const ScratchDir& d) {
         BadRun run = mirror(d, validPcap(d), validConfig(d), {"--send", "127.0.0.1:0"},
                             {"--send", "127.0.0.1:0"});
         run.exit_code = kUsageError;
         return run;
       }},
      {"UsageErrorBadDirection",
       [](const ScratchDir& d) {
         BadRun run =
             mirror(d, validPcap(d), validConfig(d), {"--direction"}, {"--direction", "sideways"});
         run.exit_code = kUsageError;
         return run;
       }},
  };
  return cases;
}

class MirrorPcapBadInput : public ::testing::TestWithParam<BadInputCase> {
 protected:
  // Runs the case; `preexisting` places a file at the output path first.
  void runCase(bool preexisting) {
    ScratchDir dir;
    BadRun bad = GetParam().setup(dir);
    if (preexisting) {
      writeText(bad.output, kPrecious);
    }
    const ProcessResult run = runTmirror(bad.args);

    EXPECT_EQ(run.exit_code, bad.exit_code) << describe(run);
    EXPECT_EQ(run.out, "") << "no summary on failure";
    if (bad.exit_code == kRuntimeError) {
      EXPECT_THAT(run.err, StartsWith("tmirror mirror-pcap: "));
    }
    for (const auto& mention : bad.stderr_mentions) {
      EXPECT_THAT(run.err, HasSubstr(mention));
    }
    if (preexisting) {
      const auto bytes = readFile(bad.output);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), kPrecious)
          << "the earlier output file was changed";
    } else {
      EXPECT_FALSE(std::filesystem::exists(bad.output)) << bad.output << " was left behind";
    }
    const auto parent = bad.output.parent_path();
    if (std::filesystem::is_directory(parent)) {
      for (const auto& entry : std::filesystem::directory_iterator(parent)) {
        EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".tmp")))
            << "a temporary output file was left behind";
      }
    }
  }
};

TEST_P(MirrorPcapBadInput, FailsNamingTheProblemAndWritesNothing) {
  runCase(false);
}

// Only the cases whose output directory exists can have an earlier output file.
class MirrorPcapBadInputWithEarlierOutput : public MirrorPcapBadInput {};

TEST_P(MirrorPcapBadInputWithEarlierOutput, FailsLeavingAnEarlierOutputUntouched) {
  runCase(true);
}

std::vector<BadInputCase> casesWithExistingOutputDirectory() {
  std::vector<BadInputCase> cases;
  for (const auto& c : badInputCases()) {
    if (c.output_can_preexist) {
      cases.push_back(c);
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, MirrorPcapBadInput, ::testing::ValuesIn(badInputCases()),
                         [](const ::testing::TestParamInfo<BadInputCase>& case_info) {
                           return std::string(case_info.param.name);
                         });

INSTANTIATE_TEST_SUITE_P(Cases, MirrorPcapBadInputWithEarlierOutput,
                         ::testing::ValuesIn(casesWithExistingOutputDirectory()),
                         [](const ::testing::TestParamInfo<BadInputCase>& case_info) {
                           return std::string(case_info.param.name);
                         });

TEST(MirrorPcapUsage, HelpGoesToStdoutAndExitsZero) {
  const ProcessResult run = runTmirror({"mirror-pcap", "--help"});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_THAT(run.out, HasSubstr("--input"));
  EXPECT_EQ(run.err, "");
}

TEST(MirrorPcapUsage, MissingInputIsUsageErrorOnStderr) {
  const ProcessResult run = runTmirror({"mirror-pcap", "-c", "cfg.json", "-w", "out.pcap"});
  EXPECT_EQ(run.exit_code, kUsageError) << describe(run);
  EXPECT_EQ(run.out, "");
  EXPECT_THAT(run.err, HasSubstr("--input"));
}

TEST(MirrorPcapUsage, VersionPrintsTheVersion) {
  const ProcessResult run = runTmirror({"version"});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_THAT(run.out, StartsWith("tmirror "));
}

}  // namespace
}  // namespace tmirror::cli::testing
