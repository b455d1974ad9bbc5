// Home Assistant discovery: component choice, payload contents, and every generated config
// checked by the independent schema checker (ha_schema.cpp).
#include "mqtt/ha_discovery.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "devices/registry.hpp"
#include "ha_schema.hpp"
#include "mqtt/topics.hpp"
#include "sample_devices.hpp"

namespace loxcan::mqtt {
namespace {

using devices::Semantic;
using devices::ValueType;
using nlohmann::json;

DiscoveryContext ctx() {
  return {TopicScheme("loxcan"), "homeassistant", "loxberry", "0.1.0"};
}

json config_of(const std::vector<Publication>& pubs, const std::string& topic) {
  for (const auto& p : pubs) {
    if (p.topic == topic) return json::parse(p.payload);
  }
  ADD_FAILURE() << "no config on " << topic;
  return json::object();
}

TEST(Discovery, ComponentPerChannelKind) {
  struct Row {
    BridgeChannel ch;
    const char* component;
  } rows[] = {
      {test::in("i1", ValueType::boolean), "binary_sensor"},
      {test::out("q1", ValueType::boolean, Semantic::relay), "switch"},
      {test::out("l", ValueType::boolean, Semantic::light), "light"},
      {test::in("t", ValueType::number, Semantic::temperature), "sensor"},
      {test::out("aq1", ValueType::number, Semantic::voltage), "number"},
      {test::out("aq1", ValueType::number, Semantic::brightness), "light"},
      {test::out("pos", ValueType::number, Semantic::position), "valve"},
      {test::in("m", ValueType::bitmask), "sensor"},
      {test::out("m", ValueType::bitmask), "number"},
      {test::out("rgbw", ValueType::rgbw, Semantic::light), "light"},
      {test::in("rgbw", ValueType::rgbw, Semantic::light), "sensor"},
      {test::in("txt", ValueType::text), "sensor"},
      {test::out("txt", ValueType::text), "text"},
  };
  for (const auto& r : rows) EXPECT_EQ(component_for(r.ch), r.component) << r.ch.spec.name;
  auto ro = test::out("q1", ValueType::boolean);
  ro.writable = false;  // an output loxcan only watches
  EXPECT_EQ(component_for(ro), "binary_sensor");
}

TEST(Discovery, EveryConfigPassesTheSchemaChecker) {
  std::size_t n = 0;
  for (const auto& d : test::all_devices()) {
    for (const auto& p : discovery_for_device(ctx(), d)) {
      EXPECT_TRUE(p.retain);
      EXPECT_EQ(p.qos, 1);
      const auto errs = test::check_discovery(p.topic, p.payload);
      EXPECT_TRUE(errs.empty()) << p.topic << ": " << (errs.empty() ? "" : errs.front()) << "\n"
                                << p.payload;
      ++n;
    }
  }
  EXPECT_EQ(n, 14u);
  for (const auto& p :
       discovery_for_bridge(ctx(), {"busload", "rxframes", "uptime", "keepaliveepoch"})) {
    const auto errs = test::check_discovery(p.topic, p.payload);
    EXPECT_TRUE(errs.empty()) << p.topic << ": " << (errs.empty() ? "" : errs.front());
  }
}

TEST(Discovery, CheckerCatchesBrokenConfigs) {
  // The checker must fail on what HA would refuse, or the test above proves nothing.
  EXPECT_FALSE(test::check_discovery("homeassistant/sensr/x/y/config",
                                     R"({"unique_id":"u","name":"n","state_topic":"a"})")
                   .empty());
  EXPECT_FALSE(test::check_discovery("homeassistant/switch/x/y/config",
                                     R"({"unique_id":"u","name":"n","state_topic":"a"})")
                   .empty());
  EXPECT_FALSE(
      test::check_discovery("homeassistant/sensor/x/y/config", R"({"name":"n","state_topic":"a"})")
          .empty());
  EXPECT_FALSE(test::check_discovery("homeassistant/sensor/x y/z/config",
                                     R"({"unique_id":"u","name":"n","state_topic":"a"})")
                   .empty());
  EXPECT_FALSE(
      test::check_discovery(
          "homeassistant/sensor/x/y/config",
          R"({"unique_id":"u","name":"n","state_topic":"a","device_class":"temperature","unit_of_measurement":"V"})")
          .empty());
  EXPECT_FALSE(
      test::check_discovery(
          "homeassistant/light/x/y/config",
          R"({"unique_id":"u","name":"n","command_topic":"a","schema":"json","supported_color_modes":["onoff","rgbw"]})")
          .empty());
  EXPECT_FALSE(test::check_discovery("homeassistant/sensor/x/y/config",
                                     R"({"unique_id":"u","name":"n","state_topic":"a/#"})")
                   .empty());
  EXPECT_FALSE(test::check_discovery(
                   "homeassistant/sensor/x/y/config",
                   R"({"unique_id":"u","name":"n","state_topic":"a","device":{"name":"d"}})")
                   .empty());
  EXPECT_TRUE(test::check_discovery("homeassistant/sensor/x/y/config", "").empty());  // removal
}

TEST(Discovery, SensorWithClassUnitAndDevice) {
  const auto pubs = discovery_for_device(ctx(), test::extension());
  const json c = config_of(pubs, "homeassistant/sensor/loxcan_13001234/ai1/config");
  EXPECT_EQ(c["name"], "AI1");
  EXPECT_EQ(c["unique_id"], "loxcan_13001234_ai1");
  EXPECT_EQ(c["state_topic"], "loxcan/extension-13001234/ai1");
  EXPECT_EQ(c["device_class"], "voltage");
  EXPECT_EQ(c["unit_of_measurement"], "V");
  EXPECT_EQ(c["state_class"], "measurement");
  EXPECT_EQ(c["availability_mode"], "all");
  EXPECT_EQ(
      c["availability"],
      json::parse(
          R"([{"topic":"loxcan/bridge/state"},{"topic":"loxcan/extension-13001234/availability"}])"));
  EXPECT_EQ(c["device"]["identifiers"], json::array({"loxcan_13001234"}));
  EXPECT_EQ(c["device"]["serial_number"], "13001234");
  EXPECT_EQ(c["device"]["sw_version"], "10.3.11.8");
  EXPECT_EQ(c["device"]["manufacturer"], "Loxone");
  EXPECT_EQ(c["device"]["model"], "extension");
  EXPECT_EQ(c["device"]["via_device"], "loxcan_bridge_loxberry");
  EXPECT_EQ(c["origin"]["name"], "loxcan");
}

TEST(Discovery, SwitchLightValveNumber) {
  auto pubs = discovery_for_device(ctx(), test::extension());
  const json sw = config_of(pubs, "homeassistant/switch/loxcan_13001234/q1/config");
  EXPECT_EQ(sw["command_topic"], "loxcan/extension-13001234/q1/set");
  EXPECT_EQ(sw["payload_on"], "1");
  EXPECT_EQ(sw["payload_off"], "0");
  const json num = config_of(pubs, "homeassistant/number/loxcan_13001234/aq1/config");
  EXPECT_EQ(num["min"], 0);
  EXPECT_EQ(num["max"], 10);
  EXPECT_EQ(num["step"], 0.01);
  const json bin = config_of(pubs, "homeassistant/binary_sensor/loxcan_13001234/i2/config");
  EXPECT_EQ(bin["device_class"], "motion");

  pubs = discovery_for_device(ctx(), test::dimmer());
  const json dim = config_of(pubs, "homeassistant/light/loxcan_0f1e2d3c/aq1/config");
  EXPECT_EQ(dim["brightness_scale"], 100);
  EXPECT_EQ(dim["on_command_type"], "brightness");
  EXPECT_EQ(dim["brightness_command_topic"], "loxcan/dimmer-0f1e2d3c/aq1/set");

  pubs = discovery_for_device(ctx(), test::rgbw());
  const json rgb = config_of(pubs, "homeassistant/light/loxcan_a1b2c3d4/rgbw/config");
  EXPECT_EQ(rgb["schema"], "json");
  EXPECT_EQ(rgb["supported_color_modes"], json::array({"rgbw"}));
  EXPECT_EQ(rgb["brightness_scale"], 100);

  pubs = discovery_for_device(ctx(), test::valve());
  const json v = config_of(pubs, "homeassistant/valve/loxcan_0a0b0c0d/pos/config");
  EXPECT_EQ(v["reports_position"], true);
  EXPECT_EQ(v["command_topic"], "loxcan/valve-0a0b0c0d/pos/set");
}

TEST(Discovery, NamedDeviceKeepsSerialIds) {
  const auto pubs = discovery_for_device(ctx(), test::touch());
  const json t = config_of(pubs, "homeassistant/sensor/loxcan_b0e1f2a3/temp/config");
  EXPECT_EQ(t["state_topic"], "loxcan/touch-kitchen/temp");
  EXPECT_EQ(t["unique_id"], "loxcan_b0e1f2a3_temp");
  EXPECT_EQ(t["device_class"], "temperature");
  EXPECT_EQ(t["unit_of_measurement"], "°C");
  EXPECT_EQ(t["device"]["name"], "touch-kitchen");
}

TEST(Discovery, HiddenChannelsAndCustomPrefix) {
  auto d = test::extension();
  for (auto& c : d.channels) c.publish = c.spec.name == "q1";
  DiscoveryContext c = ctx();
  c.prefix = "ha/disc";
  const auto pubs = discovery_for_device(c, d);
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_EQ(pubs[0].topic, "ha/disc/switch/loxcan_13001234/q1/config");
  EXPECT_TRUE(test::check_discovery(pubs[0].topic, pubs[0].payload, "ha/disc").empty());
}

TEST(Discovery, Bridge) {
  const auto pubs = discovery_for_bridge(ctx(), {"busload", "keepaliveepoch"});
  ASSERT_EQ(pubs.size(), 2u);  // connectivity + busload; keepaliveepoch is not an entity
  const json s = json::parse(pubs[0].payload);
  EXPECT_EQ(s["device_class"], "connectivity");
  EXPECT_EQ(s["payload_on"], "online");
  EXPECT_FALSE(s.contains("availability"));
  const json b = json::parse(pubs[1].payload);
  EXPECT_EQ(b["entity_category"], "diagnostic");
  EXPECT_EQ(b["state_topic"], "loxcan/bridge/stats/busload");
}

// ---- device-based discovery --------------------------------------------------------------------

// A device of `model` as the daemon hands it to the bridge, monitored or emulated.
BridgeDevice device_of(const devices::Model& m, bool emulated) {
  BridgeDevice d;
  d.info.serial = 0x10000000U | m.type;
  d.info.type = m.type;
  d.info.generation = m.generation;
  d.info.model = m.name;
  d.info.firmware = 10031108;
  for (const auto& c : m.channels) {
    const bool output = c.spec.direction == devices::ChannelDirection::output;
    d.channels.push_back({c.spec, true, emulated ? !output : output, ""});
  }
  d.available = true;
  d.emulated = emulated;
  d.identify = !emulated;
  return d;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += "\n  " + e;
  return s;
}

TEST(DeviceDiscovery, EveryModelMonitoredAndEmulatedPassesTheChecker) {
  const auto registry = devices::Registry::builtin();
  std::size_t models = 0, components = 0;
  for (const auto& m : registry.models()) {
    for (bool emulated : {false, true}) {
      const BridgeDevice d = device_of(m, emulated);
      const Publication p = device_discovery(ctx(), d);
      if (m.channels.empty() &&
          emulated) {  // nothing to show: no message (HA refuses an empty one)
        EXPECT_EQ(p.payload, "") << m.name;
        continue;
      }
      EXPECT_TRUE(p.retain);
      EXPECT_EQ(p.qos, 1);
      EXPECT_EQ(p.topic, "homeassistant/device/" + device_node_id(d.info.serial) + "/config");
      const auto errs = test::check_device_discovery(p.topic, p.payload);
      EXPECT_TRUE(errs.empty()) << m.name << (emulated ? " (emulated)" : "") << join(errs) << "\n"
                                << p.payload;
      const json j = json::parse(p.payload);
      // one component per channel, plus the identify button of a real device
      EXPECT_EQ(j["cmps"].size(), m.channels.size() + (emulated ? 0 : 1)) << m.name;
      components += j["cmps"].size();
    }
    ++models;
  }
  EXPECT_GT(models, 30u);
  EXPECT_GT(components, 200u);
  const Publication b = bridge_device_discovery(
      ctx(), {"busload", "rxframes", "errorframes", "rss", "uptime", "keepaliveepoch"});
  EXPECT_TRUE(test::check_device_discovery(b.topic, b.payload).empty())
      << join(test::check_device_discovery(b.topic, b.payload));
}

TEST(DeviceDiscovery, ShapeOriginIdsAndNames) {
  auto d = test::touch();
  d.info.name = "Touch Kitchen";
  d.channels.push_back(
      test::in("touch kitchen light", ValueType::number, Semantic::illuminance, "lx"));
  d.identify = true;
  const json j = json::parse(device_discovery(ctx(), d).payload);
  EXPECT_EQ(j["o"], (json{{"name", "loxcan"}, {"sw_version", "0.1.0"}}));
  EXPECT_EQ(j["dev"]["identifiers"], json::array({"loxcan_b0e1f2a3"}));
  EXPECT_EQ(j["dev"]["via_device"], "loxcan_bridge_loxberry");
  EXPECT_EQ(j["avty_mode"], "all");
  EXPECT_EQ(j["avty"][1]["topic"], "loxcan/touch-kitchen/availability");
  const json& t = j["cmps"]["temp"];
  EXPECT_EQ(t["p"], "sensor");
  EXPECT_EQ(t["unique_id"],
            "loxcan_b0e1f2a3_temp");  // the same as in entity mode: migration keeps entities
  EXPECT_EQ(t["default_entity_id"], "sensor.touch_kitchen_temp");
  EXPECT_FALSE(t.contains("object_id"));
  EXPECT_FALSE(t.contains("device"));                            // shared at the root
  EXPECT_EQ(j["cmps"]["touch-kitchen-light"]["name"], "Light");  // not "Touch Kitchen Light"
  const json& id = j["cmps"]["identify"];
  EXPECT_EQ(id["p"], "button");
  EXPECT_EQ(id["device_class"], "identify");
  EXPECT_EQ(id["command_topic"], "loxcan/touch-kitchen/identify/set");
  d.identify = false;
  EXPECT_FALSE(json::parse(device_discovery(ctx(), d).payload)["cmps"].contains("identify"));
}

TEST(DeviceDiscovery, UniqueIdsMatchEntityMode) {
  for (const auto& d : test::all_devices()) {
    const json j = json::parse(device_discovery(ctx(), d).payload);
    for (const auto& p : discovery_for_device(ctx(), d)) {
      const json e = json::parse(p.payload);
      bool found = false;
      for (const auto& [id, c] : j["cmps"].items()) found |= c["unique_id"] == e["unique_id"];
      EXPECT_TRUE(found) << e["unique_id"];
    }
  }
}

TEST(DeviceDiscovery, RemovedComponentsAreBarePlatforms) {
  const Publication p =
      device_discovery(ctx(), test::dimmer(), "", {{"q9", "switch"}, {"aq1", "light"}});
  const json j = json::parse(p.payload);
  EXPECT_EQ(j["cmps"]["q9"], (json{{"p", "switch"}}));
  EXPECT_EQ(j["cmps"]["aq1"]["p"], "light");  // still there: not replaced by a removal
  EXPECT_TRUE(test::check_device_discovery(p.topic, p.payload).empty());
  EXPECT_EQ(device_components(p.payload),
            (std::vector<std::pair<std::string, std::string>>{{"aq1", "light"}}));
}

TEST(DeviceDiscovery, EntityNames) {
  EXPECT_EQ(entity_name("Touch Kitchen", "Touch Kitchen Temp"), "Temp");
  EXPECT_EQ(entity_name("touch-kitchen", "Touch kitchen temp"), "Temp");
  EXPECT_EQ(entity_name("Touch", "Touchpad"), "Touchpad");  // a longer word, not the device name
  EXPECT_EQ(entity_name("Touch", "Touch"), "Touch");        // nothing would be left
  EXPECT_EQ(entity_name("", "I1"), "I1");
}

TEST(DeviceDiscovery, MigrationHelpers) {
  EXPECT_TRUE(is_live_config(R"({"name":"x"})"));
  EXPECT_FALSE(is_live_config(kMigratePayload));
  EXPECT_FALSE(is_live_config(""));
  EXPECT_EQ(other_mode_filter(ctx(), true, "loxcan_13001234"),
            "homeassistant/+/loxcan_13001234/+/config");
  EXPECT_EQ(other_mode_filter(ctx(), false, "loxcan_13001234"),
            "homeassistant/device/loxcan_13001234/config");
}

TEST(DeviceDiscovery, CheckerRejectsBrokenDevicePayloads) {
  // Each of these breaks one rule of HA's device-based discovery; the checker must see every one,
  // or the all-models test above proves nothing.
  const std::string topic = "homeassistant/device/loxcan_13001234/config";
  const json good = json::parse(device_discovery(ctx(), test::extension()).payload);
  ASSERT_TRUE(test::check_device_discovery(topic, good.dump()).empty());
  ASSERT_TRUE(test::check_device_discovery(topic, "").empty());  // removal
  auto broken = [&](const char* what, auto mutate) {
    json j = good;
    mutate(j);
    EXPECT_FALSE(test::check_device_discovery(topic, j.dump()).empty()) << what;
  };
  broken("no device", [](json& j) { j.erase("dev"); });
  broken("device without ids", [](json& j) { j["dev"].erase("identifiers"); });
  broken("device without name", [](json& j) { j["dev"].erase("name"); });
  broken("no origin", [](json& j) { j.erase("o"); });
  broken("origin without name", [](json& j) { j["o"].erase("name"); });
  broken("unknown origin key", [](json& j) { j["o"]["version"] = "1"; });
  broken("no components", [](json& j) { j.erase("cmps"); });
  broken("empty components", [](json& j) { j["cmps"] = json::object(); });
  broken("component without platform", [](json& j) { j["cmps"]["q1"].erase("p"); });
  broken("unknown platform", [](json& j) { j["cmps"]["q1"]["p"] = "relay"; });
  broken("no unique_id", [](json& j) { j["cmps"]["q1"].erase("unique_id"); });
  broken("same unique_id twice",
         [](json& j) { j["cmps"]["i2"]["unique_id"] = j["cmps"]["i1"]["unique_id"]; });
  broken("switch without command_topic", [](json& j) { j["cmps"]["q1"].erase("command_topic"); });
  broken("object_id", [](json& j) { j["cmps"]["q1"]["object_id"] = "q1"; });
  broken("obj_id abbreviated", [](json& j) { j["cmps"]["q1"]["obj_id"] = "q1"; });
  broken("default_entity_id in another platform",
         [](json& j) { j["cmps"]["q1"]["default_entity_id"] = "sensor.x"; });
  broken("default_entity_id with '-'",
         [](json& j) { j["cmps"]["q1"]["default_entity_id"] = "switch.a-b"; });
  broken("name starts with the device name",
         [](json& j) { j["cmps"]["q1"]["name"] = j["dev"]["name"].get<std::string>() + " Q1"; });
  broken("device overridden in a component", [](json& j) { j["cmps"]["q1"]["dev"] = j["dev"]; });
  broken("option not shareable at the root", [](json& j) { j["unique_id"] = "x"; });
  broken("availability without topic", [](json& j) { j["avty"][0].erase("topic"); });
  broken("bad availability_mode", [](json& j) { j["avty_mode"] = "both"; });
  broken("wildcard in a state topic",
         [](json& j) { j["cmps"]["i1"]["state_topic"] = "loxcan/+/i1"; });
  broken("bad component id", [](json& j) { j["cmps"]["q 1"] = j["cmps"]["q1"]; });
  broken("payload_on not a string", [](json& j) { j["cmps"]["q1"]["payload_on"] = 1; });
  EXPECT_FALSE(
      test::check_device_discovery("homeassistant/sensor/loxcan_13001234/config", good.dump())
          .empty());
  EXPECT_FALSE(test::check_device_discovery(topic, "[1]").empty());
  // abbreviations are understood: the same message abbreviated passes
  json abbreviated = good;
  for (auto& [id, c] : abbreviated["cmps"].items()) {
    c["uniq_id"] = c["unique_id"];
    c.erase("unique_id");
  }
  EXPECT_TRUE(test::check_device_discovery(topic, abbreviated.dump()).empty())
      << join(test::check_device_discovery(topic, abbreviated.dump()));
}

}  // namespace
}  // namespace loxcan::mqtt
