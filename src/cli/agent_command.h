// `tmirror agent`: runs agent::Agent until SIGINT/SIGTERM.
#pragma once

#include "cli/command_line.h"

namespace tmirror::cli {

// Returns the exit code.
int runAgent(const AgentCommand& command);

}  // namespace tmirror::cli
