// Inventory behaviour that the golden traces do not isolate: NAT re-assignment, silence, naming,
// unknown types, command addressing.
#include <gtest/gtest.h>

#include "devices/format.hpp"
#include "devices/inventory.hpp"

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
  EXPECT_EQ(find_value(b->channels, "i1") == nullptr ? false : std::get<bool>(*find_value(b->channels, "i1")), false);
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
  inv.feed(cp::Message{cp::NatMessage{{cp::Bus::tree, cp::Direction::from_device, 0x41, 0x41}, s, 0}},
           2 * kS, events);
  texts();
  nat(cp::Direction::from_device, 0x01, 0x41, analog_value(0, 0x15, 22500), 3 * kS);
  inv.feed(cp::Message{cp::NatMessage{{cp::Bus::tree, cp::Direction::from_device, 0x41, 0x41},
                                      analog_value(1, 0x15, 50000), 0}},
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
  legacy(cp::Direction::to_device, cp::LegacyPacket{0x18, std::vector<std::uint8_t>(16, 0xA5), false}, 2 * kS);
  legacy(cp::Direction::from_device, cp::LegacyPacket{0x19, std::vector<std::uint8_t>(16, 0x5A), false}, 3 * kS);
  EXPECT_EQ(texts().find("unknown_message"), std::string::npos);
  // Any other unmapped legacy fragment is still reported with its raw frames.
  legacy(cp::Direction::from_device, cp::LegacyPacket{0x0A, {1, 2, 3}, false}, 4 * kS);
  EXPECT_NE(texts().find("unknown_message"), std::string::npos);
}
