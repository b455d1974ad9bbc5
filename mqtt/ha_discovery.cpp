#include "mqtt/ha_discovery.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace loxcan::mqtt {

using devices::ChannelDirection;
using devices::Semantic;
using devices::ValueType;
using nlohmann::json;

std::string firmware_text(std::uint32_t fw) {
  if (fw == 0) return {};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", fw / 1000000, fw / 10000 % 100, fw / 100 % 100,
                fw % 100);
  return buf;
}

std::string serial_text(std::uint32_t serial) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", serial);
  return buf;
}

namespace {

struct SensorClass {
  const char* device_class;  // nullptr: none
  const char* unit;          // default unit
};

SensorClass sensor_class(Semantic s) {
  switch (s) {
    case Semantic::temperature: return {"temperature", "°C"};
    case Semantic::humidity: return {"humidity", "%"};
    case Semantic::illuminance: return {"illuminance", "lx"};
    case Semantic::co2: return {"carbon_dioxide", "ppm"};
    case Semantic::voltage: return {"voltage", "V"};
    case Semantic::frequency: return {"frequency", "Hz"};
    case Semantic::wind_speed: return {"wind_speed", "km/h"};
    case Semantic::position:
    case Semantic::brightness: return {nullptr, "%"};
    default: return {nullptr, ""};
  }
}

const char* binary_class(Semantic s) {
  switch (s) {
    case Semantic::motion: return "motion";
    case Semantic::rain: return "moisture";
    case Semantic::tamper: return "tamper";
    case Semantic::problem: return "problem";
    default: return nullptr;
  }
}

// "i1" -> "I1", "aq12" -> "AQ12"; "temperature" -> "Temperature", "t-1" -> "T 1".
std::string pretty_name(const std::string& s) {
  std::size_t letters = 0;
  while (letters < s.size() && std::isalpha(static_cast<unsigned char>(s[letters]))) ++letters;
  bool loxone_io = letters > 0 && letters <= 3 && letters < s.size();
  for (std::size_t i = letters; i < s.size(); ++i)
    loxone_io &= std::isdigit(static_cast<unsigned char>(s[i])) != 0;
  std::string out = s;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '-' || out[i] == '_')
      out[i] = ' ';
    else if (loxone_io || i == 0)
      out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
  }
  return out;
}

std::string device_display_name(const devices::DeviceInfo& info) {
  if (!info.name.empty()) return info.name;
  return pretty_name(info.model.empty() ? std::string("device") : info.model) + " " +
         serial_text(info.serial);
}

json origin(const DiscoveryContext& ctx) {
  json o = {{"name", "loxcan"}, {"sw_version", ctx.version}};
  if (!ctx.support_url.empty()) o["support_url"] = ctx.support_url;
  return o;
}

json device_block(const DiscoveryContext& ctx, const BridgeDevice& d) {
  json dev = {{"identifiers", json::array({device_node_id(d.info.serial)})},
              {"name", device_display_name(d.info)},
              {"manufacturer", "Loxone"},
              {"model", d.info.model.empty() ? "unknown" : d.info.model},
              {"serial_number", serial_text(d.info.serial)},
              {"via_device", bridge_node_id(ctx)}};
  if (const auto fw = firmware_text(d.info.firmware); !fw.empty()) dev["sw_version"] = fw;
  return dev;
}

json bridge_device_block(const DiscoveryContext& ctx) {
  return {{"identifiers", json::array({bridge_node_id(ctx)})},
          {"name", "loxcan " + ctx.node_id},
          {"manufacturer", "loxcan"},
          {"model", "loxcan gateway"},
          {"sw_version", ctx.version}};
}

json device_availability(const DiscoveryContext& ctx, const std::string& segment) {
  return json::array(
      {{{"topic", ctx.topics.bridge("state")}}, {{"topic", ctx.topics.availability(segment)}}});
}

// HA entity ids allow [a-z0-9_] after the platform.
std::string entity_id_part(std::string s) {
  for (auto& c : s) {
    if (c == '-') c = '_';
  }
  return s;
}

void add_sensor_fields(json& c, const devices::ChannelSpec& spec) {
  const SensorClass sc = sensor_class(spec.semantic);
  const std::string unit = spec.unit.empty() ? sc.unit : spec.unit;
  if (!unit.empty()) c["unit_of_measurement"] = unit;
  // HA rejects a device_class whose unit it does not know; only pair the class with its own unit.
  if (sc.device_class && unit == sc.unit) c["device_class"] = sc.device_class;
  if (spec.semantic != Semantic::enumeration) c["state_class"] = "measurement";
}

double number_step(const devices::ChannelSpec& spec) {
  const double span = spec.max - spec.min;
  if (span <= 0) return 1;
  if (span <= 20) return 0.01;
  if (span <= 1000) return 0.1;
  return 1;
}

void add_number_fields(json& c, const devices::ChannelSpec& spec) {
  if (spec.max > spec.min) {
    c["min"] = spec.min;
    c["max"] = spec.max;
    c["mode"] = "slider";
  } else {
    c["min"] = -1e9;
    c["max"] = 1e9;
    c["mode"] = "box";
  }
  c["step"] = number_step(spec);
  if (!spec.unit.empty()) c["unit_of_measurement"] = spec.unit;
  const SensorClass sc = sensor_class(spec.semantic);
  if (sc.device_class && spec.unit == sc.unit) c["device_class"] = sc.device_class;
}

void fill_component(json& c, const std::string& component, const BridgeChannel& ch,
                    const std::string& state, const std::string& command) {
  const auto& spec = ch.spec;
  if (component == "binary_sensor") {
    const bool inverted = spec.semantic == Semantic::tamper;  // Loxone: 1 = tamper contact OK
    c["payload_on"] = inverted ? "0" : "1";
    c["payload_off"] = inverted ? "1" : "0";
    if (const char* dc = binary_class(spec.semantic)) c["device_class"] = dc;
  } else if (component == "switch") {
    c["command_topic"] = command;
    c["payload_on"] = "1";
    c["payload_off"] = "0";
    c["optimistic"] = false;
    if (spec.semantic == Semantic::buzzer) c["icon"] = "mdi:bell-ring";
  } else if (component == "light" && spec.type == ValueType::boolean) {
    c["command_topic"] = command;
    c["payload_on"] = "1";
    c["payload_off"] = "0";
  } else if (component == "light" && spec.type == ValueType::number) {
    const int scale = spec.max > spec.min ? static_cast<int>(std::lround(spec.max)) : 100;
    c["state_value_template"] = "{{ '1' if (value | float(0)) > 0 else '0' }}";
    c["command_topic"] = command;
    c["payload_on"] = "1";
    c["payload_off"] = "0";
    c["brightness_state_topic"] = state;
    c["brightness_command_topic"] = command;
    c["brightness_scale"] = scale > 0 ? scale : 100;
    c["on_command_type"] = "brightness";
  } else if (component == "light") {  // rgbw, JSON schema
    c["schema"] = "json";
    c["command_topic"] = command;
    c["brightness"] = true;
    c["brightness_scale"] = 100;
    c["supported_color_modes"] = json::array({"rgbw"});
  } else if (component == "valve") {
    c["command_topic"] = command;
    c["reports_position"] = true;
    c["position_open"] = spec.max > spec.min ? spec.max : 100.0;
    c["position_closed"] = spec.min;
  } else if (component == "number") {
    c["command_topic"] = command;
    if (spec.type == ValueType::bitmask) {
      const int bits = spec.bits == 0 || spec.bits > 31 ? 31 : spec.bits;
      c["min"] = 0;
      c["max"] = static_cast<double>((1U << bits) - 1);
      c["step"] = 1;
      c["mode"] = "box";
    } else {
      add_number_fields(c, spec);
    }
  } else if (component == "text") {
    c["command_topic"] = command;
    c["max"] = 255;
  } else if (spec.type == ValueType::rgbw) {  // read-only light as sensor
    c["value_template"] = "{{ value_json.state }}";
    c["json_attributes_topic"] = state;
  } else if (spec.type == ValueType::number) {
    add_sensor_fields(c, spec);
  }
}

}  // namespace

std::string component_for(const BridgeChannel& ch) {
  const auto& s = ch.spec;
  const bool w = ch.writable;
  switch (s.type) {
    case ValueType::boolean:
      if (!w) return "binary_sensor";
      return s.semantic == Semantic::light ? "light" : "switch";
    case ValueType::number:
      if (!w) return "sensor";
      if (s.semantic == Semantic::brightness) return "light";
      if (s.semantic == Semantic::position) return "valve";
      return "number";
    case ValueType::bitmask: return w ? "number" : "sensor";
    case ValueType::rgbw: return w ? "light" : "sensor";
    case ValueType::text: return w ? "text" : "sensor";
  }
  return "sensor";
}

std::string device_node_id(std::uint32_t serial) {
  return "loxcan_" + serial_hex(serial);
}

std::string bridge_node_id(const DiscoveryContext& ctx) {
  return "loxcan_bridge_" + ctx.node_id;
}

std::string entity_name(const std::string& device_name, const std::string& name) {
  const auto fold = [](char c) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c == '-' || c == '_' ? ' ' : c;
  };
  const std::size_t n = device_name.size();
  if (n == 0 || name.size() <= n + 1) return name;
  for (std::size_t i = 0; i < n; ++i) {
    if (fold(device_name[i]) != fold(name[i])) return name;
  }
  if (fold(name[n]) != ' ') return name;
  return pretty_name(name.substr(n + 1));
}

namespace {

// One entity's config without device, origin and availability (shared in device mode).
json channel_config(const DiscoveryContext& ctx, const BridgeDevice& d, const std::string& dev,
                    const BridgeChannel& ch, const std::string& component) {
  const std::string name = topic_channel(ch);
  json c = {{"name", entity_name(device_display_name(d.info), pretty_name(name))},
            {"unique_id", device_node_id(d.info.serial) + "_" + name},
            {"default_entity_id", component + "." + entity_id_part(dev + "_" + name)},
            {"state_topic", ctx.topics.channel(dev, name)}};
  fill_component(c, component, ch, ctx.topics.channel(dev, name), ctx.topics.set(dev, name));
  return c;
}

// The identify button: HA sends "PRESS" to <base>/<dev>/identify/set.
json identify_config(const DiscoveryContext& ctx, const BridgeDevice& d, const std::string& dev) {
  return {{"name", "Identify"},
          {"unique_id", device_node_id(d.info.serial) + "_identify"},
          {"default_entity_id", "button." + entity_id_part(dev + "_identify")},
          {"command_topic", ctx.topics.set(dev, "identify")},
          {"device_class", "identify"},
          {"entity_category", "config"}};
}

struct Component {
  std::string id;        ///< channel segment, or "identify"
  std::string platform;  ///< HA platform
  json config;
};

std::vector<Component> device_components_of(const DiscoveryContext& ctx, const BridgeDevice& d,
                                            const std::string& dev) {
  std::vector<Component> out;
  for (const auto& ch : d.channels) {
    if (!ch.publish) continue;
    const std::string component = component_for(ch);
    out.push_back({topic_channel(ch), component, channel_config(ctx, d, dev, ch, component)});
  }
  if (d.identify) out.push_back({"identify", "button", identify_config(ctx, d, dev)});
  return out;
}

const char* const kCounters[] = {"rxframes",    "txframes",  "errorframes",      "rxdropped",
                                 "txerrors",    "restarts",  "mqttpublished",    "mqttreceived",
                                 "mqttdropped", "commands",  "commandsrejected", "uptime",
                                 "rxoverflow",  "txdropped", "mqttconnects",     "mqttsuperseded"};

std::vector<Component> bridge_components(const DiscoveryContext& ctx,
                                         const std::vector<std::string>& metrics) {
  const std::string id = bridge_node_id(ctx);
  const std::string eid = entity_id_part("loxcan_" + ctx.node_id);
  std::vector<Component> out;
  out.push_back({"state",
                 "binary_sensor",
                 {{"name", "Connection"},
                  {"unique_id", id + "_state"},
                  {"default_entity_id", "binary_sensor." + eid + "_connection"},
                  {"state_topic", ctx.topics.bridge("state")},
                  {"payload_on", "online"},
                  {"payload_off", "offline"},
                  {"device_class", "connectivity"},
                  {"entity_category", "diagnostic"}}});
  for (const auto& m : metrics) {
    if (m == "keepaliveepoch") continue;  // a Unix time for the Miniserver, not an HA entity
    json c = {{"name", pretty_name(m)},
              {"unique_id", id + "_" + m},
              {"default_entity_id", "sensor." + eid + "_" + m},
              {"state_topic", ctx.topics.bridge("stats/" + m)},
              {"entity_category", "diagnostic"}};
    const bool counter =
        std::find(std::begin(kCounters), std::end(kCounters), m) != std::end(kCounters);
    c["state_class"] = counter ? "total_increasing" : "measurement";
    if (m == "busload") c["unit_of_measurement"] = "%";
    if (m == "uptime") {
      c["unit_of_measurement"] = "s";
      c["device_class"] = "duration";
    }
    if (m == "rss") {
      c["unit_of_measurement"] = "kB";
      c["device_class"] = "data_size";
    }
    out.push_back({m, "sensor", std::move(c)});
  }
  return out;
}

json bridge_availability(const DiscoveryContext& ctx) {
  return json::array({{{"topic", ctx.topics.bridge("state")}}});
}

}  // namespace

std::string discovery_topic(const DiscoveryContext& ctx, const std::string& component,
                            std::uint32_t serial, const std::string& channel) {
  return ctx.prefix + "/" + component + "/" + device_node_id(serial) + "/" + channel + "/config";
}

std::vector<Publication> discovery_for_device(const DiscoveryContext& ctx, const BridgeDevice& d,
                                              const std::string& segment) {
  std::vector<Publication> out;
  const std::string dev = segment.empty() ? device_segment(d.info) : segment;
  const json device = device_block(ctx, d);
  const json availability = device_availability(ctx, dev);
  for (auto& c : device_components_of(ctx, d, dev)) {
    c.config["availability"] = availability;
    c.config["availability_mode"] = "all";
    c.config["device"] = device;
    c.config["origin"] = origin(ctx);
    out.push_back(
        {discovery_topic(ctx, c.platform, d.info.serial, c.id), c.config.dump(), 1, true});
  }
  return out;
}

std::vector<Publication> discovery_for_bridge(const DiscoveryContext& ctx,
                                              const std::vector<std::string>& metrics) {
  const std::string id = bridge_node_id(ctx);
  std::vector<Publication> out;
  for (auto& c : bridge_components(ctx, metrics)) {
    if (c.id != "state") c.config["availability"] = bridge_availability(ctx);
    c.config["device"] = bridge_device_block(ctx);
    c.config["origin"] = origin(ctx);
    out.push_back({ctx.prefix + "/" + c.platform + "/" + id + "/" + c.id + "/config",
                   c.config.dump(), 1, true});
  }
  return out;
}

std::string device_discovery_topic(const DiscoveryContext& ctx, const std::string& node_id) {
  return ctx.prefix + "/device/" + node_id + "/config";
}

Publication device_discovery(const DiscoveryContext& ctx, const BridgeDevice& d,
                             const std::string& segment,
                             const std::vector<std::pair<std::string, std::string>>& removed) {
  const std::string dev = segment.empty() ? device_segment(d.info) : segment;
  json cmps = json::object();
  for (auto& c : device_components_of(ctx, d, dev)) {
    c.config["p"] = c.platform;
    cmps[c.id] = std::move(c.config);
  }
  for (const auto& [id, platform] : removed) {
    if (!cmps.contains(id)) cmps[id] = {{"p", platform}};
  }
  const std::string topic = device_discovery_topic(ctx, device_node_id(d.info.serial));
  if (cmps.empty()) return {topic, "", 1, true};  // HA refuses a device without components
  const json msg = {{"dev", device_block(ctx, d)},
                    {"o", origin(ctx)},
                    {"avty", device_availability(ctx, dev)},
                    {"avty_mode", "all"},
                    {"cmps", std::move(cmps)}};
  return {topic, msg.dump(), 1, true};
}

Publication bridge_device_discovery(const DiscoveryContext& ctx,
                                    const std::vector<std::string>& metrics) {
  json cmps = json::object();
  for (auto& c : bridge_components(ctx, metrics)) {
    c.config["p"] = c.platform;
    // The connection sensor must stay available to show "disconnected"; the rest follow the bridge.
    if (c.id != "state") c.config["availability"] = bridge_availability(ctx);
    cmps[c.id] = std::move(c.config);
  }
  const json msg = {
      {"dev", bridge_device_block(ctx)}, {"o", origin(ctx)}, {"cmps", std::move(cmps)}};
  return {device_discovery_topic(ctx, bridge_node_id(ctx)), msg.dump(), 1, true};
}

std::vector<std::pair<std::string, std::string>> device_components(const std::string& payload) {
  std::vector<std::pair<std::string, std::string>> out;
  const json j = json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("cmps") || !j["cmps"].is_object()) return out;
  for (const auto& [id, c] : j["cmps"].items()) {
    // A component already sent as a bare {"p":…} removal is not carried on.
    if (c.is_object() && c.contains("p") && c["p"].is_string() && c.size() > 1)
      out.emplace_back(id, c["p"]);
  }
  return out;
}

bool is_live_config(const std::string& payload) {
  if (payload.empty()) return false;
  const json j = json::parse(payload, nullptr, false);
  return !(j.is_object() && j.contains("migrate_discovery"));
}

std::string other_mode_filter(const DiscoveryContext& ctx, bool device_mode,
                              const std::string& node_id) {
  return device_mode ? ctx.prefix + "/+/" + node_id + "/+/config"
                     : device_discovery_topic(ctx, node_id);
}

}  // namespace loxcan::mqtt
