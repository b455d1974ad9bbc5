// loxcan: the command-line tool. Dispatches to one verb; see commands.hpp for the contract.
#include <sysexits.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "gateway/cli/commands.hpp"
#include "gateway/version.hpp"

namespace loxcan::cli {
namespace {

// The explicit verb table (no self-registration): add a verb here and in commands.hpp.
constexpr CommandInfo kCommands[] = {
    {"decode", run_decode, "decode a candump log or a live bus into Loxone messages"},
    {"record", run_record, "record live CAN interfaces into a candump log"},
    {"replay", run_replay, "send a candump log with its original timing (or faster)"},
    {"discover", run_discover, "find Miniservers on the LAN (UDP probe and SSDP)"},
    {"dns", run_dns, "resolve a Miniserver serial through the Loxone Cloud DNS"},
    {"check-config", run_check_config, "validate a loxcan.yaml and print every error found"},
    {"devices", run_devices, "the devices on the bus at the end of a capture (or --models)"},
    {"sim", run_sim, "a simulated Miniserver on a bus (NATs, auth, configs, outputs, scenarios)"},
    {"emulate", run_emulate, "run the emulated devices of a device map on a bus"},
    {"loxberry-subscriptions", run_loxberry_subscriptions,
     "LoxBerry MQTT Gateway subscriptions for the configured devices"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: loxcan <command> [options]   (loxcan <command> --help for details)\n\n");
  std::fprintf(out, "commands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-24s %s\n", c.name, c.summary);
  std::fprintf(out, "\n  --version                print the version\n");
}

}  // namespace
}  // namespace loxcan::cli

int main(int argc, char** argv) {
  using namespace loxcan::cli;
  if (argc < 2) {
    print_usage(stderr);
    return EX_USAGE;
  }
  const std::string verb = argv[1];
  if (verb == "-h" || verb == "--help" || verb == "help") {
    print_usage(stdout);
    return 0;
  }
  if (verb == "--version") {
    std::printf("loxcan %s\n", loxcan::version());
    return 0;
  }
  for (const auto& c : kCommands) {
    if (verb == c.name) {
      std::string name = std::string("loxcan ") + c.name;
      argv[1] = name.data();  // getopt and usage texts then say "loxcan decode"
      return c.run(argc - 1, argv + 1);
    }
  }
  std::fprintf(stderr, "loxcan: unknown command '%s'\n\n", verb.c_str());
  print_usage(stderr);
  return EX_USAGE;
}
