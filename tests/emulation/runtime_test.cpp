// gateway/emulation/runtime: the emulated devices of a map on an EventLoop (no CAN needed: frames
// go to a vector), key-file handling, the state file, and the EmulationHost contract.
#include "gateway/emulation/runtime.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "devices/emulation/keys.hpp"
#include "gateway/emulation/state_file.hpp"

namespace loxcan::emulation {
namespace {

class Runtime : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/loxcan-rt-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logs);
    spdlog::drop("dev");
    spdlog::register_logger(std::make_shared<spdlog::logger>("dev", sink));
  }
  void TearDown() override {
    spdlog::drop("dev");
    std::system(("rm -rf " + dir).c_str());
  }

  config::Config map(const std::string& emulation) {
    const std::string yaml =
        "interfaces: [{name: vcan0, role: link}]\n"
        "devices:\n"
        "  - {serial: 14000001, type: di_extension, name: di1, mode: emulate, interface: vcan0}\n"
        "  - {serial: 13000001, type: tree_extension, name: tree1, mode: emulate, interface: "
        "vcan0}\n"
        "  - {serial: B0000001, type: touch, name: touch1, mode: emulate, interface: vcan0, "
        "parent: 13000001, "
        "branch: left}\n"
        "  - {serial: B0000002, type: touch, name: touch2, mode: monitor}\n"
        "emulation: {" +
        emulation + ", state_file: " + dir + "/state.yaml}\n";
    return config::parse(yaml, "map.yaml", reg);
  }

  std::unique_ptr<Emulation> make(const config::Config& c) {
    return std::make_unique<Emulation>(
        loop, c, reg,
        [this](const std::string& iface, const canproto::Frame& f) {
          sent.emplace_back(iface, f);
          return true;
        },
        [this](std::vector<devices::Event>& ev) {
          events.insert(events.end(), ev.begin(), ev.end());
        });
  }

  devices::Registry reg = devices::Registry::builtin();
  gateway::EventLoop loop;
  std::string dir;
  std::ostringstream logs;
  std::vector<std::pair<std::string, canproto::Frame>> sent;
  std::vector<devices::Event> events;
};

TEST_F(Runtime, BuildsTheEmulatedDevicesAndRequestsNats) {
  auto emu = make(map("auth: test"));
  ASSERT_EQ(emu->devices().size(), 3u);  // touch2 is monitored, not emulated
  EXPECT_NE(emu->find("touch1"), nullptr);
  EXPECT_NE(emu->find("b0000001"), nullptr);
  EXPECT_EQ(emu->find("touch2"), nullptr);
  emu->start();
  loop.add_timer(std::chrono::milliseconds(700), [&] { loop.stop(); });
  loop.run();
  int requests = 0;
  for (const auto& [iface, f] : sent) {
    EXPECT_EQ(iface, "vcan0");
    if ((f.id & 0xFF) == 0xFE) ++requests;
  }
  EXPECT_GE(requests, 2);  // DI + touch (the Tree Extension waits 1..1.5 s)
  EXPECT_NE(logs.str().find("use the built-in TEST keys (auth: test)"), std::string::npos)
      << logs.str();
}

// Every frame of the interface reaches the emulation; frames of other devices (the soak's load:
// a DI Extension's values) change no deadline and must not cost a timer cancel + add each.
TEST_F(Runtime, FramesOfOtherDevicesLeaveTheTimerAlone) {
  auto emu = make(map("auth: test"));
  emu->start();
  const std::size_t before = loop.timer_heap_size();
  ASSERT_GT(before, 0u);
  auto value = canproto::Frame::make(0x1003E080, {0, 0, 0, 0, 5, 0, 0, 0});
  for (int i = 0; i < 500; ++i) emu->on_frame("vcan0", value);
  EXPECT_EQ(loop.timer_heap_size(), before);
}

// The daemon hands each frame the time its receive batch was read (CanPort::rx_time(), one clock
// read per batch instead of one per frame): that time, not a clock read of its own, is the
// devices' "now" for the frame.
TEST_F(Runtime, FramesRunOnTheTimeTheCallerReadThem) {
  auto now_run = make(map("auth: off"));
  auto past_run = make(map("auth: off"));
  now_run->start();
  past_run->start();
  // A NAT offer (NAT 2) to di1 (14000001): its next step is timed from the offer's arrival.
  const auto offer = canproto::Frame::make(0x106FF0FD, {0, 0x02, 0, 0, 0x01, 0x00, 0x00, 0x14});
  const auto at = gateway::EventLoop::now();
  now_run->on_frame("vcan0", offer, at);
  past_run->on_frame("vcan0", offer, at - std::chrono::seconds(30));
  const Millis a = now_run->find("di1")->next_deadline();
  const Millis b = past_run->find("di1")->next_deadline();
  ASSERT_NE(a, kNever);
  // Both emulations started within a few ms of each other: their clocks agree to that.
  EXPECT_NEAR(static_cast<double>(a - b), 30000.0, 200.0) << a << " " << b;
}

TEST_F(Runtime, MissingKeyFileIsNamedOnce) {
  auto emu = make(map("auth: on, keys_file: " + dir + "/none.yaml"));
  const auto text = logs.str();
  EXPECT_NE(text.find("emulation: the key file cannot be used: " + dir +
                      "/none.yaml: cannot read key file: No such "
                      "file or directory; devices that need it: di1, tree1, touch1"),
            std::string::npos)
      << text;
}

TEST_F(Runtime, TreeDeviceIdsPersistInTheStateFile) {
  { auto emu = make(map("auth: off")); }
  auto st = load_state(dir + "/state.yaml");
  ASSERT_EQ(st.tree_device_ids.size(), 1u);
  ASSERT_TRUE(st.tree_device_ids.count(0xB0000001));
  const auto id = st.tree_device_ids[0xB0000001];
  { auto emu = make(map("auth: off")); }
  EXPECT_EQ(load_state(dir + "/state.yaml").tree_device_ids[0xB0000001], id);
  struct stat sb {};
  ASSERT_EQ(stat((dir + "/state.yaml").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
}

TEST_F(Runtime, SetInputReportsWhatIsWrong) {
  auto emu = make(map("auth: off"));
  EXPECT_EQ(emu->set_input_text("di1", "i3", "1"), "");
  EXPECT_EQ(emu->find("di1")->value("i3"), devices::ChannelValue(true));
  EXPECT_EQ(emu->set_input_text("nobody", "i3", "1"), "unknown device 'nobody'");
  EXPECT_EQ(emu->set_input_text("di1", "x9", "1"), "di1: unknown channel 'x9'");
  EXPECT_EQ(emu->set_input_text("di1", "i3", "maybe"), "di1 i3: bad value 'maybe'");
  EXPECT_EQ(emu->set_input_text("touch1", "buzzer", "1"), "touch1 buzzer: not an input");
  EXPECT_TRUE(emu->set_input(0x14000001, "i4", true));
  EXPECT_FALSE(emu->set_input(0x14000002, "i4", true));
}

TEST_F(Runtime, ApplyKeepsUnchangedDevicesAndRebuildsChangedOnes) {
  auto emu = make(map("auth: off"));
  emu->set_input_text("di1", "i3", "1");
  emu->apply(map("auth: off"));
  EXPECT_EQ(emu->find("di1")->value("i3"), devices::ChannelValue(true));  // same state machine
  emu->apply(map("auth: test"));
  EXPECT_EQ(emu->find("di1")->value("i3"), devices::ChannelValue(false));  // rebuilt
}

}  // namespace
}  // namespace loxcan::emulation
