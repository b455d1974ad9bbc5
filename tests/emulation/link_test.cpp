// Frame layer and value codec of the emulation, against the spec's vectors (LOXONE_CAN.md 5, 11).
#include "devices/emulation/link.hpp"

#include <gtest/gtest.h>

#include "devices/emulation/device.hpp"
#include "devices/emulation/values.hpp"
#include "devices/registry.hpp"

namespace loxcan::emulation {
namespace {

using canproto::Frame;
using Bytes = std::array<std::uint8_t, 8>;

TEST(Link, ChecksumVectors) {
  const std::vector<std::uint8_t> start = {
      0x04, 0x10, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x56, 0x34, 0x12, 0x14, 0x02, 0x14, 0x00, 0x01};
  EXPECT_EQ(stm32_crc(start), 0x7AECD165u);
  EXPECT_EQ(stm32_crc(std::vector<std::uint8_t>{0, 0, 0, 0}), 0xC704DD7Bu);
  const std::string s = "123456789";
  EXPECT_EQ(stm32_crc({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}), 0xAFF19057u);
  EXPECT_EQ(crc8({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}), 0x2A);
  EXPECT_EQ(random_nat(0x14111779), 0xC7);
  EXPECT_EQ(random_nat(0x14123456), 0xCF);
  const std::vector<std::uint8_t> di = {0x10, 0x01, 0, 0, 0x84, 0x03, 0, 0,
                                        0x03, 0,    0, 0, 0,    0,    0, 0};
  EXPECT_EQ(stm32_crc(di), 0xFD1F2873u);
  EXPECT_EQ(config_crc(di), 0x9C125BF5u);
  EXPECT_EQ(config_crc({}), 0u);
}

TEST(Link, StartFragmentMatchesCapturedFrames) {
  // Vectors 3..6: a Start from parked DI extension NAT 0x8B.
  const std::vector<std::uint8_t> start = {
      0x04, 0x10, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x56, 0x34, 0x12, 0x14, 0x02, 0x14, 0x00, 0x01};
  auto frames = to_frames(long_packet(false, 0x8B, 0, 0x02, start));
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_TRUE(same_content(
      frames[0], Frame::make(0x1018B0F0, {0x00, 0x02, 0x14, 0x00, 0x65, 0xD1, 0xEC, 0x7A})));
  EXPECT_TRUE(
      same_content(frames[1], Frame::make(0x1018B0F1, {0x00, 0x04, 0x10, 0x99, 0, 0, 0, 0})));
  EXPECT_TRUE(same_content(frames[2], Frame::make(0x1018B0F1, {0x00, 0, 0, 0, 0, 0, 0x56, 0x34})));
  EXPECT_TRUE(same_content(
      frames[3], Frame::make(0x1018B0F1, {0x00, 0x12, 0x14, 0x02, 0x14, 0x00, 0x01, 0x00})));
  NatReceiver rx;
  std::optional<NatPacket> got;
  for (const auto& f : frames) got = rx.push(f);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->cmd, 0x02);
  EXPECT_EQ(got->nat, 0x8B);
  EXPECT_EQ(got->payload, start);
}

TEST(Link, ShortFramesAndReceiverErrors) {
  // Vector 12: NAT offer NAT 2 for 0x14111775; vector 1: ping to NAT 6.
  auto offer = to_frames(short_packet(true, 0xFF, 0, 0xFD, 0x02, 0, 0x14111775));
  ASSERT_EQ(offer.size(), 1u);
  EXPECT_TRUE(
      same_content(offer[0], Frame::make(0x106FF0FD, {0, 0x02, 0, 0, 0x75, 0x17, 0x11, 0x14})));
  NatReceiver rx;
  auto ping = rx.push(Frame::make(0x10606005, {}));
  ASSERT_TRUE(ping);
  EXPECT_TRUE(ping->from_server);
  EXPECT_EQ(ping->nat, 6);
  EXPECT_EQ(ping->cmd, 5);
  // F1 without header, and a fragment with a wrong CRC: dropped.
  EXPECT_FALSE(rx.push(Frame::make(0x107020F1, {0, 1, 2, 3, 4, 5, 6, 7})));
  EXPECT_FALSE(rx.push(Frame::make(0x107020F0, {0, 0x11, 4, 0, 1, 2, 3, 4})));
  EXPECT_FALSE(rx.push(Frame::make(0x107020F1, {0, 1, 2, 3, 4, 0, 0, 0})));
  EXPECT_EQ(rx.dropped(), 2u);
  // Legacy frames are not NAT.
  EXPECT_FALSE(rx.push(Frame::make(0x0BFF0A01, {0xE0, 0, 0, 0, 3, 0, 0, 0})));
}

TEST(Link, LegacyFramesAndFragments) {
  // Vector 28: set Relay Extension relays 1+2; vector 29: its echo.
  EXPECT_TRUE(same_content(legacy_frame(true, 0xB, 0xFF0A01, 0x60, 0, 0, 3),
                           Frame::make(0x1BFF0A01, {0x60, 0, 0, 0, 3, 0, 0, 0})));
  EXPECT_TRUE(same_content(legacy_frame(false, 0xB, 0xFF0A01, 0x60, 0, 0, 3),
                           Frame::make(0x0BFF0A01, {0xE0, 0, 0, 0, 3, 0, 0, 0})));
  LegacyReceiver rx;
  auto p = rx.push(Frame::make(0x1BFF0A01, {0x60, 0, 0, 0, 3, 0, 0, 0}));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->from_server);
  EXPECT_EQ(p->type, 0xB);
  EXPECT_EQ(p->serial, 0xFF0A01u);
  EXPECT_EQ(p->val32, 3u);
  auto bc = rx.push(Frame::make(0x00000000, {0x0D, 0, 0, 0, 0x60, 0xEA, 0, 0}));
  ASSERT_TRUE(bc);
  EXPECT_TRUE(bc->from_server);
  std::vector<std::uint8_t> payload(16);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
  auto frames = legacy_fragment(false, 0x1, 0x123456, 0x19, payload);
  ASSERT_EQ(frames.size(), 4u);
  std::optional<LegacyPacket> got;
  for (const auto& f : frames) got = rx.push(f);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->fragment);
  EXPECT_EQ(got->fragment_type, 0x19);
  EXPECT_EQ(got->payload, payload);
  // A corrupted data frame: the sum does not match, nothing comes out.
  frames[2].data[3] ^= 1;
  got.reset();
  for (const auto& f : frames) got = rx.push(f);
  EXPECT_FALSE(got);
}

class Values : public ::testing::Test {
 protected:
  devices::Registry reg = devices::Registry::builtin();
};

TEST_F(Values, TouchZonesStayConsistent) {
  const auto& touch = *reg.find("touch");
  auto in = initial_values(touch, devices::ChannelDirection::input);
  auto changed = apply(touch, *touch.find("center"), true, in);
  EXPECT_EQ(in["zones"], devices::ChannelValue(std::uint32_t{4}));
  EXPECT_EQ(changed.size(), 2u);
  apply(touch, *touch.find("zones"), std::uint32_t{0x11}, in);
  EXPECT_EQ(in["top_left"], devices::ChannelValue(true));
  EXPECT_EQ(in["center"], devices::ChannelValue(false));
  EXPECT_EQ(in["bottom_right"], devices::ChannelValue(true));
  auto pkt = nat_packet_for(touch, *touch.find("top_left"), in);
  ASSERT_TRUE(pkt);
  EXPECT_EQ(pkt->cmd, 0x80);
  EXPECT_EQ(pkt->val32, 0x11u);
}

TEST_F(Values, AnalogEncodingAppliesFlags) {
  const auto& touch = *reg.find("touch");
  auto in = initial_values(touch, devices::ChannelDirection::input);
  apply(touch, *touch.find("temperature"), -5.25, in);
  auto pkt = nat_packet_for(touch, *touch.find("temperature"), in);
  ASSERT_TRUE(pkt);  // vector 22: flags 0x15, raw -5250
  EXPECT_EQ(pkt->cmd, 0x81);
  EXPECT_EQ(pkt->val16, 0x15);
  EXPECT_EQ(pkt->val32, 0xFFFFEB7Eu);
  ValueMap decoded = initial_values(touch, devices::ChannelDirection::input);
  EXPECT_EQ(decode_nat(touch, devices::ChannelDirection::input, *pkt, decoded),
            std::vector<std::string>{"temperature"});
  EXPECT_EQ(decoded["temperature"], devices::ChannelValue(-5.25));
  EXPECT_DOUBLE_EQ(canproto::scale_analog(5000, 0x05), 5.0);
  EXPECT_DOUBLE_EQ(canproto::scale_analog(225, 0x08), 22.5);
  EXPECT_DOUBLE_EQ(canproto::scale_analog(3, 0x01), 3000);
}

TEST_F(Values, LegacyAnalogPackingMatchesVector33) {
  // 01FF0A00 : A0 C7 00 00 E8 F4 00 FF -> 10.00 / 5.00 / 0.00 / 10.23 V
  const auto& ext = *reg.find("extension");
  auto in = initial_values(ext, devices::ChannelDirection::input);
  LegacyPacket p;
  p.cmd = 0x20;
  p.raw = {0xA0, 0xC7, 0, 0, 0xE8, 0xF4, 0x00, 0xFF};
  decode_legacy(ext, devices::ChannelDirection::input, p, in);
  EXPECT_NEAR(std::get<double>(in["ai1"]), 10.0, 1e-9);
  EXPECT_NEAR(std::get<double>(in["ai2"]), 5.0, 1e-9);
  EXPECT_NEAR(std::get<double>(in["ai3"]), 0.0, 1e-9);
  EXPECT_NEAR(std::get<double>(in["ai4"]), 10.23, 1e-9);
  auto bytes = legacy_bytes_for(ext, *ext.find("ai1"), in);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, (Bytes{0x20, 0xC7, 0, 0, 0xE8, 0xF4, 0x00, 0xFF}));
}

TEST_F(Values, ParseAndCoerce) {
  const auto& touch = *reg.find("touch");
  const auto& dimmer = *reg.find("rgbw_dimmer");
  EXPECT_EQ(parse_value(touch.find("buzzer")->spec, "on"), devices::ChannelValue(true));
  EXPECT_EQ(parse_value(touch.find("zones")->spec, "0x1F"),
            devices::ChannelValue(std::uint32_t{31}));
  EXPECT_FALSE(parse_value(touch.find("zones")->spec, "0x20"));  // 5 bits
  EXPECT_EQ(parse_value(touch.find("temperature")->spec, "22.5"), devices::ChannelValue(22.5));
  EXPECT_FALSE(parse_value(touch.find("temperature")->spec, "warm"));
  EXPECT_EQ(parse_value(dimmer.find("rgbw")->spec, "100,50,0,25"),
            devices::ChannelValue(devices::Rgbw{100, 50, 0, 25}));
  EXPECT_FALSE(parse_value(dimmer.find("rgbw")->spec, "100,50,0"));
  EXPECT_FALSE(parse_value(dimmer.find("rgbw")->spec, "101,0,0,0"));
  EXPECT_FALSE(coerce(touch.find("buzzer")->spec, devices::Rgbw{}));
}

TEST(Timing, NatRequestBackoffRanges) {
  for (std::uint32_t r : {0u, 1u, 12345u, 0xFFFFFFFFu}) {
    EXPECT_GE(nat_request_delay(0, false, r), 10);
    EXPECT_LE(nat_request_delay(0, false, r), 500);
    for (int a = 1; a <= 3; ++a) {
      EXPECT_GE(nat_request_delay(a, false, r), 1000);
      EXPECT_LE(nat_request_delay(a, false, r), 2500);
    }
    for (int a = 4; a < 10; ++a) {
      EXPECT_GE(nat_request_delay(a, false, r), 5000);
      EXPECT_LE(nat_request_delay(a, false, r), 10000);
    }
    EXPECT_GE(nat_request_delay(10, false, r), 10000);
    EXPECT_LE(nat_request_delay(50, false, r), 30000);
    EXPECT_GE(nat_request_delay(7, true, r), 1000);
    EXPECT_LE(nat_request_delay(7, true, r), 1500);
  }
}

TEST(Config, LayoutAndDefaults) {
  auto reg = devices::Registry::builtin();
  auto di = make_config(*reg.find("di_extension"), 900);
  ASSERT_EQ(di.size(), 16u);
  EXPECT_EQ(
      di, (std::vector<std::uint8_t>{0x10, 0x01, 0, 0, 0x84, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  auto touch = make_config(*reg.find("touch"), 60);
  EXPECT_EQ(touch.size(), 17u);  // odd size: CRC over 16 bytes with the filler zeroed
  EXPECT_EQ(touch[1], 2);
  EXPECT_EQ(touch[4], 60);
  EXPECT_TRUE(make_config(*reg.find("extension"), 60).empty());  // legacy: no NAT config
}

}  // namespace
}  // namespace loxcan::emulation
