#include "ha_schema.hpp"

#include <cctype>
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
// HA's abbreviations (homeassistant/components/mqtt/abbreviations.py), the subset a gateway uses
// plus the structural ones; unknown abbreviations stay as they are and fail the key checks.
const std::map<std::string, std::string> kAbbreviations = {
    {"avty", "availability"},
    {"avty_mode", "availability_mode"},
    {"avty_t", "availability_topic"},
    {"avty_tpl", "availability_template"},
    {"bri_cmd_t", "brightness_command_topic"},
    {"bri_scl", "brightness_scale"},
    {"bri_stat_t", "brightness_state_topic"},
    {"cmd_t", "command_topic"},
    {"cmd_tpl", "command_template"},
    {"cmps", "components"},
    {"def_ent_id", "default_entity_id"},
    {"dev", "device"},
    {"dev_cla", "device_class"},
    {"e", "encoding"},
    {"en", "enabled_by_default"},
    {"ent_cat", "entity_category"},
    {"ic", "icon"},
    {"json_attr_t", "json_attributes_topic"},
    {"o", "origin"},
    {"obj_id", "object_id"},
    {"on_cmd_type", "on_command_type"},
    {"opt", "optimistic"},
    {"p", "platform"},
    {"pl_off", "payload_off"},
    {"pl_on", "payload_on"},
    {"pl_prs", "payload_press"},
    {"pos_clsd", "position_closed"},
    {"pos_open", "position_open"},
    {"stat_cla", "state_class"},
    {"stat_t", "state_topic"},
    {"stat_val_tpl", "state_value_template"},
    {"sup_clrm", "supported_color_modes"},
    {"uniq_id", "unique_id"},
    {"unit_of_meas", "unit_of_measurement"},
    {"val_tpl", "value_template"},
    {"t", "topic"},
    {"qos", "qos"}};
const std::map<std::string, std::string> kDeviceAbbreviations = {
    {"cns", "connections"},   {"cu", "configuration_url"},
    {"ids", "identifiers"},   {"mf", "manufacturer"},
    {"mdl", "model"},         {"mdl_id", "model_id"},
    {"hw", "hw_version"},     {"sw", "sw_version"},
    {"sa", "suggested_area"}, {"sn", "serial_number"}};
const std::map<std::string, std::string> kOriginAbbreviations = {{"sw", "sw_version"},
                                                                 {"url", "support_url"}};

// Expands abbreviated keys (also inside device, origin and availability), as HA does on receipt.
json expand(const json& in, const std::map<std::string, std::string>& table = kAbbreviations) {
  if (!in.is_object()) return in;
  json out = json::object();
  for (const auto& [k, v] : in.items()) {
    const auto it = table.find(k);
    out[it == table.end() ? k : it->second] = v;
  }
  if (&table != &kAbbreviations) return out;
  if (out.contains("device")) out["device"] = expand(out["device"], kDeviceAbbreviations);
  if (out.contains("origin")) out["origin"] = expand(out["origin"], kOriginAbbreviations);
  if (out.contains("availability") && out["availability"].is_array()) {
    for (auto& a : out["availability"]) a = expand(a);
  }
  return out;
}

const std::set<std::string> kSensorClasses = {
    "temperature", "humidity",        "illuminance", "carbon_dioxide", "voltage", "frequency",
    "wind_speed",  "duration",        "power",       "energy",         "current", "pressure",
    "timestamp",   "signal_strength", "data_rate",   "data_size"};
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
      {"duration", {"s", "min", "h", "d", "ms"}},
      {"data_size", {"B", "kB", "MB", "GB", "KiB", "MiB", "GiB"}}};
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
  } else if (comp == "button") {
    require_string(c, "command_topic", errs);
    if (c.contains("device_class") && c["device_class"] != "identify" &&
        c["device_class"] != "restart" && c["device_class"] != "update") {
      errs.push_back("unknown button device_class");
    }
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

// Keys that moved or went away in HA releases a current message must not use.
void check_entity_ids(const std::string& platform, const json& c, std::vector<std::string>& errs) {
  if (c.contains("object_id"))
    errs.push_back("object_id is no longer supported (HA 2026.4): use default_entity_id");
  if (!c.contains("default_entity_id")) return;
  static const std::regex kEntityId(R"(([a-z_]+)\.([a-z0-9_]+))");
  std::smatch m;
  const std::string id =
      c["default_entity_id"].is_string() ? c["default_entity_id"].get<std::string>() : "";
  if (!std::regex_match(id, m, kEntityId)) {
    errs.push_back("default_entity_id must be <platform>.<[a-z0-9_]+>, got " +
                   c["default_entity_id"].dump());
  } else if (m[1] != platform) {
    errs.push_back("default_entity_id " + id + " is not in platform " + platform);
  }
}

// HA: "the entity name must not start with the device name" (it prefixes the device name itself).
void check_entity_name(const json& c, const json& device, std::vector<std::string>& errs) {
  if (!c.contains("name") || !c["name"].is_string() || !device.is_object() ||
      !device.contains("name") || !device["name"].is_string()) {
    return;
  }
  auto lower = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  const std::string name = lower(c["name"]), dev = lower(device["name"]);
  if (!dev.empty() && name.rfind(dev, 0) == 0)
    errs.push_back("entity name \"" + c["name"].get<std::string>() +
                   "\" starts with the device name");
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
  const json raw = json::parse(payload, nullptr, false);
  if (!raw.is_object()) return {"payload is not a JSON object"};
  const json c = expand(raw);
  if (comp == "device") return {"a device-based message: use check_device_discovery"};
  require_string(c, "unique_id", errs);
  check_entity_ids(comp, c, errs);
  if (c.contains("device")) check_entity_name(c, c["device"], errs);
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

namespace loxcan::mqtt::test {

namespace {

const std::set<std::string> kSharedRootOptions = {"device",
                                                  "origin",
                                                  "components",
                                                  "availability",
                                                  "availability_mode",
                                                  "availability_topic",
                                                  "availability_template",
                                                  "payload_available",
                                                  "payload_not_available",
                                                  "command_topic",
                                                  "state_topic",
                                                  "qos",
                                                  "encoding",
                                                  "~"};

void check_origin(const json& c, std::vector<std::string>& errs) {
  if (!c.contains("origin"))
    return errs.push_back("missing origin (o): required for device-based discovery");
  const json& o = c["origin"];
  if (!o.is_object()) return errs.push_back("origin is not an object");
  require_string(o, "name", errs);
  for (const auto& [k, v] : o.items()) {
    if (k != "name" && k != "sw_version" && k != "support_url")
      errs.push_back("unknown origin key " + k);
    else if (!v.is_string())
      errs.push_back("origin " + k + " must be a string");
  }
}

}  // namespace

std::vector<std::string> check_device_discovery(const std::string& topic,
                                                const std::string& payload,
                                                const std::string& prefix) {
  static const std::regex kTopic(R"(device/(?:([a-zA-Z0-9_-]+)/)?([a-zA-Z0-9_-]+)/config)");
  if (topic.compare(0, prefix.size() + 1, prefix + "/") != 0) return {"topic not under the prefix"};
  if (!std::regex_match(topic.substr(prefix.size() + 1), kTopic)) {
    return {"topic is not <prefix>/device/[<node_id>/]<object_id>/config"};
  }
  if (payload.empty()) return {};  // removal of the device
  const json raw = json::parse(payload, nullptr, false);
  if (!raw.is_object()) return {"payload is not a JSON object"};
  const json root = expand(raw);
  std::vector<std::string> errs;
  for (const auto& [k, v] : root.items()) {
    if (!kSharedRootOptions.count(k))
      errs.push_back("option " + k + " cannot be shared at the root of a device message");
  }
  if (!root.contains("device"))
    errs.push_back("missing device (dev): required for device-based discovery");
  else
    check_device(root, errs);
  if (root.contains("device") && root["device"].is_object() && !root["device"].contains("name")) {
    errs.push_back("device needs a name");
  }
  check_origin(root, errs);
  check_availability(root, errs);
  check_topics(root, errs);
  if (!root.contains("components") || !root["components"].is_object() ||
      root["components"].empty()) {
    errs.push_back("missing components (cmps): a non-empty map of component id -> config");
    return errs;
  }
  static const std::regex kId(R"([a-zA-Z0-9_-]+)");
  std::set<std::string> unique_ids;
  for (const auto& [id, raw_c] : root["components"].items()) {
    const std::string where = "component " + id + ": ";
    if (!std::regex_match(id, kId)) errs.push_back(where + "id must be [a-zA-Z0-9_-]+");
    const json c = expand(raw_c);
    if (!c.is_object()) {
      errs.push_back(where + "not an object");
      continue;
    }
    if (!c.contains("platform") || !c["platform"].is_string()) {
      errs.push_back(where + "missing platform (p)");
      continue;
    }
    const std::string platform = c["platform"];
    if (!kComponents.count(platform)) errs.push_back(where + "unsupported platform " + platform);
    if (c.size() == 1) continue;  // {"p": …}: removal of this component
    if (c.contains("device") || c.contains("origin"))
      errs.push_back(where + "device and origin cannot be overridden");
    json merged = c;
    merged.erase("platform");
    for (const char* shared :
         {"state_topic", "command_topic", "qos", "encoding", "availability", "availability_mode"}) {
      if (root.contains(shared) && !merged.contains(shared)) merged[shared] = root[shared];
    }
    std::vector<std::string> own;
    require_string(merged, "unique_id", own);
    if (!merged.contains("name"))
      own.push_back("missing name (null is allowed, missing is not loxcan's style)");
    if (merged.contains("unique_id") && merged["unique_id"].is_string() &&
        !unique_ids.insert(merged["unique_id"].get<std::string>()).second) {
      own.push_back("unique_id used twice");
    }
    check_entity_ids(platform, merged, own);
    check_entity_name(merged, root.value("device", json::object()), own);
    check_topics(merged, own);
    check_availability(merged, own);
    check_component(platform, merged, own);
    for (const auto& e : own) errs.push_back(where + e);
  }
  return errs;
}

}  // namespace loxcan::mqtt::test
