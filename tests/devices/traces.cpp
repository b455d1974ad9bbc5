#include "tests/devices/traces.hpp"

#include <stdexcept>

#include "canproto/candump.hpp"
#include "canproto/crc.hpp"
#include "canproto/message.hpp"

namespace loxcan::testing {
namespace {

namespace cp = loxcan::canproto;
using cp::Direction;

constexpr std::int64_t kBase = 1718000000LL * 1'000'000'000;  // 2024-06-10 06:13:20 UTC
constexpr std::int64_t kMs = 1'000'000;

class Builder {
 public:
  explicit Builder(std::string name, std::string comment) {
    trace_.name = std::move(name);
    trace_.comment = std::move(comment);
  }
  void wait_ms(std::int64_t ms) { t_ += ms * kMs; }

  void nat(Direction dir, std::uint8_t nat, std::uint8_t dev, cp::NatBody body) {
    add(cp::NatMessage{{cp::Bus::link, dir, nat, dev}, std::move(body), 0});
  }
  void to(std::uint8_t nat, std::uint8_t dev, cp::NatBody body) {
    nat_msg(Direction::to_device, nat, dev, std::move(body));
  }
  void from(std::uint8_t nat, std::uint8_t dev, cp::NatBody body) {
    nat_msg(Direction::from_device, nat, dev, std::move(body));
  }
  void legacy(Direction dir, std::uint32_t serial, cp::LegacyBody body) {
    cp::LegacyId id;
    id.kind = cp::LegacyKind::direct;
    id.dir = dir;
    id.type = static_cast<std::uint8_t>(serial >> 24);
    id.serial24 = serial & 0xFFFFFF;
    add(cp::LegacyMessage{id, std::move(body), 0});
  }
  void legacy_broadcast(cp::LegacyBody body) {
    cp::LegacyId id;
    id.kind = cp::LegacyKind::broadcast;
    add(cp::LegacyMessage{id, std::move(body), 0});
  }
  Trace take() { return std::move(trace_); }

  // Common sequences.
  void start(std::uint8_t nat, std::uint8_t dev, std::uint32_t serial, std::uint16_t type,
             std::uint32_t version, std::uint32_t crc = 0) {
    cp::Start s;
    s.version = version;
    s.config_crc = crc;
    s.serial = serial;
    s.reason = 0x02;
    s.device_type = type;
    s.hw_version = 1;
    from(nat, dev, s);
  }
  void index_request(std::uint32_t serial, std::uint16_t type) {
    cp::NatIndexRequest r;
    r.device_type = type;
    r.serial = serial;
    from(cp::random_nat(serial), 0, r);
  }
  void offer(std::uint8_t id_nat, std::uint8_t dev, std::uint8_t new_nat, std::uint32_t serial,
             std::uint8_t flags = 0) {
    to(id_nat, dev, cp::NatOffer{new_nat, flags, serial});
  }
  void analog(std::uint8_t nat, std::uint8_t dev, std::uint8_t index, std::uint8_t flags,
              std::int64_t raw, bool from_device = true) {
    cp::AnalogValue a;
    a.index = index;
    a.flags = flags;
    a.raw = static_cast<std::uint32_t>(raw);
    nat_msg(from_device ? Direction::from_device : Direction::to_device, nat, dev, a);
  }

 private:
  void nat_msg(Direction dir, std::uint8_t nat, std::uint8_t dev, cp::NatBody body) {
    this->nat(dir, nat, dev, std::move(body));
  }
  void add(const cp::Message& m) {
    auto frames = cp::encode(m);
    if (!frames) throw std::runtime_error("trace: cannot encode a message");
    for (auto f : *frames) {
      f.ts_ns = t_;
      f.iface = cp::IfaceName("can0");
      trace_.frames.push_back(f);
      t_ += 2 * kMs;  // fragments back to back, ~2 ms apart like the emulators
    }
    t_ += 8 * kMs;
  }

  Trace trace_;
  std::int64_t t_ = kBase;
};

constexpr std::uint32_t kFw = 10031108;  // 10.3.11.8

}  // namespace

Trace startup_di_trace() {
  Builder b("startup_di",
            "Miniserver start-up with a configured DI Extension 14111775 (NAT 2) and an unknown\n"
            "DI Extension 14111779 that gets parked (LOXONE_CAN.md 9.3, vectors 10-12, 17-18).");
  constexpr std::uint32_t kDi = 0x14111775, kUnknown = 0x14111779;
  b.legacy_broadcast(cp::LegacySetOffline{});
  b.wait_ms(50);
  b.legacy_broadcast(cp::LegacySetOffline{});
  b.to(0xFF, 0xFF, cp::ExtensionsOffline{});
  b.wait_ms(500);
  b.index_request(kDi, 0x0014);
  b.offer(0xFF, 0x00, 0x02, kDi);
  b.start(0x02, 0x00, kDi, 0x0014, kFw);
  b.from(0x02, 0x00, cp::DigitalValue{0, 0x5});  // i1 + i3 on
  b.to(0x02, 0x00, cp::Alive{3, 1, 0x9C125BF5});
  b.from(0x02, 0x00, cp::Alive{5, 0, 0x9C125BF5});
  b.wait_ms(200);
  b.to(0xFF, 0xFF, cp::IdentifyUnknown{});
  b.index_request(kUnknown, 0x0014);
  b.offer(0xFF, 0x00, 0x81, kUnknown, cp::NatOffer::kPark);
  b.start(0x81, 0x00, kUnknown, 0x0014, kFw);
  b.wait_ms(1000);
  b.from(0x02, 0x00, cp::FrequencyValue{3, 50});  // f4 = 50 Hz
  b.from(0x02, 0x00, cp::DigitalValue{0, 0x4});   // i1 off
  b.from(0x02, 0x00, cp::DigitalValue{0, 0x4});   // repeated: no event
  cp::TimeSync ts;
  ts.time = cp::DateTime{2024, 6, 10, 22400000};
  b.to(0xFF, 0xFF, ts);
  b.from(0x05, 0x00, cp::AnalogValue{0, 5, 0, 5000});  // NAT 5 never offered: unknown device
  return b.take();
}

Trace tree_trace() {
  Builder b("tree",
            "Tree Extension 13112233 (NAT 1) with a Touch C0000001 (left 0x41), an RGBW 24V\n"
            "Dimmer C0168612 (left 0x42), a Room Comfort Sensor C0000003 (right 0x01) and an RGBW\n"
            "24V Dimmer C0000004 (right 0x02); then a Miniserver restart with new NATs.");
  constexpr std::uint32_t kExt = 0x13112233, kTouch = 0xC0000001, kRgbwL = 0xC0168612,
                          kRcs = 0xC0000003, kRgbwR = 0xC0000004;
  b.index_request(kExt, 0x0013);
  b.offer(0xFF, 0x00, 0x01, kExt);
  b.start(0x01, 0x00, kExt, 0x0013, kFw);
  b.from(0x01, 0x00, cp::CanErrorReply{{1, 0, 128, 6}});
  b.from(0x01, 0x00, cp::CanErrorReply{{2, 0, 128, 3}});
  struct Dev {
    std::uint32_t serial;
    std::uint16_t type;
    std::uint8_t nat;
  };
  const Dev devs[] = {
      {kTouch, 0x8003, 0x41}, {kRgbwL, 0x800C, 0x42}, {kRcs, 0x8010, 0x01}, {kRgbwR, 0x800C, 0x02}};
  for (const auto& d : devs) {
    b.offer(0x01, 0xFF, d.nat, d.serial);
    b.start(0x01, d.nat, d.serial, d.type, 16000610);
  }
  b.wait_ms(100);
  b.analog(0x01, 0x41, 0, 0x15, 22500);  // Touch 22.5 °C
  b.analog(0x01, 0x41, 1, 0x15, 45500);  // 45.5 %
  b.analog(0x01, 0x01, 0, 0x15, 21300);  // RCS 21.3 °C
  b.analog(0x01, 0x01, 1, 0x15, 40000);  // 40 %
  b.analog(0x01, 0x01, 2, 0x00, 650);    // 650 ppm
  b.analog(0x01, 0x01, 3, 0x00, 1);      // class 1
  b.from(0x01, 0x01, cp::DigitalValue{0, 1});
  b.wait_ms(2000);
  b.from(0x01, 0x41, cp::DigitalValue{0, 0x01});  // top left
  b.from(0x01, 0x41, cp::DigitalValue{0, 0x00});  // released
  b.to(0x01, 0x41, cp::DigitalValue{0, 0x01});    // buzzer on
  cp::CompositeRgbw c;
  c.fade = cp::Fade::from_tenths(20);
  c.r = 100;
  c.g = 50;
  b.to(0x01, 0x42, c);                              // left dimmer 100/50/0/0
  b.to(0x01, 0x02, cp::RgbwValue{0, 0, 0, 0, 80});  // right dimmer W 80 %
  cp::CompositeWhite w;
  w.value = {0xFF, 0xFF, 30, 0xFF};  // only blue changes
  b.to(0x01, 0x42, w);
  b.analog(0x01, 0x41, 0, 0x15, -5250);  // Touch -5.25 °C
  b.nat(Direction::shortcut, 0x01, 0x00, cp::TreeShortcut{0x40});
  b.from(0x01, 0x43, cp::AnalogValue{0, 5, 0, 1000});  // device NAT 0x43 never offered
  // Miniserver restart: the Tree Extension gets NAT 3, devices new device NATs.
  b.wait_ms(60000);
  b.to(0xFF, 0xFF, cp::ExtensionsOffline{});
  b.offer(0xFF, 0x00, 0x03, kExt);
  b.start(0x03, 0x00, kExt, 0x0013, kFw);
  b.offer(0x03, 0xFF, 0x45, kTouch);
  b.start(0x03, 0x45, kTouch, 0x8003, 16000610);
  b.offer(0x03, 0xFF, 0x05, kRcs);
  b.start(0x03, 0x05, kRcs, 0x8010, 16000610);
  b.analog(0x03, 0x45, 0, 0x15, 21000);           // Touch 21 °C under its new address
  b.analog(0x03, 0x05, 2, 0x00, 900);             // RCS 900 ppm
  b.from(0x01, 0x41, cp::DigitalValue{0, 0x02});  // old address: nobody there any more
  return b.take();
}

Trace legacy_trace() {
  Builder b(
      "legacy",
      "Legacy Extension 01FF0A00 and Relay Extension 0BFF0A01: start-up (legacy 9.3), inputs,\n"
      "outputs both ways, an undocumented DALI Extension 0D000042, then the Relay Extension\n"
      "falls silent for 25 minutes (vectors 28-33).");
  constexpr std::uint32_t kExt = 0x01FF0A00, kRelay = 0x0BFF0A01, kDali = 0x0D000042;
  b.legacy_broadcast(cp::LegacySetOffline{});
  b.wait_ms(50);
  b.legacy_broadcast(cp::LegacySetOffline{});
  b.legacy(Direction::to_device, kExt, cp::LegacyIdentify{});
  b.legacy(Direction::from_device, kExt, cp::LegacyStart{{1, 0, 10031107}});
  b.legacy(Direction::to_device, kRelay, cp::LegacyIdentify{});
  b.legacy(Direction::from_device, kRelay, cp::LegacyStart{{1, 0, 10031107}});
  b.legacy(Direction::from_device, kExt, cp::LegacyDigitalInputs{0x0801});  // i1 + i12
  cp::LegacyAnalogInputs ai;
  ai.raw = {1000, 500, 0, 1023};
  b.legacy(Direction::from_device, kExt, ai);
  cp::LegacyTemperature t;
  t.value = 415;  // 41.5 °C (hw 1 => raw ADC formula applies, see the golden)
  b.legacy(Direction::from_device, kRelay, t);
  b.legacy(Direction::to_device, kRelay, cp::LegacyOutputs{0x3});    // q1 + q2
  b.legacy(Direction::from_device, kRelay, cp::LegacyOutputs{0x3});  // echo
  b.legacy(Direction::to_device, kExt, cp::LegacyOutputs{0x80});     // q8
  cp::LegacyAnalogOutputs ao;
  ao.raw = {250, 0, 0, 1000};
  b.legacy(Direction::to_device, kExt, ao);
  cp::LegacyGeneric freq;  // 0x51: 25 Hz on input 5 (nibble 4), others unused
  freq.cmd = 0x51;
  freq.b0 = 25;
  freq.val32 = 0x00FFF400;
  b.legacy(Direction::from_device, kExt, freq);
  b.legacy(Direction::from_device, kDali, cp::LegacyStart{{1, 0, 10020301}});
  cp::LegacyGeneric dali;
  dali.cmd = 0x70;
  dali.b0 = 1;
  b.legacy(Direction::from_device, kDali, dali);
  b.legacy(Direction::to_device, kRelay, cp::LegacyPark{});
  // 25 minutes later: the Extension is still alive, the Relay Extension has gone quiet.
  b.wait_ms(25 * 60 * 1000);
  b.legacy(Direction::from_device, kExt, cp::LegacyAlive{{1, 0, 10031107}});
  b.legacy(Direction::from_device, kExt, cp::LegacyDigitalInputs{0x0800});
  return b.take();
}

std::vector<Trace> all_traces() {
  return {startup_di_trace(), tree_trace(), legacy_trace()};
}

std::string to_log(const Trace& trace) {
  std::string s;
  std::size_t pos = 0;
  while (pos <= trace.comment.size()) {
    auto nl = trace.comment.find('\n', pos);
    if (nl == std::string::npos) nl = trace.comment.size();
    s += "# " + trace.comment.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  s += "# Generated by tests/devices/make_traces (tests/devices/traces.cpp); do not edit.\n";
  for (const auto& f : trace.frames) s += cp::format_log_line(f) + "\n";
  return s;
}

}  // namespace loxcan::testing
