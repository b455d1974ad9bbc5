#include "mqtt/discovery.hpp"

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

std::string bridge_id(const DiscoveryContext& ctx) {
  return "loxcan_bridge_" + ctx.node_id;
}

json origin(const DiscoveryContext& ctx) {
  return {{"name", "loxcan"}, {"sw", ctx.version}};
}

json device_block(const DiscoveryContext& ctx, const BridgeDevice& d) {
  json dev = {{"identifiers", json::array({"loxcan_" + serial_hex(d.info.serial)})},
              {"name", device_display_name(d.info)},
              {"manufacturer", "Loxone"},
              {"model", d.info.model.empty() ? "unknown" : d.info.model},
              {"serial_number", serial_text(d.info.serial)},
              {"via_device", bridge_id(ctx)}};
  if (const auto fw = firmware_text(d.info.firmware); !fw.empty()) dev["sw_version"] = fw;
  return dev;
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

std::string discovery_topic(const DiscoveryContext& ctx, const std::string& component,
                            std::uint32_t serial, const std::string& channel) {
  return ctx.prefix + "/" + component + "/loxcan_" + serial_hex(serial) + "/" + channel + "/config";
}

std::vector<Publication> discovery_for_device(const DiscoveryContext& ctx, const BridgeDevice& d,
                                              const std::string& segment) {
  std::vector<Publication> out;
  const std::string dev = segment.empty() ? device_segment(d.info) : segment;
  const json availability = json::array(
      {{{"topic", ctx.topics.bridge("state")}}, {{"topic", ctx.topics.availability(dev)}}});
  const json device = device_block(ctx, d);
  const json orig = origin(ctx);
  for (const auto& ch : d.channels) {
    if (!ch.publish) continue;
    const std::string name = topic_channel(ch);
    const std::string component = component_for(ch);
    json c = {{"name", pretty_name(name)},
              {"unique_id", "loxcan_" + serial_hex(d.info.serial) + "_" + name},
              {"state_topic", ctx.topics.channel(dev, name)},
              {"availability", availability},
              {"availability_mode", "all"},
              {"device", device},
              {"origin", orig}};
    fill_component(c, component, ch, ctx.topics.channel(dev, name), ctx.topics.set(dev, name));
    out.push_back({discovery_topic(ctx, component, d.info.serial, name), c.dump(), 1, true});
  }
  return out;
}

std::vector<Publication> discovery_for_bridge(const DiscoveryContext& ctx,
                                              const std::vector<std::string>& metrics) {
  static const char* const kCounters[] = {
      "rxframes",      "txframes",     "errorframes", "rxdropped", "txerrors",         "restarts",
      "mqttpublished", "mqttreceived", "mqttdropped", "commands",  "commandsrejected", "uptime"};
  const std::string id = bridge_id(ctx);
  const json device = {{"identifiers", json::array({id})},
                       {"name", "loxcan " + ctx.node_id},
                       {"manufacturer", "loxcan"},
                       {"model", "loxcan gateway"},
                       {"sw_version", ctx.version}};
  std::vector<Publication> out;
  json state = {{"name", "Bridge"},
                {"unique_id", id + "_state"},
                {"state_topic", ctx.topics.bridge("state")},
                {"payload_on", "online"},
                {"payload_off", "offline"},
                {"device_class", "connectivity"},
                {"entity_category", "diagnostic"},
                {"device", device},
                {"origin", origin(ctx)}};
  out.push_back({ctx.prefix + "/binary_sensor/" + id + "/state/config", state.dump(), 1, true});
  for (const auto& m : metrics) {
    if (m == "keepaliveepoch") continue;  // a Unix time for the Miniserver, not an HA entity
    json c = {{"name", pretty_name(m)},
              {"unique_id", id + "_" + m},
              {"state_topic", ctx.topics.bridge("stats/" + m)},
              {"entity_category", "diagnostic"},
              {"availability", json::array({{{"topic", ctx.topics.bridge("state")}}})},
              {"device", device},
              {"origin", origin(ctx)}};
    const bool counter =
        std::find(std::begin(kCounters), std::end(kCounters), m) != std::end(kCounters);
    c["state_class"] = counter ? "total_increasing" : "measurement";
    if (m == "busload") c["unit_of_measurement"] = "%";
    if (m == "uptime") {
      c["unit_of_measurement"] = "s";
      c["device_class"] = "duration";
    }
    out.push_back({ctx.prefix + "/sensor/" + id + "/" + m + "/config", c.dump(), 1, true});
  }
  return out;
}

}  // namespace loxcan::mqtt
