#include "cli/command_line.h"

#include <charconv>
#include <vector>

#include <CLI/CLI.hpp>

namespace tmirror::cli {

namespace {

constexpr const char* kMirrorPcapDescription =
    "Mirror a capture offline: read frames from a pcap/pcapng file, apply the sessions and "
    "filters of a config document exactly as the agent would, and write the VXLAN packets "
    "that would be sent (a pcap), or send them as UDP datagrams.";

std::optional<MirrorPcapOptions::UdpDestination> parseHostPort(const std::string& text) {
  // "127.0.0.1:4789" or "[::1]:4789"
  std::string host;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto address = packet::parseIpAddress(host);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (!address || ec != std::errc{} || ptr != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  return MirrorPcapOptions::UdpDestination{*address, static_cast<uint16_t>(port)};
}

}  // namespace

Command parseCommandLine(std::span<const char* const> args) {
  CLI::App app{
      "tmirror: self-hosted traffic mirroring for Linux, with the AWS Traffic Mirroring API",
      "tmirror"};
  app.require_subcommand(1);
  app.add_subcommand("version", "Print the version");

  MirrorPcapOptions options;
  std::string direction = "auto";
  std::string send_to;
  std::string outer_dst_mac;
  auto* mirror = app.add_subcommand("mirror-pcap", kMirrorPcapDescription);
  mirror->add_option("--input,-r", options.input, "Capture to read (pcap or pcapng, Ethernet)")
      ->required();
  mirror
      ->add_option("--config,-c", options.config,
                   "Sessions, filters and targets (JSON; see examples/web-not-ssh.json)")
      ->required();
  mirror->add_option("--network-interface-id", options.network_interface_id,
                     "Source interface (eni-...) when the config has several");
  mirror
      ->add_option("--direction", direction,
                   "Where each frame's direction comes from: auto (pcapng flags, else MAC), "
                   "flags, or mac")
      ->check(CLI::IsMember({"auto", "flags", "mac"}));
  mirror->add_option("--output,-w", options.output_pcap,
                     "Write the outer VXLAN packets to this pcap (replaced only on success)");
  mirror->add_option("--send", send_to,
                     "Send the VXLAN datagrams to this UDP address, e.g. 127.0.0.1:4789");
  mirror->add_option("--outer-dst-mac", outer_dst_mac,
                     "Destination MAC of the outer Ethernet header in --output "
                     "(default 00:00:00:00:00:00)");
  mirror->add_flag("--quiet,-q", options.quiet, "Do not print the JSON summary");

  // CLI11 wants argv without the program's own name handled separately.
  std::vector<std::string> argv;
  for (std::size_t i = args.size(); i > 1; --i) {
    argv.emplace_back(args[i - 1]);
  }
  try {
    app.parse(argv);
  } catch (const CLI::CallForHelp&) {
    return HelpText{app.help(), false};
  } catch (const CLI::CallForAllHelp&) {
    return HelpText{app.help("", CLI::AppFormatMode::All), false};
  } catch (const CLI::ParseError& e) {
    std::string text = e.what();
    return HelpText{"tmirror: " + text + "\nRun 'tmirror --help' for usage.\n", true};
  }

  if (app.got_subcommand("version")) {
    return VersionCommand{};
  }
  options.direction_source = direction == "flags" ? DirectionSource::Flags
                             : direction == "mac" ? DirectionSource::Mac
                                                  : DirectionSource::Auto;
  if (!send_to.empty()) {
    options.send_to = parseHostPort(send_to);
    if (!options.send_to) {
      return HelpText{"tmirror mirror-pcap: --send: '" + send_to +
                          "' is not an address:port (e.g. 127.0.0.1:4789 or [::1]:4789)\n",
                      true};
    }
  }
  if (!outer_dst_mac.empty()) {
    auto mac = packet::parseMacAddress(outer_dst_mac);
    if (!mac) {
      return HelpText{
          "tmirror mirror-pcap: --outer-dst-mac: '" + outer_dst_mac + "' is not a MAC address\n",
          true};
    }
    options.outer_dst_mac = *mac;
  }
  if (!options.output_pcap && !options.send_to) {
    return HelpText{
        "tmirror mirror-pcap: say where the copies go: --output FILE and/or --send "
        "ADDRESS:PORT\n",
        true};
  }
  return options;
}

}  // namespace tmirror::cli
