// The plain text form of channel values (what MQTT state topics carry).
#include "devices/channel.hpp"

#include <gtest/gtest.h>

namespace loxcan::devices {
namespace {

struct PlainCase {
  const char* name;
  ChannelValue value;
  const char* expected;
};

TEST(ChannelPlain, Table) {
  const PlainCase cases[] = {
      {"bool_on", true, "1"},
      {"bool_off", false, "0"},
      {"decimal", 22.5, "22.5"},
      {"negative", -5.25, "-5.25"},
      {"integer", 5.0, "5"},
      {"tenth_round_trips", 0.1, "0.1"},
      {"large_no_exponent", 1000000.0, "1000000"},
      {"small_no_exponent", 0.00025, "0.00025"},
      {"negative_zero", -0.0, "0"},
      {"bitmask", std::uint32_t{21}, "21"},
      {"rgbw", Rgbw{100, 50, 0, 20}, "100,50,0,20"},
      {"text", std::string("TechReport"), "TechReport"},
  };
  for (const auto& c : cases) EXPECT_EQ(to_plain(c.value), c.expected) << c.name;
}

TEST(ChannelPlain, TypeOfEachAlternative) {
  EXPECT_EQ(type_of(true), ValueType::boolean);
  EXPECT_EQ(type_of(1.5), ValueType::number);
  EXPECT_EQ(type_of(std::uint32_t{3}), ValueType::bitmask);
  EXPECT_EQ(type_of(Rgbw{}), ValueType::rgbw);
  EXPECT_EQ(type_of(std::string("x")), ValueType::text);
}

}  // namespace
}  // namespace loxcan::devices
