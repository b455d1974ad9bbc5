#include "gateway/wiring/options_map.hpp"

#include <tuple>

namespace loxcan::wiring {

mqtt::MqttOptions mqtt_options(const config::MqttConfig& c) {
  mqtt::MqttOptions o;
  o.broker = c.broker;
  o.client_id = c.client_id;
  o.username = c.username;
  o.password = c.password;
  o.password_file = c.password_file;
  o.tls = {c.tls.ca_file, c.tls.cert_file, c.tls.key_file, c.tls.insecure};
  o.protocol = c.protocol == config::MqttProtocol::v5 ? mqtt::ProtocolVersion::v5
                                                      : mqtt::ProtocolVersion::v311;
  o.base_topic = c.base_topic;
  o.json_state = c.json_state;
  o.raw = {c.raw_rx, c.raw_tx, c.raw_unknown};
  o.homeassistant = {c.homeassistant_enabled, c.homeassistant_prefix};
  o.rate_limit.per_second = c.rate_limit;  // 0 = unlimited in both
  o.offline_buffer = c.offline_buffer;
  o.stats_interval_s = static_cast<int>(c.stats_interval_s);  // 0 = off in both
  return o;
}

bool same_mqtt(const config::MqttConfig& a, const config::MqttConfig& b) {
  auto key = [](const config::MqttConfig& c) {
    return std::tie(c.enabled, c.broker, c.client_id, c.username, c.password, c.password_file,
                    c.tls.ca_file, c.tls.cert_file, c.tls.key_file, c.tls.insecure, c.protocol,
                    c.base_topic, c.json_state, c.raw_rx, c.raw_tx, c.raw_unknown,
                    c.homeassistant_enabled, c.homeassistant_prefix, c.rate_limit, c.offline_buffer,
                    c.stats_interval_s, c.loxberry);
  };
  return key(a) == key(b);
}

LogLevels log_levels(const config::LoggingConfig& c, int verbosity) {
  LogLevels levels;
  parse_level(c.level, levels.base);
  for (const auto& [name, text] : c.levels) {
    spdlog::level::level_enum level;
    if (parse_level(text, level)) levels.per_subsystem[name] = level;
  }
  if (verbosity > 0) {
    levels.base = verbosity > 1 ? spdlog::level::trace : spdlog::level::debug;
    levels.per_subsystem.clear();
  }
  return levels;
}

}  // namespace loxcan::wiring
