// CAN ids, checksums, the message codec (round trip for every body type), and what happens to bad
// input: malformed/unknown frames and broken fragment sequences.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "canproto/candump.hpp"
#include "canproto/crc.hpp"
#include "canproto/decoder.hpp"
#include "field_map.hpp"

namespace loxcan::canproto {
namespace {

std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()),
          reinterpret_cast<const std::uint8_t*>(s.data()) + s.size()};
}

Frame frame_of(const char* compact) {
  auto r = parse_compact(compact);
  EXPECT_TRUE(r.ok()) << compact;
  return r.ok() ? *r : Frame{};
}

// ---- checksums (section 5) ----------------------------------------------------------------------

TEST(Crc, Stm32CheckValues) {
  const std::vector<std::uint8_t> start = {0x04, 0x10, 0x99, 0x00, 0x00, 0x00, 0x00,
                                           0x00, 0x00, 0x00, 0x00, 0x00, 0x56, 0x34,
                                           0x12, 0x14, 0x02, 0x14, 0x00, 0x01};
  EXPECT_EQ(crc32_stm32(start), 0x7AECD165u);
  EXPECT_EQ(crc32_stm32(std::vector<std::uint8_t>{0, 0, 0, 0}), 0xC704DD7Bu);
  EXPECT_EQ(crc32_stm32("123456789"), 0xAFF19057u);
  EXPECT_EQ(crc32_stm32_truncated(bytes_of("123456789")), 0xFEFC54F9u);
  const std::vector<std::uint8_t> di = {0x10, 0x01, 0, 0, 0x84, 0x03, 0, 0,
                                        0x03, 0,    0, 0, 0,    0,    0, 0};
  EXPECT_EQ(crc32_stm32(di), 0xFD1F2873u);
  EXPECT_EQ(config_crc(di), 0x9C125BF5u);
  const auto ws = bytes_of(std::string("\x00\x0BTechReport\x00", 13));
  EXPECT_EQ(crc32_stm32(ws), 0xD7B3EB61u);
  EXPECT_EQ(crc32_stm32_truncated(ws), 0x12DAEF11u);
}

TEST(Crc, ConfigCrcTreatsFillerAsZero) {
  std::vector<std::uint8_t> di = {0x10, 0x01, 0, 0, 0x84, 0x03, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0};
  const auto clean = config_crc(di);
  di[13] = 0xAA;  // garbage in the filler of a 16-byte config is outside the CRC anyway
  EXPECT_EQ(config_crc(di), clean);
  std::vector<std::uint8_t> odd(17, 0);  // 17 bytes: CRC over 16 with bytes 13..15 forced to 0
  odd[0] = 17;
  const auto z = config_crc(odd);
  odd[14] = 0x55;
  EXPECT_EQ(config_crc(odd), z);
  odd[12] = 0x55;
  EXPECT_NE(config_crc(odd), z);
}

TEST(Crc, Crc8AndRandomNat) {
  EXPECT_EQ(crc8(std::vector<std::uint8_t>{0x79, 0x17, 0x11, 0x14}), 0xC7);
  EXPECT_EQ(crc8(std::vector<std::uint8_t>{0x56, 0x34, 0x12, 0x14}), 0x4F);
  EXPECT_EQ(crc8(std::vector<std::uint8_t>{0x12, 0x86, 0x16, 0xC0}), 0x66);
  EXPECT_EQ(crc8("123456789"), 0x2A);
  EXPECT_EQ(random_nat(0x14111779), 0xC7);
  EXPECT_EQ(random_nat(0x14123456), 0xCF);
  EXPECT_EQ(sum16(std::vector<std::uint8_t>{0xFF, 0xFF, 0x02}), 0x0200);
}

// ---- CAN ids (section 2) ------------------------------------------------------------------------

TEST(CanId, NatWorkedExamples) {
  struct Row {
    std::uint32_t id;
    std::uint8_t bus, dir;
    bool frag;
    std::uint8_t nat, cmd;
  };
  const Row rows[] = {
      {0x10606005, 0x10, 3, false, 0x06, 0x05}, {0x10006006, 0x10, 0, false, 0x06, 0x06},
      {0x106FF00C, 0x10, 3, false, 0xFF, 0x0C}, {0x106FF0FD, 0x10, 3, false, 0xFF, 0xFD},
      {0x100C70FE, 0x10, 0, false, 0xC7, 0xFE}, {0x1018B0F0, 0x10, 0, true, 0x8B, 0xF0},
      {0x107020F1, 0x10, 3, true, 0x02, 0xF1},  {0x10001081, 0x10, 0, false, 0x01, 0x81},
      {0x11041081, 0x11, 0, false, 0x41, 0x81}, {0x1040101A, 0x10, 2, false, 0x01, 0x1A}};
  for (const auto& r : rows) {
    SCOPED_TRACE(r.id);
    const NatId n = parse_nat_id(r.id);
    EXPECT_EQ(n, (NatId{r.bus, r.dir, r.frag, r.nat, r.cmd, false}));
    EXPECT_EQ(make_nat_id(r.bus, r.dir, r.frag, r.nat, r.cmd), r.id);
  }
  EXPECT_TRUE(parse_nat_id(0x10806005).reserved_set);
  EXPECT_TRUE(parse_nat_id(0x10606105).reserved_set);
}

TEST(CanId, Classification) {
  EXPECT_EQ(classify_id(0x10606005, Bus::link), Protocol::nat);
  EXPECT_EQ(classify_id(0x11FF0A00, Bus::link), Protocol::legacy);  // legacy to a type-1 Extension
  EXPECT_EQ(classify_id(0x11041081, Bus::tree), Protocol::nat);
  EXPECT_EQ(classify_id(0x10606005, Bus::tree), Protocol::unknown);
  EXPECT_EQ(classify_id(0x00000000, Bus::link), Protocol::legacy);
  EXPECT_EQ(classify_id(0x0B000000, Bus::link), Protocol::legacy);
  EXPECT_EQ(classify_id(0x1F0B0000, Bus::link), Protocol::legacy);
  EXPECT_EQ(classify_id(0x00123456, Bus::link), Protocol::unknown);
  EXPECT_EQ(classify_id(0x0FABCDEF, Bus::link), Protocol::legacy);
}

TEST(CanId, LegacyIds) {
  const LegacyId to_relay = parse_legacy_id(0x1BFF0A01);
  EXPECT_EQ(to_relay.kind, LegacyKind::direct);
  EXPECT_EQ(to_relay.dir, Direction::to_device);
  EXPECT_EQ(to_relay.type, 0xB);
  EXPECT_EQ(to_relay.serial(), 0x0BFF0A01u);
  EXPECT_EQ(make_legacy_id(to_relay), 0x1BFF0A01u);
  EXPECT_EQ(parse_legacy_id(0x0BFF0A01).dir, Direction::from_device);
  EXPECT_EQ(parse_legacy_id(0).kind, LegacyKind::broadcast);
  const LegacyId multi = parse_legacy_id(0x0B000000);
  EXPECT_EQ(multi.kind, LegacyKind::type_multicast);
  EXPECT_EQ(make_legacy_id(multi), 0x0B000000u);
  const LegacyId fw = parse_legacy_id(0x1F0BFFFF);
  EXPECT_EQ(fw.kind, LegacyKind::firmware_data);
  EXPECT_EQ(fw.type, 0x0B);
  EXPECT_EQ(fw.package, 0xFFFF);
  EXPECT_EQ(make_legacy_id(fw), 0x1F0BFFFFu);
}

TEST(CanId, TreeRouting) {
  EXPECT_EQ(tree_id_from_link(0x10001081, 0x41), 0x11041081u);
  EXPECT_EQ(link_id_from_tree(0x11041081, 0x01), 0x10001081u);
  EXPECT_EQ(tree_id_from_link(0x107010F1, 0x41), 0x117410F1u);  // fragment bit and dir kept
}

// ---- value helpers ------------------------------------------------------------------------------

TEST(Values, AnalogScaling) {
  EXPECT_DOUBLE_EQ(scale_analog(22500, 0x15), 22.5);
  EXPECT_DOUBLE_EQ(scale_analog(static_cast<std::uint32_t>(-5250), 0x15), -5.25);
  EXPECT_DOUBLE_EQ(scale_analog(static_cast<std::uint32_t>(-5250), 0x05), 4294962.046);  // unsigned
  EXPECT_DOUBLE_EQ(scale_analog(5000, 0x05), 5.0);
  EXPECT_DOUBLE_EQ(scale_analog(7, 0x00), 7.0);
  EXPECT_DOUBLE_EQ(scale_analog(7, 0x01), 7000.0);
  EXPECT_DOUBLE_EQ(scale_analog(7, 0x02), 7e6);
  EXPECT_DOUBLE_EQ(scale_analog(7, 0x03), 7e9);
  EXPECT_DOUBLE_EQ(scale_analog(7, 0x06), 7e-6);
  EXPECT_DOUBLE_EQ(scale_analog(7, 0x07), 7e-9);
  EXPECT_DOUBLE_EQ(scale_analog(215, 0x08), 21.5);
  EXPECT_TRUE(std::isnan(scale_analog(7, 0x04)));
  EXPECT_TRUE(std::isnan(scale_analog(7, 0x09)));
  EXPECT_EQ(unscale_analog(22.5, 0x15), 22500u);
  EXPECT_EQ(unscale_analog(-5.25, 0x15), static_cast<std::uint32_t>(-5250));
  EXPECT_EQ(unscale_analog(-5.25, 0x05), 0u);  // unsigned saturates
  EXPECT_EQ(unscale_analog(21.5, 0x08), 215u);
}

TEST(Values, DateTimePacking) {
  const DateTime t{2024, 6, 15, 43200000};
  EXPECT_EQ(t.packed(), 0x7B07E8u);
  EXPECT_EQ(DateTime::unpack(0x7B07E8, 43200000), t);
  const auto f =
      encode_frame(nat_message({Bus::link, Direction::to_device, 0xFF, 0xFF}, TimeSync{t}));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(format_compact(*f), "106FF00C#FFE8077B002E9302");
}

TEST(Values, FadeAndConfigHelpers) {
  EXPECT_DOUBLE_EQ(Fade{0x0014}.seconds(), 2.0);
  EXPECT_DOUBLE_EQ(Fade{0x4005}.seconds(), 5.0);
  EXPECT_TRUE(Fade{0x8000}.jump());
  EXPECT_EQ(Fade::from_tenths(20).raw, 0x0014);
  const std::uint8_t specific[] = {3, 0, 0, 0};
  const Config c = Config::make(1, 0, 900, specific);
  EXPECT_EQ(c.bytes,
            (std::vector<std::uint8_t>{16, 1, 0, 0, 0x84, 3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(c.crc(), 0x9C125BF5u);
  EXPECT_EQ(c.offline_timeout_s(), 900u);
  EXPECT_EQ(c.device_specific().size(), 4u);
}

// ---- round trip: every body type ----------------------------------------------------------------

const NatAddress kToExt{Bus::link, Direction::to_device, 0x02, 0x00};
const NatAddress kFromDev{Bus::link, Direction::from_device, 0x01, 0x41};
const NatAddress kTree{Bus::tree, Direction::from_device, 0x41, 0x41};

std::vector<NatMessage> nat_samples() {
  DeviceInfo info{10031108, 0, 0x9C125BF5, 0x14123456, 0x02, 0x0014, 1};
  CompositeWhite w_ll;
  w_ll.value = {100, 50, 0xFF, 0};
  w_ll.fade = {Fade{20}, Fade{0x4002}, Fade{0}, Fade{0x8000}};
  CompositeWhite w_nat = w_ll;
  w_nat.layout = CompositeWhite::Layout::s_nat;
  CompositeWhite w_py = w_ll;
  w_py.layout = CompositeWhite::Layout::s_py;
  const std::uint8_t specific[] = {3, 0, 0, 0};
  return {
      nat_message(kToExt, VersionRequest{0x14123456}),
      nat_message(kFromDev, ConfigEqual{}),
      nat_message(kToExt, Ping{}),
      nat_message(kFromDev, Pong{}),
      nat_message(kToExt, Park{}),
      nat_message(kToExt, Alive{3, 1, 0x9C125BF5}),
      nat_message(kToExt, ExtensionsOffline{}),
      nat_message(kToExt, TimeSync{{2024, 6, 15, 43200000}}),
      nat_message(kToExt, Identify{30, 0x14123456}),
      nat_message(kFromDev, CanDiagReply{{0, 1, 2, 3}}),
      nat_message(kToExt, CanDiagRequest{2}),
      nat_message(kFromDev, CanErrorReply{{1, 0, 128, 6}}),
      nat_message(kToExt, CanErrorRequest{1}),
      nat_message({Bus::link, Direction::shortcut, 1, 0}, TreeShortcut{0x40}),
      nat_message(kToExt, TreeShortcutTest{0x40, 0x01, 0x13000001}),
      nat_message(kFromDev, DigitalValue{0, 0x05}),
      nat_message(kTree, AnalogValue{1, 0x15, 0, 45000}),
      nat_message(kToExt, RgbwValue{0x0008, 0, 0, 0, 80}),
      nat_message(kFromDev, FrequencyValue{3, 50}),
      nat_message(kToExt, CompositeRgbw{Fade{20}, 100, 50, 0, 0}),
      nat_message(kFromDev, KeypadValue{0, 1, 2}),
      nat_message(kToExt, SmartTunableWhite{1, Fade{20}, 80, 2700}),
      nat_message(kFromDev, FragmentHeader{0x02, 20, 0x7AECD165}),
      nat_message(kFromDev, FragmentData{{1, 2, 3, 4, 5, 6, 7}}),
      nat_message(kToExt, IdentifyUnknown{}),
      nat_message(kToExt, SearchDevices{}),
      nat_message(kFromDev, SearchReply{{0x40, 0x800C, 0xC0168612}}),
      nat_message(kToExt, NatOffer{0x41, 0x02, 0xC0168612}),
      nat_message(kFromDev, NatIndexRequest{{0x00, 0x0014, 0x14111779}}),
      nat_message(kFromDev, NatOpaque{0x86, {1, 2, 3, 4, 5, 6, 7}}),
      nat_message(kFromDev, Start{info}),
      nat_message(kFromDev, VersionInfo{info}),
      nat_message(kToExt, Config::make(1, 0, 900, specific)),
      nat_message(kToExt, Webservice{{"TechReport"}}),
      nat_message(kFromDev, DeviceLog{{"Sent:1;Rcv:2;"}}),
      nat_message(kToExt, GroupIdentify{2, 0, 0, {{0x14123456, 1, 0}, {0xC0168612, 2, 0}}}),
      nat_message(kToExt, w_ll),
      nat_message(kToExt, w_nat),
      nat_message(kToExt, w_py),
      nat_message(kToExt,
                  CompositeRgbwMagic{0x41, 0, CompositeRgbw{Fade{10}, 1, 2, 3, 4}, 0xCAFEBABE, {}}),
      nat_message(kToExt, CryptoPacket{0x9C, std::vector<std::uint8_t>(16, 0xA5)}),
      nat_message(kToExt, FirmwareUpdate{0xEF, 76, 1, 0x0014, 10031108, 2, 3,
                                         std::vector<std::uint8_t>(64, 0x11)}),
      nat_message(kToExt, NatOpaquePacket{0x1F, {9, 8, 7, 6, 5, 4, 3, 2, 1}, ""}),
  };
}

const LegacyId kToRelay = parse_legacy_id(0x1BFF0A01);
const LegacyId kFromRelay = parse_legacy_id(0x0BFF0A01);
const LegacyId kFromExt = parse_legacy_id(0x01FF0A00);
const LegacyId kToExtension = parse_legacy_id(0x11FF0A00);

std::vector<LegacyMessage> legacy_samples() {
  std::vector<std::uint8_t> big(2000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  return {
      {kToRelay, LegacyIdentify{}, 0},
      {parse_legacy_id(0x0B000000), LegacyUpdateInit{{1, 0xDEAD, 10031107}}, 0},
      {parse_legacy_id(0x0B000000), LegacyUpdateReboot{{0, 0, 10031107}}, 0},
      {parse_legacy_id(0x0B000000), LegacyUpdateVerify{{1, 64, 10031107}}, 0},
      {kFromExt, LegacyConfigAck{0x001F, 10031107}, 0},
      {kFromRelay, LegacyUpdateAck{{10031107}}, 0},
      {kFromRelay, LegacyUpdateNak{{10031107}}, 0},
      {kFromRelay, LegacyStart{{1, 0, 10031107}}, 0},
      {kToRelay, LegacyIdentifyLed{0x2637, 0x12345678}, 0},
      {kFromExt, LegacyAlive{{1, 3, 10031107}}, 0},
      {parse_legacy_id(0x08000000), LegacyUpdateInitModules{{1, 0, 10031107}}, 0},
      {parse_legacy_id(0), LegacyIdentifyUnknown{}, 0},
      {parse_legacy_id(0), LegacySetOffline{}, 0},
      {parse_legacy_id(0), LegacyHeartbeat{60000}, 0},
      {kToRelay, LegacyBlinkPosition{1234}, 0},
      {kToExtension, LegacyAliveReply{0}, 0},
      {parse_legacy_id(0), LegacyDateTime{{2024, 6, 15, 43200000}}, 0},
      {kToRelay, LegacyWriteWord{0x012300, 0xDEADBEEF}, 0},
      {kToRelay, LegacyLogLevel{3}, 0},
      {kFromExt, LegacySettings{2, 0x11223344}, 0},
      {kToRelay, LegacyPark{}, 0},
      {kFromRelay, LegacyCanDiagReply{1, 2, 3}, 0},
      {kToRelay, LegacyCanDiagRequest{}, 0},
      {kFromExt, LegacyFragmentHeader{false, 0x0B, 13, 0x0400}, 0},
      {kFromExt, LegacyFragmentData{false, 1, {1, 2, 3, 4, 5, 6, 0}}, 0},
      {kFromExt, LegacyFragmentHeader{true, 0x06, 2000, 0x1234}, 0},
      {kFromExt, LegacyFragmentData{true, 0, {1, 2, 3, 4, 5, 6, 7}}, 0},
      {kFromRelay, LegacyTemperature{0, 0, 0, 450}, 0},
      {kToRelay, LegacyPageCrc{3, 0xAABBCCDD}, 0},
      {kToRelay, LegacyMute{}, 0},
      {kFromRelay, LegacyConfigChecksum{{1, 2, 3, 4, 5, 6, 7}}, 0},
      {kToRelay, LegacyRequestChecksum{}, 0},
      {kFromExt, LegacyAnalogInputs{{{1000, 500, 0, 1023}}}, 0},
      {parse_legacy_id(0x11FF0A00), LegacyAnalogOutputs{{{1, 2, 3, 1000}}}, 0},
      {kFromExt, LegacyDigitalInputs{0x0803}, 0},
      {kToRelay, LegacyOutputs{0x3FFF}, 0},
      {kFromExt, LegacyGeneric{0x1D, 1, 2, 3}, 0},
      {parse_legacy_id(0x1F0B0001), LegacyFirmwareData{{1, 2, 3, 4, 5, 6, 7, 8}}, 0},
      {kFromExt,
       LegacyPacket{0x0B,
                    bytes_of(std::string("\x0A"
                                         "Uptime:5s",
                                         10)),
                    false},
       0},
      {kToRelay, LegacyPacket{0x06, big, false}, 0},
      {kToRelay, LegacyPacket{0x06, {1, 2, 3}, true}, 0},
  };
}

// Decode a frame sequence and return the last message (the packet's, if one completed).
Message decode_all(const std::vector<Frame>& frames, Bus bus) {
  Decoder dec(bus);
  Message last = UnknownMessage{};
  std::int64_t t = 0;
  for (const auto& f : frames) {
    const Decoded& d = dec.feed(f, t += 1000);
    // A lone data fragment is reported as unusable; everything else must reassemble cleanly.
    const bool lone_data =
        frames.size() == 1 && (f.data[0] == 0x44 || f.data[0] == 0xC4 || f.data[0] == 0xC5 ||
                               (f.id & 0xFF) == nat_cmd::kFragmentData);
    if (!lone_data) {
      EXPECT_EQ(d.fragment_problem, nullptr);
    }
    EXPECT_FALSE(d.abandoned.has_value());
    last = d.packet_message ? *d.packet_message : d.message;
  }
  return last;
}

TEST(RoundTrip, EveryNatBodyType) {
  std::set<std::size_t> covered;
  for (const auto& m : nat_samples()) {
    covered.insert(m.body.index());
    SCOPED_TRACE(nat_command_name(nat_command(m.body)));
    auto frames = encode(m);
    ASSERT_TRUE(frames.ok());
    const Message back = decode_all(*frames, m.addr.bus);
    ASSERT_TRUE(std::holds_alternative<NatMessage>(back));
    const auto& n = std::get<NatMessage>(back);
    EXPECT_EQ(n.addr, m.addr);
    EXPECT_EQ(n.body.index(), m.body.index());
    EXPECT_EQ(n.residue, 0u);
    auto again = encode(n);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->size(), frames->size());
    for (std::size_t i = 0; i < frames->size(); ++i)
      EXPECT_TRUE(same_content((*again)[i], (*frames)[i])) << i;
    EXPECT_EQ(testing::fields_of(back).str, testing::fields_of(Message{m}).str);
    EXPECT_EQ(testing::fields_of(back).nums.size(), testing::fields_of(Message{m}).nums.size());
  }
  EXPECT_EQ(covered.size(), std::variant_size_v<NatBody>);
}

TEST(RoundTrip, EveryLegacyBodyType) {
  std::set<std::size_t> covered;
  for (const auto& m : legacy_samples()) {
    covered.insert(m.body.index());
    SCOPED_TRACE(legacy_command_name(legacy_command(m.body), m.addr.type));
    auto frames = encode(m);
    ASSERT_TRUE(frames.ok());
    const Message back = decode_all(*frames, Bus::link);
    ASSERT_TRUE(std::holds_alternative<LegacyMessage>(back));
    const auto& l = std::get<LegacyMessage>(back);
    EXPECT_EQ(l.addr, m.addr);
    EXPECT_EQ(l.body.index(), m.body.index());
    EXPECT_EQ(l.residue, 0u);
    auto again = encode(l);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->size(), frames->size());
    for (std::size_t i = 0; i < frames->size(); ++i)
      EXPECT_TRUE(same_content((*again)[i], (*frames)[i])) << i;
  }
  EXPECT_EQ(covered.size(), std::variant_size_v<LegacyBody>);
}

TEST(RoundTrip, FragmentLayouts) {
  const auto frames =
      encode(nat_message(kFromDev, Start{{10031108, 0, 0, 0x14123456, 2, 0x0014, 1}}));
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 4u);
  EXPECT_EQ(format_compact((*frames)[0]), "101010F0#4102140065D1EC7A");
  EXPECT_EQ(format_compact((*frames)[3]), "101010F1#4112140214000100");
  const auto big = encode(
      LegacyMessage{kToRelay, LegacyPacket{0x06, std::vector<std::uint8_t>(1531, 1), false}, 0});
  ASSERT_TRUE(big.ok());
  EXPECT_EQ((*big)[0].data[0], 0x46);  // > 1530 bytes: large form
  EXPECT_EQ((*big)[1].data[0], 0x45);
  EXPECT_EQ(big->size(), 1u + (1531 + 6) / 7);
  const auto small = encode(
      LegacyMessage{kFromRelay, LegacyPacket{0x0B, std::vector<std::uint8_t>(1530, 1), false}, 0});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ((*small)[0].data[0], 0xC4);  // 0x44 | from-extension bit
  EXPECT_EQ(small->back().data[1], 255);
  EXPECT_FALSE(
      encode(nat_message(kToExt, CryptoPacket{0x9C, std::vector<std::uint8_t>(70000)})).ok());
  EXPECT_EQ(encode_frame(nat_message(kToExt, Webservice{{"x"}})).error(),
            EncodeErrc::needs_fragments);
}

// ---- malformed and unknown frames ---------------------------------------------------------------

struct BadFrameRow {
  const char* frame;
  Bus bus;
  bool malformed;  // else unknown
  const char* reason;
};

TEST(BadFrames, BecomeMalformedOrUnknownWithReason) {
  const BadFrameRow rows[] = {
      {"10606005#00000000000000", Bus::link, true, "DLC is not 8"},
      {"123#0000000000000000", Bus::link, true, "11-bit id on the Link bus"},
      {"123#0000000000000000", Bus::tree, true, "11-bit id on a Tree branch"},
      {"10606005#R", Bus::link, true, "remote (RTR) frame"},
      {"10606005##10000000000000000", Bus::link, true, "CAN FD frame"},
      {"20000004#0000000000000000", Bus::link, true, "CAN error frame"},
      {"10806005#0000000000000000", Bus::link, true, "reserved NAT id bits set"},
      {"10606105#0000000000000000", Bus::link, true, "reserved NAT id bits set"},
      {"10206005#0000000000000000", Bus::link, true, "illegal NAT direction 01"},
      {"1000B0F0#0002140065D1EC7A", Bus::link, true, "fragment command without fragment bit"},
      {"10706005#0000000000000000", Bus::link, true, "fragment bit on a non-fragment command"},
      {"10606030#0000000000000000", Bus::link, false, "unknown NAT command"},
      {"10606005#0000000000000000", Bus::tree, false, "not a Tree NAT id on a Tree branch"},
      {"00123456#0000000000000000", Bus::link, false, "legacy id with type 0 (unused)"},
      {"1BFF0A01#7F00000000000000", Bus::link, false, "unknown legacy command"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.frame);
    auto f = parse_compact(row.frame, {.lenient = true});
    ASSERT_TRUE(f.ok());
    const Message m = decode_frame(*f, row.bus);
    if (row.malformed) {
      ASSERT_TRUE(std::holds_alternative<MalformedMessage>(m));
      EXPECT_STREQ(std::get<MalformedMessage>(m).reason, row.reason);
      EXPECT_TRUE(same_content(std::get<MalformedMessage>(m).frame, *f));  // raw bytes kept
    } else {
      ASSERT_TRUE(std::holds_alternative<UnknownMessage>(m));
      EXPECT_STREQ(std::get<UnknownMessage>(m).reason, row.reason);
      EXPECT_TRUE(same_content(std::get<UnknownMessage>(m).frame, *f));
    }
    // And they encode back to exactly the frame they came from.
    auto again = encode(m);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(same_content(again->front(), *f));
  }
}

TEST(BadFrames, UncoveredBytesAreKeptAsResidue) {
  const Frame f = frame_of("10606005#0055000000000000");  // a Ping with garbage in D1
  const Message m = decode_frame(f, Bus::link);
  ASSERT_TRUE(std::holds_alternative<NatMessage>(m));
  EXPECT_EQ(std::get<NatMessage>(m).residue, 0x5500u);
  EXPECT_TRUE(same_content(encode(m)->front(), f));
  const Frame l = frame_of("0BFF0A01#0701000003109900");  // legacy start without the bit-7 flag
  const Message lm = decode_frame(l, Bus::link);
  ASSERT_TRUE(std::holds_alternative<LegacyMessage>(lm));
  EXPECT_EQ(std::get<LegacyMessage>(lm).residue, 0x80u);
  EXPECT_TRUE(same_content(encode(lm)->front(), l));
}

// ---- broken fragment sequences ------------------------------------------------------------------

std::vector<Frame> start_frames() {
  return *encode(nat_message(kFromDev, Start{{10031108, 0, 0, 0x14123456, 2, 0x0014, 1}}));
}

TEST(Fragments, TruncatedPacketTimesOutWithItsBytes) {
  Decoder dec(Bus::link);
  const auto frames = start_frames();
  dec.feed(frames[0], 0);
  dec.feed(frames[1], 1'000'000);
  EXPECT_EQ(dec.pending_packets(), 1u);
  int calls = 0;
  EXPECT_EQ(dec.expire(500'000'000, [&](const PacketInfo&, const char*) { ++calls; }), 0u);
  EXPECT_EQ(dec.expire(2'000'000'000,
                       [&](const PacketInfo& p, const char* why) {
                         ++calls;
                         EXPECT_EQ(p.size, 20);
                         EXPECT_EQ(p.payload.size(), 7u);
                         EXPECT_STREQ(why, "fragmented packet timed out");
                       }),
            1u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(dec.pending_packets(), 0u);
  // The rest arriving later is reported as unusable, not silently glued on.
  const Decoded& d = dec.feed(frames[2], 2'100'000'000);
  EXPECT_STREQ(d.fragment_problem, "fragment data without header");
}

TEST(Fragments, LateDataAbandonsThePacket) {
  Decoder dec(Bus::link);
  const auto frames = start_frames();
  dec.feed(frames[0], 0);
  const Decoded& d = dec.feed(frames[1], 5'000'000'000);
  ASSERT_TRUE(d.abandoned.has_value());
  EXPECT_STREQ(d.abandon_reason, "fragmented packet timed out");
  EXPECT_STREQ(d.fragment_problem, "fragment data after its packet timed out");
}

TEST(Fragments, BadCrcIsReportedWithPayload) {
  Decoder dec(Bus::link);
  auto frames = start_frames();
  frames[2].data[3] ^= 0x01;
  const Decoded* d = nullptr;
  for (const auto& f : frames) d = &dec.feed(f, 0);
  ASSERT_TRUE(d->packet.has_value());
  EXPECT_FALSE(d->packet->crc_ok());
  EXPECT_EQ(d->packet->payload.size(), 20u);
  EXPECT_NE(d->packet->computed, d->packet->check);
  ASSERT_TRUE(std::holds_alternative<MalformedMessage>(*d->packet_message));
  EXPECT_STREQ(std::get<MalformedMessage>(*d->packet_message).reason, "fragment CRC mismatch");
}

TEST(Fragments, TruncatedCrcVariantAcceptedAndNamed) {
  // The webservice vector with the [NET] CRC (payload truncated to whole words).
  std::vector<Frame> frames = {frame_of("107020F0#00120D0011EFDA12"),
                               frame_of("107020F1#00000B5465636852"),
                               frame_of("107020F1#0065706F72740000")};
  Decoder dec(Bus::link);
  const Decoded* d = nullptr;
  for (const auto& f : frames) d = &dec.feed(f, 0);
  ASSERT_TRUE(d->packet.has_value());
  EXPECT_EQ(d->packet->match, CrcMatch::truncated);
  Decoder strict(Bus::link, DecoderOptions{ReassemblerOptions{.accept_truncated_crc = false}});
  for (const auto& f : frames) d = &strict.feed(f, 0);
  EXPECT_FALSE(d->packet->crc_ok());
}

TEST(Fragments, OrphanRestartAndEviction) {
  Decoder dec(Bus::link, DecoderOptions{ReassemblerOptions{.max_pending = 2}});
  const auto frames = start_frames();
  EXPECT_STREQ(dec.feed(frames[1], 0).fragment_problem, "fragment data without header");
  dec.feed(frames[0], 1);
  dec.feed(frames[1], 2);
  const Decoded& restart = dec.feed(frames[0], 3);
  ASSERT_TRUE(restart.abandoned.has_value());
  EXPECT_STREQ(restart.abandon_reason, "fragmented packet restarted by a new header");
  EXPECT_EQ(restart.abandoned->payload.size(), 7u);
  // Two more senders: the oldest packet is evicted.
  NatAddress other = kFromDev;
  other.device_nat = 0x42;
  dec.feed(encode(nat_message(other, Start{}))->front(), 4);
  other.device_nat = 0x43;
  const Decoded& evict = dec.feed(encode(nat_message(other, Start{}))->front(), 5);
  ASSERT_TRUE(evict.abandoned.has_value());
  EXPECT_STREQ(evict.abandon_reason, "too many fragmented packets in progress");
  EXPECT_EQ(evict.abandoned->nat.device_nat, 0x41);
}

TEST(Fragments, LegacySequenceErrorsAndSum) {
  const auto frames = *encode(
      LegacyMessage{kFromExt, LegacyPacket{0x0B, std::vector<std::uint8_t>(20, 7), false}, 0});
  ASSERT_EQ(frames.size(), 5u);
  {
    Decoder dec(Bus::link);
    dec.feed(frames[0], 0);
    const Decoded& d = dec.feed(frames[2], 1);  // index 2 before 1
    EXPECT_STREQ(d.fragment_problem, "legacy fragment index out of sequence");
    ASSERT_TRUE(d.abandoned.has_value());
  }
  {
    Decoder dec(Bus::link);
    auto bad = frames;
    bad[4].data[2] ^= 0xFF;
    const Decoded* d = nullptr;
    for (const auto& f : bad) d = &dec.feed(f, 0);
    ASSERT_TRUE(d->packet.has_value());
    EXPECT_FALSE(d->packet->crc_ok());
    EXPECT_STREQ(std::get<MalformedMessage>(*d->packet_message).reason,
                 "legacy fragment sum mismatch");
  }
  {
    Decoder dec(Bus::link);
    EXPECT_STREQ(dec.feed(frames[1], 0).fragment_problem, "legacy fragment data without header");
    const auto large = *encode(LegacyMessage{kFromExt, LegacyPacket{0x0B, {1, 2, 3}, true}, 0});
    dec.feed(frames[0], 1);  // small header, then a large data frame
    EXPECT_STREQ(dec.feed(large[1], 2).fragment_problem,
                 "legacy fragment form does not match its header");
  }
}

TEST(Fragments, ZeroLengthPacketCompletesAtTheHeader) {
  Decoder dec(Bus::link);
  const auto frames = *encode(nat_message(kToExt, NatOpaquePacket{0x1F, {}, ""}));
  ASSERT_EQ(frames.size(), 1u);
  const Decoded& d = dec.feed(frames[0], 0);
  ASSERT_TRUE(d.packet.has_value());
  EXPECT_TRUE(d.packet->crc_ok());
  EXPECT_EQ(d.packet->payload.size(), 0u);
}

TEST(Payloads, LayoutMismatchKeepsBytesAndSaysWhy) {
  const std::vector<std::uint8_t> short_start(19, 1);
  const NatBody b = decode_nat_payload(nat_cmd::kStart, short_start);
  ASSERT_TRUE(std::holds_alternative<NatOpaquePacket>(b));
  EXPECT_STREQ(std::get<NatOpaquePacket>(b).note, "device info is not 20 bytes");
  EXPECT_EQ(std::get<NatOpaquePacket>(b).data, short_start);
  const std::vector<std::uint8_t> bad_text = {0, 5, 'a', 'b', 0};
  EXPECT_STREQ(std::get<NatOpaquePacket>(decode_nat_payload(nat_cmd::kWebservice, bad_text)).note,
               "text layout mismatch");
  // Composite white: the layout follows the payload length.
  EXPECT_EQ(
      std::get<CompositeWhite>(decode_nat_payload(0x8A, std::vector<std::uint8_t>(16))).layout,
      CompositeWhite::Layout::ll_gl);
  EXPECT_EQ(
      std::get<CompositeWhite>(decode_nat_payload(0x8A, std::vector<std::uint8_t>(15))).layout,
      CompositeWhite::Layout::s_nat);
  EXPECT_EQ(
      std::get<CompositeWhite>(decode_nat_payload(0x8A, std::vector<std::uint8_t>(13))).layout,
      CompositeWhite::Layout::s_py);
}

TEST(Names, CommandTables) {
  EXPECT_STREQ(nat_command_name(0x05), "ping");
  EXPECT_STREQ(nat_command_name(0x30), "unknown");
  EXPECT_STREQ(legacy_command_name(0xE0, 0xB), "outputs");
  EXPECT_STREQ(legacy_command_name(0x1C, 0x9), "modbus_error");
  EXPECT_STREQ(legacy_command_name(0x1C, 0x1), "debug");
  EXPECT_STREQ(legacy_fragment_type_name(0x09), "webservice_request");
  EXPECT_TRUE(nat_command_is_fragmented(0x9C));
  EXPECT_FALSE(nat_command_is_fragmented(0x95));
}

}  // namespace
}  // namespace loxcan::canproto
