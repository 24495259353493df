// `tmirror collect`: receive VXLAN mirror traffic and write it out (see collector/collector.h).
#pragma once

#include "cli/command_line.h"

namespace tmirror::cli {

// Runs until SIGINT/SIGTERM (or the stdout reader goes away); returns the exit code.
int runCollect(const CollectOptions& options);

}  // namespace tmirror::cli
