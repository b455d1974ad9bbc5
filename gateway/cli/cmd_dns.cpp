// `loxcan dns SERIAL`: where the Loxone Cloud DNS sends visitors of a Miniserver.
#include <getopt.h>
#include <sysexits.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "gateway/cli/commands.hpp"
#include "gateway/cli/options.hpp"
#include "gateway/lan/cloud_dns.hpp"

namespace loxcan::cli {
namespace {

using Json = nlohmann::ordered_json;  // keys in the documented order

using namespace loxcan::lan;

void usage(std::FILE* out, const char* argv0) {
  std::fprintf(
      out,
      "usage: %s SERIAL [--base-url URL] [--json] [--timeout S]\n"
      "\n"
      "Asks the Loxone Cloud DNS where Miniserver SERIAL (12 hex digits) is reachable from\n"
      "the internet: reads the redirect of <base-url>/<SERIAL> without following it and\n"
      "prints the external address, port and whether it is HTTPS.\n"
      "\n"
      "  --base-url URL   Cloud DNS to ask (default %s)\n"
      "  --json           print a JSON object (errors too, as {\"error\":...})\n"
      "  --timeout S      seconds to wait for the answer (default 5)\n"
      "\n"
      "exit: 0 resolved, 64 bad arguments or invalid SERIAL, 68 unknown serial,\n"
      "69 Cloud DNS unreachable, 75 timeout, 76 bad reply\n",
      argv0, kCloudDnsBaseUrl);
}

int exit_code(CloudDnsErrorKind k) {
  switch (k) {
    case CloudDnsErrorKind::kInvalidSerial: return EX_USAGE;
    case CloudDnsErrorKind::kUnknownSerial: return EX_NOHOST;
    case CloudDnsErrorKind::kTimeout: return EX_TEMPFAIL;
    case CloudDnsErrorKind::kUnreachable: return EX_UNAVAILABLE;
    case CloudDnsErrorKind::kBadReply: return EX_PROTOCOL;
  }
  return EX_SOFTWARE;
}

const char* error_name(CloudDnsErrorKind k) {
  switch (k) {
    case CloudDnsErrorKind::kInvalidSerial: return "invalid_serial";
    case CloudDnsErrorKind::kUnknownSerial: return "unknown_serial";
    case CloudDnsErrorKind::kTimeout: return "timeout";
    case CloudDnsErrorKind::kUnreachable: return "unreachable";
    case CloudDnsErrorKind::kBadReply: return "bad_reply";
  }
  return "error";
}

void print_answer(const CloudDnsAnswer& a) {
  std::printf("serial:  %s\n", a.serial.c_str());
  if (a.host != a.address) std::printf("host:    %s\n", a.host.c_str());
  std::printf("address: %s\n", a.address.empty() ? "?" : a.address.c_str());
  std::printf("port:    %u\n", static_cast<unsigned>(a.port));
  std::printf("https:   %s\n", a.https ? "yes" : "no");
  std::printf("url:     %s\n", a.location.c_str());
}

}  // namespace

int run_dns(int argc, char** argv) {
  static const option kLong[] = {{"base-url", required_argument, nullptr, 'b'},
                                 {"json", no_argument, nullptr, 'j'},
                                 {"timeout", required_argument, nullptr, 't'},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  std::string base = kCloudDnsBaseUrl;
  std::chrono::milliseconds timeout{5000};
  bool json = false;
  int c;
  while ((c = getopt_long(argc, argv, "h", kLong, nullptr)) != -1) {
    switch (c) {
      case 'b': base = optarg; break;
      case 'j': json = true; break;
      case 't':
        if (!take_timeout_option(argv[0], optarg, timeout)) return EX_USAGE;
        break;
      case 'h': usage(stdout, argv[0]); return 0;
      default: usage(stderr, argv[0]); return EX_USAGE;
    }
  }
  if (argc - optind != 1) {
    std::fprintf(stderr, "%s: expects exactly one SERIAL (12 hex digits, e.g. 504F11223344)\n",
                 argv[0]);
    return EX_USAGE;
  }
  auto r = cloud_dns_resolve(argv[optind], base, timeout);
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", argv[0], r.error().message.c_str());
    if (json) {
      const Json j = {{"serial", argv[optind]},
                      {"error", error_name(r.error().kind)},
                      {"message", r.error().message}};
      std::printf("%s\n", j.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
    }
    return exit_code(r.error().kind);
  }
  if (json)
    std::printf("%s\n", cloud_dns_json(*r).c_str());
  else
    print_answer(*r);
  return 0;
}

}  // namespace loxcan::cli
