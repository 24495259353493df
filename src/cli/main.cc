// tmirror: one binary, subcommands. main only parses the command line and dispatches.
#include <cstdio>
#include <variant>

#include "cli/agent_command.h"
#include "cli/aws/api_verbs.h"
#include "cli/collect_command.h"
#include "cli/command_line.h"
#include "cli/explain_command.h"
#include "cli/mirror_pcap.h"
#include "cli/server_command.h"
#include "cli/up_command.h"

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace tmirror::cli;
  const Command command = parseCommandLine(std::span<const char* const>(argv, argc));
  return std::visit(Overloaded{
                        [](const VersionCommand&) {
                          std::printf("tmirror %s\n", TMIRROR_VERSION);
                          return 0;
                        },
                        [](const HelpText& help) {
                          std::fputs(help.text.c_str(), help.is_error ? stderr : stdout);
                          return help.is_error ? help.exit_code : 0;
                        },
                        [](const ApiCall& call) { return runApiVerb(call); },
                        [](const ServerOptions& options) {
                          tmirror::log::configure(options.logging);
                          return runServer(options);
                        },
                        [](const AgentCommand& agent) {
                          tmirror::log::configure(agent.logging);
                          return runAgent(agent);
                        },
                        [](const UpOptions& up) { return runUp(up); },
                        [](const ExplainOptions& options) { return runExplain(options); },
                        [](const CollectOptions& options) {
                          tmirror::log::configure(options.logging);
                          return runCollect(options);
                        },
                        [](const MirrorPcapOptions& options) {
                          auto report = runMirrorPcap(options);
                          if (!report) {
                            std::fprintf(stderr, "tmirror mirror-pcap: %s\n",
                                         report.error().message.c_str());
                            return 1;
                          }
                          if (!options.quiet) {
                            std::printf("%s\n", report->json.c_str());
                          }
                          return 0;
                        },
                    },
                    command);
}
