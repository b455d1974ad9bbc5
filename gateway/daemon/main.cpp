// loxcan-gateway: the daemon. Parses the command line, loads the configuration (exit 78 on any
// error, so systemd does not restart-loop), and runs the Gateway composition root.
#include <getopt.h>
#include <sysexits.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include "devices/registry.hpp"
#include "gateway/config/config.hpp"
#include "gateway/daemon/gateway.hpp"
#include "gateway/version.hpp"

namespace {

constexpr const char* kUsage =
    "usage: loxcan-gateway [--config FILE] [--check-config] [--foreground] [-v]...\n"
    "\n"
    "  -c, --config FILE   the YAML device map (default /etc/loxcan/loxcan.yaml)\n"
    "      --check-config  validate the configuration, print every error, exit 0 or 78\n"
    "  -f, --foreground    accepted for compatibility: the daemon never forks\n"
    "  -v, --verbose       debug logging (frame hex dumps); twice for trace\n"
    "  -h, --help          this text\n"
    "      --version       print the version\n"
    "\n"
    "Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT stop cleanly.\n"
    "Exit codes: 0 clean stop, 64 bad arguments, 78 missing or invalid configuration.\n";

struct Args {
  std::string config = loxcan::config::kDefaultPath;
  bool check_only = false;
  int verbosity = 0;
};

// Returns -1 to go on, else the exit code.
int parse_args(int argc, char** argv, Args& args) {
  enum { kCheck = 1000, kVersion };
  static const option kOptions[] = {{"config", required_argument, nullptr, 'c'},
                                    {"check-config", no_argument, nullptr, kCheck},
                                    {"foreground", no_argument, nullptr, 'f'},
                                    {"verbose", no_argument, nullptr, 'v'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"version", no_argument, nullptr, kVersion},
                                    {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:fvh", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'c': args.config = optarg; break;
      case kCheck: args.check_only = true; break;
      case 'f': break;
      case 'v': ++args.verbosity; break;
      case 'h': std::fputs(kUsage, stdout); return 0;
      case kVersion: std::printf("loxcan-gateway %s\n", loxcan::version()); return 0;
      default: std::fputs(kUsage, stderr); return EX_USAGE;
    }
  }
  if (optind != argc) {
    std::fprintf(stderr, "loxcan-gateway: unexpected argument '%s'\n%s", argv[optind], kUsage);
    return EX_USAGE;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (int rc = parse_args(argc, argv, args); rc >= 0) return rc;
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error code, not a dead daemon
  const auto registry = loxcan::devices::Registry::builtin();
  if (args.check_only) return loxcan::config::check_config(args.config, registry, stdout, stderr);
  try {
    auto config = loxcan::config::load_file(args.config, registry);
    loxcan::daemon::Gateway gateway(std::move(config), registry, {args.verbosity});
    return gateway.run();
  } catch (const loxcan::config::ConfigError& e) {
    for (const auto& d : e.errors()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return EX_CONFIG;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loxcan-gateway: %s\n", e.what());
    return EX_SOFTWARE;
  }
}
