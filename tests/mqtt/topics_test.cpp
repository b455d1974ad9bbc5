// Topic naming: segments, reserved names, base topic checks, parsing of subscribed topics.
#include "mqtt/topics.hpp"

#include <gtest/gtest.h>

#include "sample_devices.hpp"

namespace loxcan::mqtt {
namespace {

TEST(Topics, SanitizeSegment) {
  struct Row {
    const char* in;
    const char* out;
  } rows[] = {{"DI Extension #2", "di-extension-2"},
              {"relay_ext", "relay-ext"},
              {"a/b%c", "a-b-c"},
              {"  --x--  ", "x"},
              {"", "unnamed"},
              {"%%%", "unnamed"},
              {"Küche", "k-che"},
              {"extension-13001234", "extension-13001234"},
              {"ABC123", "abc123"}};
  for (const auto& r : rows) EXPECT_EQ(sanitize_segment(r.in), r.out) << "input \"" << r.in << "\"";
  EXPECT_EQ(sanitize_segment(std::string(200, 'a')).size(), kMaxSegment);
}

TEST(Topics, ValidSegment) {
  EXPECT_TRUE(is_valid_segment("touch-b0e1f2a3"));
  EXPECT_FALSE(is_valid_segment("touch_b0"));
  EXPECT_FALSE(is_valid_segment("Touch"));
  EXPECT_FALSE(is_valid_segment(""));
  EXPECT_FALSE(is_valid_segment("a b"));
}

TEST(Topics, DeviceSegment) {
  EXPECT_EQ(device_segment(test::info(0x13001234, "di_extension")), "di-extension-13001234");
  EXPECT_EQ(device_segment(test::info(0x12AB34CD, "relayext")), "relayext-12ab34cd");
  EXPECT_EQ(device_segment(test::info(0x1, "x", "Living Room Dimmer")), "living-room-dimmer");
  EXPECT_EQ(device_segment(test::info(0xb0e1f2a3, "")), "device-b0e1f2a3");
  EXPECT_EQ(device_segment(test::info(0xb0e1f2a3, "x", "Bridge")), "bridge-b0e1f2a3");  // reserved
}

TEST(Topics, ChannelSegmentReserved) {
  EXPECT_EQ(channel_segment("Q1"), "q1");
  EXPECT_EQ(channel_segment("availability"), "availability-ch");
  EXPECT_EQ(channel_segment("set"), "set-ch");
  EXPECT_EQ(channel_segment("get"), "get-ch");
  EXPECT_EQ(channel_segment("wind_speed"), "wind-speed");
}

TEST(Topics, BaseTopicCheck) {
  EXPECT_EQ(check_base_topic("loxcan"), "");
  EXPECT_EQ(check_base_topic("home/loxcan-garage"), "");
  for (const char* bad : {"", "/loxcan", "loxcan/", "a//b", "lox+", "lox#", "lox can", "lox%"}) {
    EXPECT_NE(check_base_topic(bad), "") << bad;
  }
}

TEST(Topics, Builders) {
  TopicScheme t("home/loxcan");
  EXPECT_EQ(t.device("touch-kitchen"), "home/loxcan/touch-kitchen");
  EXPECT_EQ(t.channel("touch-kitchen", "temp"), "home/loxcan/touch-kitchen/temp");
  EXPECT_EQ(t.set("ext", "q1"), "home/loxcan/ext/q1/set");
  EXPECT_EQ(t.availability("ext"), "home/loxcan/ext/availability");
  EXPECT_EQ(t.bridge("stats/busload"), "home/loxcan/bridge/stats/busload");
  EXPECT_EQ(t.set_filter(), "home/loxcan/+/+/set");
}

TEST(Topics, Parse) {
  TopicScheme t("loxcan");
  using K = TopicScheme::Kind;
  struct Row {
    const char* topic;
    K kind;
    const char* dev;
    const char* ch;
  } rows[] = {
      {"loxcan/ext/q1/set", K::set, "ext", "q1"},
      {"loxcan/ext/q1/get", K::get, "ext", "q1"},
      {"loxcan/bridge/request/republish", K::request, "", "republish"},
      {"loxcan/ext/q1", K::other, "", ""},
      {"loxcan/ext/q1/set/x", K::other, "", ""},
      {"loxcanx/ext/q1/set", K::other, "", ""},
      {"other/ext/q1/set", K::other, "", ""},
      {"loxcan", K::other, "", ""},
      {"loxcan/", K::other, "", ""},
      {"loxcan/ext/q1/put", K::other, "", ""},
  };
  for (const auto& r : rows) {
    const auto p = t.parse(r.topic);
    EXPECT_EQ(p.kind, r.kind) << r.topic;
    EXPECT_EQ(p.device, r.dev) << r.topic;
    EXPECT_EQ(p.channel, r.ch) << r.topic;
  }
  EXPECT_EQ(TopicScheme("a/b").parse("a/b/dev/ch/set").device, "dev");
}

}  // namespace
}  // namespace loxcan::mqtt
