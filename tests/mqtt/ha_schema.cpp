#include "ha_schema.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace loxcan::mqtt::test {

using nlohmann::json;

namespace {

const std::set<std::string> kComponents = {"alarm_control_panel",
                                           "binary_sensor",
                                           "button",
                                           "camera",
                                           "climate",
                                           "cover",
                                           "device_tracker",
                                           "event",
                                           "fan",
                                           "humidifier",
                                           "image",
                                           "lawn_mower",
                                           "light",
                                           "lock",
                                           "number",
                                           "scene",
                                           "select",
                                           "sensor",
                                           "siren",
                                           "switch",
                                           "tag",
                                           "text",
                                           "update",
                                           "vacuum",
                                           "valve",
                                           "water_heater"};
const std::set<std::string> kSensorClasses = {
    "temperature", "humidity",   "illuminance", "carbon_dioxide",  "voltage",
    "frequency",   "wind_speed", "duration",    "power",           "energy",
    "current",     "pressure",   "timestamp",   "signal_strength", "data_rate"};
const std::set<std::string> kBinaryClasses = {"motion",       "moisture", "tamper", "problem",
                                              "connectivity", "door",     "window", "occupancy",
                                              "power",        "running",  "sound",  "light"};
const std::set<std::string> kColorModes = {"onoff", "brightness", "color_temp", "hs",   "xy",
                                           "rgb",   "rgbw",       "rgbww",      "white"};

// Units HA accepts per sensor device class (the subset loxcan can produce).
bool unit_fits(const std::string& dc, const std::string& unit) {
  static const std::map<std::string, std::set<std::string>> k = {
      {"temperature", {"°C", "°F", "K"}},
      {"humidity", {"%"}},
      {"illuminance", {"lx"}},
      {"carbon_dioxide", {"ppm"}},
      {"voltage", {"V", "mV"}},
      {"frequency", {"Hz", "kHz"}},
      {"wind_speed", {"km/h", "m/s"}},
      {"duration", {"s", "min", "h", "d", "ms"}}};
  auto it = k.find(dc);
  return it == k.end() || it->second.count(unit) > 0;
}

void require_string(const json& c, const char* key, std::vector<std::string>& errs) {
  if (!c.contains(key))
    errs.push_back(std::string("missing required key ") + key);
  else if (!c[key].is_string() || c[key].get<std::string>().empty())
    errs.push_back(std::string(key) + " must be a non-empty string");
}

void check_topics(const json& c, std::vector<std::string>& errs) {
  for (const auto& [key, value] : c.items()) {
    if (key.size() > 6 && key.compare(key.size() - 6, 6, "_topic") == 0) {
      if (!value.is_string()) {
        errs.push_back(key + " is not a string");
      } else if (value.get<std::string>().find_first_of("+#") != std::string::npos) {
        errs.push_back(key + " contains a wildcard");
      }
    }
  }
}

void check_device(const json& c, std::vector<std::string>& errs) {
  if (!c.contains("device")) return;
  const json& d = c["device"];
  if (!d.is_object()) return errs.push_back("device is not an object");
  const bool ids =
      d.contains("identifiers") &&
      ((d["identifiers"].is_array() && !d["identifiers"].empty()) || d["identifiers"].is_string());
  if (!ids && !d.contains("connections")) errs.push_back("device needs identifiers or connections");
  if (d.contains("identifiers") && d["identifiers"].is_array()) {
    for (const auto& id : d["identifiers"]) {
      if (!id.is_string()) errs.push_back("device identifier is not a string");
    }
  }
}

void check_availability(const json& c, std::vector<std::string>& errs) {
  if (c.contains("availability")) {
    if (!c["availability"].is_array() || c["availability"].empty())
      return errs.push_back("availability must be a non-empty list");
    for (const auto& a : c["availability"]) {
      if (!a.is_object() || !a.contains("topic") || !a["topic"].is_string())
        errs.push_back("availability entry without topic");
    }
  }
  if (c.contains("availability_mode")) {
    const auto m = c["availability_mode"];
    if (!m.is_string() || (m != "all" && m != "any" && m != "latest"))
      errs.push_back("availability_mode must be all|any|latest");
  }
}

void check_light(const json& c, std::vector<std::string>& errs) {
  require_string(c, "command_topic", errs);
  if (c.value("schema", "default") == "json") {
    if (c.contains("supported_color_modes")) {
      const auto& modes = c["supported_color_modes"];
      if (!modes.is_array() || modes.empty())
        return errs.push_back("supported_color_modes must be a non-empty list");
      for (const auto& m : modes) {
        if (!m.is_string() || !kColorModes.count(m.get<std::string>()))
          errs.push_back("unknown color mode");
        else if ((m == "onoff" || m == "brightness") && modes.size() > 1)
          errs.push_back("onoff/brightness must be alone");
      }
    }
    if (c.contains("brightness") && !c["brightness"].is_boolean())
      errs.push_back("brightness must be a boolean");
  } else {
    if (c.contains("on_command_type")) {
      const auto t = c["on_command_type"];
      if (t != "last" && t != "first" && t != "brightness")
        errs.push_back("on_command_type must be last|first|brightness");
    }
    if (c.contains("brightness_command_topic") && !c.contains("brightness_scale")) {
      // default 255 is legal; loxcan's plain percent topics need 100
      errs.push_back(
          "brightness topics without brightness_scale (default 255 does not fit percent)");
    }
  }
  if (c.contains("brightness_scale") &&
      (!c["brightness_scale"].is_number_integer() || c["brightness_scale"].get<int>() < 1)) {
    errs.push_back("brightness_scale must be a positive integer");
  }
}

void check_component(const std::string& comp, const json& c, std::vector<std::string>& errs) {
  if (comp == "sensor") {
    require_string(c, "state_topic", errs);
    if (c.contains("device_class")) {
      const std::string dc = c["device_class"];
      if (!kSensorClasses.count(dc)) errs.push_back("unknown sensor device_class " + dc);
      if (c.contains("unit_of_measurement") && !unit_fits(dc, c["unit_of_measurement"]))
        errs.push_back("unit does not fit " + dc);
    }
    if (c.contains("state_class") && c["state_class"] != "measurement" &&
        c["state_class"] != "total" && c["state_class"] != "total_increasing") {
      errs.push_back("bad state_class");
    }
  } else if (comp == "binary_sensor") {
    require_string(c, "state_topic", errs);
    if (c.contains("device_class") && !kBinaryClasses.count(c["device_class"].get<std::string>()))
      errs.push_back("unknown binary_sensor device_class");
  } else if (comp == "switch" || comp == "text" || comp == "valve") {
    require_string(c, "command_topic", errs);
  } else if (comp == "light") {
    check_light(c, errs);
  } else if (comp == "number") {
    require_string(c, "command_topic", errs);
    const double mn = c.value("min", 1.0), mx = c.value("max", 100.0), step = c.value("step", 1.0);
    if (!(mn < mx)) errs.push_back("number: min must be below max");
    if (step < 0.001) errs.push_back("number: step below 0.001");
    if (c.contains("mode") && c["mode"] != "auto" && c["mode"] != "box" && c["mode"] != "slider")
      errs.push_back("number: bad mode");
  } else if (comp == "cover") {
    if (!c.contains("command_topic") && !c.contains("set_position_topic"))
      errs.push_back("cover without command topic");
  }
  for (const char* k : {"payload_on", "payload_off"}) {
    if (c.contains(k) && !c[k].is_string()) errs.push_back(std::string(k) + " must be a string");
  }
  if (c.contains("entity_category") && c["entity_category"] != "diagnostic" &&
      c["entity_category"] != "config") {
    errs.push_back("entity_category must be config|diagnostic");
  }
}

}  // namespace

std::vector<std::string> check_discovery(const std::string& topic, const std::string& payload,
                                         const std::string& prefix) {
  std::vector<std::string> errs;
  static const std::regex kTopic(R"(([^/]+)/(?:([a-zA-Z0-9_-]+)/)?([a-zA-Z0-9_-]+)/config)");
  if (topic.compare(0, prefix.size() + 1, prefix + "/") != 0) return {"topic not under the prefix"};
  std::smatch m;
  const std::string rest = topic.substr(prefix.size() + 1);
  if (!std::regex_match(rest, m, kTopic))
    return {"topic is not <prefix>/<component>/[<node_id>/]<object_id>/config"};
  const std::string comp = m[1];
  if (!kComponents.count(comp)) errs.push_back("unknown component " + comp);
  if (payload.empty()) return errs;  // a removal
  const json c = json::parse(payload, nullptr, false);
  if (!c.is_object()) return {"payload is not a JSON object"};
  require_string(c, "unique_id", errs);
  if (!c.contains("name"))
    errs.push_back("missing name (null is allowed, missing is not loxcan's style)");
  check_topics(c, errs);
  check_device(c, errs);
  check_availability(c, errs);
  if (c.contains("origin") && (!c["origin"].is_object() || !c["origin"].contains("name")))
    errs.push_back("origin needs a name");
  check_component(comp, c, errs);
  return errs;
}

}  // namespace loxcan::mqtt::test
