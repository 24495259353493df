// parseCommandLine is pure: every option, default and usage error is checked without a process.
#include "cli/command_line.h"

#include <unistd.h>

#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/config_file.h"

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

// --- tmirror collect ---------------------------------------------------------------------

CollectOptions collectOf(const Command& command) {
  if (const auto* help = std::get_if<HelpText>(&command)) {
    ADD_FAILURE() << "expected collect options, got:\n" << help->text;
    return {};
  }
  if (!std::holds_alternative<CollectOptions>(command)) {
    ADD_FAILURE() << "expected collect options";
    return {};
  }
  return std::get<CollectOptions>(command);
}

std::string collectError(const Command& command) {
  const auto* help = std::get_if<HelpText>(&command);
  if (help == nullptr || !help->is_error) {
    ADD_FAILURE() << "expected a usage error";
    return {};
  }
  return help->text;
}

TEST(CliCollect, DefaultsListenOnAllIpv4AddressesPort4789WithOneThread) {
  const auto o = collectOf(parse({"collect", "--output-dir", "caps"}));
  EXPECT_EQ(packet::formatIpAddress(o.collector.listen_address), "0.0.0.0");
  EXPECT_EQ(o.collector.port, 4789);
  EXPECT_EQ(o.collector.threads, 1);
  ASSERT_TRUE(o.collector.files);
  EXPECT_EQ(o.collector.files->directory, "caps");
  EXPECT_EQ(o.collector.files->rotate_bytes, 0u);
  EXPECT_FALSE(o.collector.to_stdout);
  EXPECT_FALSE(o.metrics_listen);
  EXPECT_TRUE(o.server_urls.empty());
}

TEST(CliCollect, EveryOptionIsKept) {
  const auto o = collectOf(parse({"collect",
                                  "--listen",
                                  "[::1]:14789",
                                  "--threads",
                                  "2",
                                  "--allow-sender",
                                  "10.0.0.0/8",
                                  "--allow-sender",
                                  "192.0.2.7",
                                  "--allow-vni",
                                  "5",
                                  "--deny-vni",
                                  "6",
                                  "--deny-vni",
                                  "7",
                                  "--output-dir",
                                  "d",
                                  "--rotate-seconds",
                                  "60",
                                  "--rotate-bytes",
                                  "1000000",
                                  "--keep-files",
                                  "10",
                                  "--keep-bytes",
                                  "5000000",
                                  "--snaplen",
                                  "128",
                                  "--stdout",
                                  "--tap",
                                  "--forward",
                                  "127.0.0.2:4789",
                                  "--metrics-listen",
                                  "127.0.0.1:0",
                                  "--server",
                                  "http://127.0.0.1:8900",
                                  "--token",
                                  "tok",
                                  "--source-mac",
                                  "5=02:00:00:00:00:09",
                                  "--max-sessions",
                                  "100"}));
  EXPECT_EQ(packet::formatIpAddress(o.collector.listen_address), "::1");
  EXPECT_EQ(o.collector.port, 14789);
  EXPECT_EQ(o.collector.threads, 2);
  ASSERT_EQ(o.collector.admission.allowed_senders.size(), 2u);
  EXPECT_EQ(packet::formatCidr(o.collector.admission.allowed_senders[1]), "192.0.2.7/32");
  EXPECT_EQ(o.collector.admission.allowed_vnis, (std::vector<uint32_t>{5}));
  EXPECT_EQ(o.collector.admission.denied_vnis, (std::vector<uint32_t>{6, 7}));
  ASSERT_TRUE(o.collector.files);
  EXPECT_EQ(o.collector.files->rotate_seconds, 60u);
  EXPECT_EQ(o.collector.files->rotate_bytes, 1000000u);
  EXPECT_EQ(o.collector.files->retention.keep_files, 10u);
  EXPECT_EQ(o.collector.files->retention.keep_bytes, 5000000u);
  EXPECT_EQ(o.collector.files->snaplen, 128u);
  EXPECT_TRUE(o.collector.to_stdout);
  EXPECT_TRUE(o.collector.tap_per_vni);
  ASSERT_TRUE(o.collector.forward);
  EXPECT_EQ(o.collector.forward->second, 4789);
  ASSERT_TRUE(o.metrics_listen);
  EXPECT_EQ(o.metrics_listen->second, 0);
  EXPECT_EQ(o.server_urls, std::vector<std::string>{"http://127.0.0.1:8900"});
  EXPECT_EQ(o.token, "tok");
  ASSERT_TRUE(o.collector.session_metadata.contains(5));
  EXPECT_EQ(packet::formatMacAddress(*o.collector.session_metadata.at(5).source_mac),
            "02:00:00:00:00:09");
  EXPECT_EQ(o.collector.max_sessions, 100u);
}

TEST(CliCollect, ListenPortZeroPicksAFreePort) {
  const auto o = collectOf(parse({"collect", "--listen", "127.0.0.1:0", "--stdout"}));
  EXPECT_EQ(o.collector.port, 0);
}

TEST(CliCollect, UsageErrorsNameTheProblem) {
  EXPECT_THAT(collectError(parse({"collect"})), HasSubstr("say where frames go"));
  EXPECT_THAT(collectError(parse({"collect", "--stdout", "--listen", "4789"})),
              HasSubstr("--listen"));
  EXPECT_THAT(collectError(parse({"collect", "--stdout", "--allow-sender", "10.0.0.1/33"})),
              HasSubstr("--allow-sender"));
  EXPECT_THAT(collectError(parse({"collect", "--stdout", "--rotate-bytes", "100000"})),
              HasSubstr("--output-dir"));
  EXPECT_THAT(collectError(parse({"collect", "--tap", "--tap-single", "x"})), HasSubstr("exclude"));
  EXPECT_THAT(collectError(parse({"collect", "--stdout", "--server", "http://127.0.0.1:1"})),
              HasSubstr("--token"));
  EXPECT_THAT(collectError(parse({"collect", "--stdout", "--source-mac", "5:02:00:00:00:00:01"})),
              HasSubstr("VNI=MAC"));
  EXPECT_THAT(collectError(parse({"collect", "--stdout", "--deny-vni", "16777216"})),
              HasSubstr("deny-vni"));
  EXPECT_THAT(collectError(parse({"collect", "--stdout", "--threads", "0"})), HasSubstr("threads"));
}

}  // namespace
}  // namespace tmirror::cli

namespace tmirror::cli {
namespace {

TEST(CliServerTls, PlainHttpOnANonLoopbackAddressIsRefusedUnlessAskedFor) {
  const HelpText refused = usageErrorOf(parse({"server", "--listen", "10.0.0.5:8900"}));
  EXPECT_THAT(refused.text, HasSubstr("refusing plain HTTP on 10.0.0.5"));
  EXPECT_THAT(refused.text, HasSubstr("--tls auto"));
  for (const auto& args :
       {std::vector<const char*>{"--insecure-http"}, std::vector<const char*>{"--tls", "auto"},
        std::vector<const char*>{"--tls-cert", "c.pem", "--tls-key", "k.pem"}}) {
    std::vector<const char*> argv{"tmirror", "server", "--listen", "0.0.0.0:8900"};
    argv.insert(argv.end(), args.begin(), args.end());
    const Command command = parseCommandLine(argv);
    ASSERT_TRUE(std::holds_alternative<ServerOptions>(command)) << args.front();
  }
  const auto loopback = parse({"server", "--listen", "[::1]:8900"});
  ASSERT_TRUE(std::holds_alternative<ServerOptions>(loopback));
  EXPECT_FALSE(std::get<ServerOptions>(loopback).tls_auto);
}

TEST(CliServerTls, TlsOptionsGoTogetherAndExcludeEachOther) {
  EXPECT_THAT(usageErrorOf(parse({"server", "--tls-cert", "c.pem"})).text,
              HasSubstr("--tls-cert and --tls-key go together"));
  EXPECT_THAT(
      usageErrorOf(parse({"server", "--tls", "auto", "--tls-cert", "c.pem", "--tls-key", "k.pem"}))
          .text,
      HasSubstr("not both"));
  usageErrorOf(parse({"server", "--tls", "manual"}));
  const auto automatic = parse({"server", "--tls", "auto"});
  ASSERT_TRUE(std::holds_alternative<ServerOptions>(automatic));
  EXPECT_TRUE(std::get<ServerOptions>(automatic).tls_auto);
}

TEST(CliServerTls, ConnectionLimitsAreFlags) {
  const auto command =
      parse({"server", "--max-connections", "20000", "--max-connections-per-address", "50",
             "--header-timeout", "3", "--idle-timeout", "60"});
  ASSERT_TRUE(std::holds_alternative<ServerOptions>(command));
  const auto& options = std::get<ServerOptions>(command);
  EXPECT_EQ(options.max_connections, 20000);
  EXPECT_EQ(options.max_connections_per_address, 50);
  EXPECT_EQ(options.header_timeout_seconds, 3);
  EXPECT_EQ(options.idle_timeout_seconds, 60);
  usageErrorOf(parse({"server", "--max-connections", "0"}));
}

}  // namespace

TEST(CliCommandLine, ServerTakesAPostgresqlDatabaseAndAPoolSize) {
  const auto sqlite = parse({"server"});
  ASSERT_TRUE(std::holds_alternative<ServerOptions>(sqlite));
  EXPECT_TRUE(std::get<ServerOptions>(sqlite).database_url.empty());  // SQLite by default
  const auto pg = parse({"server", "--database", "postgresql://tm@db.example:5432/tm",
                         "--database-connections", "4"});
  ASSERT_TRUE(std::holds_alternative<ServerOptions>(pg));
  EXPECT_EQ(std::get<ServerOptions>(pg).database_url, "postgresql://tm@db.example:5432/tm");
  EXPECT_EQ(std::get<ServerOptions>(pg).database_connections, 4);
  // One writer and at least one reader.
  usageErrorOf(parse({"server", "--database", "postgresql:///tm", "--database-connections", "1"}));
}

TEST(CliCommandLine, AgentsAndCollectorsTakeSeveralServers) {
  const auto agent = parse({"agent", "--server", "http://127.0.0.1:8900", "--server",
                            "http://127.0.0.2:8900", "--token", "tok"});
  ASSERT_TRUE(std::holds_alternative<AgentCommand>(agent));
  EXPECT_EQ(std::get<AgentCommand>(agent).options.server_urls,
            (std::vector<std::string>{"http://127.0.0.1:8900", "http://127.0.0.2:8900"}));
  // Each is checked: plain HTTP to a host off loopback is refused whichever it is.
  EXPECT_THAT(usageErrorOf(parse({"agent", "--server", "http://127.0.0.1:8900", "--server",
                                  "http://10.0.0.5:8900", "--token", "tok"}))
                  .text,
              HasSubstr("10.0.0.5"));
  const auto collect = parse({"collect", "--stdout", "--server", "http://127.0.0.1:8900",
                              "--server", "http://127.0.0.2:8900", "--token", "tok"});
  ASSERT_TRUE(std::holds_alternative<CollectOptions>(collect));
  EXPECT_EQ(std::get<CollectOptions>(collect).server_urls.size(), 2u);
}

// A settings file for one test, removed at its end.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text) {
    char name[] = "/tmp/tmirror-config-test-XXXXXX";
    const int fd = ::mkstemp(name);
    path_ = name;
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
  }

  ~ConfigFile() { ::unlink(path_.c_str()); }

  const char* path() const { return path_.c_str(); }

 private:
  std::string path_;
};

TEST(CliCommandLine, DaemonsTakeALogLevelAndFormat) {
  const auto server = parse({"server", "--log-level", "debug", "--log-format", "json"});
  ASSERT_TRUE(std::holds_alternative<ServerOptions>(server));
  EXPECT_EQ(std::get<ServerOptions>(server).logging.level, spdlog::level::debug);
  EXPECT_EQ(std::get<ServerOptions>(server).logging.format, log::Format::Json);
  const auto agent = parse({"agent", "--server", "http://127.0.0.1:8900", "--token", "t"});
  ASSERT_TRUE(std::holds_alternative<AgentCommand>(agent));
  EXPECT_EQ(std::get<AgentCommand>(agent).logging.level, spdlog::level::info);
  EXPECT_EQ(std::get<AgentCommand>(agent).logging.format, log::Format::Text);
  EXPECT_THAT(usageErrorOf(parse({"collect", "--stdout", "--log-level", "loud"})).text,
              HasSubstr("'loud'"));
  EXPECT_THAT(usageErrorOf(parse({"server", "--log-format", "xml"})).text, HasSubstr("'xml'"));
}

TEST(CliCommandLine, UpTakesEveryPortItUses) {
  const auto up = parse({"up", "--agent-metrics-listen", "127.0.0.1:9901",
                         "--collector-metrics-listen", "127.0.0.1:9902", "--log-level", "warn"});
  ASSERT_TRUE(std::holds_alternative<UpOptions>(up));
  EXPECT_EQ(std::get<UpOptions>(up).agent_metrics, "127.0.0.1:9901");
  EXPECT_EQ(std::get<UpOptions>(up).collector_metrics, "127.0.0.1:9902");
  EXPECT_EQ(std::get<UpOptions>(up).log_level, "warn");
  EXPECT_THAT(usageErrorOf(parse({"up", "--agent-metrics-listen", "nowhere"})).text,
              HasSubstr("--agent-metrics-listen"));
}

TEST(CliCommandLine, AConfigFileGivesTheFlagsAndTheCommandLineWins) {
  ConfigFile file(
      "# tmirror agent\n"
      "server = https://a.example:8900\n"
      "server = https://b.example:8900   # a replica\n"
      "\n"
      "token = \"tmt-#not-a-comment\"\n"
      "interface = eth1\n"
      "no-kernel-prefilter = true\n"
      "log-level = warn\n"
      "log-format = json\n");
  const auto from_file = parse({"agent", "--config", file.path()});
  ASSERT_TRUE(std::holds_alternative<AgentCommand>(from_file))
      << std::get<HelpText>(from_file).text;
  const AgentCommand& a = std::get<AgentCommand>(from_file);
  EXPECT_EQ(a.options.server_urls,
            (std::vector<std::string>{"https://a.example:8900", "https://b.example:8900"}));
  EXPECT_EQ(a.options.token, "tmt-#not-a-comment");
  EXPECT_EQ(a.options.interfaces, (std::vector<std::string>{"eth1"}));
  EXPECT_FALSE(a.options.kernel_prefilter);
  EXPECT_EQ(a.logging.level, spdlog::level::warn);
  EXPECT_EQ(a.logging.format, log::Format::Json);

  // Flags override the file, whichever side of the subcommand --config is on.
  const auto overridden = parse({"--config", file.path(), "agent", "--log-level", "error",
                                 "--token", "other", "--server", "https://c.example:8900"});
  ASSERT_TRUE(std::holds_alternative<AgentCommand>(overridden))
      << std::get<HelpText>(overridden).text;
  const AgentCommand& b = std::get<AgentCommand>(overridden);
  EXPECT_EQ(b.logging.level, spdlog::level::err);
  EXPECT_EQ(b.logging.format, log::Format::Json);  // still the file's
  EXPECT_EQ(b.options.token, "other");
  EXPECT_EQ(b.options.server_urls, (std::vector<std::string>{"https://c.example:8900"}));
}

TEST(CliCommandLine, AServerConfigFileSetsItsListenerAndStore) {
  ConfigFile file(
      "listen = 0.0.0.0:8900\ntls = auto\ndatabase = postgresql://tm@db/tm\n"
      "database-connections = 4\n");
  const auto server = parse({"server", "--config", file.path()});
  ASSERT_TRUE(std::holds_alternative<ServerOptions>(server)) << std::get<HelpText>(server).text;
  const ServerOptions& o = std::get<ServerOptions>(server);
  EXPECT_EQ(o.listen_address, "0.0.0.0");
  EXPECT_TRUE(o.tls_auto);
  EXPECT_EQ(o.database_url, "postgresql://tm@db/tm");
  EXPECT_EQ(o.database_connections, 4);
}

TEST(CliCommandLine, ConfigFileMistakesNameTheLine) {
  {
    ConfigFile file("log-level = info\n# fine so far\ncolour = blue\n");
    EXPECT_THAT(
        usageErrorOf(parse({"server", "--config", file.path()})).text,
        AllOf(HasSubstr(std::string(file.path()) + ":3"), HasSubstr("unknown key 'colour'")));
  }
  {
    ConfigFile file("listen = 127.0.0.1:1\nlisten = 127.0.0.1:2\n");
    EXPECT_THAT(usageErrorOf(parse({"server", "--config", file.path()})).text,
                AllOf(HasSubstr(":2"), HasSubstr("set twice (first on line 1)")));
  }
  {
    ConfigFile file("--listen 127.0.0.1:1\n");
    EXPECT_THAT(usageErrorOf(parse({"server", "--config", file.path()})).text, HasSubstr(":1"));
  }
  {
    ConfigFile file("stdout = maybe\n");
    EXPECT_THAT(usageErrorOf(parse({"collect", "--config", file.path()})).text,
                HasSubstr("true or false"));
  }
  {
    ConfigFile file("config = /etc/other.conf\n");
    EXPECT_THAT(usageErrorOf(parse({"agent", "--config", file.path()})).text,
                HasSubstr("unknown key 'config'"));
  }
  // A file given by name must exist (the default one may not).
  usageErrorOf(parse({"server", "--config", "/nonexistent/tmirror.conf"}));
}

TEST(CliConfigFile, AFalseFlagLeavesTheDefault) {
  auto settings = parseConfigText(
      "stdout = false\nforward = 127.0.0.1:4790\n", "f",
      [](const std::string& key) { return key == "stdout" ? ConfigKey::Flag : ConfigKey::Single; });
  ASSERT_TRUE(settings) << settings.error().message;
  ASSERT_EQ(settings->size(), 1u);
  EXPECT_EQ((*settings)[0].key, "forward");
  EXPECT_EQ((*settings)[0].line, 2);
}

}  // namespace tmirror::cli

namespace tmirror::cli {
namespace {

TEST(ExplainCommandLine, TakesThePacketTheInterfaceAndTheApiSettings) {
  const Command command =
      parse({"explain", "--network-interface-id", "eni-0123456789abcdef0", "--packet",
             "tcp 198.51.100.1:443 > 198.51.100.2:51000", "--direction", "egress", "--length",
             "1500", "--output", "json", "--endpoint-url", "https://10.0.0.5:8900", "--region",
             "eu-west-1", "--ca-bundle", "/etc/tmirror/ca.pem"});
  ASSERT_TRUE(std::holds_alternative<ExplainOptions>(command));
  const auto& o = std::get<ExplainOptions>(command);
  EXPECT_EQ(o.network_interface_id, "eni-0123456789abcdef0");
  EXPECT_EQ(o.packet, "tcp 198.51.100.1:443 > 198.51.100.2:51000");
  EXPECT_EQ(o.direction, model::TrafficDirection::Egress);
  EXPECT_EQ(o.length, 1500u);
  EXPECT_TRUE(o.json);
  EXPECT_EQ(o.globals.endpoint_url, "https://10.0.0.5:8900");
  EXPECT_EQ(o.globals.region, "eu-west-1");
  EXPECT_EQ(o.globals.ca_bundle, "/etc/tmirror/ca.pem");
  EXPECT_TRUE(o.globals.sign_request);
  EXPECT_TRUE(o.globals.verify_ssl);

  const Command capture = parse({"explain", "--network-interface-id", "eni-1", "--pcap",
                                 "web.pcapng", "--frame", "3", "--no-verify-ssl"});
  ASSERT_TRUE(std::holds_alternative<ExplainOptions>(capture));
  const auto& c = std::get<ExplainOptions>(capture);
  EXPECT_EQ(c.pcap, std::filesystem::path("web.pcapng"));
  EXPECT_EQ(c.frame, 3u);
  EXPECT_FALSE(c.direction);
  EXPECT_FALSE(c.json);
  EXPECT_FALSE(c.globals.verify_ssl);
}

TEST(ExplainCommandLine, RefusesAmbiguousOrIncompleteRequests) {
  EXPECT_THAT(usageErrorOf(parse({"explain", "--network-interface-id", "eni-1"})).text,
              HasSubstr("say which packet"));
  EXPECT_THAT(usageErrorOf(parse({"explain", "--packet", "icmp 1.1.1.1 > 2.2.2.2"})).text,
              HasSubstr("--network-interface-id is required"));
  EXPECT_THAT(usageErrorOf(parse({"explain", "--network-interface-id", "eni-1", "--packet",
                                  "icmp 1.1.1.1 > 2.2.2.2", "--pcap", "x.pcap"}))
                  .text,
              HasSubstr("excludes"));
  EXPECT_THAT(usageErrorOf(parse({"explain", "--network-interface-id", "eni-1", "--packet",
                                  "icmp 1.1.1.1 > 2.2.2.2", "--frame", "2"}))
                  .text,
              HasSubstr("requires --pcap"));
  EXPECT_THAT(usageErrorOf(parse({"explain", "--network-interface-id", "eni-1", "--pcap", "x.pcap",
                                  "--frame", "0"}))
                  .text,
              HasSubstr("--frame"));
  EXPECT_THAT(usageErrorOf(parse({"explain", "--network-interface-id", "eni-1", "--packet",
                                  "icmp 1.1.1.1 > 2.2.2.2", "--direction", "sideways"}))
                  .text,
              HasSubstr("--direction"));
}

}  // namespace
}  // namespace tmirror::cli
