// `loxcan discover`: print the Miniservers that answer on the LAN.
#include <getopt.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sysexits.h>

#include <cstdio>
#include <string>

#include "gateway/cli/commands.hpp"
#include "gateway/cli/options.hpp"
#include "gateway/lan/discover.hpp"

namespace loxcan::cli {
namespace {

using namespace loxcan::lan;

void usage(std::FILE* out, const char* argv0) {
  std::fprintf(
      out,
      "usage: %s [--json] [--timeout S] [--interface IFACE|ADDR] [--no-udp] [--no-ssdp] [-v]\n"
      "\n"
      "Finds Loxone Miniservers on the local network: broadcasts the UDP probe (port 7070,\n"
      "answers on 7071) and an SSDP M-SEARCH (reading each Miniserver's upnp.xml), merges\n"
      "the answers by serial and prints one line per Miniserver (or a JSON list).\n"
      "\n"
      "  --json                   print a JSON array (the daemon's bridge/miniservers payload)\n"
      "  --timeout S              seconds to listen (default 3; fractions allowed), and the\n"
      "                           limit for reading each upnp.xml\n"
      "  --interface, --bind X    only this interface, by name (eth0) or IPv4 address\n"
      "  --no-udp, --no-ssdp      skip one of the two methods\n"
      "  -v, --verbose            log every packet (logger \"disc\")\n"
      "\n"
      "exit: 0 found at least one, 1 none answered, 64 bad arguments, 69 cannot discover\n"
      "(no such interface, UDP 7071 in use with SSDP disabled, ...)\n",
      argv0);
}

void print_table(const std::vector<Miniserver>& list) {
  std::printf("%-12s  %-21s  %-11s  %-8s  %s\n", "SERIAL", "ADDRESS", "FIRMWARE", "FOUND BY",
              "NAME");
  for (const auto& ms : list) {
    const std::string addr = ms.address + (ms.port ? ":" + std::to_string(ms.port) : "");
    const std::string by = std::string(ms.via_udp ? "udp" : "") +
                           (ms.via_udp && ms.via_ssdp ? "," : "") + (ms.via_ssdp ? "ssdp" : "");
    std::printf("%-12s  %-21s  %-11s  %-8s  %s\n", ms.serial.empty() ? "?" : ms.serial.c_str(),
                addr.c_str(), ms.firmware.empty() ? "?" : ms.firmware.c_str(), by.c_str(),
                ms.name.c_str());
  }
}

void setup_logger(bool verbose) {
  auto l = spdlog::get("disc");
  if (!l) l = spdlog::stderr_color_mt("disc");
  l->set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
  l->set_pattern("%n: %l: %v");
}

}  // namespace

int run_discover(int argc, char** argv) {
  static const option kLong[] = {{"json", no_argument, nullptr, 'j'},
                                 {"timeout", required_argument, nullptr, 't'},
                                 {"interface", required_argument, nullptr, 'i'},
                                 {"bind", required_argument, nullptr, 'i'},
                                 {"no-ssdp", no_argument, nullptr, 'S'},
                                 {"no-udp", no_argument, nullptr, 'U'},
                                 {"verbose", no_argument, nullptr, 'v'},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  DiscoveryOptions opts;
  bool json = false, verbose = false;
  int c;
  while ((c = getopt_long(argc, argv, "vh", kLong, nullptr)) != -1) {
    switch (c) {
      case 'j': json = true; break;
      case 'i': opts.interface = optarg; break;
      case 'S': opts.ssdp = false; break;
      case 'U': opts.udp = false; break;
      case 'v': verbose = true; break;
      case 't':
        if (!take_timeout_option(argv[0], optarg, opts.timeout)) return EX_USAGE;
        break;
      case 'h': usage(stdout, argv[0]); return 0;
      default: usage(stderr, argv[0]); return EX_USAGE;
    }
  }
  if (optind != argc) {
    std::fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
    return EX_USAGE;
  }
  if (!opts.udp && !opts.ssdp) {
    std::fprintf(stderr, "%s: --no-udp and --no-ssdp leave nothing to do\n", argv[0]);
    return EX_USAGE;
  }
  opts.http_timeout = opts.timeout;  // a slow Miniserver gets as long as the listening time
  opts.describe = fetch_upnp_description;
  setup_logger(verbose);
  auto r = discover(opts);
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", argv[0], r.error().c_str());
    return EX_UNAVAILABLE;
  }
  if (json)
    std::printf("%s\n", miniservers_json(*r).c_str());
  else if (!r->empty())
    print_table(*r);
  if (r->empty()) {
    std::fprintf(stderr, "%s: no Miniserver answered within %.1f s\n", argv[0],
                 static_cast<double>(opts.timeout.count()) / 1000.0);
    return 1;
  }
  return 0;
}

}  // namespace loxcan::cli
