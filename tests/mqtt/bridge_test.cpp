// MqttBridge with the client mocked: events -> topics, commands -> callback, rejects, rate limit,
// offline buffer, reconnect republish, device map changes, HA birth, stats, raw frames.
#include "mqtt/bridge.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bad_commands.hpp"
#include "mock_client.hpp"
#include "sample_devices.hpp"

namespace loxcan::mqtt {
namespace {

using devices::ChannelChanged;
using devices::ChannelValue;
using devices::Rgbw;
using nlohmann::json;

constexpr std::int64_t kT0 = 1700000000LL * 1000000000LL;

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override { make(); }
  void make(MqttOptions o = {}) {
    o.node_id = "testhost";
    options = o;
    bridge = std::make_unique<MqttBridge>(
        o, client, [this](const BridgeCommand& c) { commands.push_back(c); },
        [this] { return now; });
    bridge->start();
  }
  void change(const BridgeDevice& d, const char* ch, ChannelValue v) {
    bridge->handle(ChannelChanged{d.info, ch, std::move(v), "", now});
  }
  json device_config(const std::string& node) const {
    const auto it = client.store.find("homeassistant/device/" + node + "/config");
    if (it == client.store.end()) {
      ADD_FAILURE() << "no device config for " << node;
      return json::object();
    }
    return json::parse(it->second);
  }
  std::vector<json> events(const std::string& type) const {
    std::vector<json> out;
    for (const auto& p : client.on("loxcan/bridge/event")) {
      auto j = json::parse(p.payload);
      if (j["type"] == type) out.push_back(j);
    }
    return out;
  }

  MqttOptions options;
  test::MockClient client;
  std::int64_t now = kT0;
  std::vector<BridgeCommand> commands;
  std::unique_ptr<MqttBridge> bridge;
};

TEST_F(BridgeTest, WillAndConnectSequence) {
  const auto will = MqttBridge::will(options);
  EXPECT_EQ(will, (Publication{"loxcan/bridge/state", "offline", 1, true}));
  EXPECT_TRUE(client.started);
  EXPECT_TRUE(client.sent.empty());  // nothing goes out before the connection
  bridge->set_devices(test::all_devices());
  client.connect();
  ASSERT_FALSE(client.sent.empty());
  EXPECT_EQ(client.sent.front(), (Publication{"loxcan/bridge/state", "online", 1, true}));
  const std::vector<std::pair<std::string, int>> subs = {
      {"loxcan/+/+/set", 1},
      {"loxcan/+/+/get", 0},
      {"loxcan/bridge/request/+", 1},
      {"+/mqttgateway/status", 0},
      {"homeassistant/status", 1},
      // leftovers of per-entity discovery, to migrate
      {"homeassistant/+/loxcan_bridge_testhost/+/config", 1},
      {"homeassistant/+/loxcan_0a0b0c0d/+/config", 1},
      {"homeassistant/+/loxcan_0f1e2d3c/+/config", 1},
      {"homeassistant/+/loxcan_13001234/+/config", 1},
      {"homeassistant/+/loxcan_a1b2c3d4/+/config", 1},
      {"homeassistant/+/loxcan_b0e1f2a3/+/config", 1},
      {"loxcan/bridge/discovery-sync", 1}};
  EXPECT_EQ(client.subscriptions, subs);
  EXPECT_EQ(client.store, bridge->retained());
  EXPECT_EQ(client.store.at("loxcan/extension-13001234/availability"), "online");
  EXPECT_EQ(device_config("loxcan_13001234")["cmps"]["q1"]["p"], "switch");
  EXPECT_EQ(device_config("loxcan_bridge_testhost")["cmps"]["state"]["p"], "binary_sensor");
  for (const auto& [topic, payload] : client.store) {
    EXPECT_FALSE(topic.rfind("homeassistant/", 0) == 0 &&
                 topic.rfind("homeassistant/device/", 0) != 0)
        << topic;
  }
  EXPECT_EQ(json::parse(client.store.at("loxcan/bridge/devices")).size(), 5u);
  EXPECT_EQ(json::parse(client.store.at("loxcan/bridge/info"))["devices"], 5);
}

TEST_F(BridgeTest, EventsBecomeRetainedTopics) {
  bridge->set_devices(test::all_devices());
  client.connect();
  change(test::extension(), "q1", true);
  change(test::extension(), "ai1", 5.5);
  change(test::touch(), "temp", 21.0);
  change(test::rgbw(), "rgbw", Rgbw{100, 0, 0, 0});
  change(test::extension(), "mask", std::uint32_t{5});
  EXPECT_EQ(client.store.at("loxcan/extension-13001234/q1"), "1");
  EXPECT_EQ(client.store.at("loxcan/extension-13001234/ai1"), "5.5");
  EXPECT_EQ(client.store.at("loxcan/extension-13001234/mask"), "5");
  EXPECT_EQ(client.store.at("loxcan/touch-kitchen/temp"), "21");
  EXPECT_EQ(json::parse(client.store.at("loxcan/rgbwdimmer-a1b2c3d4/rgbw"))["color"]["r"], 255);
  EXPECT_EQ(json::parse(client.store.at("loxcan/extension-13001234")),
            json::parse(R"({"q1":1,"ai1":5.5,"mask":5})"));
  EXPECT_EQ(client.on("loxcan/extension-13001234/q1").front().qos, 0);
}

TEST_F(BridgeTest, MomentaryButtonsAreNotRetainedAndJsonStateCanBeOff) {
  MqttOptions o;
  o.json_state = false;
  make(o);
  bridge->set_devices({test::touch()});
  client.connect();
  change(test::touch(), "t1", true);
  change(test::touch(), "t1", false);
  const auto pubs = client.on("loxcan/touch-kitchen/t1");
  ASSERT_EQ(pubs.size(), 2u);
  EXPECT_FALSE(pubs[0].retain);
  EXPECT_EQ(pubs[0].payload, "1");
  EXPECT_EQ(pubs[1].payload, "0");
  EXPECT_TRUE(client.on("loxcan/touch-kitchen").empty());
}

// A monitored output: the Miniserver's command and the extension's report carry the same value.
TEST_F(BridgeTest, ARetainedStateIsNotRepeatedButButtonsAre) {
  bridge->set_devices(test::all_devices());
  client.connect();
  change(test::extension(), "q1", true);
  change(test::extension(), "q1", true);
  change(test::extension(), "q1", false);
  change(test::touch(), "t1", true);
  change(test::touch(), "t1", true);
  const auto q1 = client.on("loxcan/extension-13001234/q1");
  ASSERT_EQ(q1.size(), 2u);
  EXPECT_EQ(q1[0].payload, "1");
  EXPECT_EQ(q1[1].payload, "0");
  EXPECT_EQ(client.on("loxcan/touch-kitchen/t1").size(), 2u);
}

TEST_F(BridgeTest, EventsFromUnknownDevicesArePublishedWithoutDiscovery) {
  client.connect();
  const auto dev = test::info(0x12ab34cd, "relayext");
  bridge->handle(devices::DeviceSeen{dev, now});
  bridge->handle(ChannelChanged{dev, "q3", true, "", now});
  EXPECT_EQ(client.store.at("loxcan/relayext-12ab34cd/q3"), "1");
  EXPECT_EQ(client.store.at("loxcan/relayext-12ab34cd/availability"), "online");
  EXPECT_EQ(events("device_joined").size(), 1u);
  for (const auto& [topic, payload] : client.store)
    EXPECT_EQ(topic.find("loxcan_12ab34cd"), std::string::npos) << topic;
  // no channel model: commands are refused
  client.deliver("loxcan/relayext-12ab34cd/q3/set", "1");
  EXPECT_TRUE(commands.empty());
}

TEST_F(BridgeTest, StateChangesDriveAvailability) {
  bridge->set_devices({test::extension()});
  client.connect();
  bridge->handle(devices::DeviceStateChanged{test::extension().info, devices::DeviceState::online,
                                             devices::DeviceState::offline, now});
  EXPECT_EQ(client.store.at("loxcan/extension-13001234/availability"), "offline");
  ASSERT_EQ(events("device_offline").size(), 1u);
  EXPECT_EQ(events("device_offline")[0]["data"]["serial"], "13001234");
  bridge->handle(devices::DeviceStateChanged{test::extension().info, devices::DeviceState::offline,
                                             devices::DeviceState::parked, now});
  EXPECT_EQ(client.store.at("loxcan/extension-13001234/availability"),
            "online");  // present on the bus
}

TEST_F(BridgeTest, GoodCommandsReachTheCallback) {
  bridge->set_devices(test::all_devices());
  client.connect();
  client.deliver("loxcan/extension-13001234/q1/set", "ON");
  client.deliver("loxcan/extension-13001234/aq1/set", "7.5");
  client.deliver("loxcan/rgbwdimmer-a1b2c3d4/rgbw/set",
                 R"({"state":"ON","brightness":50,"color":{"r":255,"g":0,"b":0,"w":0}})");
  client.deliver("loxcan/valve-0a0b0c0d/pos/set", "OPEN");
  ASSERT_EQ(commands.size(), 4u);
  EXPECT_EQ(commands[0].device.serial, 0x13001234u);
  EXPECT_EQ(commands[0].channel, "q1");
  EXPECT_EQ(commands[0].value, ChannelValue{true});
  EXPECT_EQ(commands[1].value, ChannelValue{7.5});
  EXPECT_EQ(commands[2].value, ChannelValue{(Rgbw{50, 0, 0, 0})});
  EXPECT_EQ(commands[3].value, ChannelValue{100.0});
  EXPECT_TRUE(events("command_rejected").empty());
  // TOGGLE uses the last published state
  change(test::extension(), "q1", true);
  client.deliver("loxcan/extension-13001234/q1/set", "toggle");
  EXPECT_EQ(commands.back().value, ChannelValue{false});
}

TEST_F(BridgeTest, EveryBadCommandIsRejectedWithAnEvent) {
  bridge->set_devices(test::all_devices());
  client.connect();
  const auto bad = test::bad_commands();
  ASSERT_GE(bad.size(), 50u);
  for (const auto& b : bad) {
    const std::string topic = "loxcan/" + b.device + "/" + b.channel + "/set";
    const auto before = events("command_rejected").size();
    client.deliver(topic, b.payload);
    const auto ev = events("command_rejected");
    ASSERT_EQ(ev.size(), before + 1)
        << topic << " \"" << printable_payload(b.payload) << "\" was not rejected";
    EXPECT_EQ(ev.back()["data"]["topic"], topic);
    EXPECT_EQ(ev.back()["data"]["error"], std::string(to_string(b.error)))
        << topic << " " << printable_payload(b.payload);
    EXPECT_EQ(ev.back()["data"]["payload"], printable_payload(b.payload));
  }
  EXPECT_TRUE(commands.empty());
  EXPECT_EQ(bridge->counters().commands_rejected, bad.size());
  // still working afterwards
  client.deliver("loxcan/extension-13001234/q1/set", "1");
  EXPECT_EQ(commands.size(), 1u);
}

// The web view's controls take the /set path through command(): the same rejections (event naming
// the equivalent topic, observer called), the same commands, the same rate limit.
TEST_F(BridgeTest, CommandIsTheSetPathForOtherFrontEnds) {
  MqttOptions o;
  o.rate_limit = {1.0, 1};
  make(o);
  bridge->set_devices(test::all_devices());
  client.connect();
  std::vector<std::string> observed;
  bridge->set_rejection_observer([&](const std::string& topic, const std::string& payload,
                                     PayloadError e, const std::string&) {
    observed.push_back(topic + " " + payload + " " + std::string(to_string(e)));
  });
  for (const auto& b : test::bad_commands()) {
    if (b.payload.find('\0') != std::string::npos) continue;
    const auto r = bridge->command(b.device, b.channel, b.payload);
    EXPECT_EQ(r.error, b.error) << b.device << "/" << b.channel << " "
                                << printable_payload(b.payload);
    const auto ev = events("command_rejected");
    ASSERT_FALSE(ev.empty());
    EXPECT_EQ(ev.back()["data"]["topic"], "loxcan/" + b.device + "/" + b.channel + "/set");
  }
  EXPECT_EQ(observed.size(), events("command_rejected").size());
  EXPECT_TRUE(commands.empty());
  EXPECT_EQ(bridge->segment_of(0x13001234), "extension-13001234");
  EXPECT_TRUE(bridge->command("extension-13001234", "q1", "ON").ok());
  EXPECT_TRUE(
      bridge->command("extension-13001234", "q1", "OFF").ok());  // deferred by the rate limit
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].value, ChannelValue{true});
  EXPECT_EQ(bridge->counters().commands_deferred, 1u);
}

TEST_F(BridgeTest, RetainedCommandsAreIgnored) {
  bridge->set_devices({test::extension()});
  client.connect();
  client.deliver("loxcan/extension-13001234/q1/set", "1", /*retained=*/true);
  EXPECT_TRUE(commands.empty());
  ASSERT_EQ(events("command_rejected").size(), 1u);
  EXPECT_EQ(events("command_rejected")[0]["data"]["error"], "retained");
}

TEST_F(BridgeTest, RateLimitDefersAndCoalesces) {
  MqttOptions o;
  o.rate_limit = {1.0, 2};
  make(o);
  bridge->set_devices({test::extension(), test::dimmer()});
  client.connect();
  for (const char* v : {"1", "0", "1", "0", "1"})
    client.deliver("loxcan/extension-13001234/q1/set", v);
  client.deliver("loxcan/dimmer-0f1e2d3c/aq1/set", "40");  // other device: own bucket
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(commands[0].value, ChannelValue{true});
  EXPECT_EQ(commands[1].value, ChannelValue{false});
  EXPECT_EQ(commands[2].device.serial, 0x0f1e2d3cu);
  EXPECT_EQ(bridge->counters().commands_deferred, 3u);
  EXPECT_EQ(bridge->counters().commands_coalesced, 2u);
  bridge->tick();  // no time passed: nothing
  EXPECT_EQ(commands.size(), 3u);
  now += 1'000'000'000;
  bridge->tick();
  ASSERT_EQ(commands.size(), 4u);
  EXPECT_EQ(commands[3].value, ChannelValue{true});  // the newest value won
  now += 5'000'000'000;
  bridge->tick();
  EXPECT_EQ(commands.size(), 4u);
}

TEST_F(BridgeTest, ZeroRateMeansUnlimited) {
  MqttOptions o;
  o.rate_limit = {0, 1};
  make(o);
  bridge->set_devices({test::extension()});
  client.connect();
  for (int i = 0; i < 100; ++i)
    client.deliver("loxcan/extension-13001234/q1/set", i % 2 ? "1" : "0");
  EXPECT_EQ(commands.size(), 100u);
}

TEST_F(BridgeTest, FriendlyChannelNamesInTopicsModelNamesInCommands) {
  auto d = test::extension();
  d.channels[2].name = "Garden Pump";  // q1
  bridge->set_devices({d});
  client.connect();
  change(d, "q1", true);  // events use the model's name
  EXPECT_EQ(client.store.at("loxcan/extension-13001234/garden-pump"), "1");
  EXPECT_FALSE(client.store.count("loxcan/extension-13001234/q1"));
  EXPECT_EQ(device_config("loxcan_13001234")["cmps"]["garden-pump"]["command_topic"],
            "loxcan/extension-13001234/garden-pump/set");
  client.deliver("loxcan/extension-13001234/garden-pump/set", "toggle");
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].channel, "q1");
  EXPECT_EQ(commands[0].value, ChannelValue{false});
}

TEST_F(BridgeTest, StatsOff) {
  MqttOptions o;
  o.stats_interval_s = 0;
  make(o);
  client.connect();
  now += 3600'000'000'000;
  bridge->tick();
  EXPECT_FALSE(client.store.count("loxcan/bridge/stats"));
}

TEST_F(BridgeTest, OfflineBufferKeepsTheNewestAndCountsDrops) {
  MqttOptions o;
  o.offline_buffer = 3;
  make(o);
  for (int i = 0; i < 5; ++i)
    bridge->handle(devices::BusEvent{"bus_off", "event " + std::to_string(i), "", now});
  EXPECT_EQ(bridge->counters().dropped, 2u);
  client.connect();
  const auto ev = client.on("loxcan/bridge/event");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(json::parse(ev[0].payload)["data"]["detail"], "event 2");
  EXPECT_EQ(json::parse(ev[2].payload)["data"]["detail"], "event 4");
}

// Regression (soak, issue 17): a connection that dropped again before its lost handler ran made
// flush_offline() requeue each buffered message at the back forever: the daemon hung, stopped
// its watchdog and grew without bound.
TEST_F(BridgeTest, ConnectionLostWhileFlushingKeepsTheBufferInOrder) {
  MqttOptions o;
  o.offline_buffer = 3;
  make(o);
  for (int i = 0; i < 3; ++i)
    bridge->handle(devices::BusEvent{"bus_off", "event " + std::to_string(i), "", now});
  client.refuse_publish = true;
  client.connect();  // returns: nothing could be sent
  client.lose();
  client.refuse_publish = false;
  client.connect();
  const auto ev = client.on("loxcan/bridge/event");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(json::parse(ev[0].payload)["data"]["detail"], "event 0");
  EXPECT_EQ(json::parse(ev[2].payload)["data"]["detail"], "event 2");
  EXPECT_EQ(bridge->counters().dropped, 0u);
}

TEST_F(BridgeTest, ReconnectToAnEmptyBrokerRestoresTheRetainedState) {
  bridge->set_devices(test::all_devices());
  client.connect();
  change(test::extension(), "q1", true);
  change(test::touch(), "temp", 20.5);
  client.lose(/*wipe_store=*/true);
  EXPECT_FALSE(bridge->connected());
  change(test::touch(), "temp", 22.0);  // while away
  bridge->set_devices({test::extension(), test::dimmer(), test::rgbw(),
                       test::touch()});  // valve removed while away
  client.connect();
  EXPECT_EQ(bridge->counters().connects, 2u);
  EXPECT_EQ(client.subscriptions.size(), 5u + 6u);  // resubscribed, with the migration watch
  EXPECT_EQ(client.store, bridge->retained());
  EXPECT_EQ(client.store.at("loxcan/touch-kitchen/temp"), "22");
  EXPECT_EQ(client.store.at("loxcan/extension-13001234/q1"), "1");
  EXPECT_FALSE(client.store.count("homeassistant/device/loxcan_0a0b0c0d/config"));
  // the clear of the removed device's topics went out after the reconnect
  const auto clears = client.on("homeassistant/device/loxcan_0a0b0c0d/config");
  ASSERT_FALSE(clears.empty());
  EXPECT_EQ(clears.back().payload, "");
}

TEST_F(BridgeTest, RemovedDeviceLosesItsTopicsAndDiscovery) {
  bridge->set_devices(test::all_devices());
  client.connect();
  change(test::valve(), "pos", 30.0);
  EXPECT_EQ(client.store.at("loxcan/valve-0a0b0c0d/pos"), "30");
  bridge->set_devices({test::extension(), test::dimmer(), test::rgbw(), test::touch()});
  for (const auto& [topic, payload] : client.store) {
    EXPECT_EQ(topic.find("valve-0a0b0c0d"), std::string::npos) << topic;
    EXPECT_EQ(topic.find("loxcan_0a0b0c0d"), std::string::npos) << topic;
  }
  EXPECT_EQ(events("device_removed").size(), 1u);
  EXPECT_EQ(json::parse(client.store.at("loxcan/bridge/devices")).size(), 4u);
}

TEST_F(BridgeTest, RenameMovesTopicsAndKeepsIds) {
  bridge->set_devices({test::touch()});
  client.connect();
  change(test::touch(), "temp", 21.0);
  auto renamed = test::touch();
  renamed.info.name = "Touch Living";
  bridge->set_devices({renamed});
  EXPECT_FALSE(client.store.count("loxcan/touch-kitchen/temp"));
  EXPECT_FALSE(client.store.count("loxcan/touch-kitchen"));
  EXPECT_EQ(client.store.at("loxcan/touch-living/temp"), "21");
  const auto cfg = device_config("loxcan_b0e1f2a3")["cmps"]["temp"];
  for (const auto& p : client.on("homeassistant/device/loxcan_b0e1f2a3/config")) {
    EXPECT_FALSE(p.payload.empty()) << "a rename must not delete the HA device (and its entities)";
  }
  EXPECT_EQ(cfg["state_topic"], "loxcan/touch-living/temp");
  EXPECT_EQ(cfg["unique_id"], "loxcan_b0e1f2a3_temp");
  client.deliver("loxcan/touch-living/temp/set", "1");  // read-only, but found under the new name
  EXPECT_EQ(events("command_rejected").back()["data"]["error"], "not_writable");
}

TEST_F(BridgeTest, UnchangedDeviceMapSendsNoDiscoveryAgain) {
  bridge->set_devices(test::all_devices());
  client.connect();
  const auto before = client.sent.size();
  bridge->set_devices(test::all_devices());
  for (std::size_t i = before; i < client.sent.size(); ++i) {
    EXPECT_NE(client.sent[i].topic.rfind("homeassistant/", 0), 0u) << client.sent[i].topic;
  }
}

TEST_F(BridgeTest, HomeAssistantBirthRepublishes) {
  bridge->set_devices(test::all_devices());
  client.connect();
  client.sent.clear();
  client.deliver("homeassistant/status", "offline");
  EXPECT_TRUE(client.sent.empty());
  client.deliver("homeassistant/status", "online");
  EXPECT_TRUE(client.sent.empty());  // HA's advice: a small random delay first
  now += 900'000'000;
  bridge->tick();
  EXPECT_TRUE(client.sent.empty());  // at least 1 s
  now += 4'200'000'000;
  bridge->tick();
  ASSERT_EQ(client.sent.size(), bridge->retained().size());  // at most 5 s
  // every discovery config before the first state
  std::size_t last_config = 0, first_state = client.sent.size();
  for (std::size_t i = 0; i < client.sent.size(); ++i) {
    if (client.sent[i].topic.rfind("homeassistant/", 0) == 0)
      last_config = i;
    else
      first_state = std::min(first_state, i);
  }
  EXPECT_LT(last_config, first_state);
  now += 10'000'000'000;
  client.sent.clear();
  bridge->tick();
  EXPECT_TRUE(client.sent.empty());  // once per birth message
}

TEST_F(BridgeTest, EntityModeStillPublishesOneConfigPerEntity) {
  MqttOptions o;
  o.homeassistant.mode = HaDiscoveryMode::entity;
  make(o);
  bridge->set_devices(test::all_devices());
  client.connect();
  EXPECT_TRUE(client.store.count("homeassistant/switch/loxcan_13001234/q1/config"));
  EXPECT_TRUE(
      client.store.count("homeassistant/binary_sensor/loxcan_bridge_testhost/state/config"));
  EXPECT_FALSE(client.store.count("homeassistant/device/loxcan_13001234/config"));
  EXPECT_EQ(client.subscriptions[5].first, "homeassistant/device/loxcan_bridge_testhost/config");
}

TEST_F(BridgeTest, DiscoveryIsHeldUntilTheSyncMarkerReturns) {
  client.echo_sync = false;
  bridge->set_devices(test::all_devices());
  client.connect();
  EXPECT_FALSE(client.store.count("homeassistant/device/loxcan_13001234/config"));
  EXPECT_EQ(client.store.at("loxcan/extension-13001234/availability"),
            "online");  // states are not held
  // an old per-entity config on the broker: migrated first
  client.deliver("homeassistant/switch/loxcan_13001234/q1/config",
                 R"({"name":"Q1","unique_id":"loxcan_13001234_q1"})", true);
  EXPECT_EQ(client.store.at("homeassistant/switch/loxcan_13001234/q1/config"),
            R"({"migrate_discovery":true})");
  const auto marker = client.on("loxcan/bridge/discovery-sync");
  ASSERT_EQ(marker.size(), 1u);
  client.deliver("loxcan/bridge/discovery-sync", "stale-token");  // not ours: still held
  EXPECT_FALSE(client.store.count("homeassistant/device/loxcan_13001234/config"));
  client.deliver("loxcan/bridge/discovery-sync", marker[0].payload);
  EXPECT_TRUE(client.store.count("homeassistant/device/loxcan_13001234/config"));
  EXPECT_FALSE(
      client.store.count("homeassistant/switch/loxcan_13001234/q1/config"));  // cleared last
  EXPECT_EQ(client.store, bridge->retained());
}

TEST_F(BridgeTest, LostMarkerReleasesDiscoveryAfterTenSeconds) {
  client.echo_sync = false;
  bridge->set_devices(test::all_devices());
  client.connect();
  now += 9'000'000'000;
  bridge->tick();
  EXPECT_FALSE(client.store.count("homeassistant/device/loxcan_13001234/config"));
  now += 1'000'000'000;
  bridge->tick();
  EXPECT_TRUE(client.store.count("homeassistant/device/loxcan_13001234/config"));
}

TEST_F(BridgeTest, RemovedChannelIsSentOnceAsABarePlatform) {
  bridge->set_devices({test::extension()});
  client.connect();
  auto fewer = test::extension();
  fewer.channels.erase(fewer.channels.begin() + 2);  // q1 gone
  bridge->set_devices({fewer});
  auto cfg = device_config("loxcan_13001234");
  EXPECT_EQ(cfg["cmps"]["q1"], (json{{"p", "switch"}}));
  bridge->set_devices({fewer, test::dimmer()});  // the next update leaves it out
  cfg = device_config("loxcan_13001234");
  EXPECT_FALSE(cfg["cmps"].contains("q1"));
}

TEST_F(BridgeTest, IdentifyButtonCallsTheHandler) {
  std::vector<std::uint32_t> identified;
  bridge->set_identify_handler(
      [&](const devices::DeviceInfo& d) { identified.push_back(d.serial); });
  auto ext = test::extension();
  ext.identify = true;
  bridge->set_devices({ext, test::dimmer()});
  client.connect();
  EXPECT_EQ(device_config("loxcan_13001234")["cmps"]["identify"]["p"], "button");
  EXPECT_FALSE(device_config("loxcan_0f1e2d3c")["cmps"].contains("identify"));
  client.deliver("loxcan/extension-13001234/identify/set", "PRESS");
  EXPECT_EQ(identified, std::vector<std::uint32_t>{0x13001234});
  client.deliver("loxcan/dimmer-0f1e2d3c/identify/set", "PRESS");  // no identify documented
  EXPECT_EQ(identified.size(), 1u);
  EXPECT_EQ(events("command_rejected").back()["data"]["error"], "unknown_channel");
  client.deliver("loxcan/extension-13001234/identify/set", "PRESS", /*retained=*/true);
  EXPECT_EQ(identified.size(), 1u);
}

TEST_F(BridgeTest, DiscoveryCanBeDisabled) {
  MqttOptions o;
  o.homeassistant.enabled = false;
  make(o);
  bridge->set_devices(test::all_devices());
  client.connect();
  for (const auto& [topic, payload] : client.store)
    EXPECT_NE(topic.rfind("homeassistant/", 0), 0u) << topic;
  EXPECT_EQ(client.subscriptions.size(), 4u);  // set, get, request, LoxBerry's gateway status
}

TEST_F(BridgeTest, StatsEveryInterval) {
  bridge->set_metrics_provider([] {
    return std::vector<Metric>{{"busload", 12.5}, {"rx_frames", 1000}};
  });
  client.connect();
  now += 59'000'000'000;
  bridge->tick();
  EXPECT_FALSE(client.store.count("loxcan/bridge/stats/busload"));
  now += 1'000'000'000;
  bridge->tick();
  EXPECT_EQ(client.store.at("loxcan/bridge/stats/busload"), "12.5");
  EXPECT_EQ(client.store.at("loxcan/bridge/stats/rxframes"), "1000");
  EXPECT_EQ(client.store.at("loxcan/bridge/stats/uptime"), "60");
  EXPECT_EQ(client.store.at("loxcan/bridge/stats/keepaliveepoch"), "1700000060");
  EXPECT_EQ(client.store.at("loxcan/bridge/stats/mqttconnects"), "1");
  EXPECT_EQ(json::parse(client.store.at("loxcan/bridge/stats"))["busload"], 12.5);
}

TEST_F(BridgeTest, StatsCountWhatTheClientsBacklogReplacedOrDropped) {
  client.connect();
  client.held = {7, 2};  // the broker was slow: 7 states replaced before sending, 2 events dropped
  now += 60'000'000'000;
  bridge->tick();
  EXPECT_EQ(client.store.at("loxcan/bridge/stats/mqttsuperseded"), "7");
  EXPECT_EQ(client.store.at("loxcan/bridge/stats/mqttdropped"), "2");
  EXPECT_EQ(json::parse(client.store.at("loxcan/bridge/stats"))["mqttsuperseded"], 7);
}

TEST_F(BridgeTest, RawFrames) {
  client.connect();
  bridge->publish_raw(RawDirection::rx, kT0 + 123456000, "10A#0011");
  EXPECT_TRUE(client.on("loxcan/bridge/raw/rx").empty());  // off by default
  bridge->handle(
      devices::BusEvent{"unknown_message", "no decoder for 10A", "10A#0011", kT0 + 123456789});
  EXPECT_EQ(client.last("loxcan/bridge/raw/unknown"), "(1700000000.123456) can0 10A#0011");
  EXPECT_EQ(json::parse(client.last("loxcan/bridge/event"))["type"], "unknown_message");
  client.deliver("loxcan/bridge/request/raw", R"({"rx":true,"transaction":7})");
  EXPECT_EQ(json::parse(client.last("loxcan/bridge/response/raw")),
            json::parse(
                R"({"status":"ok","data":{"rx":true,"tx":false,"unknown":true},"transaction":7})"));
  bridge->publish_raw(RawDirection::rx, kT0, "1F000000#DEADBEEF");
  EXPECT_EQ(client.last("loxcan/bridge/raw/rx"), "(1700000000.000000) can0 1F000000#DEADBEEF");
  client.deliver("loxcan/bridge/request/nope", "");
  EXPECT_EQ(json::parse(client.last("loxcan/bridge/response/nope"))["status"], "error");
}

TEST_F(BridgeTest, GetRepublishesOneChannel) {
  bridge->set_devices({test::extension()});
  client.connect();
  change(test::extension(), "ai1", 3.0);
  client.sent.clear();
  client.deliver("loxcan/extension-13001234/ai1/get", "");
  ASSERT_EQ(client.sent.size(), 1u);
  EXPECT_EQ(client.sent[0].topic, "loxcan/extension-13001234/ai1");
  EXPECT_EQ(client.sent[0].payload, "3");
}

TEST_F(BridgeTest, StopPublishesOffline) {
  client.connect();
  bridge->stop();
  EXPECT_EQ(client.on("loxcan/bridge/state").back().payload, "offline");
  EXPECT_FALSE(client.started);
}

TEST(BridgeOptions, InvalidOptionsThrow) {
  test::MockClient c;
  MqttOptions o;
  o.base_topic = "a/#";
  EXPECT_THROW(MqttBridge(o, c, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace loxcan::mqtt
