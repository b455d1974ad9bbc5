// The bridge against a real mosquitto (label `broker`): retained topics, commands from
// mosquitto_pub, HA discovery on the wire, broker killed and restarted mid-stream, bad commands
// over the wire, MQTT 5 with login, TLS.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bad_commands.hpp"
#include "broker_fixture.hpp"
#include "ha_schema.hpp"
#include "mqtt/bridge.hpp"
#include "mqtt/mosquitto_client.hpp"
#include "sample_devices.hpp"

namespace loxcan::mqtt {
namespace {

using devices::ChannelChanged;
using devices::ChannelValue;
using devices::Rgbw;
using nlohmann::json;
using test::Mosquitto;

struct Harness {
  explicit Harness(const std::string& uri, MqttOptions o = {}) {
    static int n = 0;
    o.broker = uri;
    o.node_id = "testhost";
    o.client_id = "loxcan-bridge-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
    o.reconnect_min_s = 1;
    o.reconnect_max_s = 2;
    client = std::make_unique<MosquittoClient>(o, MqttBridge::will(o), loop.reactor());
    bridge = std::make_unique<MqttBridge>(
        o, *client, [this](const BridgeCommand& c) { commands.push_back(c); });
  }
  ~Harness() {
    bridge->stop();
    bridge.reset();
    client.reset();
  }
  bool wait(const std::function<bool()>& done, int ms = 15000) {
    return loop.run_until(done, ms, [this] { bridge->tick(); });
  }
  bool wait_connected(std::uint64_t connects = 1) {
    return wait([&] { return bridge->connected() && bridge->counters().connects >= connects; });
  }
  // Until the broker's retained store equals what the bridge believes it published.
  bool wait_in_sync(const std::string& uri, const std::string& user = {},
                    const std::string& pass = {}) {
    return wait([&] { return test::retained_snapshot(uri, user, pass) == bridge->retained(); });
  }
  void change(const BridgeDevice& d, const char* ch, ChannelValue v) {
    bridge->handle(ChannelChanged{d.info, ch, std::move(v), "", 0});
  }

  test::TestLoop loop;  // declared first: outlives the client
  std::unique_ptr<MosquittoClient> client;
  std::unique_ptr<MqttBridge> bridge;
  std::vector<BridgeCommand> commands;
};

std::string pub_cmd(const Mosquitto& b, const std::string& topic, const std::string& payload,
                    const char* extra = "") {
  return "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(b.port()) + " -q 1 " + extra + " -t '" +
         topic + "' -m '" + payload + "'";
}

// The TCP handshake takes seconds (a far or busy broker): the non-blocking connect stays in
// progress, the loop keeps running, and CONNECT goes out once the socket is writable.
TEST(Broker, ConnectsWhenTheTcpHandshakeIsSlow) {
  Mosquitto broker;
  broker.start();
  const int port = test::free_port();
  const std::string cmd = "exec /usr/bin/python3 " MQTT_TEST_DIR "/slow_listener.py " +
                          std::to_string(port) + " " + std::to_string(broker.port()) + " 2.5";
  FILE* listener = ::popen(cmd.c_str(), "r");
  ASSERT_NE(listener, nullptr);
  char line[64] = {};
  ASSERT_NE(std::fgets(line, sizeof line, listener),
            nullptr);  // "backlog full <pid>": SYNs are dropped now
  const int pid = std::atoi(std::strchr(line, ' ') + 6);
  Harness h("tcp://127.0.0.1:" + std::to_string(port));
  h.bridge->start();
  EXPECT_FALSE(h.wait([&] { return h.bridge->connected(); }, 1500));  // still in the handshake
  EXPECT_TRUE(h.wait([&] { return h.bridge->connected(); }, 12000));
  EXPECT_EQ(h.bridge->counters().connects, 1u);
  ::kill(pid, SIGTERM);
  ::pclose(listener);
}

// Idle for three keepalives: only our PINGREQs keep the broker from dropping us.
TEST(Broker, KeepalivePingsHoldAnIdleSession) {
  Mosquitto broker;
  broker.start();
  MqttOptions o;
  o.keepalive_s = 5;
  Harness h(broker.uri(), o);
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
  h.wait([] { return false; }, 15000);  // mosquitto drops a silent client after ~12 s
  EXPECT_TRUE(h.bridge->connected());
  EXPECT_EQ(h.bridge->counters().connects, 1u);
}

TEST(Broker, EventsBecomeRetainedTopicsAndSetReachesTheCallback) {
  Mosquitto broker;
  broker.start();
  // A stale retained command waiting on the broker: replayed with the retain flag on subscribe.
  ASSERT_EQ(test::run(pub_cmd(broker, "loxcan/extension-13001234/q1/set", "1", "-r")), 0);
  Harness h(broker.uri());
  h.bridge->set_devices(test::all_devices());
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
  ASSERT_TRUE(h.wait([&] { return h.bridge->counters().commands_rejected == 1; }));
  EXPECT_TRUE(h.commands.empty());
  ASSERT_EQ(test::run("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) +
                      " -r -n -t loxcan/extension-13001234/q1/set"),
            0);
  h.change(test::extension(), "q1", true);
  h.change(test::extension(), "ai1", 5.5);
  h.change(test::touch(), "temp", 21.25);
  h.change(test::rgbw(), "rgbw", Rgbw{100, 50, 0, 0});
  ASSERT_TRUE(h.wait_in_sync(broker.uri()));
  const auto snap = test::retained_snapshot(broker.uri());
  EXPECT_EQ(snap.at("loxcan/bridge/state"), "online");
  EXPECT_EQ(snap.at("loxcan/extension-13001234/q1"), "1");
  EXPECT_EQ(snap.at("loxcan/extension-13001234/ai1"), "5.5");
  EXPECT_EQ(snap.at("loxcan/touch-kitchen/temp"), "21.25");
  EXPECT_EQ(snap.at("loxcan/extension-13001234/availability"), "online");
  EXPECT_EQ(json::parse(snap.at("loxcan/rgbwdimmer-a1b2c3d4/rgbw"))["color"]["g"], 128);
  EXPECT_EQ(json::parse(snap.at("loxcan/extension-13001234")),
            json::parse(R"({"q1":1,"ai1":5.5})"));

  // every discovery config on the broker passes the schema checker: one device message per device
  int configs = 0;
  for (const auto& [topic, payload] : snap) {
    if (topic.rfind("homeassistant/", 0) != 0) continue;
    const auto errs = test::check_device_discovery(topic, payload);
    EXPECT_TRUE(errs.empty()) << topic << ": " << (errs.empty() ? "" : errs.front());
    ++configs;
  }
  EXPECT_EQ(configs, 5 + 1);  // 5 devices and the bridge

  ASSERT_EQ(test::run(pub_cmd(broker, "loxcan/extension-13001234/q1/set", "OFF")), 0);
  ASSERT_TRUE(h.wait([&] { return h.commands.size() == 1; }));
  EXPECT_EQ(h.commands[0].channel, "q1");
  EXPECT_EQ(h.commands[0].value, ChannelValue{false});
  ASSERT_EQ(test::run(pub_cmd(broker, "loxcan/extension-13001234/aq1/set", "{\"value\":2.5}")), 0);
  ASSERT_TRUE(h.wait([&] { return h.commands.size() == 2; }));
  EXPECT_EQ(h.commands[1].value, ChannelValue{2.5});

  // Home Assistant's birth message makes the bridge republish everything
  const auto before = h.bridge->counters().published;
  ASSERT_EQ(test::run(pub_cmd(broker, "homeassistant/status", "online")), 0);
  ASSERT_TRUE(h.wait(
      [&] { return h.bridge->counters().published >= before + h.bridge->retained().size(); }));
}

// The daemon's loop serves the MQTT socket once per round, and a busy round handles hundreds of
// CAN frames: every command already received must be delivered in that round, not one per round
// (libmosquitto reads one packet per call while none of our own QoS 1 messages is in flight).
TEST(Broker, OneLoopRoundDeliversEveryCommandAlreadyReceived) {
  Mosquitto broker;
  broker.start();
  Harness h(broker.uri());
  h.bridge->set_devices(test::all_devices());
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
  // the start-up exchange settles: none of the bridge's QoS 1 messages is in flight any more
  (void)h.wait([] { return false; }, 1000);
  const std::string topic = "loxcan/extension-13001234/q1/set";
  test::Subscriber probe(broker.uri(), topic);  // sees the commands when the bridge's socket does
  std::vector<Publication> cmds;
  for (int i = 0; i < 10; ++i) cmds.push_back({topic, i % 2 ? "1" : "0", 1, false});
  test::publish_many(broker.uri(), cmds);  // the loop does not run meanwhile
  for (int i = 0; i < 100 && probe.messages().size() < cmds.size(); ++i) ::usleep(20000);
  ASSERT_EQ(probe.messages().size(), cmds.size());
  ::usleep(200000);  // the bridge's copies are in its socket too
  h.loop.poll();     // one round
  EXPECT_EQ(h.commands.size(), cmds.size());
}

// A broker that stalls (a LoxBerry under load, a broker on a slow link) while the bus keeps
// changing states: libmosquitto's own queue would grow by every publish (+30 MB in a 10-minute
// soak). The client keeps what it cannot write in its backlog, one entry per retained topic, and
// the broker gets each topic's last state once it runs again.
TEST(Broker, AStalledBrokerCostsMemoryPerTopicAndGetsTheLastStates) {
  Mosquitto broker;
  broker.start();
  Harness h(broker.uri());
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
  (void)h.wait([] { return false; }, 500);  // the start-up exchange settles
  broker.pause();
  constexpr int kTopics = 20, kPublishes = 400000;  // ~25 MB of PUBLISH packets
  const std::string filler(40, 'x');
  auto topic = [](int t) { return "loxcan/stall-test/t" + std::to_string(t); };
  for (int i = 0; i < kPublishes; ++i) {
    ASSERT_EQ(h.client->publish({topic(i % kTopics), filler + std::to_string(i), 0, true}),
              PublishResult::ok);
    if (i % 1000 == 0) h.loop.poll();
  }
  // The kernel's socket buffers took the first megabytes; everything after waits, replaced.
  EXPECT_LE(h.client->backlog().size(), static_cast<std::size_t>(kTopics));
  EXPECT_GT(h.client->backlog().superseded(), static_cast<std::uint64_t>(kPublishes / 4));
  broker.resume();
  ASSERT_TRUE(h.wait([&] { return h.client->backlog().empty(); }, 60000));
  auto last_states_arrived = [&] {
    const auto snap = test::retained_snapshot(broker.uri());
    for (int t = 0; t < kTopics; ++t) {
      const auto it = snap.find(topic(t));
      if (it == snap.end() || it->second != filler + std::to_string(kPublishes - kTopics + t))
        return false;
    }
    return true;
  };
  EXPECT_TRUE(h.wait(last_states_arrived, 60000));
}

// ---- Home Assistant: moving between per-entity and per-device discovery
// --------------------------

std::vector<std::string> discovery_topics(const std::map<std::string, std::string>& snap) {
  std::vector<std::string> out;
  for (const auto& [topic, payload] : snap) {
    if (topic.rfind("homeassistant/", 0) == 0) out.push_back(topic);
  }
  return out;
}

// Position of the first message on `topic` with `payload` (any payload when null), after `from`.
std::ptrdiff_t index_of(const std::vector<Publication>& got, const std::string& topic,
                        const char* payload, std::ptrdiff_t from = -1) {
  for (std::size_t i = static_cast<std::size_t>(from + 1); i < got.size(); ++i) {
    if (got[i].topic == topic && (payload == nullptr || got[i].payload == payload))
      return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

// The sequence HA's docs prescribe, on a real broker, for every old topic: 1. migrate_discovery,
// 2. the new config of its device, 3. the old topic cleared; and the retained state after each run.
void expect_migration(const std::vector<Publication>& got,
                      const std::vector<std::string>& old_topics,
                      const std::function<std::string(const std::string&)>& new_topic_of) {
  for (const auto& old : old_topics) {
    const auto migrate = index_of(got, old, R"({"migrate_discovery":true})");
    ASSERT_GE(migrate, 0) << "no migrate_discovery on " << old;
    const auto fresh = index_of(got, new_topic_of(old), nullptr, migrate);
    ASSERT_GT(fresh, migrate) << "new config of " << old << " not after its migrate message";
    const auto cleared = index_of(got, old, "", fresh);
    EXPECT_GT(cleared, fresh) << old << " not cleared after the new config";
  }
}

std::string node_of(
    const std::string& topic) {  // homeassistant/<c>/<node>/<obj>/config or …/device/<node>/config
  const auto a = topic.find('/', topic.find('/') + 1);
  return topic.substr(a + 1, topic.find('/', a + 1) - a - 1);
}

TEST(Broker, MigrationFromEntityToDeviceDiscoveryAndBack) {
  Mosquitto broker;
  broker.start();
  // Step 0: what an older loxcan left: one config per entity.
  std::vector<std::string> entity_topics;
  {
    MqttOptions o;
    o.homeassistant.mode = HaDiscoveryMode::entity;
    Harness old(broker.uri(), o);
    old.bridge->set_devices(test::all_devices());
    old.bridge->start();
    ASSERT_TRUE(old.wait_connected());
    ASSERT_TRUE(old.wait_in_sync(broker.uri()));
    entity_topics = discovery_topics(test::retained_snapshot(broker.uri()));
    ASSERT_EQ(entity_topics.size(), 14u + 1 + 9);  // 9: the bridge's counters with mqttsuperseded
    for (const auto& t : entity_topics) EXPECT_EQ(t.find("/device/"), std::string::npos) << t;
  }
  // Step 1..3: the upgraded loxcan (device mode, the default) finds them and moves HA over.
  std::vector<std::string> device_topics;
  {
    test::Subscriber watch(broker.uri(), "homeassistant/#");
    Harness upgraded(broker.uri());
    upgraded.bridge->set_devices(test::all_devices());
    upgraded.bridge->start();
    ASSERT_TRUE(upgraded.wait_connected());
    ASSERT_TRUE(upgraded.wait_in_sync(broker.uri()));
    const auto snap = test::retained_snapshot(broker.uri());
    device_topics = discovery_topics(snap);
    ASSERT_EQ(device_topics.size(), 5u + 1);  // nothing of the per-entity configs is left
    for (const auto& t : device_topics) {
      EXPECT_EQ(t, "homeassistant/device/" + node_of(t) + "/config");
      const auto errs = test::check_device_discovery(t, snap.at(t));
      EXPECT_TRUE(errs.empty()) << t << ": " << (errs.empty() ? "" : errs.front());
    }
    ASSERT_TRUE(
        upgraded.wait([&] { return index_of(watch.messages(), entity_topics.back(), "") >= 0; }));
    expect_migration(watch.messages(), entity_topics, [](const std::string& old) {
      return "homeassistant/device/" + node_of(old) + "/config";
    });
    // Restarting the upgraded gateway finds nothing to migrate: no migrate message goes out again.
  }
  {
    test::Subscriber watch(broker.uri(), "homeassistant/+/+/+/config");
    Harness again(broker.uri());
    again.bridge->set_devices(test::all_devices());
    again.bridge->start();
    ASSERT_TRUE(again.wait_connected());
    ASSERT_TRUE(again.wait_in_sync(broker.uri()));
    again.wait([] { return false; }, 500);
    EXPECT_TRUE(watch.messages().empty());
  }
  // Rolling back (mode: entity): the device configs get migrate_discovery, then the entity
  // configs come back, then the device topics are cleared.
  {
    test::Subscriber watch(broker.uri(), "homeassistant/#");
    MqttOptions o;
    o.homeassistant.mode = HaDiscoveryMode::entity;
    Harness back(broker.uri(), o);
    back.bridge->set_devices(test::all_devices());
    back.bridge->start();
    ASSERT_TRUE(back.wait_connected());
    ASSERT_TRUE(back.wait_in_sync(broker.uri()));
    EXPECT_EQ(discovery_topics(test::retained_snapshot(broker.uri())), entity_topics);
    ASSERT_TRUE(
        back.wait([&] { return index_of(watch.messages(), device_topics.back(), "") >= 0; }));
    const auto got = watch.messages();
    for (const auto& dev : device_topics) {
      const auto migrate = index_of(got, dev, R"({"migrate_discovery":true})");
      ASSERT_GE(migrate, 0) << dev;
      // every entity config of that node comes after the device's migrate message
      for (const auto& e : entity_topics) {
        if (node_of(e) == node_of(dev)) {
          EXPECT_GT(index_of(got, e, nullptr, migrate), migrate) << e;
        }
      }
      EXPECT_GT(index_of(got, dev, "", migrate), migrate) << dev << " not cleared";
    }
  }
}

void phase1(MqttBridge& b) {
  b.set_devices(test::all_devices());
  b.handle(ChannelChanged{test::extension().info, "q1", true, "", 0});
  b.handle(ChannelChanged{test::extension().info, "ai1", 5.5, "", 0});
  b.handle(ChannelChanged{test::touch().info, "temp", 21.0, "", 0});
  b.handle(ChannelChanged{test::rgbw().info, "rgbw", Rgbw{10, 20, 30, 40}, "", 0});
  b.handle(ChannelChanged{test::valve().info, "pos", 30.0, "", 0});
  b.handle(devices::DeviceStateChanged{test::dimmer().info, devices::DeviceState::online,
                                       devices::DeviceState::offline, 0});
}

void phase2(MqttBridge& b) {
  b.handle(ChannelChanged{test::touch().info, "temp", 22.5, "", 0});
  b.handle(ChannelChanged{test::extension().info, "q1", false, "", 0});
  auto touch = test::touch();
  touch.info.name = "Touch Living";
  b.set_devices(
      {test::extension(), test::dimmer(), test::rgbw(), touch});  // valve removed, touch renamed
  b.handle(ChannelChanged{test::extension().info, "mask", std::uint32_t{7}, "", 0});
  b.handle(ChannelChanged{test::rgbw().info, "rgbw", Rgbw{}, "", 0});
  b.handle(devices::BusEvent{"unknown_message", "test", "10A#00", 0});
}

TEST(Broker, RestartMidStreamEndsWithTheSameRetainedStateAsAReferenceRun) {
  std::map<std::string, std::string> reference;
  {
    Mosquitto broker;
    broker.start();
    Harness h(broker.uri());
    h.bridge->start();
    ASSERT_TRUE(h.wait_connected());
    phase1(*h.bridge);
    phase2(*h.bridge);
    ASSERT_TRUE(h.wait_in_sync(broker.uri()));
    reference = test::retained_snapshot(broker.uri());
  }
  ASSERT_FALSE(reference.empty());
  EXPECT_EQ(reference.at("loxcan/touch-living/temp"), "22.5");
  EXPECT_FALSE(reference.count("loxcan/valve-0a0b0c0d/pos"));

  Mosquitto broker;
  broker.start();
  Harness h(broker.uri());
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
  phase1(*h.bridge);
  ASSERT_TRUE(h.wait_in_sync(broker.uri()));
  EXPECT_EQ(test::retained_snapshot(broker.uri()).at("loxcan/valve-0a0b0c0d/pos"), "30");

  broker.kill9();
  ASSERT_TRUE(h.wait([&] { return !h.bridge->connected(); }));
  phase2(*h.bridge);  // while the broker is away
  broker.start();     // same port, empty store
  ASSERT_TRUE(h.wait_connected(2));
  ASSERT_TRUE(h.wait_in_sync(broker.uri()));
  EXPECT_EQ(test::retained_snapshot(broker.uri()), reference);

  // resubscribed: commands work again
  ASSERT_EQ(test::run(pub_cmd(broker, "loxcan/dimmer-0f1e2d3c/aq1/set", "55")), 0);
  ASSERT_TRUE(h.wait([&] { return h.commands.size() == 1; }));
  EXPECT_EQ(h.commands[0].value, ChannelValue{55.0});
}

TEST(Broker, BadCommandsOverTheWireAreEachRejectedWithAnEvent) {
  Mosquitto broker;
  broker.start();
  Harness h(broker.uri());
  h.bridge->set_devices(test::all_devices());
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
  test::Subscriber events(broker.uri(), "loxcan/bridge/event");
  const auto bad = test::bad_commands();
  std::multiset<std::pair<std::string, std::string>> expected, got;
  std::vector<Publication> msgs;
  for (const auto& b : bad) {
    const std::string topic = "loxcan/" + b.device + "/" + b.channel + "/set";
    msgs.push_back({topic, b.payload, 1, false});
    expected.insert({topic, std::string(to_string(b.error))});
  }
  test::publish_many(broker.uri(), msgs);
  auto rejected = [&] {
    got.clear();
    for (const auto& m : events.messages()) {
      const auto j = json::parse(m.payload);
      if (j["type"] == "command_rejected") {
        got.insert({j["data"]["topic"].get<std::string>(), j["data"]["error"].get<std::string>()});
      }
    }
    return got.size() >= bad.size();
  };
  ASSERT_TRUE(h.wait(rejected)) << got.size() << " of " << bad.size() << " rejections seen";
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(h.commands.empty());
  EXPECT_TRUE(h.bridge->connected());
  ASSERT_EQ(test::run(pub_cmd(broker, "loxcan/extension-13001234/q1/set", "true")), 0);
  ASSERT_TRUE(h.wait([&] { return h.commands.size() == 1; }));
}

TEST(Broker, Mqtt5WithLoginFromAPasswordFile) {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("loxcan-auth-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string password =
      "pw-" + std::to_string(::getpid());  // made by the test, never committed
  ASSERT_EQ(
      test::run("mosquitto_passwd -c -b " + dir + "/passwd loxcan " + password + " 2>/dev/null"),
      0);
  std::ofstream(dir + "/secret") << password << "\n";
  Mosquitto broker("allow_anonymous false\npassword_file " + dir + "/passwd\n");
  broker.start();
  MqttOptions o;
  o.protocol = ProtocolVersion::v5;
  o.username = "loxcan";
  o.password_file = dir + "/secret";
  Harness h(broker.uri(), o);
  h.bridge->set_devices({test::extension()});
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
  h.change(test::extension(), "ai1", 1.5);
  ASSERT_TRUE(h.wait_in_sync(broker.uri(), "loxcan", password));
  test::publish_raw(broker.uri(), "loxcan/extension-13001234/q1/set", "on", false, 1, "loxcan",
                    password);
  ASSERT_TRUE(h.wait([&] { return h.commands.size() == 1; }));
  std::filesystem::remove_all(dir);
}

TEST(Broker, LastWillMarksTheBridgeOfflineWhenTheProcessDies) {
  Mosquitto broker;
  broker.start();
  const pid_t child = ::fork();
  if (child == 0) {
    // The daemon: connect, publish, then die without DISCONNECT (the kernel closes the socket).
    Harness h(broker.uri());
    h.bridge->set_devices({test::extension()});
    h.bridge->start();
    const bool ok = h.wait_connected() && h.wait_in_sync(broker.uri());
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child bridge did not connect";
  std::map<std::string, std::string> snap;
  for (int i = 0; i < 50; ++i) {
    snap = test::retained_snapshot(broker.uri());
    if (snap["loxcan/bridge/state"] == "offline") break;
  }
  EXPECT_EQ(snap["loxcan/bridge/state"], "offline");
  EXPECT_EQ(snap["loxcan/extension-13001234/availability"], "online");  // the rest stays as it was
}

// LoxBerry's MQTT Gateway restarts: its last will (`Disconnected`, retained) fires, then it comes
// back and publishes `Connected`. Within 2 s every retained state reaches a subscriber again as a
// live message (retain flag clear), which is what the V2 gateway forwards to the Miniserver. The
// retained `Connected` the bridge finds when it subscribes does not trigger a second round.
TEST(Broker, LoxBerryGatewayBackOnlineGetsEveryRetainedStateAgainWithin2s) {
  Mosquitto broker;
  broker.start();
  const std::string status = "loxberry/mqttgateway/status";
  test::publish_raw(broker.uri(), status, "Connected", true);
  Harness h(broker.uri());
  h.bridge->set_devices(test::all_devices());
  h.change(test::extension(), "q1", true);
  h.change(test::touch(), "temp", 21.25);
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
  ASSERT_TRUE(h.wait([&] {
    auto snap = test::retained_snapshot(broker.uri());
    snap.erase(status);
    return snap == h.bridge->retained();
  }));
  const auto published_after_connect = h.bridge->counters().published;
  h.wait([] { return false; }, 500);
  EXPECT_EQ(h.bridge->counters().published, published_after_connect)
      << "the old retained Connected republished";

  // The gateway: a client with LoxBerry's last will, killed without DISCONNECT.
  const std::string port = std::to_string(broker.port());
  ASSERT_EQ(test::run("timeout -s KILL 1 mosquitto_sub -h 127.0.0.1 -p " + port + " -t '" + status +
                      "' --will-topic '" + status +
                      "' --will-payload Disconnected --will-retain -W 5 >/dev/null 2>&1;"
                      " true"),
            0);
  ASSERT_TRUE(h.wait(
      [&] { return test::retained_snapshot(broker.uri()).at(status) == "Disconnected"; }, 5000));

  test::Subscriber live(broker.uri(), "loxcan/#");
  h.wait([] { return false; }, 300);  // the subscriber's retained replay arrives first
  const auto replayed = live.messages().size();
  test::publish_raw(broker.uri(), status, "Joining", true);
  test::publish_raw(broker.uri(), status, "Connected", true);
  const auto expected = h.bridge->retained();
  auto live_topics = [&] {
    std::map<std::string, std::string> seen;
    const auto msgs = live.messages();
    for (std::size_t i = replayed; i < msgs.size(); ++i) {
      if (!msgs[i].retain) seen[msgs[i].topic] = msgs[i].payload;
    }
    return seen;
  };
  std::map<std::string, std::string> expected_loxcan;
  for (const auto& [t, p] : expected) {
    if (t.rfind("loxcan/", 0) == 0) expected_loxcan[t] = p;
  }
  ASSERT_GT(expected_loxcan.size(), 10u);
  EXPECT_TRUE(h.wait([&] { return live_topics() == expected_loxcan; }, 2000))
      << live_topics().size() << " of " << expected_loxcan.size()
      << " retained states came again as live messages";
}

class BrokerTls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("loxcan-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/san.ext") << "subjectAltName=IP:127.0.0.1\n";
    const std::string q = " >/dev/null 2>&1";
    ASSERT_EQ(test::run("cd " + dir +
                        " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt "
                        "-days 1 -subj '/CN=loxcan test CA'" +
                        q),
              0);
    ASSERT_EQ(test::run("cd " + dir +
                        " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out "
                        "server.csr -subj '/CN=127.0.0.1'" +
                        q),
              0);
    ASSERT_EQ(test::run("cd " + dir +
                        " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
                        "-CAcreateserial -out server.crt -days 1 -extfile san.ext" +
                        q),
              0);
    // mosquitto started as root drops to its own user and must still read the key
    ASSERT_EQ(test::run("chmod 644 " + dir + "/server.key"), 0);
    broker = std::make_unique<Mosquitto>("cafile " + dir + "/ca.crt\ncertfile " + dir +
                                         "/server.crt\nkeyfile " + dir + "/server.key\n");
    broker->start();
  }
  void TearDown() override {
    broker.reset();
    std::filesystem::remove_all(dir);
  }
  std::string uri() const { return "ssl://127.0.0.1:" + std::to_string(broker->port()); }
  std::string dir;
  std::unique_ptr<Mosquitto> broker;
};

TEST_F(BrokerTls, VerifiedWithTheCa) {
  MqttOptions o;
  o.broker = uri();
  o.tls.ca_file = dir + "/ca.crt";
  Harness h(uri(), o);
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
}

TEST_F(BrokerTls, InsecureAsLoxBerrysLocalListener) {
  MqttOptions o;
  o.broker = uri();
  o.tls.insecure = true;
  Harness h(uri(), o);
  h.bridge->start();
  ASSERT_TRUE(h.wait_connected());
}

TEST_F(BrokerTls, UnknownCaIsRefused) {
  MqttOptions o;
  o.broker = uri();
  o.tls.ca_file = dir + "/server.crt";  // not the issuer
  Harness h(uri(), o);
  h.bridge->start();
  EXPECT_FALSE(h.wait([&] { return h.bridge->connected(); }, 2500));
}

}  // namespace
}  // namespace loxcan::mqtt
