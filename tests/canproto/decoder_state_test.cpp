// The Decoder's per-sender legacy state: the hardware version of each legacy extension's last
// Start/Alive selects the 0x53 temperature rule (LOXONE_CAN.md section 6).
#include <gtest/gtest.h>

#include <string>

#include "canproto/candump.hpp"
#include "canproto/decoder.hpp"
#include "field_map.hpp"

namespace loxcan::canproto {
namespace {

using testing::FieldMap;
using testing::fields_of;

Frame frame(const std::string& compact) {
  auto f = parse_compact(compact);
  EXPECT_TRUE(f.ok()) << compact;
  return *f;
}

/// Feeds `compact` and returns the decoded fields of the frame.
FieldMap feed(Decoder& d, const std::string& compact) {
  return fields_of(d.feed(frame(compact), 0).message);
}

constexpr double adc(double raw) {
  return (1475.0 - raw * 2245.0 / 1024.0) / 10.0;
}

TEST(DecoderLegacyState, StartSelectsTheTemperatureRule) {
  // The frames of issue 19: a Start with hardware version 0, then 0x53 with raw 0x160 = 352.
  Decoder fresh(Bus::link);
  auto t = feed(fresh, "01AB0001#D300000060010000");
  EXPECT_EQ(t.str.at("temperature_rule"), "deci_celsius");
  EXPECT_EQ(t.nums.count("hw_version"), 0u);
  EXPECT_DOUBLE_EQ(t.nums.at("value"), 35.2);

  Decoder d(Bus::link);
  EXPECT_EQ(d.legacy_hw_version(0x01AB0001), std::nullopt);
  feed(d, "01AB0001#8700000003109900");
  EXPECT_EQ(d.legacy_hw_version(0x01AB0001), 0);
  t = feed(d, "01AB0001#D300000060010000");
  EXPECT_EQ(t.str.at("temperature_rule"), "adc");
  EXPECT_EQ(t.nums.at("hw_version"), 0);
  EXPECT_DOUBLE_EQ(t.nums.at("value"), adc(352));
  EXPECT_NEAR(t.nums.at("value"), 70.33, 0.005);
}

TEST(DecoderLegacyState, AliveUpdatesAndSelectorsStillCount) {
  Decoder d(Bus::link);
  feed(d, "01AB0001#8700000003109900");  // Start, hw 0
  feed(d, "01AB0001#8902000003109900");  // Alive, hw 2
  auto t = feed(d, "01AB0001#D300000060010000");
  EXPECT_EQ(t.str.at("temperature_rule"), "deci_celsius");
  EXPECT_DOUBLE_EQ(t.nums.at("value"), 35.2);
  t = feed(d, "01AB0001#D300010060010000");  // D2 = 1: raw ADC whatever the hardware
  EXPECT_EQ(t.str.at("temperature_rule"), "adc");
  t = feed(d, "01AB0001#D301000060010000");  // D1 = 1 ([LL]'s emulator)
  EXPECT_EQ(t.str.at("temperature_rule"), "adc");
}

TEST(DecoderLegacyState, OnlyTheSendersOwnStartCounts) {
  Decoder d(Bus::link);
  feed(d, "01AB0002#8700000003109900");  // another extension
  feed(d, "0BAB0001#8700000003109900");  // same 24-bit serial, other type
  feed(d, "11AB0001#0700000003109900");  // Miniserver -> extension: not the extension's Start
  EXPECT_EQ(d.legacy_hw_version(0x01AB0001), std::nullopt);
  EXPECT_EQ(feed(d, "01AB0001#D300000060010000").str.at("temperature_rule"), "deci_celsius");
  EXPECT_EQ(feed(d, "0BAB0001#D300000060010000").str.at("temperature_rule"), "adc");
}

TEST(DecoderLegacyState, TableIsBoundedAndKeepsTheNewest) {
  Decoder d(Bus::link);
  const std::size_t n = Decoder::kLegacySenders + 44;
  char buf[40];
  for (std::size_t i = 1; i <= n; ++i) {
    std::snprintf(buf, sizeof buf, "01%06zX#8703000003109900", i);
    feed(d, buf);
  }
  EXPECT_EQ(d.legacy_hw_version(0x01000001), std::nullopt);  // replaced
  EXPECT_EQ(d.legacy_hw_version(0x01000000 | n), 3);
  EXPECT_EQ(d.legacy_hw_version(0x01000000 | (n - Decoder::kLegacySenders + 1)), 3);
  std::snprintf(buf, sizeof buf, "01%06zX#8701000003109900", n);  // an update, not a new entry
  feed(d, buf);
  EXPECT_EQ(d.legacy_hw_version(0x01000000 | n), 1);
  EXPECT_EQ(d.legacy_hw_version(0x01000000 | (n - Decoder::kLegacySenders + 1)), 3);
}

TEST(LegacyTemperatureRule, AdcInverse) {
  for (double c : {-40.0, -5.25, 0.0, 22.5, 45.0, 87.0, 125.0}) {
    LegacyTemperature t{0, 1, 0, LegacyTemperature::adc_from_celsius(c)};
    EXPECT_NEAR(t.celsius(), c, 2245.0 / 1024.0 / 20.0 + 1e-9) << c;  // within half a step
  }
  EXPECT_EQ(LegacyTemperature::adc_from_celsius(1000), 0u);
}

}  // namespace
}  // namespace loxcan::canproto
