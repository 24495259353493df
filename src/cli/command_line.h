// The `tmirror` command line as values: parsing is a pure function, tested without a process.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "agent/agent.h"
#include "cli/aws/api_verbs.h"
#include "cli/explain_command.h"
#include "cli/up_command.h"
#include "collector/collector.h"
#include "common/log.h"
#include "common/result.h"
#include "http/server_client.h"
#include "packet/ip_address.h"

namespace tmirror::cli {

enum class DirectionSource {
  Auto,   // pcapng epb_flags when the packet has them, else MAC addresses
  Flags,  // pcapng epb_flags only
  Mac,    // MAC addresses only
};

struct MirrorPcapOptions {
  std::filesystem::path input;
  std::filesystem::path config;
  std::string network_interface_id;  // needed when the config has several interfaces
  DirectionSource direction_source = DirectionSource::Auto;
  std::optional<std::filesystem::path> output_pcap;

  struct UdpDestination {
    packet::IpAddress address;
    uint16_t port = 4789;
  };

  std::optional<UdpDestination> send_to;
  packet::MacAddress outer_dst_mac{};
  bool quiet = false;  // no summary on stdout
};

struct ServerOptions {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 8900;
  std::filesystem::path data_dir = "tmirror-data";
  // A PostgreSQL database instead of SQLite in data_dir (store/postgres.h), and the
  // connections one server keeps to it (one writer, the rest readers).
  std::string database_url;
  int64_t database_connections = 8;
  bool auth_none = false;            // only allowed on a loopback listener
  std::string region = "us-east-1";  // the region clients sign for
  bool create_access_key = false;    // print a new key pair and exit
  bool create_agent_token = false;   // print a new agent token and exit
  bool migrate = false;              // copy the SQLite store in data_dir into database_url
  int64_t rules_per_filter = 10;
  int64_t sessions_per_interface = 3;
  int64_t sources_per_target = 10;
  int64_t resources_per_kind = 10000;
  // Counter reports per second the whole fleet may send (channel::AgentChannelOptions).
  double fleet_reports_per_second = 170;
  // How often counts go to the metric history in the store (history/history_writer.h).
  double history_flush_seconds = 10;
  std::filesystem::path captures_dir;  // the collector's files, for the console (tmirror up)
  // Connection hygiene (see server::HttpServerOptions).
  int64_t max_connections = 16384;
  int64_t max_connections_per_address = 1024;
  int64_t header_timeout_seconds = 10;
  int64_t idle_timeout_seconds = 5;
  // HTTPS: a private CA made in the data dir (auto), or the operator's certificate and key.
  bool tls_auto = false;
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  bool insecure_http = false;  // plain HTTP on a non-loopback address, knowingly
  log::Settings logging;
};

// `tmirror agent`: the options of agent::Agent.
struct AgentCommand {
  agent::AgentOptions options;
  log::Settings logging;
};

// `tmirror collect`: the receive side (see collector/collector.h) plus its control surfaces.
struct CollectOptions {
  collector::CollectorOptions collector;
  std::optional<std::pair<std::string, uint16_t>> metrics_listen;  // /metrics and /counters
  // Register with this server (agent channel) and report health; several: replicas on one
  // database, the next used when one fails.
  std::vector<std::string> server_urls;
  std::string token;        // the agent token for --server
  http::ServerTrust trust;  // how --server's certificate is checked
  int64_t health_interval_seconds = 10;
  std::string load_balancer_arn;  // register as a member of this network load balancer
  // With --server: where the collector keeps its identity (identity.json), as an agent does.
  std::filesystem::path state_dir = "/var/lib/tmirror/collector";
  log::Settings logging;
};

struct VersionCommand {};

// --help output, or a usage error's text; printed by main.
struct HelpText {
  std::string text;
  bool is_error = false;
  int exit_code = 2;  // for errors; the API verbs use aws's codes (252, 255)
};

// ApiCall: `tmirror <aws ec2 verb> ...` (see cli/aws/api_verbs.h).
using Command = std::variant<VersionCommand, MirrorPcapOptions, ServerOptions, HelpText, ApiCall,
                             AgentCommand, UpOptions, CollectOptions, ExplainOptions>;

// "127.0.0.1:8900", "[::1]:8900" or "0.0.0.0:8900"; nullopt when malformed.
std::optional<std::pair<std::string, uint16_t>> parseListenAddress(const std::string& text);

// args[0] is the program name. Invalid usage is returned as HelpText{is_error = true}.
Command parseCommandLine(std::span<const char* const> args);

}  // namespace tmirror::cli
