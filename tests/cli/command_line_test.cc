// parseCommandLine is pure: every option, default and usage error is checked without a process.
#include "cli/command_line.h"

#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tmirror::cli {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

Command parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"tmirror"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parseCommandLine(argv);
}

// The minimal valid mirror-pcap command line plus `extra`.
Command parseMirror(std::initializer_list<const char*> extra) {
  std::vector<const char*> argv{"tmirror", "mirror-pcap", "-r", "in.pcap", "-c", "cfg.json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return parseCommandLine(argv);
}

// The options, or a test failure that shows the text the parser returned instead.
MirrorPcapOptions optionsOf(const Command& command) {
  if (const auto* help = std::get_if<HelpText>(&command)) {
    ADD_FAILURE() << "expected options, got " << (help->is_error ? "usage error" : "help") << ":\n"
                  << help->text;
    return {};
  }
  if (std::holds_alternative<VersionCommand>(command)) {
    ADD_FAILURE() << "expected options, got the version command";
    return {};
  }
  return std::get<MirrorPcapOptions>(command);
}

HelpText usageErrorOf(const Command& command) {
  if (const auto* help = std::get_if<HelpText>(&command)) {
    EXPECT_TRUE(help->is_error) << "expected a usage error, got help text:\n" << help->text;
    return *help;
  }
  ADD_FAILURE() << "expected a usage error, got a command";
  return {};
}

packet::IpAddress ipOf(const char* text) {
  auto address = packet::parseIpAddress(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(packet::IpAddress{});
}

TEST(CliCommandLine, VersionSubcommandIsTheVersionCommand) {
  EXPECT_TRUE(std::holds_alternative<VersionCommand>(parse({"version"})));
}

TEST(CliCommandLine, MirrorPcapDefaults) {
  const MirrorPcapOptions options = optionsOf(parseMirror({"-w", "out.pcap"}));
  EXPECT_EQ(options.input, "in.pcap");
  EXPECT_EQ(options.config, "cfg.json");
  EXPECT_EQ(options.network_interface_id, "");
  EXPECT_EQ(options.direction_source, DirectionSource::Auto);
  ASSERT_TRUE(options.output_pcap.has_value());
  EXPECT_EQ(*options.output_pcap, "out.pcap");
  EXPECT_FALSE(options.send_to.has_value());
  EXPECT_EQ(options.outer_dst_mac, packet::MacAddress{});
  EXPECT_FALSE(options.quiet);
}

TEST(CliCommandLine, LongOptionNamesEqualShortOnes) {
  const char* argv[] = {"tmirror",  "mirror-pcap", "--input",  "a.pcapng",
                        "--config", "b.json",      "--output", "c.pcap"};
  const MirrorPcapOptions options = optionsOf(parseCommandLine(argv));
  EXPECT_EQ(options.input, "a.pcapng");
  EXPECT_EQ(options.config, "b.json");
  ASSERT_TRUE(options.output_pcap.has_value());
  EXPECT_EQ(*options.output_pcap, "c.pcap");
}

TEST(CliCommandLine, NetworkInterfaceIdIsKept) {
  const MirrorPcapOptions options =
      optionsOf(parseMirror({"-w", "o", "--network-interface-id", "eni-0123456789abcdef0"}));
  EXPECT_EQ(options.network_interface_id, "eni-0123456789abcdef0");
}

TEST(CliCommandLine, DirectionValuesMapToDirectionSources) {
  EXPECT_EQ(optionsOf(parseMirror({"-w", "o", "--direction", "auto"})).direction_source,
            DirectionSource::Auto);
  EXPECT_EQ(optionsOf(parseMirror({"-w", "o", "--direction", "flags"})).direction_source,
            DirectionSource::Flags);
  EXPECT_EQ(optionsOf(parseMirror({"-w", "o", "--direction", "mac"})).direction_source,
            DirectionSource::Mac);
}

TEST(CliCommandLine, QuietFlagBothSpellings) {
  EXPECT_TRUE(optionsOf(parseMirror({"-w", "o", "--quiet"})).quiet);
  EXPECT_TRUE(optionsOf(parseMirror({"-w", "o", "-q"})).quiet);
}

TEST(CliCommandLine, SendIpv4AddressAndPort) {
  const MirrorPcapOptions options = optionsOf(parseMirror({"--send", "127.0.0.1:4790"}));
  ASSERT_TRUE(options.send_to.has_value());
  EXPECT_EQ(options.send_to->address, ipOf("127.0.0.1"));
  EXPECT_EQ(options.send_to->port, 4790);
  EXPECT_FALSE(options.output_pcap.has_value()) << "--send alone is enough";
}

TEST(CliCommandLine, SendBracketedIpv6AddressAndPort) {
  const MirrorPcapOptions options = optionsOf(parseMirror({"--send", "[::1]:4789"}));
  ASSERT_TRUE(options.send_to.has_value());
  EXPECT_EQ(options.send_to->address, ipOf("::1"));
  EXPECT_EQ(options.send_to->port, 4789);
}

TEST(CliCommandLine, SendPortRangeEndsAreAccepted) {
  EXPECT_EQ(optionsOf(parseMirror({"--send", "127.0.0.1:1"})).send_to.value().port, 1);
  EXPECT_EQ(optionsOf(parseMirror({"--send", "127.0.0.1:65535"})).send_to.value().port, 65535);
}

TEST(CliCommandLine, OutputAndSendTogether) {
  const MirrorPcapOptions options =
      optionsOf(parseMirror({"-w", "out.pcap", "--send", "127.0.0.1:9"}));
  EXPECT_TRUE(options.output_pcap.has_value());
  EXPECT_TRUE(options.send_to.has_value());
}

TEST(CliCommandLine, OuterDstMacIsParsed) {
  const MirrorPcapOptions options =
      optionsOf(parseMirror({"-w", "o", "--outer-dst-mac", "0a:1b:2c:3d:4e:5f"}));
  const packet::MacAddress expected{{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}};
  EXPECT_EQ(options.outer_dst_mac, expected);
}

TEST(CliCommandLine, TopLevelHelpListsSubcommands) {
  const Command command = parse({"--help"});
  ASSERT_TRUE(std::holds_alternative<HelpText>(command));
  const HelpText& help = std::get<HelpText>(command);
  EXPECT_FALSE(help.is_error);
  EXPECT_THAT(help.text, AllOf(HasSubstr("version"), HasSubstr("mirror-pcap")));
}

TEST(CliCommandLine, MirrorPcapHelpListsEveryOption) {
  const Command command = parse({"mirror-pcap", "--help"});
  ASSERT_TRUE(std::holds_alternative<HelpText>(command));
  const HelpText& help = std::get<HelpText>(command);
  EXPECT_FALSE(help.is_error);
  for (const char* option :
       {"--input", "-r", "--config", "-c", "--network-interface-id", "--direction", "--output",
        "-w", "--send", "--outer-dst-mac", "--quiet"}) {
    EXPECT_THAT(help.text, HasSubstr(option)) << help.text;
  }
  EXPECT_THAT(help.text, AllOf(HasSubstr("auto"), HasSubstr("flags"), HasSubstr("mac")));
}

TEST(CliCommandLine, NoSubcommandIsUsageError) {
  const HelpText error = usageErrorOf(parse({}));
  EXPECT_THAT(error.text, HasSubstr("subcommand"));
}

TEST(CliCommandLine, UnknownSubcommandIsUsageError) {
  usageErrorOf(parse({"mirror-live"}));
}

TEST(CliCommandLine, UnknownOptionIsUsageError) {
  const HelpText error = usageErrorOf(parseMirror({"-w", "o", "--snaplen", "64"}));
  EXPECT_THAT(error.text, HasSubstr("--snaplen"));
}

TEST(CliCommandLine, MissingInputIsUsageErrorNamingIt) {
  const HelpText error = usageErrorOf(parse({"mirror-pcap", "-c", "cfg.json", "-w", "o"}));
  EXPECT_THAT(error.text, HasSubstr("--input"));
}

TEST(CliCommandLine, MissingConfigIsUsageErrorNamingIt) {
  const HelpText error = usageErrorOf(parse({"mirror-pcap", "-r", "in.pcap", "-w", "o"}));
  EXPECT_THAT(error.text, HasSubstr("--config"));
}

TEST(CliCommandLine, OptionWithoutValueIsUsageError) {
  usageErrorOf(parse({"mirror-pcap", "-c", "cfg.json", "-w", "o", "-r"}));
}

TEST(CliCommandLine, BadDirectionValueIsUsageErrorNamingIt) {
  const HelpText error = usageErrorOf(parseMirror({"-w", "o", "--direction", "both"}));
  EXPECT_THAT(error.text, AllOf(HasSubstr("--direction"), HasSubstr("both")));
}

TEST(CliCommandLine, NeitherOutputNorSendIsUsageError) {
  const HelpText error = usageErrorOf(parseMirror({}));
  EXPECT_THAT(error.text, AllOf(HasSubstr("--output"), HasSubstr("--send")));
}

class CliBadSendAddress : public ::testing::TestWithParam<const char*> {};

TEST_P(CliBadSendAddress, IsUsageErrorQuotingTheValue) {
  const HelpText error = usageErrorOf(parseMirror({"--send", GetParam()}));
  EXPECT_THAT(error.text, AllOf(HasSubstr("--send"), HasSubstr(std::string("'") + GetParam())));
}

INSTANTIATE_TEST_SUITE_P(Cli, CliBadSendAddress,
                         ::testing::Values("127.0.0.1:0",      // port 0
                                           "127.0.0.1:70000",  // port out of range
                                           "127.0.0.1:65536",  // one past the top
                                           "127.0.0.1",        // no port
                                           "127.0.0.1:",       // empty port
                                           "127.0.0.1:47a9",   // port not a number
                                           "127.0.0.1:-1",     // negative port
                                           "localhost:4789",   // names are not resolved
                                           "256.0.0.1:4789",   // not an address
                                           ":4789",            // no address
                                           "[::1]4789",        // bracket without colon
                                           "[::1]:",           // bracketed, empty port
                                           "[::1",             // unterminated bracket
                                           "[127.0.0.1:4789"));

class CliBadOuterDstMac : public ::testing::TestWithParam<const char*> {};

TEST_P(CliBadOuterDstMac, IsUsageErrorQuotingTheValue) {
  const HelpText error = usageErrorOf(parseMirror({"-w", "o", "--outer-dst-mac", GetParam()}));
  EXPECT_THAT(error.text,
              AllOf(HasSubstr("--outer-dst-mac"), HasSubstr(std::string("'") + GetParam() + "'")));
}

INSTANTIATE_TEST_SUITE_P(Cli, CliBadOuterDstMac,
                         ::testing::Values("02:00:00:00:00", "02:00:00:00:00:00:00",
                                           "02:00:00:00:00:zz", "020000000001", "not-a-mac"));

TEST(CliCommandLine, UsageErrorsSayHowToGetHelp) {
  const HelpText error = usageErrorOf(parse({"mirror-pcap", "-c", "cfg.json", "-w", "o"}));
  EXPECT_THAT(error.text, HasSubstr("--help"));
  EXPECT_THAT(error.text, Not(HasSubstr("terminate")));
}

}  // namespace
}  // namespace tmirror::cli
