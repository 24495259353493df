// `tmirror server`: the EC2 traffic-mirroring API on SQLite, over HTTP.
#pragma once

#include "cli/command_line.h"

namespace tmirror::cli {

// Creates an access key in the data directory and prints it as JSON; returns the exit code.
int createAccessKey(const ServerOptions& options);

// Serves until SIGINT/SIGTERM; returns the exit code.
// `tmirror server migrate`: the SQLite store of data_dir copied into the empty PostgreSQL
// database of database_url, read back and compared kind by kind; prints rows per table.
int migrateStore(const ServerOptions& options);

int runServer(const ServerOptions& options);

}  // namespace tmirror::cli
