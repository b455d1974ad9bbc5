// Home Assistant discovery: component choice, payload contents, and every generated config
// checked by the independent schema checker (ha_schema.cpp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ha_schema.hpp"
#include "mqtt/discovery.hpp"
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

}  // namespace
}  // namespace loxcan::mqtt
