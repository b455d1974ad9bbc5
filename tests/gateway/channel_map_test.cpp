// ChannelMap: the YAML channel overrides applied between the device models and MQTT.
#include "gateway/wiring/channel_map.hpp"

#include <gtest/gtest.h>

#include "devices/registry.hpp"
#include "gateway/config/config.hpp"

namespace loxcan::wiring {
namespace {

constexpr const char* kYaml = R"(
devices:
  - serial: "14111775"
    type: di_extension
    name: hall
    channels:
      i1: {name: door, invert: true}
      i2: {publish: false}
  - serial: "19000001"
    type: ai_extension
    name: tank
    channels:
      ai1: {name: level, unit: "%", scale: 10, offset: -5}
)";

class ChannelMapTest : public ::testing::Test {
 protected:
  devices::Registry registry = devices::Registry::builtin();
  config::Config config = config::parse(kYaml, "test.yaml", registry);
  ChannelMap di{config.devices[0].model, &config.devices[0]};
  ChannelMap ai{config.devices[1].model, &config.devices[1]};
};

TEST_F(ChannelMapTest, InvertsBooleansBothWays) {
  const MappedChannel* door = di.by_model_name("i1");
  ASSERT_NE(door, nullptr);
  EXPECT_EQ(door->public_spec.name, "door");
  EXPECT_EQ(di.to_public(door, true), devices::ChannelValue(false));
  EXPECT_EQ(di.to_model(door, false), devices::ChannelValue(true));
}

TEST_F(ChannelMapTest, ScalesNumbersAndTheirRangeBothWays) {
  const MappedChannel* level = ai.by_model_name("ai1");
  ASSERT_NE(level, nullptr);
  EXPECT_EQ(ai.to_public(level, 5.0), devices::ChannelValue(45.0));
  EXPECT_EQ(ai.to_model(level, 45.0), devices::ChannelValue(5.0));
  EXPECT_EQ(level->public_spec.unit, "%");
  EXPECT_DOUBLE_EQ(level->public_spec.min, level->model_spec.min * 10 - 5);
  EXPECT_DOUBLE_EQ(level->public_spec.max, level->model_spec.max * 10 - 5);
}

TEST_F(ChannelMapTest, BridgeChannelsKeepModelNamesAndCarryTopicNames) {
  const auto channels = di.bridge_channels(/*emulated=*/false);
  auto it = std::find_if(channels.begin(), channels.end(),
                         [](const auto& c) { return c.spec.name == "i1"; });
  ASSERT_NE(it, channels.end());
  EXPECT_EQ(it->name, "door");
  EXPECT_FALSE(it->writable) << "inputs of a monitored device are read-only";
  auto hidden = std::find_if(channels.begin(), channels.end(),
                             [](const auto& c) { return c.spec.name == "i2"; });
  ASSERT_NE(hidden, channels.end());
  EXPECT_FALSE(hidden->publish);
}

TEST_F(ChannelMapTest, EmulatedInputsAreWritableAndOutputsAreNot) {
  const auto inputs = di.bridge_channels(/*emulated=*/true);
  EXPECT_TRUE(std::all_of(inputs.begin(), inputs.end(), [](const auto& c) { return c.writable; }));
  const auto* relay = registry.find("relay_extension");
  ChannelMap relays(relay, nullptr);
  const auto outputs = relays.bridge_channels(/*emulated=*/false);
  ASSERT_FALSE(outputs.empty());
  EXPECT_TRUE(outputs.front().writable) << "a monitored device's outputs are commanded over MQTT";
  EXPECT_FALSE(relays.bridge_channels(/*emulated=*/true).front().writable);
}

TEST_F(ChannelMapTest, UnknownChannelsAndModelsPassThrough) {
  ChannelMap none(nullptr, nullptr);
  EXPECT_EQ(none.by_model_name("dmx12"), nullptr);
  EXPECT_EQ(none.to_public(nullptr, 3.0), devices::ChannelValue(3.0));
  EXPECT_TRUE(none.bridge_channels(false).empty());
}

}  // namespace
}  // namespace loxcan::wiring
