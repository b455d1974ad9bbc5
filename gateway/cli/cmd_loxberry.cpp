// `loxcan loxberry-subscriptions`: what LoxBerry's MQTT Gateway needs for the devices of a
// loxcan.yaml: V1 `mqtt_subscriptions.cfg` lines, the V2 topic list or subscriptions.json, or the
// `mqtt_conversions.cfg` that makes availability numeric. Never `<base>/#`.
#include <getopt.h>
#include <sysexits.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "devices/registry.hpp"
#include "gateway/cli/commands.hpp"
#include "gateway/cli/config_devices.hpp"
#include "gateway/cli/options.hpp"
#include "gateway/config/config.hpp"
#include "gateway/wiring/channel_map.hpp"
#include "mqtt/bridge.hpp"
#include "mqtt/bus_metrics.hpp"
#include "mqtt/loxberry.hpp"

namespace loxcan::cli {

std::optional<config::Config> load_config_or_report(const std::string& path,
                                                    const devices::Registry& registry) {
  try {
    return config::load_file(path, registry);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return std::nullopt;
  }
}

std::vector<mqtt::BridgeDevice> bridge_devices(const config::Config& cfg) {
  std::vector<mqtt::BridgeDevice> out;
  for (const auto& d : cfg.devices) {
    mqtt::BridgeDevice b;
    b.info.serial = d.serial;
    b.info.name = d.name;
    b.info.model = d.model ? d.model->name : "unknown";
    b.info.firmware = d.firmware.value_or(0);
    b.emulated = d.mode == config::DeviceMode::emulate;
    // The same channel view the daemon publishes (names, units, publish flags, writability).
    b.channels = wiring::ChannelMap(d.model, &d).bridge_channels(b.emulated);
    out.push_back(std::move(b));
  }
  return out;
}

namespace {

void usage(std::FILE* out, const char* argv0) {
  std::fprintf(out,
               "usage: %s [--config FILE] [--format v1|v2|v2-json|conversions] [--output FILE]\n\n"
               "Prints the LoxBerry MQTT Gateway configuration for the devices in FILE\n"
               "(default %s):\n"
               "  v1           mqtt_subscriptions.cfg lines (gateway V1, the default)\n"
               "  v2           the exact topics to tick in the V2 subscription page, one per line\n"
               "  v2-json      the same as a V2 subscriptions.json document\n"
               "  conversions  mqtt_conversions.cfg (online=1, offline=0)\n"
               "--output writes FILE atomically instead of printing (V1 re-reads it within ~5 s).\n"
               "Exit status: 0 ok, 64 bad arguments, 74 cannot write, 78 bad configuration.\n",
               argv0, config::kDefaultPath);
}

std::string render(const std::string& format, const config::Config& cfg) {
  const mqtt::TopicScheme topics(cfg.mqtt.base_topic);
  const auto devices = bridge_devices(cfg);
  const auto metrics = mqtt::MqttBridge::metric_names_for(mqtt::bus_metric_names());
  if (format == "v1") return mqtt::loxberry_v1_subscriptions(topics, devices);
  if (format == "v2-json")
    return mqtt::loxberry_v2_subscriptions_json(topics, devices, metrics) + "\n";
  if (format == "conversions") return mqtt::loxberry_conversions();
  std::string text;
  for (const auto& t : mqtt::loxberry_v2_topics(topics, devices, metrics)) text += t + "\n";
  return text;
}

}  // namespace

int run_loxberry_subscriptions(int argc, char** argv) {
  static const option kOptions[] = {{"config", required_argument, nullptr, 'c'},
                                    {"format", required_argument, nullptr, 'f'},
                                    {"output", required_argument, nullptr, 'o'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  std::string path = config::kDefaultPath, format = "v1", output;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "c:f:o:h", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'c': path = optarg; break;
      case 'f': format = optarg; break;
      case 'o': output = optarg; break;
      case 'h': usage(stdout, argv[0]); return 0;
      default: usage(stderr, argv[0]); return EX_USAGE;
    }
  }
  if (optind != argc ||
      (format != "v1" && format != "v2" && format != "v2-json" && format != "conversions")) {
    usage(stderr, argv[0]);
    return EX_USAGE;
  }
  const auto registry = devices::Registry::builtin();  // cfg.devices point into it
  const auto loaded = load_config_or_report(path, registry);
  if (!loaded) return EX_CONFIG;
  const config::Config& cfg = *loaded;
  return write_text_output(output, render(format, cfg));
}

}  // namespace loxcan::cli
