// `loxcan check-config [FILE]`: validate a loxcan.yaml; the daemon's --check-config calls the same
// config::check_config().
#include <getopt.h>
#include <sysexits.h>

#include <cstdio>
#include <string>

#include "devices/registry.hpp"
#include "gateway/cli/commands.hpp"
#include "gateway/config/config.hpp"

namespace loxcan::cli {
namespace {

void usage(std::FILE* out, const char* argv0) {
  std::fprintf(out,
               "usage: %s [FILE]\n\n"
               "Validates FILE (default %s) and prints every error found as\n"
               "FILE:LINE:COLUMN: key.path: what was expected.\n"
               "Exit status: 0 valid, 78 (EX_CONFIG) invalid or unreadable, 64 bad arguments.\n",
               argv0, config::kDefaultPath);
}

}  // namespace

int run_check_config(int argc, char** argv) {
  static const option kOptions[] = {{"help", no_argument, nullptr, 'h'}, {nullptr, 0, nullptr, 0}};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", kOptions, nullptr)) != -1) {
    if (c == 'h') {
      usage(stdout, argv[0]);
      return 0;
    }
    usage(stderr, argv[0]);
    return EX_USAGE;
  }
  if (argc - optind > 1) {
    usage(stderr, argv[0]);
    return EX_USAGE;
  }
  std::string path = optind < argc ? argv[optind] : config::kDefaultPath;
  const auto registry = devices::Registry::builtin();
  return config::check_config(path, registry, stdout, stderr);
}

}  // namespace loxcan::cli
