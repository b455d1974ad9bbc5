// Per-instance defaults of loxcan-gateway@<instance>.service (`--instance`): two gateways on one
// host and one broker must differ in base topic, MQTT client id, HA bridge id and state file
// without a single line in their YAML files, and the YAML still wins over every such default.
#include <gtest/gtest.h>

#include "gateway/config/config.hpp"
#include "gateway/wiring/options_map.hpp"
#include "mqtt/options.hpp"

namespace {

using loxcan::config::Config;

const loxcan::devices::Registry& registry() {
  static const auto r = loxcan::devices::Registry::builtin();
  return r;
}

constexpr const char* kMinimal = "interfaces:\n  - name: vcan0\n    role: link\n";

TEST(Instance, NoInstanceKeepsTheSingleGatewayDefaults) {
  Config c = loxcan::config::parse(kMinimal, "loxcan.yaml", registry());
  EXPECT_EQ(c.instance, "");
  EXPECT_EQ(c.mqtt.base_topic, "loxcan");
  EXPECT_EQ(c.mqtt.node_id, "");
  EXPECT_EQ(c.emulation.state_file, "/var/lib/loxcan/state.yaml");
}

TEST(Instance, DefaultsFollowTheInstanceName) {
  Config c = loxcan::config::parse(kMinimal, "bus1.yaml", registry(), "bus1");
  EXPECT_EQ(c.instance, "bus1");
  EXPECT_EQ(c.mqtt.base_topic, "loxcan/bus1");
  EXPECT_EQ(c.emulation.state_file, "/var/lib/loxcan/bus1/state.yaml");
  ASSERT_GE(c.mqtt.node_id.size(), 5u);
  EXPECT_EQ(c.mqtt.node_id.substr(c.mqtt.node_id.size() - 5), "-bus1");
}

TEST(Instance, TwoInstancesGetDistinctClientAndBridgeIds) {
  Config a = loxcan::config::parse(kMinimal, "bus1.yaml", registry(), "bus1");
  Config b = loxcan::config::parse(kMinimal, "bus2.yaml", registry(), "bus2");
  auto oa = loxcan::wiring::mqtt_options(a.mqtt), ob = loxcan::wiring::mqtt_options(b.mqtt);
  EXPECT_NE(loxcan::mqtt::effective_client_id(oa), loxcan::mqtt::effective_client_id(ob));
  EXPECT_NE(loxcan::mqtt::effective_node_id(oa), loxcan::mqtt::effective_node_id(ob));
  EXPECT_NE(oa.base_topic, ob.base_topic);
  EXPECT_FALSE(loxcan::wiring::same_mqtt(a.mqtt, b.mqtt));
}

TEST(Instance, TheFileWinsOverInstanceDefaults) {
  Config c = loxcan::config::parse(
      "mqtt:\n  base_topic: upstairs\nemulation:\n  state_file: /srv/s.yaml\n", "bus1.yaml",
      registry(), "bus1");
  EXPECT_EQ(c.mqtt.base_topic, "upstairs");
  EXPECT_EQ(c.emulation.state_file, "/srv/s.yaml");
}

TEST(Instance, DiagnosticsStillNameFileLineColumn) {
  try {
    loxcan::config::parse("devices:\n  - serial: \"13G1\"\n", "bus2.yaml", registry(), "bus2");
    FAIL() << "no ConfigError";
  } catch (const loxcan::config::ConfigError& e) {
    ASSERT_EQ(e.errors().size(), 1u);
    EXPECT_EQ(e.errors()[0].to_string(),
              "bus2.yaml:2:13: devices[0].serial: expected 8 hex digits, got '13G1'");
  }
}

TEST(Instance, NamesAreTopicLevelsAndFileNames) {
  using loxcan::config::valid_instance_name;
  EXPECT_TRUE(valid_instance_name("bus1"));
  EXPECT_TRUE(valid_instance_name("link_B-2"));
  EXPECT_FALSE(valid_instance_name(""));
  EXPECT_FALSE(valid_instance_name("a/b"));
  EXPECT_FALSE(valid_instance_name("a+"));
  EXPECT_FALSE(valid_instance_name("a b"));
  EXPECT_FALSE(valid_instance_name("..."));
  EXPECT_FALSE(valid_instance_name(std::string(33, 'a')));
}

}  // namespace
