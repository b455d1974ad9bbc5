// `loxcan loxone-template`: Loxone Config templates for the devices of a loxcan.yaml, for the
// LoxBerry MQTT Gateway route (see mqtt/loxone_template.hpp for what each kind holds).
#include <getopt.h>
#include <sysexits.h>

#include <charconv>
#include <cstdio>
#include <string>

#include "devices/registry.hpp"
#include "gateway/cli/commands.hpp"
#include "gateway/cli/config_devices.hpp"
#include "gateway/cli/options.hpp"
#include "gateway/config/config.hpp"
#include "mqtt/bridge.hpp"
#include "mqtt/bus_metrics.hpp"
#include "mqtt/loxberry.hpp"
#include "mqtt/loxone_template.hpp"

namespace loxcan::cli {
namespace {

void usage(std::FILE* out, const char* argv0) {
  std::fprintf(
      out,
      "usage: %s [--config FILE] --kind udp-in|http-in|out [--loxberry HOST] [--port N]\n"
      "       [--title TEXT] [--output FILE]\n\n"
      "Writes a Loxone Config template for the devices in FILE (default %s), for values\n"
      "that travel through LoxBerry's MQTT Gateway:\n"
      "  udp-in   Virtual UDP Input, one command per published value (XML; import it in\n"
      "           Loxone Config). --loxberry: sender address filter; --port: the gateway's\n"
      "           UDP port to the Miniserver (default 11883)\n"
      "  http-in  the Virtual Input names the gateway's HTTP route sets (text list)\n"
      "  out      Virtual Output, one command per writable channel sending\n"
      "           `publish <topic>/set <v>` to /dev/udp/HOST/PORT (default loxberry, 11884)\n"
      "Exit status: 0 ok, 64 bad arguments, 74 cannot write, 78 bad configuration.\n",
      argv0, config::kDefaultPath);
}

bool parse_kind(const std::string& s, mqtt::TemplateKind& kind) {
  if (s == "udp-in")
    kind = mqtt::TemplateKind::udp_in;
  else if (s == "http-in")
    kind = mqtt::TemplateKind::http_in;
  else if (s == "out")
    kind = mqtt::TemplateKind::out;
  else
    return false;
  return true;
}

bool parse_port(const char* s, int& port) {
  const std::string_view v(s);
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
  return ec == std::errc{} && end == v.data() + v.size() && port >= 1 && port <= 65535;
}

}  // namespace

int run_loxone_template(int argc, char** argv) {
  static const option kOptions[] = {
      {"config", required_argument, nullptr, 'c'},   {"kind", required_argument, nullptr, 'k'},
      {"loxberry", required_argument, nullptr, 'l'}, {"port", required_argument, nullptr, 'p'},
      {"title", required_argument, nullptr, 't'},    {"output", required_argument, nullptr, 'o'},
      {"help", no_argument, nullptr, 'h'},           {nullptr, 0, nullptr, 0}};
  std::string path = config::kDefaultPath, output;
  mqtt::TemplateOptions opts;
  bool have_kind = false;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "c:k:l:p:t:o:h", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'c': path = optarg; break;
      case 'k':
        if (!parse_kind(optarg, opts.kind)) {
          std::fprintf(stderr,
                       "loxcan loxone-template: --kind '%s': expected udp-in, http-in or out\n",
                       optarg);
          return EX_USAGE;
        }
        have_kind = true;
        break;
      case 'l': opts.loxberry = optarg; break;
      case 'p':
        if (!parse_port(optarg, opts.port)) {
          std::fprintf(stderr, "loxcan loxone-template: --port '%s': expected 1..65535\n", optarg);
          return EX_USAGE;
        }
        break;
      case 't': opts.title = optarg; break;
      case 'o': output = optarg; break;
      case 'h': usage(stdout, argv[0]); return 0;
      default: usage(stderr, argv[0]); return EX_USAGE;
    }
  }
  if (optind != argc || !have_kind) {
    usage(stderr, argv[0]);
    return EX_USAGE;
  }
  const auto registry = devices::Registry::builtin();  // cfg.devices point into it
  const auto loaded = load_config_or_report(path, registry);
  if (!loaded) return EX_CONFIG;
  const config::Config& cfg = *loaded;
  const mqtt::TopicScheme topics(cfg.mqtt.base_topic);
  const auto metrics = mqtt::MqttBridge::metric_names_for(mqtt::bus_metric_names());
  const std::string text = mqtt::loxone_template(opts, topics, bridge_devices(cfg), metrics);
  return write_text_output(output, text);
}

}  // namespace loxcan::cli
