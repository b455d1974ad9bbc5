#include "gateway/config/config.hpp"

#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "devices/serial.hpp"
#include "gateway/config/yaml_opener.hpp"
#include "gateway/config/yaml_reader.hpp"
#include "mqtt/options.hpp"
#include "mqtt/topics.hpp"

namespace loxcan::config {
namespace {

using detail::accepted_unclosed_quote;
using detail::find_unclosed;
using detail::unclosed_kind;
using detail::YamlReader;
using devices::Generation;

std::string join(const std::vector<Diagnostic>& d) {
  std::string s;
  for (const auto& e : d) s += e.to_string() + "\n";
  if (!s.empty()) s.pop_back();
  return s;
}

std::string indexed(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Safe in an MQTT topic level and a Home Assistant object id.
bool topic_safe(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}
constexpr const char* kTopicSafe = "expected 1..64 letters, digits, '_' or '-'";

std::optional<std::uint32_t> parse_serial(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A serial at `key` of `map`: 8 hex digits.
std::optional<std::uint32_t> read_serial(YamlReader& r, const YAML::Node& map, std::string_view key,
                                         const std::string& path) {
  YAML::Node n = YamlReader::get(map, key);
  if (!n.IsDefined()) return std::nullopt;
  std::string s;
  if (!r.scalar(n, path, "expected 8 hex digits", s)) return std::nullopt;
  auto v = parse_serial(s);
  if (!v) r.error(n, path, "expected 8 hex digits, got " + YamlReader::describe(n));
  return v;
}

// ---- interfaces --------------------------------------------------------------------------------

InterfaceConfig read_interface(YamlReader& r, const YAML::Node& n, const std::string& path) {
  InterfaceConfig c;
  c.mark = YamlReader::mark_of(n);
  if (!r.check_map(n, path,
                   {"name", "role", "configure", "bitrate", "restart_ms", "rcvbuf", "tx_queue"})) {
    return c;
  }
  YAML::Node name = YamlReader::get(n, "name");
  if (!name.IsDefined()) {
    r.error(n, path + ".name", "missing (expected an interface name such as can0)");
  } else if (r.scalar(name, path + ".name", "expected an interface name", c.name) &&
             (c.name.empty() || c.name.size() > 15 ||
              c.name.find_first_of("/ \t:") != std::string::npos)) {
    r.error(name, path + ".name",
            "expected an interface name of 1..15 characters, got " + YamlReader::describe(name));
  }
  if (!YamlReader::get(n, "role").IsDefined()) {
    r.error(n, path + ".role", "missing (expected one of link, tree-left, tree-right)");
  }
  r.read_enum(n, "role", path + ".role", c.role,
              {{"link", InterfaceRole::link},
               {"tree-left", InterfaceRole::tree_left},
               {"tree-right", InterfaceRole::tree_right}});
  c.bitrate = c.role == InterfaceRole::link ? 125000 : 50000;
  r.read(n, "configure", path + ".configure", c.configure);
  r.read(n, "bitrate", path + ".bitrate", c.bitrate, 10000, 1000000);
  r.read(n, "restart_ms", path + ".restart_ms", c.restart_ms, 0, 60000);
  r.read(n, "rcvbuf", path + ".rcvbuf", c.rcvbuf, 0, 1u << 30);
  r.read(n, "tx_queue", path + ".tx_queue", c.tx_queue, 1, 65536);
  return c;
}

void read_interfaces(YamlReader& r, const YAML::Node& n, Config& cfg) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!n.IsSequence()) {
    r.error(n, "interfaces", "expected a list, got " + YamlReader::describe(n));
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    cfg.interfaces.push_back(read_interface(r, n[i], indexed("interfaces", i)));
  }
  for (std::size_t i = 0; i < cfg.interfaces.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (!cfg.interfaces[i].name.empty() && cfg.interfaces[i].name == cfg.interfaces[j].name) {
        r.error(cfg.interfaces[i].mark, indexed("interfaces", i) + ".name",
                "duplicate interface '" + cfg.interfaces[i].name + "' (first at line " +
                    std::to_string(cfg.interfaces[j].mark.line) + ")");
      }
    }
  }
}

// ---- devices -----------------------------------------------------------------------------------

void check_channel_fits(YamlReader& r, const YAML::Node& n, const std::string& path,
                        const devices::ModelChannel& mc) {
  using devices::ValueType;
  if (YamlReader::get(n, "invert").IsDefined() && mc.spec.type != ValueType::boolean) {
    r.error(YamlReader::get(n, "invert"), path + ".invert",
            "only boolean channels can be inverted ('" + mc.spec.name + "' is " +
                std::string(devices::to_string(mc.spec.type)) + ")");
  }
  for (const char* k : {"scale", "offset"}) {
    if (YamlReader::get(n, k).IsDefined() && mc.spec.type != ValueType::number) {
      r.error(YamlReader::get(n, k), path + "." + k,
              "only number channels can be scaled ('" + mc.spec.name + "' is " +
                  std::string(devices::to_string(mc.spec.type)) + ")");
    }
  }
  if (YamlReader::get(n, "debounce_ms").IsDefined() &&
      mc.spec.direction != devices::ChannelDirection::input) {
    r.error(YamlReader::get(n, "debounce_ms"), path + ".debounce_ms",
            "only inputs can be debounced ('" + mc.spec.name + "' is an output)");
  }
}

ChannelConfig read_channel(YamlReader& r, const YAML::Node& key, const YAML::Node& n,
                           const std::string& path, const devices::Model* model) {
  ChannelConfig c;
  c.channel = key.Scalar();
  c.mark = YamlReader::mark_of(key);
  const devices::ModelChannel* mc = model ? model->find(c.channel) : nullptr;
  if (model && !mc) {
    std::vector<std::string> names;
    for (const auto& ch : model->channels) names.push_back(ch.spec.name);
    std::string hint = detail::closest(c.channel, names);
    r.error(key, path,
            "model '" + model->name + "' has no channel '" + c.channel + "'" +
                (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  if (n.IsNull()) return c;  // `i1:` alone: nothing changed
  if (!r.check_map(n, path,
                   {"name", "unit", "invert", "scale", "offset", "publish", "debounce_ms"})) {
    return c;
  }
  if (YAML::Node name = YamlReader::get(n, "name"); name.IsDefined()) {
    std::string s;
    if (r.scalar(name, path + ".name", kTopicSafe, s)) {
      if (topic_safe(s)) {
        c.name = s;
      } else {
        r.error(name, path + ".name",
                std::string(kTopicSafe) + ", got " + YamlReader::describe(name));
      }
    }
  }
  if (YamlReader::get(n, "unit").IsDefined()) {
    std::string unit;
    r.read(n, "unit", path + ".unit", unit);
    c.unit = unit;
  }
  r.read(n, "invert", path + ".invert", c.invert);
  r.read(n, "scale", path + ".scale", c.scale, -1e9, 1e9);
  r.read(n, "offset", path + ".offset", c.offset, -1e9, 1e9);
  r.read(n, "publish", path + ".publish", c.publish);
  r.read(n, "debounce_ms", path + ".debounce_ms", c.debounce_ms, 0, 60000);
  if (mc) check_channel_fits(r, n, path, *mc);
  return c;
}

void read_channels(YamlReader& r, const YAML::Node& n, const std::string& path, DeviceConfig& d) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!r.check_free_map(n, path)) return;
  if (!d.model) {
    r.error(n, path, "needs the device's `type` to check channel names");
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    d.channels.push_back(
        read_channel(r, it->first, it->second, path + "." + it->first.Scalar(), d.model));
  }
  for (std::size_t i = 0; i < d.channels.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto& a = d.channels[i];
      const auto& b = d.channels[j];
      if (a.name && b.name && lower(*a.name) == lower(*b.name)) {
        r.error(a.mark, path + "." + a.channel + ".name",
                "duplicate channel name '" + *a.name + "' (also used by '" + b.channel + "')");
      }
    }
  }
}

void read_device_type(YamlReader& r, const YAML::Node& n, const std::string& path,
                      const devices::Registry& reg, DeviceConfig& d) {
  YAML::Node t = YamlReader::get(n, "type");
  if (!t.IsDefined()) return;
  std::string s;
  if (!r.scalar(t, path, "expected a device model name or a 0x type id", s)) return;
  d.model = reg.resolve(s);
  if (d.model) return;
  std::vector<std::string> names;
  for (const auto& m : reg.models()) names.push_back(m.name);
  std::string hint = detail::closest(lower(s), names);
  r.error(
      t, path,
      "unknown device type " + YamlReader::describe(t) +
          (hint.empty() ? " (see `loxcan devices --models`)" : " (did you mean '" + hint + "'?)"));
}

void read_device_firmware(YamlReader& r, const YAML::Node& n, const std::string& path,
                          std::optional<std::uint32_t>& out) {
  YAML::Node f = YamlReader::get(n, "firmware");
  if (!f.IsDefined()) return;
  std::string s;
  if (!r.scalar(f, path, "expected a version such as 10.3.11.8", s)) return;
  out = parse_version(s);
  if (!out) {
    r.error(f, path, "expected a version such as 10.3.11.8, got " + YamlReader::describe(f));
  }
}

DeviceConfig read_device(YamlReader& r, const YAML::Node& n, const std::string& path,
                         const devices::Registry& reg) {
  DeviceConfig d;
  d.mark = YamlReader::mark_of(n);
  if (!r.check_map(n, path,
                   {"serial", "type", "name", "mode", "interface", "parent", "branch", "auth",
                    "firmware", "channels"})) {
    return d;
  }
  if (!YamlReader::get(n, "serial").IsDefined()) {
    r.error(n, path + ".serial", "missing (expected 8 hex digits)");
  }
  if (auto s = read_serial(r, n, "serial", path + ".serial")) d.serial = *s;
  read_device_type(r, n, path + ".type", reg, d);
  if (YAML::Node name = YamlReader::get(n, "name"); name.IsDefined()) {
    if (r.scalar(name, path + ".name", kTopicSafe, d.name)) {
      d.name_given = topic_safe(d.name);
      if (!d.name_given) {
        r.error(name, path + ".name",
                std::string(kTopicSafe) + ", got " + YamlReader::describe(name));
      }
    }
  }
  r.read_enum(n, "mode", path + ".mode", d.mode,
              {{"monitor", DeviceMode::monitor}, {"emulate", DeviceMode::emulate}});
  r.read(n, "interface", path + ".interface", d.interface);
  d.parent = read_serial(r, n, "parent", path + ".parent");
  r.read_enum(n, "branch", path + ".branch", d.branch,
              {{"left", Branch::left}, {"right", Branch::right}});
  r.read_enum(n, "auth", path + ".auth", d.auth,
              {{"inherit", DeviceAuth::inherit},
               {"on", DeviceAuth::on},
               {"off", DeviceAuth::off},
               {"test", DeviceAuth::test}});
  read_device_firmware(r, n, path + ".firmware", d.firmware);
  read_channels(r, YamlReader::get(n, "channels"), path + ".channels", d);
  if (!d.name_given && d.model) {
    std::string serial = devices::serial_text(d.serial);
    d.name = d.model->name + "-" + lower(serial);
  }
  return d;
}

// Rules that involve one device's keys together.
void check_device_shape(YamlReader& r, const YAML::Node& n, const std::string& path,
                        const DeviceConfig& d, const Config& cfg) {
  const bool tree = d.model && d.model->generation == Generation::tree_device;
  if (d.model && !tree) {
    for (const char* k : {"parent", "branch"}) {
      if (YAML::Node v = YamlReader::get(n, k); v.IsDefined()) {
        r.error(
            v, path + "." + k,
            "only Tree devices have a " + std::string(k) + " ('" + d.model->name + "' is not one)");
      }
    }
  }
  if (d.mode != DeviceMode::emulate) {
    if (YAML::Node v = YamlReader::get(n, "interface"); v.IsDefined()) {
      r.error(v, path + ".interface", "only emulated devices (mode: emulate) take an interface");
    }
    return;
  }
  if (!d.model) {
    r.error(n, path + ".type", "missing (an emulated device needs its type)");
  } else if (!d.model->documented) {
    r.error(YamlReader::get(n, "type"), path + ".type",
            "cannot emulate '" + d.model->name + "': its messages are not documented");
  }
  if (tree) {
    if (!d.parent)
      r.error(n, path + ".parent", "missing (an emulated Tree device needs its Tree Extension)");
    if (d.branch == Branch::none) r.error(n, path + ".branch", "missing (expected left or right)");
    return;
  }
  YAML::Node iface = YamlReader::get(n, "interface");
  if (d.interface.empty()) {
    if (!iface.IsDefined())
      r.error(n, path + ".interface", "missing (an emulated device needs its interface)");
    return;
  }
  bool known = std::any_of(cfg.interfaces.begin(), cfg.interfaces.end(),
                           [&](const InterfaceConfig& i) { return i.name == d.interface; });
  if (!known) {
    r.error(iface, path + ".interface", "no interface '" + d.interface + "' in `interfaces`");
  }
}

// Rules across devices: duplicates and parent references.
void check_devices_together(YamlReader& r, const YAML::Node& list, Config& cfg) {
  for (std::size_t i = 0; i < cfg.devices.size(); ++i) {
    const DeviceConfig& a = cfg.devices[i];
    const YAML::Node n = list[i];
    for (std::size_t j = 0; j < i; ++j) {
      const DeviceConfig& b = cfg.devices[j];
      if (a.serial != 0 && a.serial == b.serial) {
        r.error(YamlReader::get(n, "serial"), indexed("devices", i) + ".serial",
                "duplicate serial " + devices::serial_text(a.serial) + " (first at line " +
                    std::to_string(b.mark.line) + ")");
      }
      // Two generated names clash only when the serials do, which is reported above.
      if ((a.name_given || b.name_given) && lower(a.name) == lower(b.name)) {
        r.error(
            YamlReader::get(n, "name").IsDefined() ? YamlReader::get(n, "name") : n,
            indexed("devices", i) + ".name",
            "duplicate name '" + a.name + "' (first at line " + std::to_string(b.mark.line) + ")");
      }
    }
    if (!a.parent) continue;
    const DeviceConfig* p = cfg.find_device(*a.parent);
    const YAML::Node pn = YamlReader::get(n, "parent");
    if (p && p->model && p->model->special != devices::Special::tree_extension) {
      r.error(pn, indexed("devices", i) + ".parent",
              "device " + devices::serial_text(*a.parent) + " is a '" + p->model->name +
                  "', not a tree_extension");
    } else if (!p && a.mode == DeviceMode::emulate) {
      r.error(pn, indexed("devices", i) + ".parent",
              "no Tree Extension " + devices::serial_text(*a.parent) + " in `devices`");
    } else if (p && a.mode == DeviceMode::emulate && p->mode != DeviceMode::emulate) {
      r.error(pn, indexed("devices", i) + ".parent",
              "Tree Extension " + devices::serial_text(*a.parent) +
                  " must be emulated too (mode: emulate)");
    }
  }
}

void read_devices(YamlReader& r, const YAML::Node& n, const devices::Registry& reg, Config& cfg) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!n.IsSequence()) {
    r.error(n, "devices", "expected a list, got " + YamlReader::describe(n));
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    cfg.devices.push_back(read_device(r, n[i], indexed("devices", i), reg));
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (n[i].IsMap()) check_device_shape(r, n[i], indexed("devices", i), cfg.devices[i], cfg);
  }
  check_devices_together(r, n, cfg);
}

// ---- mqtt --------------------------------------------------------------------------------------

// The MQTT client's own parser decides; the file additionally needs a scheme (the bare
// host[:port] form is what LoxBerry's general.json carries).
bool valid_broker(std::string_view url) {
  return url.find("://") != std::string_view::npos &&
         mqtt::broker_address(std::string(url)).has_value();
}

// A topic prefix (base topic, Home Assistant prefix): the MQTT library's own rule
// (mqtt::check_base_topic), so a map that passes --check-config is never refused at start.
void read_topic(YamlReader& r, const YAML::Node& map, std::string_view key, const std::string& path,
                std::string& out) {
  YAML::Node n = YamlReader::get(map, key);
  std::string s = out;
  r.read(map, key, path, s);
  if (!n.IsDefined() || !n.IsScalar()) return;
  if (const auto why = mqtt::check_base_topic(s); why.empty()) {
    out = s;
  } else {
    r.error(n, path, "expected a topic prefix, got " + YamlReader::describe(n) + ", which " + why);
  }
}

// An MQTT filter: no empty levels, '#' only as the last level; "" switches it off.
void read_status_filter(YamlReader& r, const YAML::Node& map, std::string& out) {
  const char* path = "mqtt.loxberry_gateway_status";
  YAML::Node n = YamlReader::get(map, "loxberry_gateway_status");
  std::string s = out;
  r.read(map, "loxberry_gateway_status", path, s);
  if (!n.IsDefined() || !n.IsScalar()) return;
  const auto hash = s.find('#');
  const bool ok =
      s.empty() || (s.find("//") == std::string::npos && s.front() != '/' && s.back() != '/' &&
                    (hash == std::string::npos || hash + 1 == s.size()));
  if (ok) {
    out = s;
  } else {
    r.error(n, path,
            "expected an MQTT topic filter such as +/mqttgateway/status, got " +
                YamlReader::describe(n));
  }
}

void read_mqtt_nested(YamlReader& r, const YAML::Node& n, MqttConfig& m) {
  if (YAML::Node tls = YamlReader::get(n, "tls"); tls.IsDefined() && !tls.IsNull()) {
    if (r.check_map(tls, "mqtt.tls", {"ca_file", "cert_file", "key_file", "insecure"})) {
      r.read(tls, "ca_file", "mqtt.tls.ca_file", m.tls.ca_file);
      r.read(tls, "cert_file", "mqtt.tls.cert_file", m.tls.cert_file);
      r.read(tls, "key_file", "mqtt.tls.key_file", m.tls.key_file);
      r.read(tls, "insecure", "mqtt.tls.insecure", m.tls.insecure);
      if (m.tls.cert_file.empty() != m.tls.key_file.empty()) {
        r.error(tls, "mqtt.tls", "cert_file and key_file go together (give both or neither)");
      }
    }
  }
  if (YAML::Node raw = YamlReader::get(n, "raw"); raw.IsDefined() && !raw.IsNull()) {
    if (r.check_map(raw, "mqtt.raw", {"rx", "tx", "unknown"})) {
      r.read(raw, "rx", "mqtt.raw.rx", m.raw_rx);
      r.read(raw, "tx", "mqtt.raw.tx", m.raw_tx);
      r.read(raw, "unknown", "mqtt.raw.unknown", m.raw_unknown);
    }
  }
  if (YAML::Node ha = YamlReader::get(n, "homeassistant"); ha.IsDefined() && !ha.IsNull()) {
    if (r.check_map(ha, "mqtt.homeassistant", {"enabled", "prefix", "mode"})) {
      r.read(ha, "enabled", "mqtt.homeassistant.enabled", m.homeassistant_enabled);
      read_topic(r, ha, "prefix", "mqtt.homeassistant.prefix", m.homeassistant_prefix);
      r.read_enum(ha, "mode", "mqtt.homeassistant.mode", m.homeassistant_mode,
                  {{"device", HaDiscoveryMode::device}, {"entity", HaDiscoveryMode::entity}});
    }
  }
}

void read_mqtt(YamlReader& r, const YAML::Node& n, MqttConfig& m) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!r.check_map(n, "mqtt",
                   {"enabled", "broker", "client_id", "username", "password", "password_file",
                    "tls", "protocol", "base_topic", "json_state", "raw", "homeassistant",
                    "rate_limit", "offline_buffer", "stats_interval_s", "loxberry",
                    "loxberry_gateway_status", "loxberry_config_dir"})) {
    return;
  }
  r.read(n, "enabled", "mqtt.enabled", m.enabled);
  if (YAML::Node b = YamlReader::get(n, "broker"); b.IsDefined()) {
    std::string s;
    if (r.scalar(b, "mqtt.broker", "expected a broker URL such as tcp://localhost:1883", s)) {
      if (valid_broker(s)) {
        m.broker = s;
      } else {
        r.error(b, "mqtt.broker",
                "expected a broker URL such as tcp://localhost:1883 (schemes tcp, ssl, mqtt, "
                "mqtts), got " +
                    YamlReader::describe(b));
      }
    }
  }
  r.read(n, "client_id", "mqtt.client_id", m.client_id);
  r.read(n, "username", "mqtt.username", m.username);
  r.read(n, "password", "mqtt.password", m.password);
  r.read(n, "password_file", "mqtt.password_file", m.password_file);
  if (!m.password.empty() && !m.password_file.empty()) {
    r.error(YamlReader::get(n, "password_file"), "mqtt.password_file",
            "give either password or password_file, not both");
  }
  r.read_enum(n, "protocol", "mqtt.protocol", m.protocol,
              {{"3.1.1", MqttProtocol::v311}, {"5", MqttProtocol::v5}});
  read_topic(r, n, "base_topic", "mqtt.base_topic", m.base_topic);
  r.read(n, "json_state", "mqtt.json_state", m.json_state);
  r.read(n, "rate_limit", "mqtt.rate_limit", m.rate_limit, 0, 1000);
  r.read(n, "offline_buffer", "mqtt.offline_buffer", m.offline_buffer, 0, 1000000);
  r.read(n, "stats_interval_s", "mqtt.stats_interval_s", m.stats_interval_s, 0, 86400);
  r.read_enum(n, "loxberry", "mqtt.loxberry", m.loxberry,
              {{"auto", Tristate::automatic}, {"on", Tristate::on}, {"off", Tristate::off}});
  read_status_filter(r, n, m.loxberry_gateway_status);
  r.read(n, "loxberry_config_dir", "mqtt.loxberry_config_dir", m.loxberry_config_dir);
  read_mqtt_nested(r, n, m);
}

// ---- emulation, discovery, logging -------------------------------------------------------------

void read_emulation(YamlReader& r, const YAML::Node& n, EmulationConfig& e) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!r.check_map(n, "emulation", {"auth", "keys_file", "state_file", "firmware"})) return;
  r.read_enum(
      n, "auth", "emulation.auth", e.auth,
      {{"on", EmulationAuth::on}, {"off", EmulationAuth::off}, {"test", EmulationAuth::test}});
  r.read(n, "keys_file", "emulation.keys_file", e.keys_file);
  r.read(n, "state_file", "emulation.state_file", e.state_file);
  std::optional<std::uint32_t> fw;
  read_device_firmware(r, n, "emulation.firmware", fw);
  if (fw) e.firmware = *fw;
}

void read_discovery(YamlReader& r, const YAML::Node& n, DiscoveryConfig& d) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!r.check_map(n, "discovery",
                   {"enabled", "at_start", "interval_min", "timeout_s", "cloud_dns_base_url"})) {
    return;
  }
  r.read(n, "enabled", "discovery.enabled", d.enabled);
  r.read(n, "at_start", "discovery.at_start", d.at_start);
  r.read(n, "interval_min", "discovery.interval_min", d.interval_min, 0, 10080);
  r.read(n, "timeout_s", "discovery.timeout_s", d.timeout_s, 1, 60);
  YAML::Node url = YamlReader::get(n, "cloud_dns_base_url");
  std::string s = d.cloud_dns_base_url;
  r.read(n, "cloud_dns_base_url", "discovery.cloud_dns_base_url", s);
  if (url.IsDefined() && url.IsScalar()) {
    if (s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0) {
      d.cloud_dns_base_url = s;
    } else {
      r.error(url, "discovery.cloud_dns_base_url",
              "expected an http:// or https:// URL, got " + YamlReader::describe(url));
    }
  }
}

// Log levels as spdlog names them.
#define LOXCAN_LOG_LEVELS                                                       \
  {                                                                             \
    {"trace", "trace"}, {"debug", "debug"}, {"info", "info"}, {"warn", "warn"}, \
        {"error", "error"}, {"critical", "critical"}, {                         \
      "off", "off"                                                              \
    }                                                                           \
  }

void read_logging(YamlReader& r, const YAML::Node& n, LoggingConfig& l) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!r.check_map(n, "logging", {"level", "levels"})) return;
  std::string_view level = l.level;
  r.read_enum<std::string_view>(n, "level", "logging.level", level, LOXCAN_LOG_LEVELS);
  l.level = level;
  YAML::Node levels = YamlReader::get(n, "levels");
  if (!levels.IsDefined() || levels.IsNull()) return;
  if (!r.check_map(levels, "logging.levels", {"can", "proto", "dev", "mqtt", "disc"})) return;
  for (const char* logger : {"can", "proto", "dev", "mqtt", "disc"}) {
    std::string_view v;
    r.read_enum<std::string_view>(levels, logger, std::string("logging.levels.") + logger, v,
                                  LOXCAN_LOG_LEVELS);
    if (!v.empty()) l.levels[logger] = std::string(v);
  }
}

// 127.0.0.0/8, ::1 and localhost: reachable from this machine only.
bool is_loopback_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool valid_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  unsigned port = 0;
  const char* b = listen.data() + colon + 1;
  const char* e = listen.data() + listen.size();
  auto [p, ec] = std::from_chars(b, e, port);
  return ec == std::errc{} && p == e && port > 0 && port < 65536;
}

void read_web(YamlReader& r, const YAML::Node& n, WebConfig& w) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!r.check_map(n, "web", {"enabled", "listen", "password_file", "history_min"})) return;
  r.read(n, "enabled", "web.enabled", w.enabled);
  r.read(n, "password_file", "web.password_file", w.password_file);
  r.read(n, "history_min", "web.history_min", w.history_min, 1, 1440);
  YAML::Node listen = YamlReader::get(n, "listen");
  r.read(n, "listen", "web.listen", w.listen);
  if (!listen.IsDefined() || !listen.IsScalar()) return;
  w.listen_mark = YamlReader::mark_of(listen);
  if (!valid_listen(w.listen)) {
    r.error(listen, "web.listen",
            "expected host:port (e.g. 127.0.0.1:8088), got " + YamlReader::describe(listen));
  } else if (w.enabled && !is_loopback_listen(w.listen) && w.password_file.empty()) {
    r.error(listen, "web.listen",
            "'" + w.listen +
                "' is reachable from the LAN: set web.password_file (controls need a login) "
                "or listen on 127.0.0.1 behind a reverse proxy");
  }
}

Config parse_document(YamlReader& r, const YAML::Node& root, const devices::Registry& reg,
                      std::string_view instance) {
  Config cfg = instance_defaults(instance);
  if (!root.IsDefined() || root.IsNull()) return cfg;
  if (!r.check_map(root, "",
                   {"interfaces", "devices", "mqtt", "emulation", "discovery", "logging", "web"})) {
    return cfg;
  }
  read_interfaces(r, YamlReader::get(root, "interfaces"), cfg);
  read_devices(r, YamlReader::get(root, "devices"), reg, cfg);
  read_mqtt(r, YamlReader::get(root, "mqtt"), cfg.mqtt);
  read_emulation(r, YamlReader::get(root, "emulation"), cfg.emulation);
  read_discovery(r, YamlReader::get(root, "discovery"), cfg.discovery);
  read_logging(r, YamlReader::get(root, "logging"), cfg.logging);
  read_web(r, YamlReader::get(root, "web"), cfg.web);
  return cfg;
}

}  // namespace

std::string Diagnostic::to_string() const {
  std::string s = file;
  if (mark.line > 0) s += ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
  s += ": ";
  if (!path.empty()) s += path + ": ";
  return s + message;
}

ConfigError::ConfigError(std::vector<Diagnostic> errors)
    : std::runtime_error(join(errors)), errors_(std::move(errors)) {}

const DeviceConfig* Config::find_device(std::uint32_t serial) const {
  for (const auto& d : devices) {
    if (d.serial == serial) return &d;
  }
  return nullptr;
}

namespace {

// "'['", "'{'", "double quote", "single quote": how an error names an opener.
std::string opener_name(char symbol) {
  if (symbol == '"') return "double quote";
  if (symbol == '\'') return "single quote";
  return std::string("'") + symbol + "'";
}

// yaml-cpp reports an unclosed `[`, `{` or quote where it gave up (often the end of the file);
// the user must look where it opened, so the error points there and says where yaml-cpp stopped.
void report_syntax_error(YamlReader& r, std::string_view yaml, const YAML::Exception& e) {
  Mark m = e.mark.line >= 0 ? Mark{e.mark.line + 1, e.mark.column + 1} : Mark{};
  std::string message = e.msg;
  if (const char kind = unclosed_kind(e.msg)) {
    if (const auto opener = find_unclosed(yaml, kind)) {
      message = opener_name(opener->symbol) + " opened here is never closed (" + e.msg +
                (m.line > 0 ? " at line " + std::to_string(m.line) : std::string()) + ")";
      m = opener->at;
    }
  }
  r.error(m, "", "YAML syntax error: " + message);
}

}  // namespace

bool valid_instance_name(std::string_view instance) {
  if (instance.empty() || instance.size() > 32) return false;
  return std::all_of(instance.begin(), instance.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

Config instance_defaults(std::string_view instance) {
  Config cfg;
  if (instance.empty()) return cfg;
  const std::string name(instance);
  cfg.instance = name;
  cfg.mqtt.base_topic = "loxcan/" + name;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  cfg.mqtt.node_id = std::string(host) + "-" + name;
  cfg.emulation.state_file = "/var/lib/loxcan/" + name + "/state.yaml";
  return cfg;
}

Config parse(std::string_view yaml, std::string_view file, const devices::Registry& registry,
             std::string_view instance) {
  YamlReader r{std::string(file)};
  Config cfg = instance_defaults(instance);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (const auto quote = accepted_unclosed_quote(yaml, root)) {
      r.error(quote->at, "",
              "YAML syntax error: " + opener_name(quote->symbol) +
                  " opened here is never closed (the value runs to the end of the file)");
    } else {
      cfg = parse_document(r, root, registry, instance);
    }
  } catch (const YAML::Exception& e) {
    report_syntax_error(r, yaml, e);
  }
  cfg.file = std::string(file);
  if (!r.ok()) {
    auto diags = r.take();
    std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
    });
    throw ConfigError(std::move(diags));
  }
  return cfg;
}

Config load_file(const std::string& path, const devices::Registry& registry,
                 std::string_view instance) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    throw ConfigError({{path, {}, "", std::string("cannot read: ") + std::strerror(err)}});
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw ConfigError({{path, {}, "", "cannot read: I/O error"}});
  }
  return parse(text.str(), path, registry, instance);
}

int check_config(const std::string& path, const devices::Registry& registry, std::FILE* out,
                 std::FILE* err, std::string_view instance) {
  try {
    Config c = load_file(path, registry, instance);
    std::fprintf(out, "%s: OK (%zu interface%s, %zu device%s)\n", path.c_str(), c.interfaces.size(),
                 c.interfaces.size() == 1 ? "" : "s", c.devices.size(),
                 c.devices.size() == 1 ? "" : "s");
    return 0;
  } catch (const ConfigError& e) {
    for (const auto& d : e.errors()) std::fprintf(err, "%s\n", d.to_string().c_str());
    return EX_CONFIG;
  }
}

std::optional<std::uint32_t> parse_version(std::string_view text) {
  std::uint32_t parts[4] = {};
  int n = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  if (text.find('.') == std::string_view::npos) {
    std::uint32_t v = 0;
    auto [e, ec] = std::from_chars(p, end, v);
    if (ec != std::errc{} || e != end || text.empty()) return std::nullopt;
    return v;
  }
  while (n < 4) {
    auto [e, ec] = std::from_chars(p, end, parts[n]);
    if (ec != std::errc{} || parts[n] > 99 || e == p) return std::nullopt;
    ++n;
    p = e;
    if (p == end) break;
    if (*p != '.') return std::nullopt;
    ++p;
  }
  if (n != 4 || p != end) return std::nullopt;
  return parts[0] * 1000000u + parts[1] * 10000u + parts[2] * 100u + parts[3];
}

std::string_view to_string(InterfaceRole r) {
  switch (r) {
    case InterfaceRole::link: return "link";
    case InterfaceRole::tree_left: return "tree-left";
    case InterfaceRole::tree_right: return "tree-right";
  }
  return "?";
}

std::string_view to_string(DeviceMode m) {
  return m == DeviceMode::monitor ? "monitor" : "emulate";
}

std::string_view to_string(Branch b) {
  switch (b) {
    case Branch::none: return "none";
    case Branch::left: return "left";
    case Branch::right: return "right";
  }
  return "?";
}

}  // namespace loxcan::config
