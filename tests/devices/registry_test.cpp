// The registry: every type of LOXONE_CAN.md 8.1 is known, names and channels are well-formed.
#include "devices/registry.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace loxcan::devices;

TEST(Registry, FindsModelsByTypeAndName) {
  const auto r = Registry::builtin();
  ASSERT_NE(r.find(Protocol::nat, 0x8003), nullptr);
  EXPECT_EQ(r.find(Protocol::nat, 0x8003)->name, "touch");
  EXPECT_EQ(r.find(Protocol::legacy, 0xB)->name, "relay_extension");
  EXPECT_EQ(r.find(Protocol::nat, 0x14)->generation, Generation::nat_extension);
  EXPECT_EQ(r.find(Protocol::nat, 0x800C)->generation, Generation::tree_device);
  EXPECT_EQ(r.find(Protocol::legacy, 0x1)->generation, Generation::legacy);
  EXPECT_EQ(r.find("di_extension"), r.find(Protocol::nat, 0x14));
  EXPECT_EQ(r.find(Protocol::nat, 0x9999), nullptr);
  EXPECT_EQ(r.find("touch_tree"), nullptr);
}

TEST(Registry, ResolvesNamesAndTypeIds) {
  const auto r = Registry::builtin();
  EXPECT_EQ(r.resolve("0x8003"), r.find("touch"));
  EXPECT_EQ(r.resolve("0X800c"), r.find("rgbw_dimmer"));
  EXPECT_EQ(r.resolve("0xB"), r.find("relay_extension"));  // 1..F = legacy
  EXPECT_EQ(r.resolve("0x13"), r.find("tree_extension"));
  EXPECT_EQ(r.resolve("8003"), nullptr);  // 0x prefix required
  EXPECT_EQ(r.resolve("0x"), nullptr);
  EXPECT_EQ(r.resolve("0x12345"), nullptr);
  EXPECT_EQ(unknown_model_name(Protocol::nat, 0x8015), "unknown_8015");
  EXPECT_EQ(unknown_model_name(Protocol::legacy, 0xE), "unknown_legacy_e");
  EXPECT_EQ(type_id_string(Protocol::nat, 0x14), "0x0014");
  EXPECT_EQ(type_id_string(Protocol::legacy, 0xB), "0xB");
}

TEST(Registry, CoversEveryDocumentedTreeDeviceAndExtension) {
  const auto r = Registry::builtin();
  for (std::uint16_t t = 0x8001; t <= 0x8023; ++t) {
    EXPECT_NE(r.find(Protocol::nat, t), nullptr) << std::hex << t;
  }
  for (std::uint16_t t : {0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x20}) {
    EXPECT_NE(r.find(Protocol::nat, t), nullptr) << std::hex << t;
  }
  for (std::uint16_t t = 0x1; t <= 0xE; ++t) {
    EXPECT_NE(r.find(Protocol::legacy, t), nullptr) << std::hex << t;
  }
}

TEST(Registry, NamesAndChannelsAreUniqueAndTopicSafe) {
  const auto r = Registry::builtin();
  std::set<std::string> names;
  for (const auto& m : r.models()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    std::set<std::string> channels;
    for (const auto& c : m.channels) {
      EXPECT_TRUE(channels.insert(c.spec.name).second) << m.name << "." << c.spec.name;
      for (char ch : c.spec.name) {
        EXPECT_TRUE((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')
            << m.name << "." << c.spec.name;
      }
      if (c.spec.type == ValueType::number) {
        EXPECT_LT(c.spec.min, c.spec.max) << m.name << "." << c.spec.name;
      }
    }
    if (m.documented && m.special == Special::none) {
      EXPECT_FALSE(m.channels.empty()) << m.name;
    }
  }
}

TEST(Registry, ChannelTablesMatchTheSpec) {
  const auto r = Registry::builtin();
  const Model* di = r.find("di_extension");
  EXPECT_EQ(di->channels.size(), 40u);  // i1..i20, f1..f20
  EXPECT_EQ(di->find("i20")->binding.bit, 19);
  EXPECT_EQ(di->find("f20")->binding.index, 19);
  const Model* touch = r.find("touch");
  EXPECT_EQ(touch->find("temperature")->spec.unit, "°C");
  EXPECT_EQ(touch->find("bottom_right")->binding.bit, 4);
  EXPECT_EQ(touch->find("buzzer")->spec.direction, ChannelDirection::output);
  EXPECT_EQ(r.find("touch_pure")->find("buzzer")->binding.bit, 1);
  EXPECT_EQ(r.find("relay_extension")->channels.size(), 15u);  // q1..q14 + temperature
  EXPECT_EQ(r.find("weather_station")->find("wind")->spec.unit, "km/h");
  EXPECT_EQ(r.find("rgbw_dimmer")->find("rgbw")->spec.type, ValueType::rgbw);
  EXPECT_EQ(r.find("nano_2_relay")->find("q2")->binding.bit, 1);
  EXPECT_FALSE(r.find("touch_pure_co2")->documented);
}
