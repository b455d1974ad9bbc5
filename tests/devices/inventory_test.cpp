// Inventory behaviour that the golden traces do not isolate: NAT re-assignment, silence, naming,
// unknown types, command addressing.
#include "devices/inventory.hpp"

#include <gtest/gtest.h>

#include <random>

#include "devices/format.hpp"

using namespace loxcan::devices;
namespace cp = loxcan::canproto;

namespace {

constexpr std::int64_t kS = 1'000'000'000;

cp::AnalogValue analog_value(std::uint8_t index, std::uint8_t flags, std::uint32_t raw) {
  cp::AnalogValue a;
  a.index = index;
  a.flags = flags;
  a.raw = raw;
  return a;
}

class InventoryTest : public ::testing::Test {
 protected:
  Registry reg = Registry::builtin();
  Inventory inv{reg};
  std::vector<Event> events;

  void nat(cp::Direction dir, std::uint8_t n, std::uint8_t dev, cp::NatBody body, std::int64_t ts) {
    inv.feed(cp::Message{cp::NatMessage{{cp::Bus::link, dir, n, dev}, std::move(body), 0}}, ts,
             events);
  }
  void start(std::uint8_t n, std::uint8_t dev, std::uint32_t serial, std::uint16_t type,
             std::int64_t ts) {
    cp::Start s;
    s.serial = serial;
    s.device_type = type;
    s.version = 10031108;
    nat(cp::Direction::from_device, n, dev, s, ts);
  }
  std::string texts() {
    std::string s;
    for (const auto& e : events) s += format_event(e) + "\n";
    events.clear();
    return s;
  }
};

}  // namespace

TEST_F(InventoryTest, FollowsNatReassignment) {
  start(0x02, 0, 0x14000001, 0x14, 1 * kS);
  nat(cp::Direction::from_device, 0x02, 0, cp::DigitalValue{0, 1}, 2 * kS);
  // Miniserver restart: NAT 2 now belongs to another DI extension, ours gets NAT 3.
  nat(cp::Direction::to_device, 0xFF, 0, cp::NatOffer{0x03, 0, 0x14000001}, 3 * kS);
  nat(cp::Direction::to_device, 0xFF, 0, cp::NatOffer{0x02, 0, 0x14000002}, 3 * kS);
  start(0x02, 0, 0x14000002, 0x14, 4 * kS);
  nat(cp::Direction::from_device, 0x03, 0, cp::DigitalValue{0, 2}, 5 * kS);
  nat(cp::Direction::from_device, 0x02, 0, cp::DigitalValue{0, 4}, 5 * kS);
  const DeviceRecord* a = inv.find(0x14000001);
  const DeviceRecord* b = inv.find(0x14000002);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->nat, 0x03);
  EXPECT_EQ(b->nat, 0x02);
  EXPECT_EQ(std::get<bool>(*find_value(a->channels, "i2")), true);
  EXPECT_EQ(std::get<bool>(*find_value(b->channels, "i3")), true);
  EXPECT_EQ(find_value(b->channels, "i1") == nullptr
                ? false
                : std::get<bool>(*find_value(b->channels, "i1")),
            false);
}

TEST_F(InventoryTest, SilenceMakesOfflineAndTrafficRestores) {
  start(0x02, 0, 0x14000001, 0x14, 0);
  texts();
  inv.tick(10 * 60 * kS, events);
  EXPECT_EQ(texts(), "");
  inv.tick(21 * 60 * kS, events);
  EXPECT_EQ(texts(), "(1260.000000) state di_extension-14000001 online -> offline\n");
  nat(cp::Direction::from_device, 0x02, 0, cp::Pong{}, 22 * 60 * kS);
  EXPECT_EQ(texts(), "(1320.000000) state di_extension-14000001 offline -> online\n");
}

TEST_F(InventoryTest, ParkBroadcastParksNatDevices) {
  start(0x02, 0, 0x14000001, 0x14, kS);
  texts();
  nat(cp::Direction::to_device, 0xFF, 0xFF, cp::Park{}, 2 * kS);
  EXPECT_EQ(texts(), "(2.000000) state di_extension-14000001 online -> parked\n");
  EXPECT_EQ(inv.find(0x14000001)->nat, 0);
}

TEST_F(InventoryTest, FriendlyNamesApplyBeforeAndAfter) {
  inv.set_name(0x14000001, "hall-inputs");
  start(0x02, 0, 0x14000001, 0x14, kS);
  EXPECT_EQ(inv.find(0x14000001)->info.name, "hall-inputs");
  start(0x03, 0, 0x14000002, 0x14, kS);
  EXPECT_EQ(inv.find(0x14000002)->info.name, "di_extension-14000002");
  inv.set_name(0x14000002, "cellar");
  EXPECT_EQ(inv.find_by_name("cellar"), inv.find(0x14000002));
}

TEST_F(InventoryTest, UnknownTypesKeepTheRawMessage) {
  start(0x04, 0, 0x22000001, 0x0022, kS);  // not in the registry
  texts();
  nat(cp::Direction::from_device, 0x04, 0, cp::DigitalValue{0, 1}, 2 * kS);
  EXPECT_EQ(inv.find(0x22000001)->info.model, "unknown_0022");
  EXPECT_EQ(texts(),
            "(2.000000) bus unknown_message: unknown_0022-22000001: digital_value not mapped by "
            "model unknown_0022 [10004080#0000000001000000]\n");
}

TEST_F(InventoryTest, CommandsAreAddressedWithTheCurrentNat) {
  start(0x01, 0, 0x13000001, 0x13, kS);
  start(0x01, 0x42, 0xC0000001, 0x800C, kS);
  auto c = inv.command(0xC0000001, "rgbw", Rgbw{100, 0, 0, 0});
  ASSERT_TRUE(c);
  auto& m = std::get<cp::NatMessage>(c->messages.at(0));
  EXPECT_EQ(m.addr.nat, 0x01);
  EXPECT_EQ(m.addr.device_nat, 0x42);
  EXPECT_EQ(m.addr.dir, cp::Direction::to_device);
  EXPECT_EQ(inv.command(0xC0000001, "rgbw", 5.0).error(), CommandError::wrong_type);
  EXPECT_EQ(inv.command(0x99999999, "rgbw", 5.0).error(), CommandError::unknown_channel);

  cp::LegacyId id;
  id.dir = cp::Direction::from_device;
  id.type = 0xB;
  id.serial24 = 0xFF0A01;
  inv.feed(cp::Message{cp::LegacyMessage{id, cp::LegacyStart{{1, 0, 10031107}}, 0}}, kS, events);
  auto r = inv.command(0x0BFF0A01, "q1", true);
  ASSERT_TRUE(r);
  auto frames = cp::encode(r->messages.at(0));
  ASSERT_TRUE(frames);
  EXPECT_EQ(frames->at(0).id, 0x1BFF0A01u);  // vector 28
  EXPECT_EQ(frames->at(0).data[0], 0x60);
  EXPECT_EQ(frames->at(0).data[4], 0x01);
}

TEST_F(InventoryTest, TreeDeviceAnnouncesItsBranch) {
  start(0x01, 0, 0x13000001, 0x13, kS);
  cp::NatIndexRequest r;  // vector 7: RGBW 24V Dimmer on the left branch
  r.branch_flags = 0x40;
  r.device_type = 0x800C;
  r.serial = 0xC0168612;
  nat(cp::Direction::from_device, 0x01, 0, r, 2 * kS);
  const DeviceRecord* d = inv.find(0xC0168612);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->branch, BranchSide::left);
  EXPECT_EQ(d->parent, 0x13000001u);
  EXPECT_EQ(d->state, DeviceState::offline);
  EXPECT_EQ(d->info.generation, Generation::tree_device);
}

TEST_F(InventoryTest, TreeBranchInterfaceKeepsItsOwnMapping) {
  // The same Touch seen on the Link bus (behind Tree Extension NAT 1) and on a branch interface.
  start(0x01, 0, 0x13000001, 0x13, kS);
  start(0x01, 0x41, 0xC0000001, 0x8003, kS);
  cp::Start s;
  s.serial = 0xC0000001;
  s.device_type = 0x8003;
  inv.feed(
      cp::Message{cp::NatMessage{{cp::Bus::tree, cp::Direction::from_device, 0x41, 0x41}, s, 0}},
      2 * kS, events);
  texts();
  nat(cp::Direction::from_device, 0x01, 0x41, analog_value(0, 0x15, 22500), 3 * kS);
  inv.feed(cp::Message{cp::NatMessage{{cp::Bus::tree, cp::Direction::from_device, 0x41, 0x41},
                                      analog_value(1, 0x15, 50000),
                                      0}},
           4 * kS, events);
  EXPECT_EQ(texts(),
            "(3.000000) channel touch-c0000001 temperature = 22.5 °C\n"
            "(4.000000) channel touch-c0000001 humidity = 50 %\n");
}

TEST_F(InventoryTest, LegacyAuthorizationFragmentsAreNotUnmappedMessages) {
  auto legacy = [&](cp::Direction dir, cp::LegacyBody body, std::int64_t ts) {
    cp::LegacyId id;
    id.dir = dir;
    id.type = 0xB;
    id.serial24 = 0xFF0A01;
    inv.feed(cp::Message{cp::LegacyMessage{id, std::move(body), 0}}, ts, events);
  };
  cp::LegacyStart start;
  start.version = 10031107;
  start.hw_version = 1;
  legacy(cp::Direction::from_device, start, kS);
  texts();
  // The 10.3 challenge (fragment type 0x18) and its reply (0x19): crypto carriers, like NAT
  // 0x9C/0x9D, not value messages a model could map.
  legacy(cp::Direction::to_device,
         cp::LegacyPacket{0x18, std::vector<std::uint8_t>(16, 0xA5), false}, 2 * kS);
  legacy(cp::Direction::from_device,
         cp::LegacyPacket{0x19, std::vector<std::uint8_t>(16, 0x5A), false}, 3 * kS);
  EXPECT_EQ(texts().find("unknown_message"), std::string::npos);
  // Any other unmapped legacy fragment is still reported with its raw frames.
  legacy(cp::Direction::from_device, cp::LegacyPacket{0x0A, {1, 2, 3}, false}, 4 * kS);
  EXPECT_NE(texts().find("unknown_message"), std::string::npos);
}

// ---- The per-frame path against its specification -------------------------------------------
// Random value traffic both ways to a mix of models; every channel event must be what
// decode_nat()/decode_legacy() plus the rules of inventory.hpp say: an event for every changed
// value and the first value of each channel, a device report after a command confirms it even
// when equal, a mask command names only the outputs it changes (or its only output).

namespace {

struct Reference {
  const Model* model = nullptr;
  ChannelStates states;
  std::vector<std::string> events;

  void apply(const std::vector<DecodedValue>& values, bool from_device, bool value_cmd,
             const std::string& who) {
    if (values.empty()) {
      if (value_cmd) events.push_back("unknown " + who);
      return;
    }
    for (const auto& v : values) {
      auto it = std::find_if(states.begin(), states.end(),
                             [&](const ChannelState& c) { return c.name == v.channel; });
      if (it == states.end()) {
        states.push_back({v.channel, v.value, v.unit, 0, !from_device});
        it = states.end() - 1;
      } else if (!from_device && values.size() > 1 && it->value == v.value) {
        continue;
      } else if (!from_device || it->commanded || !(it->value == v.value)) {
        it->value = v.value;
      } else {
        continue;
      }
      it->commanded = !from_device;
      events.push_back((from_device ? "changed " : "command ") + who + " " + v.channel + "=" +
                       to_plain(v.value) + (from_device ? v.unit : ""));  // commands carry no unit
    }
  }
};

std::string describe(const Event& e, const std::map<std::uint32_t, std::string>& who) {
  if (auto* c = std::get_if<ChannelChanged>(&e)) {
    return "changed " + who.at(c->device.serial) + " " + c->channel + "=" + to_plain(c->value) +
           c->unit;
  }
  if (auto* c = std::get_if<Command>(&e)) {
    return "command " + who.at(c->device.serial) + " " + c->channel + "=" + to_plain(c->value);
  }
  if (auto* b = std::get_if<BusEvent>(&e); b && b->kind == "unknown_message") {
    return "unknown " + b->detail.substr(0, b->detail.find(':'));
  }
  return "other: " + format_event(e);
}

}  // namespace

TEST_F(InventoryTest, RandomTrafficGivesTheEventsTheRulesSay) {
  struct Nat {
    std::uint8_t ext, dev;
    std::uint32_t serial;
    std::uint16_t type;
  };
  const Nat nats[] = {
      {0x02, 0, 0x14000001, 0x0014},    {0x03, 0, 0x19000001, 0x0019},
      {0x04, 0, 0x17000001, 0x0017},    {0x01, 0, 0x13000001, 0x0013},
      {0x01, 0x41, 0xC0000001, 0x8003}, {0x01, 0x42, 0xC0000002, 0x8019},
      {0x01, 0x43, 0xC0000003, 0x8012}, {0x01, 0x44, 0xC0000004, 0x800C},
      {0x01, 0x05, 0xC0000005, 0x8010}, {0x01, 0x06, 0xC0000006, 0x8002},
      {0x01, 0x07, 0xC0000007, 0x800B}, {0x01, 0x08, 0xC0000008, 0x8014},
  };
  const std::uint32_t legacy_serials[] = {0x01FF0A00, 0x0BFF0A01};
  std::map<std::uint32_t, Reference> ref;
  std::map<std::uint32_t, std::string> who;
  for (const auto& n : nats) {
    start(n.ext, n.dev, n.serial, n.type, kS);
    ref[n.serial].model = reg.find(Protocol::nat, n.type);
  }
  auto legacy = [&](std::uint32_t serial, cp::Direction dir, cp::LegacyBody body, std::int64_t ts) {
    cp::LegacyId id;
    id.dir = dir;
    id.type = static_cast<std::uint8_t>(serial >> 24);
    id.serial24 = serial & 0xFFFFFF;
    inv.feed(cp::Message{cp::LegacyMessage{id, std::move(body), 0}}, ts, events);
  };
  for (auto serial : legacy_serials) {
    legacy(serial, cp::Direction::from_device, cp::LegacyStart{{1, 0, 10031107}}, kS);
    ref[serial].model = reg.find(Protocol::legacy, static_cast<std::uint16_t>(serial >> 24));
  }
  for (const auto& [serial, r] : ref) {
    ASSERT_NE(r.model, nullptr) << std::hex << serial;
    who[serial] = inv.find(serial)->info.name;
  }
  events.clear();

  std::mt19937 rng(20261121);  // fixed: the same traffic every run
  auto pick = [&](std::initializer_list<std::uint32_t> v) {
    return *(v.begin() + rng() % v.size());
  };
  auto pick8 = [&](std::initializer_list<std::uint32_t> v) {
    return static_cast<std::uint8_t>(pick(v));
  };
  auto pick16 = [&](std::initializer_list<std::uint32_t> v) {
    return static_cast<std::uint16_t>(pick(v));
  };
  std::vector<std::string> got, expected;
  std::size_t events_expected = 0;
  for (int step = 0; step < 6000; ++step) {
    const bool from_device = rng() % 3 != 0;
    const auto dir = from_device ? cp::Direction::from_device : cp::Direction::to_device;
    const std::int64_t ts = 2 * kS + step;
    if (rng() % 5 == 0) {  // legacy
      const std::uint32_t serial = legacy_serials[rng() % 2];
      cp::LegacyBody body;
      switch (rng() % 4) {
        case 0: body = cp::LegacyDigitalInputs{pick({0u, 1u, 3u, 0x800u})}; break;
        case 1: body = cp::LegacyOutputs{pick({0u, 1u, 2u, 0x2001u})}; break;
        case 2: {
          cp::LegacyAnalogInputs a;
          a.raw = {pick16({0, 500}), std::uint16_t{0}, pick16({1, 2}), std::uint16_t{0}};
          body = a;
          break;
        }
        default: {
          cp::LegacyAnalogOutputs a;
          a.raw = {std::uint16_t{0}, pick16({0, 100}), std::uint16_t{0}, std::uint16_t{0}};
          body = a;
        }
      }
      std::vector<DecodedValue> values;
      DecodeScratch scratch;
      decode_legacy(*ref[serial].model, body, from_device, 1, scratch, values);
      ref[serial].apply(values, from_device, true, who[serial]);
      legacy(serial, dir, body, ts);
    } else {
      const Nat& n = nats[rng() % std::size(nats)];
      cp::NatBody body;
      switch (rng() % 6) {
        case 0:
        case 1:
          body = cp::DigitalValue{pick8({0, 0, 0, 1}), pick({0u, 1u, 2u, 3u, 5u, 0x10u, 0x80004u})};
          break;
        case 2:
          body = analog_value(pick8({0, 1, 2, 3}), pick8({0, 0x15}), pick({0u, 60u, 22500u}));
          break;
        case 3: body = cp::FrequencyValue{pick8({0, 3, 5}), pick({0u, 50u})}; break;
        case 4: body = cp::RgbwValue{0, pick8({0, 100}), 0, 0, pick8({0, 7})}; break;
        default: {
          cp::CompositeWhite w;
          w.value = {0xFF, pick8({0xFF, 20}), 0xFF, pick8({0xFF, 0})};
          body = w;
        }
      }
      std::vector<DecodedValue> values;
      decode_nat(*ref[n.serial].model, body, from_device, ref[n.serial].states, values);
      ref[n.serial].apply(values, from_device, true, who[n.serial]);
      nat(dir, n.ext, n.dev, body, ts);
    }
    for (const auto& e : events) got.push_back(describe(e, who));
    events.clear();
  }
  for (const auto& [serial, r] : ref) events_expected += r.events.size();
  // Per device, in order (the reference keeps one stream per device).
  std::map<std::string, std::vector<std::string>> by_device;
  for (const auto& g : got) {
    const auto space = g.find(' ');
    by_device[g.substr(space + 1, g.find(' ', space + 1) - space - 1)].push_back(g);
  }
  for (const auto& [serial, r] : ref) {
    EXPECT_EQ(by_device[who[serial]], r.events) << who[serial];
    // The inventory's states are the reference's, in the same order.
    const DeviceRecord* d = inv.find(serial);
    ASSERT_EQ(d->channels.size(), r.states.size()) << who[serial];
    for (std::size_t k = 0; k < r.states.size(); ++k) {
      EXPECT_EQ(d->channels[k].name, r.states[k].name);
      EXPECT_EQ(d->channels[k].value, r.states[k].value) << who[serial] << " " << r.states[k].name;
      EXPECT_EQ(d->channels[k].commanded, r.states[k].commanded)
          << who[serial] << " " << r.states[k].name;
    }
  }
  EXPECT_EQ(got.size(), events_expected);
  EXPECT_GT(events_expected, 1000u);  // the traffic did exercise the path
}
