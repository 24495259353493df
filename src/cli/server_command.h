// `tmirror server`: the EC2 traffic-mirroring API on SQLite, over HTTP.
#pragma once

#include "cli/command_line.h"

namespace tmirror::cli {

// Creates an access key in the data directory and prints it as JSON; returns the exit code.
int createAccessKey(const ServerOptions& options);

// Serves until SIGINT/SIGTERM; returns the exit code.
int runServer(const ServerOptions& options);

}  // namespace tmirror::cli
