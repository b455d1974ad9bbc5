// ChannelPolicy: the daemon's step between the bus monitor and the sinks. Debounce on a fake
// clock, channel mapping (publish, invert, scale, unit) of events, /set routing to the emulation
// or the bus, and devices learned from the bus.
#include "gateway/wiring/channel_policy.hpp"

#include <gtest/gtest.h>

#include <map>

#include "devices/registry.hpp"
#include "gateway/config/config.hpp"

namespace loxcan::wiring {
namespace {

using namespace std::chrono_literals;

/// Timers on a clock that moves only when the test says so.
class FakeClock : public Timers {
 public:
  Id add_timer(std::chrono::milliseconds after, std::function<void()> fn) override {
    timers_[next_] = {now_ + after, std::move(fn)};
    return next_++;
  }
  void cancel(Id id) override { timers_.erase(id); }
  /// Moves the clock forward, running every timer that falls due, in order of their deadlines.
  void advance(std::chrono::milliseconds d) {
    const auto until = now_ + d;
    for (;;) {
      auto due = timers_.end();
      for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->second.at <= until && (due == timers_.end() || it->second.at < due->second.at))
          due = it;
      }
      if (due == timers_.end()) break;
      now_ = due->second.at;
      auto fn = std::move(due->second.fn);
      timers_.erase(due);
      fn();
    }
    now_ = until;
  }
  std::size_t pending() const { return timers_.size(); }

 private:
  struct Timer {
    std::chrono::milliseconds at;
    std::function<void()> fn;
  };
  std::chrono::milliseconds now_{0};
  Id next_ = 1;
  std::map<Id, Timer> timers_;
};

constexpr const char* kYaml = R"(
interfaces: [{name: vcan0, role: link}]
devices:
  - serial: "14111775"
    type: di_extension
    name: hall
    channels:
      i1: {name: door, invert: true, debounce_ms: 50}
      i2: {publish: false}
  - serial: "19000001"
    type: ai_extension
    name: tank
    channels:
      ai1: {name: level, unit: "%", scale: 10, offset: -5}
  - serial: "14000002"
    type: di_extension
    name: played
    mode: emulate
    interface: vcan0
    channels:
      i1: {invert: true}
)";

constexpr std::uint32_t kHall = 0x14111775, kTank = 0x19000001, kPlayed = 0x14000002;

class ChannelPolicyTest : public ::testing::Test {
 protected:
  ChannelPolicyTest() {
    policy.set_output([this](const devices::Event& e) { out.push_back(e); });
    policy.set_command_targets([this](const mqtt::BridgeCommand& c) { to_emulation.push_back(c); },
                               [this](const mqtt::BridgeCommand& c) { to_bus.push_back(c); });
    policy.apply(config);
  }

  devices::DeviceInfo info(std::uint32_t serial) {
    return devices::DeviceInfo{serial, 0, {}, "", "", 0};
  }
  void change(std::uint32_t serial, const char* channel, devices::ChannelValue v) {
    policy.on_event(devices::ChannelChanged{info(serial), channel, std::move(v), "", 0});
  }
  /// The values published so far as "channel=value" (bool as 0/1).
  std::vector<std::string> published() const {
    std::vector<std::string> r;
    for (const auto& e : out) {
      const auto* cc = std::get_if<devices::ChannelChanged>(&e);
      if (cc == nullptr) continue;
      std::string v = std::holds_alternative<bool>(cc->value)
                          ? (std::get<bool>(cc->value) ? "1" : "0")
                          : devices::to_plain(cc->value);
      r.push_back(cc->channel + "=" + v);
    }
    return r;
  }

  devices::Registry registry = devices::Registry::builtin();
  config::Config config = config::parse(kYaml, "test.yaml", registry);
  FakeClock clock;
  const devices::Model* learned_model = nullptr;
  ChannelPolicy policy{clock, [this](std::uint32_t) { return learned_model; }};
  std::vector<devices::Event> out;
  std::vector<mqtt::BridgeCommand> to_emulation, to_bus;
};

using Published = std::vector<std::string>;

TEST_F(ChannelPolicyTest, DebounceHoldsAChangeUntilStableThenPublishesItOnce) {
  change(kHall, "i1", true);
  EXPECT_EQ(published(), Published{});
  clock.advance(49ms);
  EXPECT_EQ(published(), Published{});
  clock.advance(1ms);
  EXPECT_EQ(published(), Published{"i1=0"});  // inverted on the way out
  clock.advance(1000ms);
  EXPECT_EQ(published(), Published{"i1=0"});
  EXPECT_EQ(clock.pending(), 0u);
}

TEST_F(ChannelPolicyTest, DebounceRestartsOnEveryChangeAndPublishesOnlyTheLastValue) {
  change(kHall, "i1", true);
  clock.advance(30ms);
  change(kHall, "i1", false);  // bounce
  clock.advance(30ms);
  change(kHall, "i1", true);
  clock.advance(49ms);
  EXPECT_EQ(published(), Published{});  // 109 ms since the first change, 49 since the last
  clock.advance(1ms);
  EXPECT_EQ(published(), Published{"i1=0"});
}

TEST_F(ChannelPolicyTest, DebounceIsPerChannelAndOtherChannelsPassAtOnce) {
  change(kHall, "i1", true);
  change(kHall, "i3", true);
  EXPECT_EQ(published(), Published{"i3=1"});
  clock.advance(50ms);
  EXPECT_EQ(published(), (Published{"i3=1", "i1=0"}));
}

TEST_F(ChannelPolicyTest, DebouncedValueIsReleasedAfterAReload) {
  change(kHall, "i1", true);
  policy.apply(config);
  clock.advance(50ms);
  EXPECT_EQ(published(), Published{"i1=0"});
}

TEST_F(ChannelPolicyTest, UnpublishedChannelsAreDropped) {
  change(kHall, "i2", true);
  EXPECT_TRUE(out.empty());
}

TEST_F(ChannelPolicyTest, NumbersAreScaledAndCarryThePublicUnitUnderTheModelName) {
  change(kTank, "ai1", 2.0);
  ASSERT_EQ(out.size(), 1u);
  const auto& cc = std::get<devices::ChannelChanged>(out[0]);
  EXPECT_EQ(cc.channel, "ai1");  // the sinks map the model name to their topic
  EXPECT_DOUBLE_EQ(std::get<double>(cc.value), 15.0);
  EXPECT_EQ(cc.unit, "%");
}

TEST_F(ChannelPolicyTest, CommandsSeenOnTheBusAreMappedToo) {
  policy.on_event(devices::Command{info(kPlayed), "i1", true, 0});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<bool>(std::get<devices::Command>(out[0]).value), false);
}

TEST_F(ChannelPolicyTest, OtherEventsPassUntouched) {
  policy.on_event(devices::BusEvent{"fragment_problem", "orphan", "10A#00", 7});
  policy.on_event(devices::DeviceStateChanged{info(kHall), devices::DeviceState::offline,
                                              devices::DeviceState::online, 8});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<devices::BusEvent>(out[0]).detail, "orphan");
  EXPECT_TRUE(std::holds_alternative<devices::DeviceStateChanged>(out[1]));
}

TEST_F(ChannelPolicyTest, SetOnAPlayedDeviceGoesToTheEmulationInModelForm) {
  policy.on_command({info(kPlayed), "i1", true});
  ASSERT_EQ(to_emulation.size(), 1u);
  EXPECT_TRUE(to_bus.empty());
  EXPECT_EQ(to_emulation[0].device.serial, kPlayed);
  EXPECT_EQ(to_emulation[0].channel, "i1");
  EXPECT_EQ(std::get<bool>(to_emulation[0].value), false);  // un-inverted
}

TEST_F(ChannelPolicyTest, SetOnAMonitoredDeviceGoesToTheBusInModelForm) {
  policy.on_command({info(kTank), "ai1", 15.0});
  ASSERT_EQ(to_bus.size(), 1u);
  EXPECT_TRUE(to_emulation.empty());
  EXPECT_DOUBLE_EQ(std::get<double>(to_bus[0].value), 2.0);  // (15 - -5) / 10
}

TEST_F(ChannelPolicyTest, SetOnADeviceOutsideTheMapGoesToTheBusUnchanged) {
  policy.on_command({info(0x0BFF0A01), "q1", true});
  ASSERT_EQ(to_bus.size(), 1u);
  EXPECT_EQ(std::get<bool>(to_bus[0].value), true);
}

TEST_F(ChannelPolicyTest, ReloadChangesWhoPlaysADevice) {
  config::Config next =
      config::parse("devices:\n  - {serial: \"14000002\", type: di_extension, name: played}\n",
                    "next.yaml", registry);
  policy.apply(next);
  policy.on_command({info(kPlayed), "i1", true});
  EXPECT_TRUE(to_emulation.empty());
  ASSERT_EQ(to_bus.size(), 1u);
  EXPECT_EQ(std::get<bool>(to_bus[0].value), true);  // no invert in the new map
}

TEST_F(ChannelPolicyTest, BridgeDeviceListsPublicChannelsAndWhoPlaysIt) {
  const auto hall = policy.bridge_device(info(kHall), config.devices[0].model, true);
  EXPECT_FALSE(hall.emulated);
  EXPECT_TRUE(hall.available);
  bool door = false;
  for (const auto& c : hall.channels) door |= c.spec.name == "i1" && c.name == "door";
  EXPECT_TRUE(door);
  EXPECT_TRUE(policy.bridge_device(info(kPlayed), config.devices[2].model, false).emulated);
}

TEST_F(ChannelPolicyTest, ADeviceLearnedFromTheBusGetsItsModelsChannelsOnceKnown) {
  const std::uint32_t stranger = 0x0BFF0A01;
  EXPECT_TRUE(policy.bridge_device(info(stranger), nullptr, true).channels.empty());
  const devices::Model* relay = registry.find("relay_extension");
  ASSERT_NE(relay, nullptr);
  EXPECT_FALSE(policy.bridge_device(info(stranger), relay, true).channels.empty());
}

}  // namespace
}  // namespace loxcan::wiring
