// Model codec, table-driven: one row per case, body in, channel values out (and back).
#include "devices/codec.hpp"

#include <gtest/gtest.h>

#include <utility>

#include "devices/registry.hpp"

using namespace loxcan::devices;
namespace cp = loxcan::canproto;

namespace {

const Registry& reg() {
  static const auto r = Registry::builtin();
  return r;
}

cp::AnalogValue analog(std::uint8_t idx, std::uint8_t flags, std::int64_t raw) {
  cp::AnalogValue a;
  a.index = idx;
  a.flags = flags;
  a.raw = static_cast<std::uint32_t>(raw);
  return a;
}

std::string decoded(const std::string& model, const cp::NatBody& body, bool from_device,
                    const ChannelStates& current = {}) {
  std::vector<DecodedValue> out;
  decode_nat(*reg().find(model), body, from_device, current, out);
  std::string s;
  for (const auto& v : out) {
    s += (s.empty() ? "" : " ") + v.channel + "=" + to_plain(v.value) +
         (v.unit.empty() ? "" : v.unit);
  }
  return s;
}

std::string decoded_legacy(const std::string& model, const cp::LegacyBody& body, bool from_device,
                           std::optional<std::uint8_t> hw = std::nullopt) {
  std::vector<DecodedValue> out;
  DecodeScratch scratch;
  decode_legacy(*reg().find(model), body, from_device, hw, scratch, out);
  std::string s;
  for (const auto& v : out) s += (s.empty() ? "" : " ") + v.channel + "=" + to_plain(v.value);
  return s;
}

}  // namespace

struct NatRow {
  const char* name;
  const char* model;
  cp::NatBody body;
  bool from_device;
  const char* expected;
};

TEST(Codec, NatRows) {
  const NatRow rows[] = {
      {"touch temperature", "touch", analog(0, 0x15, 22500), true, "temperature=22.5°C"},
      {"touch negative", "touch", analog(0, 0x15, -5250), true, "temperature=-5.25°C"},
      {"touch humidity", "touch", analog(1, 0x15, 45500), true, "humidity=45.5%"},
      {"touch zones", "touch", cp::DigitalValue{0, 0x05}, true,
       "zones=5 top_left=1 top_right=0 center=1 bottom_left=0 bottom_right=0"},
      {"touch buzzer command", "touch", cp::DigitalValue{0, 0x01}, false, "buzzer=1"},
      {"touch other index", "touch", cp::DigitalValue{1, 0x01}, true, ""},
      {"di inputs", "di_extension", cp::DigitalValue{0, 0x80005}, true,
       "i1=1 i2=0 i3=1 i4=0 i5=0 i6=0 i7=0 i8=0 i9=0 i10=0 i11=0 i12=0 i13=0 i14=0 i15=0 i16=0 "
       "i17=0 i18=0 i19=0 i20=1"},
      {"di frequency", "di_extension", cp::FrequencyValue{3, 50}, true, "f4=50Hz"},
      {"di ignores commands", "di_extension", cp::DigitalValue{0, 1}, false, ""},
      {"ai volts", "ai_extension", analog(0, 5, 5000), true, "ai1=5V"},
      {"ao command", "ao_extension", analog(2, 5, 7500), false, "aq3=7.5V"},
      {"valve report", "valve_actuator", analog(0, 0, 40), true, "position=40%"},
      {"valve command", "valve_actuator", analog(0, 0, 60), false, "position=60%"},
      {"motion", "motion_sensor", cp::DigitalValue{0, 0x10}, true, "motion=1"},
      {"motion led", "motion_sensor", analog(1, 0, 2), false, "led=2"},
      {"siren tamper vs outputs", "alarm_siren", cp::DigitalValue{0, 1}, true, "tamper=1"},
      {"siren outputs", "alarm_siren", cp::DigitalValue{0, 2}, false, "strobe=0 sound=1"},
      {"weather", "weather_station", cp::DigitalValue{0, 6}, true, "rain=0 storm=1 sunshine=1"},
      {"weather wind", "weather_station", analog(1, 8, 125), true, "wind=12.5km/h"},
      {"rcs co2", "room_comfort_sensor", analog(2, 0, 650), true, "co2=650ppm"},
      {"rcs level", "room_comfort_sensor", cp::DigitalValue{0, 4}, true, "co2_level=4"},
      {"leaf echo of outputs", "leaf", analog(1, 0, 55), true, "fan_speed=55%"},
      {"rgbw 0x84", "rgbw_dimmer", cp::RgbwValue{0, 100, 50, 0, 0}, false, "rgbw=100,50,0,0%"},
      {"spot ww", "led_spot_ww", cp::RgbwValue{0, 0, 0, 0, 70}, false, "white=70%"},
      {"tree ext can errors", "tree_extension", cp::CanErrorReply{{1, 2, 128, 6}}, true,
       "left_errors=6 left_rec=2 left_tec=128"},
      {"nano relay", "nano_2_relay", cp::DigitalValue{0, 2}, false, "q1=0 q2=1"},
      {"unused flags", "touch", analog(0, 4, 1), true, ""},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(decoded(r.model, r.body, r.from_device), r.expected) << r.name;
  }
}

TEST(Codec, CompositeBodiesAndPartialWhite) {
  cp::CompositeRgbw c;
  c.r = 10;
  c.w = 90;
  EXPECT_EQ(decoded("led_spot_rgbw", c, false), "rgbw=10,0,0,90%");
  cp::CompositeWhite w;
  w.value = {0xFF, 20, 0xFF, 0xFF};
  ChannelStates current{{"rgbw", Rgbw{1, 2, 3, 4}, "%", 0}};
  EXPECT_EQ(decoded("rgbw_dimmer", w, false, current), "rgbw=1,20,3,4%");
  cp::CompositeRgbwMagic m;
  m.rgbw.g = 33;
  EXPECT_EQ(decoded("led_ceiling_light", m, false), "rgbw=0,33,0,0%");
}

TEST(Codec, LegacyRows) {
  cp::LegacyAnalogInputs ai;
  ai.raw = {1000, 500, 0, 1023};
  EXPECT_EQ(decoded_legacy("extension", ai, true), "ai1=10 ai2=5 ai3=0 ai4=10.23");
  EXPECT_EQ(decoded_legacy("relay_extension", cp::LegacyOutputs{0x2001}, true),
            "q1=1 q2=0 q3=0 q4=0 q5=0 q6=0 q7=0 q8=0 q9=0 q10=0 q11=0 q12=0 q13=0 q14=1");
  EXPECT_EQ(decoded_legacy("extension", cp::LegacyDigitalInputs{0x3}, false), "");
  cp::LegacyTemperature t;
  t.value = 415;
  EXPECT_EQ(decoded_legacy("relay_extension", t, true, 2), "temperature=41.5");
  cp::LegacyGeneric f{0x51, 25, 0, 0x00FFF400};
  EXPECT_EQ(decoded_legacy("extension", f, true), "f5=25");
  cp::LegacyGeneric ow{0x66, 2, 0x0815, 0};  // DS18B20: D2 21 + D3 8/16
  EXPECT_EQ(decoded_legacy("onewire_extension", ow, true), "t3=21.5");
  cp::LegacyGeneric mb{0x5C, 3, 40001, 0x01000000};  // big-endian 1
  EXPECT_EQ(decoded_legacy("modbus_extension", mb, true), "a3_r40001=1");
  cp::LegacyGeneric cfg{0x69, 0x03, 0, 9600};
  EXPECT_EQ(decoded_legacy("rs232_extension", cfg, false), "config=9600 8N1");
  cp::LegacyPacket dmx{0x0D, {0x02, 0x00, 11, 0x00, 100, 50, 25, 10}, false};
  EXPECT_EQ(decoded_legacy("dmx_extension", dmx, false), "dmx12=100,50,25,10");
}

TEST(Codec, SerialSendSpansFrames) {
  std::vector<DecodedValue> out;
  DecodeScratch scratch;
  const Model& m = *reg().find("rs485_extension");
  // 6 bytes "ABCDEF": first frame carries 4, the second (index 1) the rest at offset 4.
  decode_legacy(m, cp::LegacyGeneric{0x71, 0, 0x0006, 0x44434241}, false, {}, scratch, out);
  EXPECT_TRUE(out.empty());
  decode_legacy(m, cp::LegacyGeneric{0x71, 1, 0x4645, 0}, false, {}, scratch, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(to_plain(out[0].value), "414243444546");
}

TEST(Codec, EncodeOutputs) {
  ChannelStates current{{"strobe", true, "", 0}};
  auto siren = encode_output(*reg().find("alarm_siren"), "sound", true, current);
  ASSERT_TRUE(siren);
  auto* d = std::get_if<cp::DigitalValue>(&std::get<cp::NatBody>(*siren));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->bitmask, 0x3u);

  auto aq = encode_output(*reg().find("ao_extension"), "aq2", 2.5, {});
  ASSERT_TRUE(aq);
  auto* a = std::get_if<cp::AnalogValue>(&std::get<cp::NatBody>(*aq));
  EXPECT_EQ(a->index, 1);
  EXPECT_DOUBLE_EQ(a->value(), 2.5);

  auto pos = encode_output(*reg().find("valve_actuator"), "position", 40.0, {});
  EXPECT_EQ(std::get<cp::AnalogValue>(std::get<cp::NatBody>(*pos)).flags, 0);
  EXPECT_EQ(std::get<cp::AnalogValue>(std::get<cp::NatBody>(*pos)).raw, 40u);

  auto relay = encode_output(*reg().find("relay_extension"), "q14", true, {{"q1", true, "", 0}});
  EXPECT_EQ(std::get<cp::LegacyOutputs>(std::get<cp::LegacyBody>(*relay)).bitmask, 0x2001u);

  auto light = encode_output(*reg().find("rgbw_dimmer"), "rgbw", Rgbw{100, 0, 50, 0}, {});
  auto& rgbw = std::get<cp::RgbwValue>(std::get<cp::NatBody>(*light));
  EXPECT_EQ(rgbw.r, 100);
  EXPECT_EQ(rgbw.b, 50);

  auto ao = encode_output(*reg().find("extension"), "aq1", 5.0, {{"aq4", 10.0, "V", 0}});
  auto& raw = std::get<cp::LegacyAnalogOutputs>(std::get<cp::LegacyBody>(*ao)).raw;
  EXPECT_EQ(raw[0], 500);
  EXPECT_EQ(raw[3], 1000);
}

TEST(Codec, EncodeErrors) {
  const Model& touch = *reg().find("touch");
  EXPECT_EQ(encode_output(touch, "nope", true, {}).error(), CommandError::unknown_channel);
  EXPECT_EQ(encode_output(touch, "temperature", 1.0, {}).error(), CommandError::not_an_output);
  EXPECT_EQ(encode_output(touch, "buzzer", 1.0, {}).error(), CommandError::wrong_type);
  EXPECT_EQ(encode_output(*reg().find("valve_actuator"), "position", 101.0, {}).error(),
            CommandError::out_of_range);
  EXPECT_EQ(encode_output(*reg().find("rgbw_dimmer"), "rgbw", Rgbw{101, 0, 0, 0}, {}).error(),
            CommandError::out_of_range);
}

TEST(Codec, ParsePlain) {
  EXPECT_EQ(parse_plain(ValueType::boolean, "1"), ChannelValue{true});
  EXPECT_EQ(parse_plain(ValueType::boolean, "off"), ChannelValue{false});
  EXPECT_FALSE(parse_plain(ValueType::boolean, "2"));
  EXPECT_EQ(parse_plain(ValueType::number, "-5.25"), ChannelValue{-5.25});
  EXPECT_FALSE(parse_plain(ValueType::number, "5V"));
  EXPECT_EQ(parse_plain(ValueType::rgbw, "100,50,0,0"), ChannelValue{(Rgbw{100, 50, 0, 0})});
  EXPECT_FALSE(parse_plain(ValueType::rgbw, "100,50,0"));
  EXPECT_FALSE(parse_plain(ValueType::rgbw, "100,50,0,0,"));
  EXPECT_EQ(parse_plain(ValueType::bitmask, "17"), ChannelValue{17u});
}

// ---- DecodePlan: the hot path selects exactly what decode_nat()/decode_legacy() decode ----------

namespace {

template <class Variant, std::size_t... I>
std::vector<Variant> every_alternative(std::index_sequence<I...>) {
  return {Variant{std::in_place_index<I>}...};
}

std::vector<cp::NatBody> nat_bodies() {
  auto out =
      every_alternative<cp::NatBody>(std::make_index_sequence<std::variant_size_v<cp::NatBody>>{});
  for (std::uint8_t idx : {0, 1, 2, 3, 5, 19, 20}) {
    for (std::uint32_t mask : {0x0u, 0x1u, 0x2u, 0x5u, 0x1Fu, 0x80005u, 0xFFFFFFFFu}) {
      out.push_back(cp::DigitalValue{idx, mask});
    }
    out.push_back(analog(idx, 0x15, 22500));
    out.push_back(analog(idx, 0, 60));
    out.push_back(analog(idx, 4, 1));  // unused flags: NaN, no value
    out.push_back(cp::FrequencyValue{idx, 50});
    out.push_back(cp::CanErrorReply{{idx, 2, 128, 6}});
    out.push_back(cp::CanDiagReply{{idx, 1, 3, 9}});
  }
  out.push_back(cp::RgbwValue{0, 100, 50, 0, 7});
  cp::CompositeRgbw c;
  c.g = 20;
  out.push_back(c);
  cp::CompositeWhite w;
  w.value = {0xFF, 20, 0xFF, 40};
  out.push_back(w);
  return out;
}

std::vector<cp::LegacyBody> legacy_bodies() {
  auto out = every_alternative<cp::LegacyBody>(
      std::make_index_sequence<std::variant_size_v<cp::LegacyBody>>{});
  for (std::uint32_t mask : {0x0u, 0x1u, 0x2001u, 0xFFFu}) {
    out.push_back(cp::LegacyDigitalInputs{mask});
    out.push_back(cp::LegacyOutputs{mask});
  }
  cp::LegacyAnalogInputs ai;
  ai.raw = {1000, 500, 0, 1023};
  out.push_back(ai);
  cp::LegacyAnalogOutputs ao;
  ao.raw = {1, 2, 3, 4};
  out.push_back(ao);
  out.push_back(cp::LegacyGeneric{0x51, 25, 0x1234, 0x00FFF456});
  cp::LegacyTemperature t;
  t.value = 415;
  out.push_back(t);
  return out;
}

std::string named(const std::vector<DecodedValue>& values) {
  std::string s;
  for (const auto& v : values) s += v.channel + "=" + to_plain(v.value) + v.unit + " ";
  return s;
}

// What the plan yields for `body`, in decode_nat()'s format; checks match() on the way.
template <class Body, class Context>
std::string planned(const DecodePlan& plan, const Body& body, bool from_device,
                    const Context& context) {
  std::vector<DecodedValue> out;
  for (const auto c : plan.candidates(body, from_device)) {
    const ChannelSpec& spec = plan.model().channels[c].spec;
    auto v = plan.decode(c, body, context);
    const ChannelValue other = std::string("not a value");
    if (!v) {
      EXPECT_EQ(plan.match(c, body, context, other), DecodePlan::Match::absent) << spec.name;
      continue;
    }
    EXPECT_EQ(plan.match(c, body, context, *v), DecodePlan::Match::same) << spec.name;
    EXPECT_EQ(plan.match(c, body, context, other), DecodePlan::Match::different) << spec.name;
    out.push_back({spec.name, std::move(*v), spec.unit});
  }
  return named(out);
}

}  // namespace

TEST(DecodePlan, NatCandidatesDecodeExactlyWhatDecodeNatDoes) {
  const auto bodies = nat_bodies();
  for (const Model& m : reg().models()) {
    const DecodePlan plan(m);
    // Partial light updates read the current values: try with none and with some.
    ChannelStates some;
    for (const auto& c : m.channels) {
      if (c.spec.type == ValueType::rgbw)
        some.push_back({c.spec.name, Rgbw{1, 2, 3, 4}, c.spec.unit, 0});
      if (c.spec.type == ValueType::number) some.push_back({c.spec.name, 33.0, c.spec.unit, 0});
    }
    for (const ChannelStates& cur : {some, ChannelStates{}}) {
      for (std::size_t b = 0; b < bodies.size(); ++b) {
        for (const bool from_device : {false, true}) {
          std::vector<DecodedValue> expected;
          decode_nat(m, bodies[b], from_device, cur, expected);
          EXPECT_EQ(planned(plan, bodies[b], from_device, cur), named(expected))
              << m.name << " body #" << b << " (alternative " << bodies[b].index() << ")"
              << (from_device ? " from device" : " to device");
        }
      }
    }
  }
}

TEST(DecodePlan, LegacyCandidatesDecodeExactlyWhatDecodeLegacyDoes) {
  const auto bodies = legacy_bodies();
  for (const Model& m : reg().models()) {
    const DecodePlan plan(m);
    if (plan.dynamic()) continue;  // dynamic channel names: decode_legacy() only
    for (const std::optional<std::uint8_t> hw :
         {std::optional<std::uint8_t>{}, std::optional<std::uint8_t>{2}}) {
      for (std::size_t b = 0; b < bodies.size(); ++b) {
        for (const bool from_device : {false, true}) {
          std::vector<DecodedValue> expected;
          DecodeScratch scratch;
          decode_legacy(m, bodies[b], from_device, hw, scratch, expected);
          EXPECT_EQ(planned(plan, bodies[b], from_device, hw), named(expected))
              << m.name << " body #" << b << (from_device ? " from device" : " to device");
        }
      }
    }
  }
}

TEST(DecodePlan, DigitalBitsAreTheBitsAChannelReads) {
  const DecodePlan di(*reg().find("di_extension"));
  const auto& ch = di.model().channels;
  for (std::uint16_t c = 0; c < ch.size(); ++c) {
    if (ch[c].spec.name == "i3") {
      EXPECT_EQ(di.digital_bits(c), 0x4u);
    }
    if (ch[c].spec.name == "f1") {
      EXPECT_EQ(di.digital_bits(c), 0u);
    }
  }
  const DecodePlan touch(*reg().find("touch"));
  EXPECT_EQ(touch.digital_bits(0), 0x1Fu);  // zones: 5-bit mask
  const DecodePlan motion(*reg().find("motion_sensor"));
  EXPECT_EQ(motion.digital_bits(0), 0xFFFFFFFFu);  // motion: any bit
  // A DI frame visits the 20 inputs only; a frequency frame its one input.
  EXPECT_EQ(di.candidates(cp::NatBody{cp::DigitalValue{0, 1}}, true).size(), 20u);
  EXPECT_EQ(di.candidates(cp::NatBody{cp::FrequencyValue{3, 1}}, true).size(), 1u);
  EXPECT_EQ(di.candidates(cp::NatBody{cp::FrequencyValue{30, 1}}, true).size(), 0u);
  EXPECT_EQ(di.candidates(cp::NatBody{cp::DigitalValue{0, 1}}, false).size(), 0u);
}
