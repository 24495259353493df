#include "cli/command_line.h"

#include <charconv>
#include <limits>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/config_file.h"
#include "common/loopback.h"

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

// `tmirror collect`'s options as CLI11 reads them; finishCollectOptions checks and converts.
struct CollectArgs {
  CollectOptions options;
  std::string listen = "0.0.0.0:4789";
  std::string metrics_listen;
  std::string forward;
  std::vector<std::string> allow_senders;
  std::vector<int64_t> allow_vnis;
  std::vector<int64_t> deny_vnis;
  std::vector<std::string> source_macs;
  std::string output_dir;
  uint64_t rotate_seconds = 0;
  uint64_t rotate_bytes = 0;
  uint64_t keep_files = 0;
  uint64_t keep_bytes = 0;
  uint32_t snaplen = collector::kPcapngSnaplen;
  uint64_t idle_seconds = 60;
};

// --log-level and --log-format of a daemon (common/log.h).
void addLogOptions(CLI::App* command, log::Settings& settings) {
  // The parser's message is the usage error: "log level 'loud' is not one of ...".
  auto parsed = [](const std::string& flag, auto parse, auto& into) {
    return [flag, parse, &into](const std::string& value) {
      auto result = parse(value);
      if (!result) {
        throw CLI::ValidationError(flag, result.error().message);
      }
      into = *result;
    };
  };
  command->add_option_function<std::string>(
      "--log-level", parsed("--log-level", log::parseLevel, settings.level),
      "Least severe lines logged: trace, debug, info, warn, error or off (default info)");
  command->add_option_function<std::string>(
      "--log-format", parsed("--log-format", log::parseFormat, settings.format),
      "text (without timestamps when stderr is systemd's journal) or json, one object per line "
      "(default text)");
}

// --ca-file, --server-fingerprint and --insecure-http: how a host trusts --server.
void addServerTrustOptions(CLI::App* command, http::ServerTrust& trust) {
  command->add_option("--ca-file", trust.ca_file,
                      "Verify an https:// --server against this PEM CA file (tmirror server "
                      "--tls auto prints it) instead of the system's CAs");
  command->add_option("--server-fingerprint", trust.fingerprint,
                      "Trust an https:// --server whose certificate chain holds the certificate "
                      "with this SHA-256 fingerprint (sha256:HEX, printed by --tls auto)");
  command->add_flag("--insecure-http", trust.insecure_http,
                    "Allow http:// to a --server that is not on loopback (the token crosses the "
                    "network in clear)");
}

// The --server URL with the trust options: refused early, with the reason, rather than at the
// first connection.
std::optional<std::string> checkServer(const std::string& url, const http::ServerTrust& trust) {
  if (auto parsed = http::parseServerUrl(url, trust); !parsed) {
    return parsed.error().message;
  }
  if (!trust.ca_file.empty() && !trust.fingerprint.empty()) {
    return "--ca-file or --server-fingerprint, not both";
  }
  std::error_code error;
  if (!trust.ca_file.empty() && !std::filesystem::is_regular_file(trust.ca_file, error)) {
    return "--ca-file: " + trust.ca_file.string() + " is not a file";
  }
  return std::nullopt;
}

void addCollectSubcommand(CLI::App& app, CollectArgs& a) {
  auto* c = app.add_subcommand(
      "collect",
      "Receive VXLAN mirror traffic (UDP 4789), decapsulate it, and write per-session pcapng "
      "files, a pcap stream on stdout, TAP devices and/or a forward to another collector");
  collector::CollectorOptions& o = a.options.collector;
  c->add_option("--listen", a.listen, "UDP address:port to receive on (default 0.0.0.0:4789)");
  c->add_option("--threads", o.threads, "Receive threads, one SO_REUSEPORT socket each")
      ->check(CLI::Range(1, 64));
  c->add_option("--rcvbuf", o.receive_buffer_bytes, "Socket receive buffer bytes per thread")
      ->check(CLI::Range(65536, 1 << 30));
  c->add_option("--allow-sender", a.allow_senders,
                "Accept VXLAN only from this CIDR or address (repeatable; default: anyone)");
  c->add_option("--allow-vni", a.allow_vnis, "Accept only these VNIs (repeatable)")
      ->check(CLI::Range(int64_t{0}, int64_t{packet::kMaxVni}));
  c->add_option("--deny-vni", a.deny_vnis, "Drop these VNIs (repeatable)")
      ->check(CLI::Range(int64_t{0}, int64_t{packet::kMaxVni}));
  c->add_option("--max-sessions", o.max_sessions, "Most (sender, VNI) sessions kept")
      ->check(CLI::Range(1, 65536));
  c->add_option("--source-mac", a.source_macs,
                "VNI=MAC: the session's source interface MAC, for pcapng direction flags");
  c->add_option("--output-dir,-o", a.output_dir, "Write one pcapng file series per session here");
  c->add_option("--rotate-seconds", a.rotate_seconds, "Start a new file after this many seconds");
  c->add_option("--rotate-bytes", a.rotate_bytes, "Start a new file before this size")
      ->check(CLI::Range(uint64_t{4096}, uint64_t{1} << 50));
  c->add_option("--keep-files", a.keep_files, "Keep at most this many finished files per session");
  c->add_option("--keep-bytes", a.keep_bytes,
                "Keep at most this many bytes of finished files per session");
  c->add_option("--snaplen", a.snaplen, "Bytes of each frame written (original length is kept)")
      ->check(CLI::Range(64u, collector::kPcapngSnaplen));
  c->add_option("--idle-seconds", a.idle_seconds,
                "Finish a session's file (and free its buffer) after this long without a "
                "frame; the next frame starts a new file (0: never; default 60)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 32));
  c->add_option("--max-open-files", o.file_limits.max_open_files,
                "Most session files open at once; beyond it the least recently written are "
                "finished (default: what the descriptor limit allows)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  c->add_option("--buffer-memory", o.file_limits.buffer_budget_bytes,
                "Bytes of write buffers busy sessions may grow into, beyond each open file's "
                "first 4 KiB (default 64 MiB)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 40));
  c->add_flag("--stdout", o.to_stdout, "Write every session as one pcap stream to stdout");
  c->add_flag("--tap", o.tap_per_vni, "Write each VNI's frames to a TAP device tmirror-<vni>");
  c->add_option("--tap-single", o.tap_single, "Write every session's frames to this TAP device");
  c->add_option("--forward", a.forward, "Re-encapsulate and send to this collector address:port");
  c->add_option("--metrics-listen", a.metrics_listen,
                "Serve /metrics (Prometheus) and /counters (JSON) on address:port");
  addLogOptions(c, a.options.logging);
  c->add_option("--server", a.options.server_urls,
                "Register with this tmirror server (https://host:port, or http:// on loopback) "
                "and report health; repeat it for replicas on one database");
  addServerTrustOptions(c, a.options.trust);
  c->add_option("--token", a.options.token, "Agent token for --server (or TMIRROR_AGENT_TOKEN)")
      ->envname("TMIRROR_AGENT_TOKEN");
  c->add_option("--load-balancer-arn", a.options.load_balancer_arn,
                "With --server: serve this network-load-balancer target as one of its members");
  c->add_option("--health-interval", a.options.health_interval_seconds,
                "Seconds between health reports to --server")
      ->check(CLI::Range(int64_t{1}, int64_t{3600}));
  c->add_option("--state-dir", a.options.state_dir,
                "With --server: where the collector keeps its identity, kept across restarts "
                "(each collector its own: the server knows a collector by it)")
      ->capture_default_str();
}

std::variant<CollectOptions, HelpText> finishCollectOptions(CollectArgs& a) {
  auto usage = [](const std::string& text) {
    return HelpText{"tmirror collect: " + text + "\n", true};
  };
  CollectOptions options = std::move(a.options);
  collector::CollectorOptions& o = options.collector;
  auto listen = parseHostPort(a.listen);
  if (!listen && a.listen.ends_with(":0")) {
    listen = parseHostPort(a.listen.substr(0, a.listen.size() - 2) + ":1");
    if (listen) {
      listen->port = 0;
    }
  }
  if (!listen) {
    return usage("--listen: '" + a.listen +
                 "' is not address:port (e.g. 0.0.0.0:4789 or [::]:4789)");
  }
  o.listen_address = listen->address;
  o.port = listen->port;
  for (const auto& text : a.allow_senders) {
    auto cidr = packet::parseCidr(text);
    if (!cidr) {
      if (auto address = packet::parseIpAddress(text)) {
        cidr = packet::Cidr{
            *address, static_cast<uint8_t>(address->family == packet::IpFamily::V4 ? 32 : 128)};
      }
    }
    if (!cidr) {
      return usage("--allow-sender: '" + text + "' is not a CIDR or an IP address");
    }
    o.admission.allowed_senders.push_back(*cidr);
  }
  for (auto v : a.allow_vnis) {
    o.admission.allowed_vnis.push_back(static_cast<uint32_t>(v));
  }
  for (auto v : a.deny_vnis) {
    o.admission.denied_vnis.push_back(static_cast<uint32_t>(v));
  }
  for (const auto& text : a.source_macs) {
    const auto eq = text.find('=');
    uint32_t vni = 0;
    const auto [ptr, ec] =
        std::from_chars(text.data(), text.data() + (eq == std::string::npos ? 0 : eq), vni);
    const auto mac =
        eq == std::string::npos ? std::nullopt : packet::parseMacAddress(text.substr(eq + 1));
    if (eq == std::string::npos || ec != std::errc{} || ptr != text.data() + eq ||
        vni > packet::kMaxVni || !mac) {
      return usage("--source-mac: '" + text + "' is not VNI=MAC (e.g. 42=02:00:00:00:00:01)");
    }
    o.session_metadata[vni].source_mac = *mac;
  }
  if (!a.output_dir.empty()) {
    collector::FileOutputOptions files;
    files.directory = a.output_dir;
    files.rotate_seconds = a.rotate_seconds;
    files.rotate_bytes = a.rotate_bytes;
    files.retention = {a.keep_files, a.keep_bytes};
    files.snaplen = a.snaplen;
    files.idle_seconds = a.idle_seconds;
    o.files = files;
  } else if (a.rotate_seconds || a.rotate_bytes || a.keep_files || a.keep_bytes) {
    return usage("--rotate-*/--keep-* need --output-dir");
  }
  if (o.tap_per_vni && o.tap_single) {
    return usage("--tap and --tap-single exclude each other");
  }
  if (!a.forward.empty()) {
    auto to = parseHostPort(a.forward);
    if (!to) {
      return usage("--forward: '" + a.forward + "' is not address:port");
    }
    o.forward = std::pair{to->address, to->port};
  }
  if (!a.metrics_listen.empty()) {
    auto at = parseListenAddress(a.metrics_listen);
    if (!at) {
      return usage("--metrics-listen: '" + a.metrics_listen + "' is not address:port");
    }
    options.metrics_listen = *at;
  }
  if (!options.server_urls.empty() && options.token.empty()) {
    return usage("--server needs --token (or TMIRROR_AGENT_TOKEN)");
  }
  for (const std::string& url : options.server_urls) {
    if (auto problem = checkServer(url, options.trust)) {
      return usage(*problem);
    }
  }
  if (!o.files && !o.to_stdout && !o.tap_per_vni && !o.tap_single && !o.forward) {
    return usage(
        "say where frames go: --output-dir DIR, --stdout, --tap, --tap-single NAME "
        "and/or --forward ADDRESS:PORT");
  }
  return options;
}

}  // namespace

std::optional<std::pair<std::string, uint16_t>> parseListenAddress(const std::string& text) {
  auto parsed = parseHostPort(text);
  if (parsed) {
    return std::pair{packet::formatIpAddress(parsed->address), parsed->port};
  }
  // Port 0 (pick one) is fine for a listener.
  if (text.ends_with(":0")) {
    auto with_port = parseHostPort(text.substr(0, text.size() - 2) + ":1");
    if (with_port) {
      return std::pair{packet::formatIpAddress(with_port->address), uint16_t{0}};
    }
  }
  return std::nullopt;
}

Command parseCommandLine(std::span<const char* const> args) {
  // The API verbs follow aws's grammar (global options anywhere, nargs lists, shorthand), so
  // they have their own table-driven parser.
  const std::vector<std::string> words(args.size() > 1 ? args.begin() + 1 : args.end(), args.end());
  if (isApiVerbCommand(words)) {
    auto call = parseApiVerbCommand(words);
    if (!call) {
      return HelpText{call.error().text, call.error().exit_code != 0, call.error().exit_code};
    }
    return std::move(*call);
  }

  CLI::App app{
      "tmirror: self-hosted traffic mirroring for Linux, with the AWS Traffic Mirroring API",
      "tmirror"};
  app.require_subcommand(1);
  app.add_subcommand("version", "Print the version");
  std::string verbs;
  std::size_t line_length = 0;
  for (const auto& verb : apiVerbs()) {
    if (line_length + verb.verb.size() > 90) {
      verbs += "\n ";
      line_length = 0;
    }
    verbs += " " + std::string(verb.verb);
    line_length += verb.verb.size() + 1;
  }
  app.footer(
      "API verbs: the traffic-mirroring actions of 'aws ec2', with its options and JSON output, "
      "signed with SigV4 (--endpoint-url defaults to http://127.0.0.1:8900; 'tmirror <verb> "
      "help' lists a verb's options):\n " +
      verbs);

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

  ServerOptions server;
  std::string listen = "127.0.0.1:8900";
  std::string auth = "sigv4";
  auto* server_cmd = app.add_subcommand(
      "server",
      "Serve the EC2 traffic-mirroring API (and the agent channel) on SQLite or PostgreSQL");
  server_cmd->add_option("--listen", listen, "Address:port to listen on (default 127.0.0.1:8900)");
  addLogOptions(server_cmd, server.logging);
  server_cmd
      ->add_option("--data-dir", server.data_dir,
                   "Where the SQLite database (and --tls auto's CA) lives")
      ->capture_default_str();
  server_cmd->add_option(
      "--database", server.database_url,
      "A PostgreSQL database shared by server replicas instead of SQLite: "
      "postgresql://USER@HOST:PORT/DB (any libpq URL; the password from PGPASSWORD or "
      "~/.pgpass, not the command line)");
  auto* migrate_cmd = server_cmd->add_subcommand(
      "migrate",
      "Copy the SQLite store of --data-dir into the empty PostgreSQL database of --database "
      "(stop the server first), check the copy and exit");
  migrate_cmd->fallthrough();  // --data-dir and --database are the server's options
  server_cmd
      ->add_option("--database-connections", server.database_connections,
                   "PostgreSQL connections of this server: one writer, the rest readers "
                   "(default 8)")
      ->check(CLI::Range(int64_t{2}, int64_t{1000}));
  server_cmd->add_option("--region", server.region,
                         "The region clients sign for (their --region / AWS_DEFAULT_REGION); "
                         "default us-east-1");
  server_cmd->add_option("--auth", auth, "sigv4 (default) or none (loopback listeners only)")
      ->check(CLI::IsMember({"sigv4", "none"}));
  server_cmd->add_flag("--create-access-key", server.create_access_key,
                       "Create an access key pair for 'aws configure', print it and exit");
  server_cmd->add_flag("--create-agent-token", server.create_agent_token,
                       "Create a token for 'tmirror agent --token', print it and exit");
  server_cmd->add_option("--rules-per-filter", server.rules_per_filter, "Quota (AWS: 10)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  server_cmd
      ->add_option("--sessions-per-interface", server.sessions_per_interface, "Quota (AWS: 3)")
      ->check(CLI::Range(int64_t{1}, int64_t{1024}));
  server_cmd->add_option("--captures-dir", server.captures_dir,
                         "A collector's --output-dir: its files listed and downloadable in the "
                         "console (signed requests only)");
  server_cmd->add_option("--sources-per-target", server.sources_per_target, "Quota (AWS: 10)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000}));
  server_cmd
      ->add_option("--resources-per-kind", server.resources_per_kind,
                   "Quota on targets, filters and sessions, each (AWS: 10000)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  server_cmd
      ->add_option("--history-flush-seconds", server.history_flush_seconds,
                   "How often the counts agents and collectors report go to the metric history "
                   "in the store (default 10)")
      ->check(CLI::Range(0.1, 3600.0));
  server_cmd
      ->add_option("--fleet-reports-per-second", server.fleet_reports_per_second,
                   "Counter reports per second the whole fleet may send; each host is told to "
                   "report every hosts/N seconds, at least every second and at most every "
                   "minute (default 170: 10,000 hosts every 59 s)")
      ->check(CLI::Range(0.01, 100000.0));
  server_cmd
      ->add_option("--max-connections", server.max_connections,
                   "HTTP connections open at once; more are refused with 503 (default 16384; "
                   "each takes a file descriptor)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  server_cmd
      ->add_option("--max-connections-per-address", server.max_connections_per_address,
                   "HTTP connections from one client address (default 1024)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  server_cmd
      ->add_option("--header-timeout", server.header_timeout_seconds,
                   "Seconds a client has to send a request's headers (default 10)")
      ->check(CLI::Range(int64_t{1}, int64_t{3600}));
  std::string tls_mode;
  server_cmd
      ->add_option("--tls", tls_mode,
                   "auto: serve HTTPS with a private CA made in the data dir (prints the CA file "
                   "and its fingerprint for agents)")
      ->check(CLI::IsMember({"auto"}));
  server_cmd->add_option("--tls-cert", server.tls_cert,
                         "Serve HTTPS with this PEM certificate chain (with --tls-key)");
  server_cmd->add_option("--tls-key", server.tls_key, "The PEM private key of --tls-cert");
  server_cmd->add_flag("--insecure-http", server.insecure_http,
                       "Allow plain HTTP on a non-loopback address (tokens and signatures "
                       "cross the network in clear)");
  server_cmd
      ->add_option("--idle-timeout", server.idle_timeout_seconds,
                   "Seconds a kept-alive connection may sit idle between requests (default 5)")
      ->check(CLI::Range(int64_t{1}, int64_t{3600}));

  AgentCommand agent_command;
  agent::AgentOptions& agent = agent_command.options;
  std::string metrics_listen = "127.0.0.1:8901";
  std::vector<std::string> dns_resolvers;
  std::optional<int> agent_cpu;
  std::string send_gso = "auto";
  auto* agent_cmd = app.add_subcommand(
      "agent", "Mirror this host's interfaces as the server's sessions say (run as root)");
  agent_cmd
      ->add_option("--server", agent.server_urls,
                   "The tmirror server, https://HOST:PORT (or http:// on loopback); repeat it "
                   "for replicas on one database: the agent moves to the next when one fails")
      ->required();
  agent_cmd->add_option("--token", agent.token, "Agent token (tmirror server --create-agent-token)")
      ->required();
  addServerTrustOptions(agent_cmd, agent.trust);
  addLogOptions(agent_cmd, agent_command.logging);
  agent_cmd
      ->add_option("--state-dir", agent.state_dir,
                   "Identity and last desired state, kept across restarts")
      ->capture_default_str();
  agent_cmd->add_option("--interface", agent.interfaces,
                        "Interface to register (repeatable; default: every Ethernet interface)");
  agent_cmd
      ->add_option("--metrics-listen", metrics_listen,
                   "Address:port of /metrics and /counters, or 'none'")
      ->capture_default_str();
  agent_cmd->add_option("--rate-limit-pps", agent.worker.rate_limit_pps,
                        "Mirror copies per second per interface; beyond: skipped (0: no cap)");
  agent_cmd->add_option("--rate-limit-bps", agent.worker.rate_limit_bps,
                        "Mirror bytes per second per interface; beyond: skipped (0: no cap)");
  agent_cmd
      ->add_option("--ring-block-size", agent.worker.ring.block_size,
                   "Capture ring block size in bytes (power of two)")
      ->capture_default_str();
  agent_cmd->add_option("--ring-blocks", agent.worker.ring.block_count, "Capture ring blocks")
      ->capture_default_str()
      ->check(CLI::Range(2u, 1024u));
  agent_cmd
      ->add_option("--block-timeout-ms", agent.worker.ring.block_timeout_ms,
                   "Longest wait before a partly filled block is read")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
  agent_cmd->add_option("--dns-resolver", dns_resolvers,
                        "What amazon-dns means here (repeatable; default: /etc/resolv.conf)");
  agent_cmd->add_option("--cpu", agent_cpu, "Pin the capture threads to this CPU");
  agent_cmd
      ->add_option("--send-gso", send_gso,
                   "Send a run of copies of one flow as one UDP GSO buffer: auto (where the "
                   "egress device cuts it into packets on this host or on its wire: a hardware "
                   "NIC, or tx-udp-segmentation off), on, or off (every copy alone, UDP "
                   "checksum 0)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "on", "off"}));
  agent_cmd->add_flag("!--no-kernel-prefilter", agent.kernel_prefilter,
                      "Copy every frame to the ring; by default a cBPF program built from the "
                      "sessions' accept rules drops in the kernel what no session can mirror");

  UpOptions up;
  auto* up_cmd = app.add_subcommand(
      "up", "Server, agent and collector on this host in one command (the way to start)");
  up_cmd->add_option("--data-dir", up.data_dir, "Database, credentials, captures")
      ->capture_default_str();
  up_cmd->add_option("--listen", up.listen, "The server: API, console, agent channel")
      ->capture_default_str();
  up_cmd->add_option("--collector-listen", up.collector_listen, "Where mirror copies arrive")
      ->capture_default_str();
  up_cmd->add_option("--interface", up.interfaces, "The agent's interfaces (default: all)");
  up_cmd
      ->add_option("--agent-metrics-listen", up.agent_metrics,
                   "The agent's /metrics and /counters (address:port)")
      ->capture_default_str();
  up_cmd
      ->add_option("--collector-metrics-listen", up.collector_metrics,
                   "The collector's /metrics and /counters (address:port)")
      ->capture_default_str();
  up_cmd->add_flag("--no-agent", up.no_agent, "Do not mirror this host's interfaces");
  up_cmd
      ->add_option("--log-level", up.log_level, "The server's, agent's and collector's --log-level")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "off"}));
  up_cmd
      ->add_option("--log-format", up.log_format,
                   "The server's, agent's and collector's --log-format")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  up_cmd->add_flag("--no-collector", up.no_collector, "Do not receive mirror copies here");
  up_cmd->add_flag("--demo", up.demo,
                   "Build a namespace lab with a web server, mirror its web traffic (not SSH) "
                   "to a collector and run traffic (root)");

  CollectArgs collect;
  addCollectSubcommand(app, collect);

  ExplainOptions explain;
  std::string explain_direction;
  std::string explain_output = "text";
  std::optional<std::string> explain_endpoint;
  bool explain_no_verify_ssl = false;
  bool explain_no_sign = false;
  auto* explain_cmd = app.add_subcommand(
      "explain",
      "Why a packet on a source interface is or is not mirrored: each session in priority "
      "order, each rule tried and why, the exclusion that applies, and the verdict (session, "
      "VNI, target, copy length), from the server's current desired state");
  explain_cmd
      ->add_option("--network-interface-id", explain.network_interface_id,
                   "The source interface (eni-...)")
      ->required();
  auto* packet_opt = explain_cmd->add_option(
      "--packet", explain.packet,
      "The packet: 'tcp 198.51.100.1:443 > 198.51.100.2:51000', 'udp [2001:db8::1]:53 > "
      "[2001:db8::2]:40000', 'icmp A > B', 'icmp6 A > B', or 'N A > B' for IP protocol N");
  auto* pcap_opt = explain_cmd->add_option("--pcap", explain.pcap,
                                           "Explain the frames of this capture (pcap or pcapng)");
  packet_opt->excludes(pcap_opt);
  explain_cmd
      ->add_option("--frame", explain.frame,
                   "With --pcap: only this frame (numbered from 1, as Wireshark does)")
      ->check(CLI::Range(uint64_t{1}, std::numeric_limits<uint64_t>::max()))
      ->needs(pcap_opt);
  explain_cmd
      ->add_option("--direction", explain_direction,
                   "ingress or egress (default: from the packet's addresses, or with --pcap from "
                   "pcapng flags or the interface's MAC)")
      ->check(CLI::IsMember({"ingress", "egress"}));
  explain_cmd
      ->add_option("--length", explain.length,
                   "With --packet: the frame's length in bytes (default: its headers only)")
      ->check(CLI::Range(uint32_t{0}, uint32_t{65535}))
      ->needs(packet_opt);
  explain_cmd->add_option("--output", explain_output, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  explain_cmd->add_option("--desired-state", explain.state,
                          "Read the desired state from this file (the JSON 'tmirror mirror-pcap "
                          "--config' reads) instead of asking the server");
  explain_cmd->add_option("--endpoint-url", explain_endpoint,
                          "The server (default: TMIRROR_ENDPOINT, AWS_ENDPOINT_URL_EC2, "
                          "AWS_ENDPOINT_URL, else http://127.0.0.1:8900)");
  explain_cmd->add_option("--region", explain.globals.region, "The region to sign for");
  explain_cmd->add_option("--profile", explain.globals.profile, "A profile of ~/.aws/credentials");
  explain_cmd->add_option("--ca-bundle", explain.globals.ca_bundle,
                          "CA certificates for an HTTPS endpoint");
  explain_cmd->add_flag("--no-verify-ssl", explain_no_verify_ssl,
                        "Do not verify the HTTPS endpoint's certificate");
  explain_cmd->add_flag("--no-sign-request", explain_no_sign,
                        "Send no SigV4 signature (a server run with --auth none)");

  // A daemon's settings file (cli/config_file.h): --config, before or after the subcommand,
  // else /etc/tmirror/<subcommand>.conf when it exists.
  std::string subcommand;
  std::optional<std::string> config_file;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--config" && i + 1 < words.size()) {
      config_file = words[++i];
    } else if (words[i].starts_with("--config=")) {
      config_file = words[i].substr(9);
    } else if (subcommand.empty()) {
      subcommand = words[i];
    }
  }
  CLI::App* daemon = nullptr;
  for (CLI::App* sub : {server_cmd, agent_cmd, up_cmd, app.get_subcommand("collect")}) {
    if (subcommand == sub->get_name()) {
      daemon = sub;
    }
  }
  if (daemon != nullptr) {
    const std::string file = config_file.value_or(defaultConfigFile(daemon->get_name()));
    app.set_config("--config", defaultConfigFile(daemon->get_name()),
                   "Settings for the daemon subcommands, 'key = value' per line with the long "
                   "flags' names (default /etc/tmirror/<subcommand>.conf, collector.conf for "
                   "collect, if it exists; \"\" for none)");
    app.config_formatter(makeConfigReader(daemon, file));
    app.allow_config_extras(CLI::config_extras_mode::error);
    daemon->fallthrough();  // --config after the subcommand is the app's
  }

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
  if (app.got_subcommand("explain")) {
    if (explain.packet.empty() && !explain.pcap) {
      return HelpText{
          "tmirror explain: say which packet: --packet 'tcp A:p > B:q' or --pcap FILE "
          "[--frame N]\n",
          true};
    }
    if (!explain_direction.empty()) {
      explain.direction = explain_direction == "ingress" ? model::TrafficDirection::Ingress
                                                         : model::TrafficDirection::Egress;
    }
    explain.json = explain_output == "json";
    explain.globals.endpoint_url = explain_endpoint;
    explain.globals.verify_ssl = !explain_no_verify_ssl;
    explain.globals.sign_request = !explain_no_sign;
    return explain;
  }
  if (app.got_subcommand("collect")) {
    auto result = finishCollectOptions(collect);
    if (auto* help = std::get_if<HelpText>(&result)) {
      return *help;
    }
    return std::get<CollectOptions>(std::move(result));
  }
  if (app.got_subcommand("server")) {
    auto address = parseListenAddress(listen);
    if (!address) {
      return HelpText{"tmirror server: --listen: '" + listen +
                          "' is not address:port (e.g. 127.0.0.1:8900 or [::1]:8900)\n",
                      true};
    }
    server.listen_address = address->first;
    server.port = address->second;
    server.auth_none = auth == "none";
    server.migrate = migrate_cmd->parsed();
    if (server.migrate && server.database_url.empty()) {
      return HelpText{
          "tmirror server migrate: --database URL names the PostgreSQL database to "
          "copy into\n",
          true};
    }
    server.tls_auto = tls_mode == "auto";
    if (server.tls_cert.empty() != server.tls_key.empty()) {
      return HelpText{"tmirror server: --tls-cert and --tls-key go together\n", true};
    }
    if (server.tls_auto && !server.tls_cert.empty()) {
      return HelpText{"tmirror server: --tls auto or --tls-cert/--tls-key, not both\n", true};
    }
    const bool tls = server.tls_auto || !server.tls_cert.empty();
    if (!tls && !server.insecure_http && !isLoopbackHost(server.listen_address)) {
      return HelpText{"tmirror server: refusing plain HTTP on " + server.listen_address +
                          ": agent tokens and API signatures would cross the network in clear. "
                          "Use --tls auto, --tls-cert/--tls-key, or --insecure-http.\n",
                      true};
    }
    return server;
  }
  if (app.got_subcommand("up")) {
    for (const auto& [flag, value] :
         {std::pair<const char*, const std::string&>{"--listen", up.listen},
          {"--agent-metrics-listen", up.agent_metrics},
          {"--collector-metrics-listen", up.collector_metrics}}) {
      if (!parseListenAddress(value)) {
        return HelpText{
            std::string("tmirror up: ") + flag + ": '" + value + "' is not address:port\n", true};
      }
    }
    return up;
  }
  if (app.got_subcommand("agent")) {
    if (metrics_listen == "none") {
      agent.metrics_listen.reset();
    } else {
      auto address = parseListenAddress(metrics_listen);
      if (!address) {
        return HelpText{"tmirror agent: --metrics-listen: '" + metrics_listen +
                            "' is not address:port or none\n",
                        true};
      }
      agent.metrics_listen = *address;
    }
    for (const auto& text : dns_resolvers) {
      auto address = packet::parseIpAddress(text);
      if (!address) {
        return HelpText{"tmirror agent: --dns-resolver: '" + text + "' is not an IP address\n",
                        true};
      }
      agent.dns_resolvers.push_back(*address);
    }
    for (const std::string& url : agent.server_urls) {
      if (auto problem = checkServer(url, agent.trust)) {
        return HelpText{"tmirror agent: " + *problem + "\n", true};
      }
    }
    agent.worker.cpu = agent_cpu;
    agent.worker.send_gso = send_gso == "on"    ? agent::GsoSend::On
                            : send_gso == "off" ? agent::GsoSend::Off
                                                : agent::GsoSend::Auto;
    return agent_command;
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
