// Payload codec: state encoding and the command parser (table-driven, each row named).
#include "mqtt/payload.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bad_commands.hpp"
#include "mqtt/topics.hpp"
#include "sample_devices.hpp"

namespace loxcan::mqtt {
namespace {

using devices::ChannelValue;
using devices::Rgbw;
using nlohmann::json;

const devices::ChannelSpec& spec_of(const BridgeDevice& d, const std::string& ch) {
  for (const auto& c : d.channels) {
    if (c.spec.name == ch) return c.spec;
  }
  throw std::runtime_error("no channel " + ch);
}

TEST(Payload, EncodeState) {
  struct Row {
    ChannelValue v;
    const char* out;
  } rows[] = {
      {true, "1"},
      {false, "0"},
      {22.5, "22.5"},
      {-3.0, "-3"},
      {0.25, "0.25"},
      {-0.0, "0"},
      {1e6, "1000000"},
      {1.5e-7, "0.00000015"},
      {-1234567890123.5, "-1234567890123.5"},
      {std::uint32_t{5}, "5"},
      {std::string("hello world"), "hello world"},
      {Rgbw{100, 47, 0, 16},
       R"({"brightness":100,"color":{"b":0,"g":120,"r":255,"w":41},"state":"ON"})"},
      {Rgbw{0, 0, 0, 0}, R"({"brightness":0,"color":{"b":0,"g":0,"r":0,"w":0},"state":"OFF"})"},
  };
  for (const auto& r : rows) EXPECT_EQ(encode_state(r.v), r.out) << r.out;
}

TEST(Payload, DeviceJson) {
  std::map<std::string, ChannelValue> values{
      {"i1", true}, {"aq1", 42.5}, {"temp", 21.0}, {"rgbw", Rgbw{80, 0, 0, 0}}};
  const json j = json::parse(encode_device_json(values));
  EXPECT_EQ(j["i1"], 1);
  EXPECT_EQ(j["aq1"], 42.5);
  EXPECT_EQ(encode_device_json({{"temp", 21.0}}), R"({"temp":21})");
  EXPECT_EQ(j["rgbw"]["brightness"], 80);
  EXPECT_EQ(j["rgbw"]["color"]["r"], 255);
}

TEST(Payload, RgbwLightRoundTrip) {
  for (const Rgbw c :
       {Rgbw{100, 0, 0, 0}, Rgbw{80, 40, 20, 10}, Rgbw{0, 0, 0, 55}, Rgbw{33, 33, 33, 33}}) {
    const auto r = parse_command(test::out("rgbw", devices::ValueType::rgbw).spec,
                                 rgbw_to_light(c).dump(), nullptr);
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_EQ(std::get<Rgbw>(*r.value), c);
  }
}

struct Good {
  const char* name;
  devices::ChannelSpec spec;
  const char* payload;
  ChannelValue expected;
  std::optional<ChannelValue> current;
};

TEST(Payload, GoodCommands) {
  const auto relay = test::out("q1", devices::ValueType::boolean).spec;
  const auto volts = spec_of(test::extension(), "aq1");
  const auto dim = spec_of(test::dimmer(), "aq1");
  const auto pos = spec_of(test::valve(), "pos");
  const auto light = spec_of(test::rgbw(), "rgbw");
  const auto mask = spec_of(test::extension(), "mask");
  const auto text = spec_of(test::extension(), "label");
  const Good rows[] = {
      {"bool 1", relay, "1", true, {}},
      {"bool 0", relay, "0", false, {}},
      {"bool ON", relay, "ON", true, {}},
      {"bool off", relay, "off", false, {}},
      {"bool True", relay, "True", true, {}},
      {"bool false", relay, "false", false, {}},
      {"bool spaces", relay, " 1\n", true, {}},
      {"bool json state", relay, R"({"state":"ON"})", true, {}},
      {"bool json value", relay, R"({"value":0})", false, {}},
      {"bool json bool", relay, R"({"value":true})", true, {}},
      {"bool json string", relay, R"("on")", true, {}},
      {"toggle from on", relay, "TOGGLE", false, ChannelValue{true}},
      {"toggle unknown", relay, "toggle", true, {}},
      {"number", volts, "5.5", 5.5, {}},
      {"number min", volts, "0", 0.0, {}},
      {"number max", volts, "10", 10.0, {}},
      {"number plus", volts, "+2", 2.0, {}},
      {"number exp", volts, "1e-1", 0.1, {}},
      {"number json", volts, R"({"value":7.25})", 7.25, {}},
      {"dimmer ON", dim, "ON", 100.0, {}},
      {"dimmer off", dim, "off", 0.0, {}},
      {"valve OPEN", pos, "OPEN", 100.0, {}},
      {"valve CLOSE", pos, "close", 0.0, {}},
      {"bitmask", mask, "4095", std::uint32_t{4095}, {}},
      {"bitmask json", mask, R"({"value":3})", std::uint32_t{3}, {}},
      {"text", text, "Hello Küche", std::string("Hello Küche"), {}},
      {"text keeps spaces", text, " a b ", std::string(" a b "), {}},
      {"rgbw plain", light, "10,20,30,40", Rgbw{10, 20, 30, 40}, {}},
      {"rgbw off", light, R"({"state":"OFF"})", Rgbw{}, ChannelValue{Rgbw{50, 50, 0, 0}}},
      {"rgbw on, nothing known", light, R"({"state":"ON"})", Rgbw{0, 0, 0, 100}, {}},
      {"rgbw brightness only", light, R"({"brightness":40})", Rgbw{40, 20, 0, 0},
       ChannelValue{Rgbw{80, 40, 0, 0}}},
      {"rgbw color only", light, R"({"color":{"r":0,"g":255,"b":0,"w":0}})", Rgbw{0, 80, 0, 0},
       ChannelValue{Rgbw{80, 40, 0, 0}}},
      {"rgbw full",
       light,
       R"({"state":"ON","brightness":50,"color":{"r":255,"g":0,"b":0,"w":255},"transition":2})",
       Rgbw{50, 0, 0, 50},
       {}},
  };
  for (const auto& r : rows) {
    const auto res = parse_command(r.spec, r.payload, r.current ? &*r.current : nullptr);
    ASSERT_TRUE(res.ok()) << r.name << ": " << to_string(res.error) << " " << res.detail;
    EXPECT_EQ(*res.value, r.expected) << r.name;
  }
}

TEST(Payload, BadCommandsAreRejectedWithTheRightError) {
  const auto devs = test::all_devices();
  int checked = 0;
  for (const auto& b : test::bad_commands()) {
    const devices::ChannelSpec* spec = nullptr;
    for (const auto& d : devs) {
      for (const auto& c : d.channels) {
        if (device_segment(d.info) == b.device && c.spec.name == b.channel && c.writable)
          spec = &c.spec;
      }
    }
    if (!spec) continue;  // topic-level errors are the bridge's (test_bridge.cpp)
    const auto r = parse_command(*spec, b.payload, nullptr);
    EXPECT_EQ(r.error, b.error) << b.device << "/" << b.channel << " payload \""
                                << printable_payload(b.payload) << "\": got " << to_string(r.error)
                                << " (" << r.detail << ")";
    EXPECT_FALSE(r.detail.empty());
    ++checked;
  }
  EXPECT_GE(checked, 50);
}

TEST(Payload, Utf8) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(
      is_valid_utf8("K\xc3\xbc"
                    "che \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8(std::string("a\0b", 3)));
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
}

TEST(Payload, Printable) {
  EXPECT_EQ(printable_payload("ON"), "ON");
  EXPECT_EQ(printable_payload(std::string("\xff\x01"
                                          "a\\",
                                          4)),
            "\\xff\\x01a\\\\");
  EXPECT_EQ(printable_payload("K\xc3\xbc"
                              "che"),
            "K\xc3\xbc"
            "che");
  EXPECT_EQ(printable_payload(std::string(300, 'x'), 10), "xxxxxxxxxx...(300 bytes)");
}

}  // namespace
}  // namespace loxcan::mqtt
