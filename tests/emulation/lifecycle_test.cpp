// Emulated devices and the simulated Miniserver on an in-memory bus with a fake clock: the life
// cycle of LOXONE_CAN.md 9.2/9.3, Tree routing (3.4), authentication (7), values both ways.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "canproto/candump.hpp"
#include "canproto/message.hpp"
#include "devices/emulation/device.hpp"
#include "devices/emulation/miniserver.hpp"
#include "devices/registry.hpp"
#include "memory_bus.hpp"

namespace loxcan::emulation {
namespace {

using devices::ChannelValue;
using devices::DeviceState;
using testing::MemoryBus;

struct Spec {
  const char* name;
  const char* model;
  std::uint32_t serial;
  const char* parent = "";
  bool left = false;
};

// The whole zoo: NAT extensions, a Tree Extension with devices on both branches, legacy ones.
const Spec kDevices[] = {
    {"di1", "di_extension", 0x14123456},
    {"ai1", "ai_extension", 0x19000001},
    {"ao1", "ao_extension", 0x17000001},
    {"tree1", "tree_extension", 0x13000001},
    {"touch1", "touch", 0xB0000001, "tree1", true},
    {"pure1", "touch_pure", 0xB0000002, "tree1", false},
    {"rcs1", "room_comfort_sensor", 0xB0000003, "tree1", true},
    {"motion1", "motion_sensor", 0xB0000004, "tree1", false},
    {"valve1", "valve_actuator", 0xB0000005, "tree1", true},
    {"nano1", "nano_di", 0xB0000006, "tree1", false},
    {"siren1", "alarm_siren", 0xB0000007, "tree1", true},
    {"weather1", "weather_station", 0xB0000008, "tree1", false},
    {"dimmer1", "rgbw_dimmer", 0xB0000009, "tree1", true},
    {"spot1", "led_spot_rgbw", 0xB000000A, "tree1", false},
    {"ext1", "extension", 0x01123456},
    {"relay1", "relay_extension", 0x0BFF0A01},
};

KeySet other_keys() {
  KeySet k = test_key_set();
  k.algo_key[0] ^= 0x5A5A5A5A;
  k.test_only = false;
  return k;
}

class Lifecycle : public ::testing::Test {
 protected:
  devices::Registry reg = devices::Registry::builtin();
  MemoryBus bus;
  std::unique_ptr<EmulatedBus> emu;
  std::unique_ptr<MiniserverSim> sim;
  int emu_node = -1, sim_node = -1;
  std::vector<devices::Event> emu_events, sim_events;
  std::vector<std::string> emu_logs, sim_logs;
  const KeySet* device_keys = &test_key_set();
  const KeySet* sim_keys = &test_key_set();
  std::uint32_t offline_timeout_s = 30;
  std::vector<std::string> sim_skip;  // devices the simulated Miniserver does not know

  DeviceId tree_id(std::uint32_t serial) {
    DeviceId id{};
    for (int i = 0; i < 12; ++i)
      id[i] = static_cast<std::uint8_t>(serial >> (8 * (i % 4))) ^ static_cast<std::uint8_t>(i);
    return id;
  }

  void build_devices() {
    emu_node = bus.reserve();
    emu = std::make_unique<EmulatedBus>(bus.hooks(emu_node, &emu_events, &emu_logs));
    std::map<std::string, TreeExtension*> trees;
    for (const auto& s : kDevices) {
      DeviceSetup d;
      d.model = reg.find(s.model);
      EXPECT_NE(d.model, nullptr) << s.model;
      d.serial = s.serial;
      d.name = s.name;
      d.auth.keys = device_keys;
      d.left_branch = s.left;
      d.device_id = tree_id(s.serial);
      if (*s.parent)
        trees.at(s.parent)->add_device(d);
      else if (d.model->special == devices::Special::tree_extension)
        trees[s.name] = &emu->add_tree_extension(d);
      else if (d.model->protocol == devices::Protocol::legacy)
        emu->add_legacy_extension(d, 20000);
      else
        emu->add_nat_extension(d);
    }
    bus.attach(emu_node,
               {[this](const canproto::Frame& f, Millis n) { emu->on_frame(f, n); },
                [this](Millis n) { emu->tick(n); }, [this] { return emu->next_deadline(); }});
    emu->start(bus.now());
  }

  std::unique_ptr<MiniserverSim> make_sim(int node) {
    std::vector<SimDevice> devs;
    for (const auto& s : kDevices) {
      if (std::find(sim_skip.begin(), sim_skip.end(), s.name) != sim_skip.end()) continue;
      devs.push_back({reg.find(s.model), s.serial, s.name, s.parent, s.left});
    }
    SimOptions o;
    o.keys = sim_keys;
    o.offline_timeout_s = offline_timeout_s;
    o.time_sync_ms = 5000;
    return std::make_unique<MiniserverSim>(devs, o, bus.hooks(node, &sim_events, &sim_logs));
  }

  void build_sim() {
    if (sim_node < 0) sim_node = bus.reserve();
    sim = make_sim(sim_node);
    bus.attach(sim_node,
               {[this](const canproto::Frame& f, Millis n) { sim->on_frame(f, n); },
                [this](Millis n) { sim->tick(n); }, [this] { return sim->next_deadline(); }});
    sim->start(bus.now());
  }

  void start_all() {
    build_devices();
    build_sim();
  }

  Emulated& dev(const char* name) {
    auto* d = emu->find(name);
    EXPECT_NE(d, nullptr) << name;
    return *d;
  }

  bool logged(const std::vector<std::string>& logs, const std::string& needle) {
    return std::any_of(logs.begin(), logs.end(),
                       [&](const std::string& s) { return s.find(needle) != std::string::npos; });
  }

  /// A node that sends hand-made frames (a foreign device, a second Miniserver).
  Hooks injector() {
    const int node = bus.reserve();
    bus.attach(node, {});
    return bus.hooks(node);
  }

  /// serial -> NAT offers (0xFD) the simulated Miniserver sent since `from`.
  std::map<std::uint32_t, int> offers(Millis from = 0) {
    std::map<std::uint32_t, int> n;
    for (const auto& s : bus.sent())
      if (s.node == sim_node && s.at >= from && (s.frame.id & 0x1F0000FF) == 0x100000FD)
        ++n[std::uint32_t{s.frame.data[4]} | s.frame.data[5] << 8 | s.frame.data[6] << 16 |
            std::uint32_t{s.frame.data[7]} << 24];
    return n;
  }

  /// serial -> NAT Starts (0x02) the emulated devices sent since `from`.
  std::map<std::uint32_t, int> starts(Millis from = 0) {
    std::map<std::uint32_t, int> n;
    NatReceiver rx;
    for (const auto& s : bus.sent()) {
      if (s.node != emu_node || !is_nat_frame(s.frame)) continue;
      auto p = rx.push(s.frame);
      if (p && s.at >= from && p->cmd == 0x02 && p->payload.size() >= 16)
        ++n[std::uint32_t{p->payload[12]} | p->payload[13] << 8 | p->payload[14] << 16 |
            std::uint32_t{p->payload[15]} << 24];
    }
    return n;
  }

  int frames_with(std::uint32_t id_mask, std::uint32_t id, Millis from = 0) {
    int n = 0;
    for (const auto& s : bus.sent())
      if (s.at >= from && (s.frame.id & id_mask) == id) ++n;
    return n;
  }
};

TEST_F(Lifecycle, EverythingComesOnlineAuthenticatedAndConfigured) {
  start_all();
  bus.run_for(10000);
  EXPECT_TRUE(sim->all_ready()) << ::testing::PrintToString(sim->not_ready());
  for (auto* d : emu->all()) {
    EXPECT_EQ(d->state(), DeviceState::online) << d->name();
    if (auto* n = dynamic_cast<NatDevice*>(d)) {
      EXPECT_TRUE(n->authenticated()) << d->name();
      EXPECT_EQ(n->offline_timeout_s(), 30u) << d->name();
      EXPECT_EQ(n->config_crc(), config_crc(make_config(d->model(), 30))) << d->name();
    }
  }
  // Tree devices got NATs from their branch range.
  auto* touch = dynamic_cast<NatDevice*>(&dev("touch1"));
  auto* pure = dynamic_cast<NatDevice*>(&dev("pure1"));
  EXPECT_EQ(touch->nat() & 0xC0, 0x40);
  EXPECT_EQ(pure->nat() & 0xC0, 0x00);
  EXPECT_GT(pure->nat(), 0);
  // Every frame on the bus is a Loxone frame: extended, 8 bytes.
  for (const auto& s : bus.sent()) EXPECT_TRUE(s.frame.is_loxone_shaped());
}

TEST_F(Lifecycle, OutputsSetBySimulatorArriveAsEvents) {
  start_all();
  bus.run_for(10000);
  ASSERT_TRUE(sim->all_ready());
  emu_events.clear();
  const std::pair<const char*, std::pair<const char*, ChannelValue>> outs[] = {
      {"ao1", {"aq2", 5.5}},
      {"dimmer1", {"rgbw", devices::Rgbw{100, 50, 0, 25}}},
      {"spot1", {"rgbw", devices::Rgbw{0, 0, 100, 0}}},
      {"siren1", {"strobe", true}},
      {"pure1", {"buzzer", true}},
      {"valve1", {"position", 42.0}},
      {"motion1", {"led", 2.0}},
      {"relay1", {"q3", true}},
      {"ext1", {"q8", true}},
      {"ext1", {"aq4", 7.5}},
  };
  for (const auto& [name, cv] : outs)
    EXPECT_EQ(sim->set_output(name, cv.first, cv.second, bus.now()), SetResult::ok);
  bus.run_for(500);
  for (const auto& out : outs) {
    // Not a structured binding: clang 14 cannot capture those in a lambda.
    const auto& name = out.first;
    const auto& cv = out.second;
    EXPECT_EQ(dev(name).value(cv.first), cv.second) << name << " " << cv.first;
    const bool seen =
        std::any_of(emu_events.begin(), emu_events.end(), [&](const devices::Event& e) {
          auto* c = std::get_if<devices::Command>(&e);
          return c && c->device.name == name && c->channel == cv.first && c->value == cv.second;
        });
    EXPECT_TRUE(seen) << "no Command event for " << name << " " << cv.first;
  }
  EXPECT_EQ(sim->set_output("ao1", "nope", 1.0, bus.now()), SetResult::unknown_channel);
  EXPECT_EQ(sim->set_output("ao1", "aq1", 11.0, bus.now()), SetResult::bad_value);
  EXPECT_EQ(sim->set_output("di1", "i1", true, bus.now()), SetResult::wrong_direction);
}

TEST_F(Lifecycle, InputChangesArriveAtSimulator) {
  start_all();
  bus.run_for(10000);
  ASSERT_TRUE(sim->all_ready());
  const std::pair<const char*, std::pair<const char*, ChannelValue>> ins[] = {
      {"di1", {"i3", true}},
      {"ai1", {"ai2", 7.25}},
      {"touch1", {"temperature", 22.5}},
      {"touch1", {"center", true}},
      {"rcs1", {"co2", 850.0}},
      {"nano1", {"i6", true}},
      {"weather1", {"wind", 35.0}},
      {"weather1", {"rain", true}},
      {"siren1", {"tamper", true}},
      {"motion1", {"motion", true}},
      {"ext1", {"i12", true}},
      {"ext1", {"ai3", 3.3}},
      {"pure1", {"humidity", 55.5}},
  };
  for (const auto& [name, cv] : ins)
    EXPECT_EQ(dev(name).set_input(cv.first, cv.second, bus.now()), SetResult::ok);
  bus.run_for(200);
  for (const auto& [name, cv] : ins) {
    auto v = sim->value(name, cv.first);
    ASSERT_TRUE(v) << name << " " << cv.first;
    if (auto* d = std::get_if<double>(&cv.second))
      EXPECT_NEAR(std::get<double>(*v), *d, 1e-9) << name;
    else
      EXPECT_EQ(*v, cv.second) << name << " " << cv.first;
  }
  EXPECT_EQ(sim->value("touch1", "zones"), ChannelValue(std::uint32_t{4}));
  EXPECT_EQ(dev("di1").set_input("q1", true, bus.now()), SetResult::unknown_channel);
  EXPECT_EQ(dev("ao1").set_input("aq1", 1.0, bus.now()), SetResult::wrong_direction);
  EXPECT_EQ(dev("ai1").set_input("ai1", 12.0, bus.now()), SetResult::bad_value);
}

TEST_F(Lifecycle, InputsSetBeforeStartAreReportedOnStart) {
  build_devices();
  dev("di1").set_input("i1", true, 0);
  dev("touch1").set_input("temperature", 19.5, 0);
  build_sim();
  bus.run_for(10000);
  EXPECT_EQ(sim->value("di1", "i1"), ChannelValue(true));
  EXPECT_EQ(sim->value("touch1", "temperature"), ChannelValue(19.5));
  // Sent right after the offer, before the challenge was answered: held, applied once authorized.
  auto at = [&](const std::string& line) {
    return std::find_if(sim_logs.begin(), sim_logs.end(),
                        [&](const std::string& s) { return s.find(line) == 0; });
  };
  EXPECT_LT(at("di1: authorized"), at("input di1 i1 = 1"));
  EXPECT_NE(at("input di1 i1 = 1"), sim_logs.end());
  EXPECT_EQ(sim->ignored_values("di1"), 0u);
}

TEST_F(Lifecycle, SimulatorRestartReassignsEveryDevice) {
  start_all();
  bus.run_for(10000);
  ASSERT_TRUE(sim->all_ready());
  const Millis restart = bus.now();
  emu_events.clear();
  build_sim();  // a fresh Miniserver on the same node
  bus.run_for(10000);
  // Every device left the online state (parked by 0x07 / legacy 0x0C) and came back.
  for (auto* d : emu->all()) {
    const bool cycled =
        std::any_of(emu_events.begin(), emu_events.end(), [&](const devices::Event& e) {
          auto* c = std::get_if<devices::DeviceStateChanged>(&e);
          return c && c->device.name == d->name() && c->from == DeviceState::online;
        });
    EXPECT_TRUE(cycled) << d->name() << " was not reassigned";
  }
  EXPECT_TRUE(sim->all_ready()) << ::testing::PrintToString(sim->not_ready());
  for (auto* d : emu->all()) EXPECT_EQ(d->state(), DeviceState::online) << d->name();
  // Every NAT device got a fresh offer and sent a fresh Start (fragment header with cmd 0x02).
  int starts = 0;
  for (const auto& s : bus.sent())
    if (s.at >= restart && (s.frame.id & 0xFF) == 0xF0 && s.frame.data[1] == 0x02 &&
        !((s.frame.id >> 22) & 1))
      ++starts;
  EXPECT_EQ(starts, 14);  // 4 NAT extensions + 10 Tree devices
}

TEST_F(Lifecycle, SilentMiniserverSendsDevicesOfflineWithBackoff) {
  start_all();
  bus.run_for(10000);
  ASSERT_TRUE(sim->all_ready());
  bus.set_connected(sim_node, false);
  const Millis silent = bus.now();
  bus.run_for(
      24000);  // last frame (time sync) at ~5.2 s: Alive at 10 % left (~32 s), offline at ~35 s
  for (auto* d : emu->all()) {
    if (dynamic_cast<NatDevice*>(d)) {
      EXPECT_EQ(d->state(), DeviceState::online) << d->name();
    }
  }
  EXPECT_GE(frames_with(0x1FE000FF, 0x10000008, silent), 14);  // unsolicited Alive at 10 % left
  bus.run_for(10000);
  for (auto* d : emu->all()) {
    if (dynamic_cast<NatDevice*>(d)) {
      EXPECT_EQ(d->state(), DeviceState::offline) << d->name();
    }
  }
  bus.run_for(60000);
  // Each NAT device keeps requesting; the gaps follow the documented backoff.
  std::map<std::uint32_t, std::vector<Millis>> requests;
  for (const auto& s : bus.sent()) {
    if (s.at < silent || (s.frame.id & 0x1FE000FF) != 0x100000FE) continue;
    std::uint32_t serial = 0;
    for (int i = 0; i < 4; ++i) serial |= std::uint32_t{s.frame.data[4 + i]} << (8 * i);
    requests[serial].push_back(s.at);
  }
  EXPECT_EQ(requests.size(), 14u);
  for (const auto& [serial, times] : requests) {
    ASSERT_GE(times.size(), 5u) << std::hex << serial;
    if (serial == 0x13000001) {  // Tree Extension: 1.0..1.5 s
      for (std::size_t i = 1; i < times.size(); ++i) {
        EXPECT_GE(times[i] - times[i - 1], 1000);
        EXPECT_LE(times[i] - times[i - 1], 1500);
      }
      continue;
    }
    for (std::size_t i = 1; i < 4 && i < times.size(); ++i) {
      EXPECT_GE(times[i] - times[i - 1], 1000) << std::hex << serial;
      EXPECT_LE(times[i] - times[i - 1], 2500) << std::hex << serial;
    }
    for (std::size_t i = 4; i < times.size() && i < 10; ++i) {
      EXPECT_GE(times[i] - times[i - 1], 5000) << std::hex << serial;
      EXPECT_LE(times[i] - times[i - 1], 10000) << std::hex << serial;
    }
  }
  // The legacy extensions notice the missing alive reply and go back to sending Start.
  EXPECT_EQ(dev("ext1").state(), DeviceState::offline);
  EXPECT_GT(frames_with(0x1FFFFFFF, 0x01123456, silent + 30000), 0);
  // The Miniserver comes back: everyone is online again.
  bus.set_connected(sim_node, true);
  build_sim();
  bus.run_for(15000);
  EXPECT_TRUE(sim->all_ready()) << ::testing::PrintToString(sim->not_ready());
}

TEST_F(Lifecycle, WrongKeysFailAuthorization) {
  static const KeySet wrong = other_keys();
  sim_keys = &wrong;
  start_all();
  bus.run_for(20000);
  EXPECT_EQ(sim->phase("di1"), MiniserverSim::Phase::auth_failed);
  EXPECT_EQ(sim->phase("relay1"), MiniserverSim::Phase::auth_failed);
  EXPECT_TRUE(logged(sim_logs, "Authorization failed: di1 (14123456) after 6 attempts"));
  EXPECT_TRUE(
      logged(emu_logs,
             "di1 (14123456): the Miniserver requests authentication but its challenge does not "
             "decrypt with our keys: the key file does not match this Miniserver"));
  EXPECT_TRUE(std::any_of(emu_events.begin(), emu_events.end(), [](const devices::Event& e) {
    auto* b = std::get_if<devices::BusEvent>(&e);
    return b && b->kind == "auth_failed";
  }));
}

TEST_F(Lifecycle, MissingKeysNameWhatIsMissing) {
  device_keys = nullptr;
  start_all();
  bus.run_for(10000);
  EXPECT_NE(sim->phase("ao1"), MiniserverSim::Phase::ready);
  EXPECT_TRUE(logged(emu_logs,
                     "ao1 (17000001): the Miniserver requests authentication but no key file is "
                     "configured (emulation.keys_file)"));
}

TEST_F(Lifecycle, AuthOffServesOldMiniservers) {
  device_keys = nullptr;
  sim_keys = nullptr;
  start_all();
  bus.run_for(10000);
  EXPECT_TRUE(sim->all_ready()) << ::testing::PrintToString(sim->not_ready());
  for (const auto& s : bus.sent()) {
    if ((s.frame.id & 0xFF) == 0xF0) {
      EXPECT_NE(s.frame.data[1], 0x9C) << "challenge sent with auth off";
    }
  }
}

TEST_F(Lifecycle, UnknownDevicesAreParked) {
  sim_skip = {"di1", "spot1", "relay1"};
  start_all();
  bus.run_for(15000);
  EXPECT_TRUE(sim->all_ready()) << ::testing::PrintToString(sim->not_ready());
  EXPECT_EQ(dev("di1").state(), DeviceState::parked);
  EXPECT_EQ(dev("spot1").state(), DeviceState::parked);
  EXPECT_EQ(dev("relay1").state(), DeviceState::parked);
  auto parked = sim->parked();
  std::sort(parked.begin(), parked.end());
  EXPECT_EQ(parked, (std::vector<std::uint32_t>{0x0BFF0A01, 0x14123456, 0xB000000A}));
  EXPECT_EQ(dynamic_cast<NatDevice&>(dev("di1")).nat() & 0x80, 0x80);
  EXPECT_EQ(dynamic_cast<NatDevice&>(dev("spot1")).nat() & 0xC0, 0x80);  // parked, right branch
}

TEST_F(Lifecycle, TreeFramesCarryTheBranchFlag) {
  build_devices();
  bus.run_for(3000);  // no Miniserver: only NAT index requests
  bool left_seen = false, right_seen = false;
  for (const auto& s : bus.sent()) {
    if ((s.frame.id & 0xFF) != 0xFE) continue;
    std::uint32_t serial = 0;
    for (int i = 0; i < 4; ++i) serial |= std::uint32_t{s.frame.data[4 + i]} << (8 * i);
    if (serial == 0xB0000001) {  // touch1, left
      left_seen = true;
      EXPECT_EQ(s.frame.data[1], 0x40);
      EXPECT_EQ((s.frame.id >> 12) & 0xFF, random_nat(0x13000001));  // via the Tree Extension's NAT
    }
    if (serial == 0xB0000002) {
      right_seen = true;
      EXPECT_EQ(s.frame.data[1], 0x00);
    }
  }
  EXPECT_TRUE(left_seen);
  EXPECT_TRUE(right_seen);
}

TEST_F(Lifecycle, DeviceAnswersRuntimeRequests) {
  start_all();
  bus.run_for(10000);
  ASSERT_TRUE(sim->all_ready());
  auto& di = dynamic_cast<NatDevice&>(dev("di1"));
  auto frames_from = [&](std::uint8_t cmd, Millis from) {
    return frames_with(0x1FEFF0FF, 0x10000000u | di.nat() << 12 | cmd, from);
  };
  // Ping -> Pong; Alive with a wrong CRC -> Alive with ours; Version request -> Version info.
  int node = bus.reserve();
  Hooks ih = bus.hooks(node);
  bus.attach(node, {});
  const Millis t = bus.now();
  for (auto& f : to_frames(short_packet(true, di.nat(), 0, 0x05))) ih.send(f);
  for (auto& f : to_frames(short_packet(true, di.nat(), 0, 0x08, 3, 0, 0x1234))) ih.send(f);
  for (auto& f : to_frames(short_packet(true, 0xFF, 0, 0x01, 0, 0, 0x14123456))) ih.send(f);
  for (auto& f : to_frames(short_packet(true, 0xFF, 0, 0x10, 0, 0, 0x14123456))) ih.send(f);
  bus.run_for(50);
  EXPECT_EQ(frames_from(0x06, t), 1);
  EXPECT_EQ(frames_from(0x08, t), 1);
  EXPECT_EQ(frames_with(0x1FFFF0FF, 0x10100000u | di.nat() << 12 | 0xF0, t),
            1);  // version info fragment
  EXPECT_TRUE(di.identifying());
  // Search: every device answers within 100 ms.
  const Millis s = bus.now();
  for (auto& f : to_frames(short_packet(true, 0xFF, 0xFF, 0xFB))) ih.send(f);
  bus.run_for(150);
  EXPECT_EQ(frames_with(0x1F0000FF, 0x100000FC, s), 14);
  // Park broadcast: everyone parks on its random NAT; 0xF4 -> they ask for a NAT again.
  for (auto& f : to_frames(short_packet(true, 0xFF, 0xFF, 0x07))) ih.send(f);
  bus.run_for(1);
  EXPECT_EQ(di.state(), DeviceState::parked);
  EXPECT_EQ(di.nat(), random_nat(0x14123456));
}

// A flood of searches at one instant (the fuzz campaign's slow input: thousands of replies and
// Miniserver timeouts waiting at once made both tick()s quadratic): every search still gets its
// answer from every device within the 100 ms jitter, and the bus stays up.
TEST_F(Lifecycle, ASearchFloodIsAnsweredOncePerSearchByEveryDevice) {
  start_all();
  bus.run_for(10000);
  ASSERT_TRUE(sim->all_ready());
  Hooks ih = injector();
  const Millis s = bus.now();
  constexpr int kSearches = 3000;
  for (int i = 0; i < kSearches; ++i)
    for (auto& f : to_frames(short_packet(true, 0xFF, 0xFF, 0xFB))) ih.send(f);
  bus.run_for(150);
  EXPECT_EQ(frames_with(0x1F0000FF, 0x100000FC, s), 14 * kSearches);
  bus.run_for(20000);
  EXPECT_TRUE(sim->all_ready()) << ::testing::PrintToString(sim->not_ready());
}

// ---- the simulated Miniserver as a strict oracle (issue 19)
// --------------------------------------

TEST_F(Lifecycle, OneOfferAndOneStartPerDevice) {
  start_all();
  // A request inside the Miniserver's first 100 ms (before its "extensions offline" broadcasts are
  // out): answered by the scheduled start-up offer, not by a second one.
  Hooks ih = injector();
  bus.run_until(20);
  for (auto& f :
       to_frames(short_packet(false, random_nat(0x14123456), 0, 0xFE, 0, 0x14, 0x14123456)))
    ih.send(f);
  bus.run_for(15000);
  ASSERT_TRUE(sim->all_ready()) << ::testing::PrintToString(sim->not_ready());
  const auto o = offers(), st = starts();
  for (const auto& d : kDevices) {
    if (reg.find(d.model)->protocol == devices::Protocol::legacy) continue;
    // Tree devices request (and are refused: their Tree Extension is not online yet) long before
    // their offer comes; the one offer is the scheduled one.
    EXPECT_EQ(o.count(d.serial) ? o.at(d.serial) : 0, 1) << d.name << " offers";
    EXPECT_EQ(st.count(d.serial) ? st.at(d.serial) : 0, 1) << d.name << " Starts";
  }
  EXPECT_EQ(sim->offers_sent(), 14u);
}

TEST_F(Lifecycle, DevicesTolerateADuplicateOffer) {
  start_all();
  bus.run_for(10000);
  ASSERT_TRUE(sim->all_ready());
  auto& di = dynamic_cast<NatDevice&>(dev("di1"));
  Hooks ih = injector();
  const Millis t = bus.now();
  auto offer = [&] {
    for (auto& f : to_frames(short_packet(true, 0xFF, 0x00, 0xFD, di.nat(), 0, 0x14123456)))
      ih.send(f);
  };
  offer();  // a new offer (the last one was seconds ago): a new Start
  bus.run_for(30);
  offer();  // the same offer again 30 ms later: one Start answers both
  bus.run_for(600);
  EXPECT_EQ(starts(t)[0x14123456], 1);
  offer();  // 630 ms later: a new offer again
  bus.run_for(3000);
  EXPECT_EQ(starts(t)[0x14123456], 2);
  EXPECT_EQ(di.state(), DeviceState::online);
  EXPECT_TRUE(sim->all_ready());
}

TEST_F(Lifecycle, LegacyTemperaturesAndFrequenciesReachTheSimulator) {
  start_all();
  bus.run_for(10000);
  ASSERT_TRUE(sim->all_ready());
  EXPECT_EQ(sim->value("ext1", "temperature"), std::nullopt);  // never set: not reported
  EXPECT_EQ(sim->value("ext1", "i1"), ChannelValue(false));    // reported at 0x0E
  // Emulated legacy extensions send raw ADC counts (about 0.22 degC a step): both sides keep the
  // value as it travels.
  auto on_wire = [](double c) {
    canproto::LegacyTemperature t{0, 1, 0, canproto::LegacyTemperature::adc_from_celsius(c)};
    return std::round(t.celsius() * 100) / 100;
  };
  EXPECT_EQ(dev("ext1").set_input("temperature", 22.5, bus.now()), SetResult::ok);
  EXPECT_EQ(dev("relay1").set_input("temperature", 45.0, bus.now()), SetResult::ok);
  EXPECT_EQ(dev("ext1").set_input("f3", 42.0, bus.now()), SetResult::ok);
  EXPECT_EQ(dev("ext1").set_input("f12", 7.0, bus.now()), SetResult::ok);
  bus.run_for(200);
  EXPECT_DOUBLE_EQ(on_wire(22.5), 22.53);
  EXPECT_EQ(dev("ext1").value("temperature"), ChannelValue(on_wire(22.5)));
  EXPECT_EQ(sim->value("ext1", "temperature"), ChannelValue(on_wire(22.5)));
  EXPECT_EQ(sim->value("relay1", "temperature"), ChannelValue(on_wire(45.0)));
  EXPECT_EQ(sim->value("ext1", "f3"), ChannelValue(42.0));
  EXPECT_EQ(sim->value("ext1", "f12"), ChannelValue(7.0));
  EXPECT_TRUE(logged(sim_logs, "input ext1 temperature = 22.53"));
  EXPECT_EQ(dev("ext1").set_input("f3", 0.0, bus.now()), SetResult::ok);
  bus.run_for(200);
  EXPECT_EQ(sim->value("ext1", "f3"), ChannelValue(0.0));
  EXPECT_EQ(sim->value("ext1", "f12"), ChannelValue(7.0));
  EXPECT_EQ(dev("ext1").set_input("f1", 151.0, bus.now()), SetResult::bad_value);
  // A Miniserver restart: the extension reports its current temperature and frequencies again.
  build_sim();
  bus.run_for(10000);
  EXPECT_EQ(sim->value("ext1", "temperature"), ChannelValue(on_wire(22.5)));
  EXPECT_EQ(sim->value("ext1", "f12"), ChannelValue(7.0));
  EXPECT_EQ(sim->value("ext1", "f3"), std::nullopt);  // 0 Hz is not reported
}

TEST_F(Lifecycle, ForeignLegacyExtensionIsDecodedWithItsStart) {
  // The frames of issue 19 from an extension that is not ours (auth off: a pre-10.3 Miniserver).
  sim_keys = nullptr;
  sim_node = bus.reserve();
  std::vector<SimDevice> devs{{reg.find("extension"), 0x01AB0001, "ext9", "", false}};
  SimOptions o;
  sim = std::make_unique<MiniserverSim>(devs, o, bus.hooks(sim_node, &sim_events, &sim_logs));
  bus.attach(sim_node,
             {[this](const canproto::Frame& f, Millis n) { sim->on_frame(f, n); },
              [this](Millis n) { sim->tick(n); }, [this] { return sim->next_deadline(); }});
  sim->start(0);
  Hooks ih = injector();
  auto send = [&](const char* compact) {
    ih.send(*canproto::parse_compact(compact));
    bus.run_for(10);
  };
  bus.run_for(200);
  send("01AB0001#8700000003109900");  // Start, hardware version 0
  EXPECT_EQ(sim->phase("ext9"), MiniserverSim::Phase::ready);
  send("01AB0001#D300000060010000");  // raw 352: (1475 - 352 * 2245 / 1024) / 10
  EXPECT_EQ(sim->value("ext9", "temperature"), ChannelValue(70.33));
  EXPECT_TRUE(logged(sim_logs, "input ext9 temperature = 70.33"));
  send("01AB0001#8902000003109900");  // Alive, hardware version 2: 0.1 degC
  send("01AB0001#D300000060010000");
  EXPECT_EQ(sim->value("ext9", "temperature"), ChannelValue(35.2));
  send("01AB0001#D12A000000F2FF00");  // 42 Hz on input 3 (index 2), three unused slots
  EXPECT_EQ(sim->value("ext9", "f3"), ChannelValue(42.0));
  EXPECT_EQ(sim->value("ext9", "f1"), std::nullopt);
}

TEST_F(Lifecycle, RefusedDevicesValuesAreIgnoredAndCounted) {
  static const KeySet wrong = other_keys();
  device_keys = &wrong;  // the devices' keys do not match the Miniserver's
  start_all();
  bus.run_for(20000);
  for (const char* name : {"di1", "ai1", "tree1", "ext1"})
    EXPECT_EQ(sim->phase(name), MiniserverSim::Phase::auth_failed) << name;
  sim_events.clear();
  EXPECT_EQ(dev("di1").set_input("i3", true, bus.now()), SetResult::ok);
  EXPECT_EQ(dev("ai1").set_input("ai2", 7.25, bus.now()), SetResult::ok);
  bus.run_for(200);
  // Sent (the devices think they are online), but not used: no value, no event, counted.
  EXPECT_GT(frames_with(0x1F0000FF, 0x10000080), 0);
  EXPECT_EQ(sim->value("di1", "i3"), std::nullopt);
  EXPECT_EQ(sim->value("ai1", "ai2"), std::nullopt);
  EXPECT_GE(sim->ignored_values("di1"), 2u);  // the report after the offer, and this one
  EXPECT_GE(sim->ignored_values("ai1"), 2u);
  EXPECT_TRUE(logged(sim_logs, "di1 (14123456): ignoring its values: authentication failed"));
  EXPECT_FALSE(logged(sim_logs, "input di1"));
  for (const auto& e : sim_events) EXPECT_FALSE(std::holds_alternative<devices::ChannelChanged>(e));
  const auto all = sim->ignored_values();
  EXPECT_TRUE(std::any_of(all.begin(), all.end(),
                          [](const auto& p) { return p.first == "di1" && p.second >= 2; }));
}

}  // namespace
}  // namespace loxcan::emulation
