// `tmirror up`: the whole of tmirror on one host in one command - the server (SQLite in a data
// directory), an agent for this host's interfaces and a local collector - each a child
// process of the same binary, supervised and restarted if it dies. Prints where the console,
// the API and the captures are, and the access key.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tmirror::cli {

struct UpOptions {
  std::filesystem::path data_dir = "tmirror-data";
  std::string listen = "127.0.0.1:8900";          // the server (API, console, agent channel)
  std::string collector_listen = "0.0.0.0:4789";  // where mirror copies arrive
  std::string agent_metrics = "127.0.0.1:8901";
  std::string collector_metrics = "127.0.0.1:8902";
  std::vector<std::string> interfaces;  // the agent's; empty: all
  bool no_agent = false;
  bool no_collector = false;
  // Build a namespace lab (client, web server with the agent, collector host), create a
  // web-not-SSH session through the API and run traffic, so that everything moves at once.
  bool demo = false;
  // Given to the server, agent and collector as --log-level and --log-format.
  std::string log_level = "info";
  std::string log_format = "text";
};

// Runs until SIGINT/SIGTERM; returns the exit code.
int runUp(const UpOptions& options);

}  // namespace tmirror::cli
