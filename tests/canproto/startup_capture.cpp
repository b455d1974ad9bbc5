#include "startup_capture.hpp"

#include <cstdint>
#include <vector>

#include "canproto/candump.hpp"
#include "canproto/message.hpp"

namespace loxcan::canproto::testing {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kStart = 1718445600LL * 1'000'000'000;  // 2024-06-15 10:00:00 UTC

// The bus: an 8-byte extended frame at 125 kbit/s takes ~1.03 ms; senders leave a little more.
class Capture {
 public:
  void wait_ms(double ms) { t_ += static_cast<std::int64_t>(ms * 1e6); }

  void send(const Message& m) {
    for (Frame f : *encode(m)) {
      f.ts_ns = t_;
      f.iface = IfaceName("can0");
      text_ += format_log_line(f);
      text_ += '\n';
      t_ += 1'100'000 + static_cast<std::int64_t>(next() % 400) * 1000;  // 1.1 .. 1.5 ms
    }
  }
  void nat(const NatAddress& a, NatBody b) { send(NatMessage{a, std::move(b), 0}); }
  void legacy(const LegacyId& a, LegacyBody b) { send(LegacyMessage{a, std::move(b), 0}); }

  std::vector<std::uint8_t> random_bytes(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(next() >> 24);
    return v;
  }
  std::string take() { return std::move(text_); }

 private:
  std::uint32_t next() { return seed_ = seed_ * 1664525u + 1013904223u; }  // deterministic LCG
  std::int64_t t_ = kStart;
  std::uint32_t seed_ = 0x1234567;
  std::string text_;
};

// Addresses on the Link bus.
NatAddress to_nat(std::uint8_t nat, std::uint8_t dev = 0) {
  return {Bus::link, Direction::to_device, nat, dev};
}
NatAddress from_nat(std::uint8_t nat, std::uint8_t dev = 0) {
  return {Bus::link, Direction::from_device, nat, dev};
}
const NatAddress kBroadcast = to_nat(kNatBroadcast, 0xFF);

LegacyId legacy_to(std::uint32_t serial) {
  return parse_legacy_id(make_legacy_id(Direction::to_device, serial >> 24, serial));
}
LegacyId legacy_from(std::uint32_t serial) {
  return parse_legacy_id(make_legacy_id(Direction::from_device, serial >> 24, serial));
}

struct NatDevice {
  std::uint32_t serial;
  std::uint16_t type;
  std::uint8_t ext_nat;     // NAT on the Link bus (the Tree Extension's for Tree devices)
  std::uint8_t device_nat;  // 0 for extensions
  Config config;            // empty = none
};

}  // namespace

std::string make_startup_capture() {
  Capture c;
  const std::uint32_t kExtension = 0x01FF0A00, kRelay = 0x0BFF0A01;
  const std::uint8_t di_cfg[] = {0x03, 0x00, 0x00, 0x00};           // inputs 1+2 count frequencies
  const std::uint8_t touch_cfg[] = {0x05, 0x00, 0x00, 0x00, 0x01};  // T/H every 5 min, audible ack
  const std::uint8_t rcs_cfg[] = {0x0F, 0x00, 0x00, 0x00};          // every 15 min
  const std::uint8_t rgbw_cfg[] = {101, 101, 101, 101, 0x80, 0x80, 0x80, 0x80, 27, 27, 27, 27};
  const NatDevice di{0x14123456, 0x0014, 0x02, 0x00, Config::make(1, 0x00, 900, di_cfg)};
  const NatDevice tree{0x13000A01, 0x0013, 0x01, 0x00, Config{}};
  const NatDevice touch{0xB0112233, 0x8003, 0x01, 0x41, Config::make(2, 0xFF, 900, touch_cfg)};
  const NatDevice rgbw{0xC0168612, 0x800C, 0x01, 0x42, Config::make(1, 0x20, 900, rgbw_cfg)};
  const NatDevice rcs{0xB0445566, 0x8010, 0x01, 0x01, Config::make(1, 0x40, 900, rcs_cfg)};

  // 1. "Extensions offline", legacy and NAT flavour, twice 50 ms apart (section 9.3).
  for (int k = 0; k < 2; ++k) {
    c.legacy(parse_legacy_id(0), LegacySetOffline{});
    c.nat(kBroadcast, ExtensionsOffline{});
    c.wait_ms(48);
  }

  // 2. Legacy extensions: identify -> start -> checksum -> blink position -> state reports.
  c.wait_ms(20);
  c.legacy(legacy_to(kExtension), LegacyIdentify{});
  c.wait_ms(2);
  c.legacy(legacy_from(kExtension), LegacyStart{{1, 3, 10031107}});
  c.wait_ms(5);
  c.legacy(legacy_to(kExtension), LegacyRequestChecksum{});
  c.wait_ms(2);
  c.legacy(legacy_from(kExtension),
           LegacyConfigChecksum{{0x5A, 0x11, 0x22, 0x33, 0x44, 0x55, 0x03}});
  c.wait_ms(5);
  c.legacy(legacy_to(kExtension), LegacyBlinkPosition{375});
  c.wait_ms(2);
  c.legacy(legacy_from(kExtension), LegacyDigitalInputs{0x0803});
  c.legacy(legacy_from(kExtension), LegacyAnalogInputs{{{1000, 500, 0, 1023}}});
  c.legacy(legacy_from(kExtension), LegacyTemperature{0, 0, 0, 381});
  c.wait_ms(10);
  c.legacy(legacy_to(kRelay), LegacyIdentify{});
  c.wait_ms(2);
  c.legacy(legacy_from(kRelay), LegacyStart{{1, 0, 10031107}});
  c.wait_ms(5);
  c.legacy(legacy_to(kRelay), LegacyBlinkPosition{750});
  c.wait_ms(3);
  c.legacy(legacy_to(kRelay), LegacyOutputs{0x0003});
  c.wait_ms(2);
  c.legacy(legacy_from(kRelay), LegacyOutputs{0x0003});
  c.legacy(legacy_from(kRelay), LegacyTemperature{0, 0, 0, 450});
  c.wait_ms(30);

  // 3. NAT extensions in configuration order: DI Extension, then the Tree Extension.
  for (const NatDevice* ext : {&di, &tree}) {
    c.nat(to_nat(kNatBroadcast, 0x00), NatOffer{ext->ext_nat, 0x00, ext->serial});
    c.wait_ms(4);
    c.nat(from_nat(ext->ext_nat), Start{{10031108, 0, 0, ext->serial, 0x02, ext->type, 1}});
    c.wait_ms(3);
    if (ext == &tree) {  // the Tree Extension's "values": one CAN error reply per branch
      c.nat(from_nat(tree.ext_nat), CanErrorReply{{1, 0, 128, 6}});
      c.nat(from_nat(tree.ext_nat), CanErrorReply{{2, 0, 128, 3}});
    } else {
      c.nat(from_nat(di.ext_nat), DigitalValue{0, 0x00000004});
    }
    c.wait_ms(6);
    c.nat(to_nat(ext->ext_nat), CryptoPacket{nat_cmd::kChallengeRequest, c.random_bytes(16)});
    c.wait_ms(8);
    c.nat(from_nat(ext->ext_nat), CryptoPacket{nat_cmd::kChallengeReply, c.random_bytes(16)});
    c.wait_ms(10);
    if (!ext->config.bytes.empty()) {
      c.nat(to_nat(ext->ext_nat), ext->config);
      c.wait_ms(15);
    }
    c.nat(to_nat(ext->ext_nat),
          Alive{0x03, ext->config.version(), ext->config.bytes.empty() ? 0u : ext->config.crc()});
    c.wait_ms(2);
    c.nat(from_nat(ext->ext_nat), ConfigEqual{});
    c.wait_ms(20);
  }

  // 4. Tree devices behind the Tree Extension (NAT 1): the RGBW dimmer is new and asks for a NAT
  // on the left branch first; offers go to device NAT 0xFF, the branch follows from the new NAT.
  c.nat(from_nat(tree.ext_nat, 0x00), NatIndexRequest{{0x40, rgbw.type, rgbw.serial}});
  c.wait_ms(40);
  for (const NatDevice* dev : {&touch, &rgbw, &rcs}) {
    c.nat(to_nat(tree.ext_nat, 0xFF), NatOffer{dev->device_nat, 0x00, dev->serial});
    c.wait_ms(5);
    const NatAddress up = from_nat(tree.ext_nat, dev->device_nat);
    const NatAddress down = to_nat(tree.ext_nat, dev->device_nat);
    c.nat(up, Start{{10031108, 0, 0, dev->serial, 0x02, dev->type, 1}});
    c.wait_ms(8);
    c.nat(down, CryptoPacket{nat_cmd::kCryptDeviceIdRequest, c.random_bytes(16)});
    c.wait_ms(9);
    c.nat(up, CryptoPacket{nat_cmd::kCryptDeviceIdReply, c.random_bytes(32)});
    c.wait_ms(6);
    c.nat(down, CryptoPacket{nat_cmd::kChallengeRequest, c.random_bytes(16)});
    c.wait_ms(9);
    c.nat(up, CryptoPacket{nat_cmd::kChallengeReply, c.random_bytes(16)});
    c.wait_ms(7);
    c.nat(down, dev->config);
    c.wait_ms(14);
    c.nat(down, Alive{0x03, dev->config.version(), dev->config.crc()});
    c.wait_ms(2);
    c.nat(up, ConfigEqual{});
    c.wait_ms(5);
    if (dev == &touch) {
      c.nat(up, AnalogValue{0, 0x15, 0, 22500});  // 22.5 degC
      c.nat(up, AnalogValue{1, 0x15, 0, 48200});  // 48.2 %
    } else if (dev == &rcs) {
      c.nat(up, AnalogValue{0, 0x15, 0, 21300});  // 21.3 degC
      c.nat(up, AnalogValue{1, 0x15, 0, 51000});  // 51 %
      c.nat(up, AnalogValue{2, 0x00, 0, 612});    // 612 ppm CO2
      c.nat(up, DigitalValue{0, 0x01});           // CO2 class 1 (< 1500 ppm)
    }
    c.wait_ms(25);
  }

  // 5. Time sync and legacy date/heartbeat, then the search for unknown devices.
  c.nat(kBroadcast, TimeSync{{2024, 6, 15, 36002000}});
  c.legacy(parse_legacy_id(0), LegacyDateTime{{2024, 6, 15, 36002000}});
  c.legacy(parse_legacy_id(0), LegacyHeartbeat{60000});
  c.wait_ms(50);
  c.nat(kBroadcast, IdentifyUnknown{});
  c.nat(to_nat(tree.ext_nat, 0xFF), IdentifyUnknown{});
  c.legacy(parse_legacy_id(0), LegacyIdentifyUnknown{});
  c.wait_ms(300);

  // 6. Running: a user touches the Touch, the Miniserver drives the RGBW dimmer, inputs change.
  const NatAddress touch_up = from_nat(tree.ext_nat, touch.device_nat);
  c.nat(touch_up, DigitalValue{0, 0x04});  // centre zone
  c.wait_ms(180);
  c.nat(touch_up, DigitalValue{0, 0x00});
  c.wait_ms(15);
  c.nat(to_nat(tree.ext_nat, touch.device_nat), DigitalValue{0, 0x01});  // acknowledge buzzer
  c.wait_ms(20);
  const NatAddress rgbw_down = to_nat(tree.ext_nat, rgbw.device_nat);
  c.nat(rgbw_down, CompositeRgbw{Fade::from_tenths(20), 100, 50, 0, 0});
  c.wait_ms(400);
  CompositeWhite white;
  white.value = {0xFF, 0xFF, 0xFF, 80};
  white.fade = {Fade{}, Fade{}, Fade{}, Fade::from_tenths(10)};
  c.nat(rgbw_down, white);
  c.wait_ms(250);
  c.nat(from_nat(di.ext_nat), DigitalValue{0, 0x00000005});
  c.nat(from_nat(di.ext_nat), FrequencyValue{0, 50});
  c.wait_ms(120);
  c.legacy(legacy_from(kExtension), LegacyDigitalInputs{0x0801});
  c.wait_ms(60);
  c.legacy(legacy_to(kRelay), LegacyOutputs{0x0007});
  c.wait_ms(2);
  c.legacy(legacy_from(kRelay), LegacyOutputs{0x0007});
  c.wait_ms(500);
  c.nat(to_nat(di.ext_nat), Webservice{{"TechReport"}});
  c.wait_ms(12);
  c.nat(from_nat(di.ext_nat), Webservice{{"UpTime:3s;Serial:14123456;NatIdx:2;"}});
  c.wait_ms(800);
  c.nat(from_nat(tree.ext_nat, rcs.device_nat), AnalogValue{2, 0x00, 0, 640});
  c.nat(touch_up, AnalogValue{0, 0x15, 0, 22600});
  c.wait_ms(200);
  c.nat(to_nat(di.ext_nat), Ping{});
  c.wait_ms(1);
  c.nat(from_nat(di.ext_nat), Pong{});
  return c.take();
}

}  // namespace loxcan::canproto::testing
