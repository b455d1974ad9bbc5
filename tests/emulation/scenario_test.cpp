// Scenario parsing and running, and the emulation state file (gateway/sim, gateway/emulation).
#include "gateway/sim/scenario.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "devices/registry.hpp"
#include "gateway/emulation/state_file.hpp"

namespace loxcan::sim {
namespace {

using emulation::EmulationState;
using emulation::format_state;
using emulation::load_state;
using emulation::parse_state;
using emulation::save_state;
using emulation::StateFileError;

TEST(Scenario, ParsesEveryStep) {
  auto sc = parse_scenario(
      "- wait online\n- wait online 3000\n- set ao1 aq1 5.5\n- expect di1 i3 1 within 200\n"
      "- expect di1 i3 0\n- state touch1 parked within 10\n- wait 50\n- restart\n- silence 800\n",
      "s.yaml");
  ASSERT_EQ(sc.steps.size(), 9u);
  EXPECT_EQ(sc.steps[0].kind, Step::Kind::wait_online);
  EXPECT_EQ(sc.steps[0].ms, 15000);
  EXPECT_EQ(sc.steps[1].ms, 3000);
  EXPECT_EQ(sc.steps[2].kind, Step::Kind::set);
  EXPECT_EQ(sc.steps[2].value, "5.5");
  EXPECT_EQ(sc.steps[3].ms, 200);
  EXPECT_EQ(sc.steps[4].ms, 5000);
  EXPECT_EQ(sc.steps[5].kind, Step::Kind::state);
  EXPECT_EQ(sc.steps[8].kind, Step::Kind::silence);
  EXPECT_EQ(sc.steps[3].where, "s.yaml:4");
  EXPECT_EQ(parse_scenario("steps:\n  - wait 1\n", "m.yaml").steps.size(), 1u);
  EXPECT_TRUE(parse_scenario("", "e.yaml").steps.empty());
}

TEST(Scenario, ErrorsNamePlaceAndProblem) {
  const std::pair<const char*, const char*> rows[] = {
      {"- jump 3\n", "s.yaml:1: unknown step 'jump'"},
      {"- set a b\n", "s.yaml:1: set: expected 'set <device> <channel> <value>'"},
      {"- expect a b 1 within\n", "s.yaml:1: expect: expected 'within <ms>'"},
      {"- expect a b 1 after 5\n", "s.yaml:1: expect: expected 'within <ms>'"},
      {"- wait -5\n", "s.yaml:1: wait: expected milliseconds"},
      {"- wait 5x\n", "s.yaml:1: wait: expected milliseconds"},
      {"- state a sleeping\n", "s.yaml:1: state: expected online, parked or offline"},
      {"- restart now\n", "s.yaml:1: restart: takes no arguments"},
      {"- [set, a]\n", "s.yaml:1:3: a step is one line of text"},
      {"foo: 1\n", "s.yaml:1:1: unknown key 'foo'"},
      {"just text\n", "s.yaml:1:1: expected a list of steps"},
      {"- set a b 1\n  - x: [\n", "s.yaml:"},
  };
  for (const auto& [text, error] : rows) {
    try {
      parse_scenario(text, "s.yaml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ScenarioError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(error, 0), 0u) << text << " -> " << e.what();
    }
  }
}

// A target with one device "d" of model Touch, values kept in a map.
class FakeTarget : public ScenarioTarget {
 public:
  devices::Registry reg = devices::Registry::builtin();
  const devices::Model& touch = *reg.find("touch");
  std::map<std::string, devices::ChannelValue> values;
  bool online = false;
  std::vector<std::string> sets;

  const devices::ChannelSpec* spec(std::string_view device,
                                   std::string_view channel) const override {
    if (device != "d") return nullptr;
    const auto* c = touch.find(channel);
    return c ? &c->spec : nullptr;
  }
  devices::ChannelDirection settable() const override { return devices::ChannelDirection::input; }
  std::string set(std::string_view, std::string_view channel,
                  const devices::ChannelValue& v) override {
    sets.push_back(std::string(channel) + "=" + devices::to_plain(v));
    values[std::string(channel)] = v;
    return "";
  }
  std::optional<devices::ChannelValue> value(std::string_view,
                                             std::string_view channel) const override {
    auto it = values.find(std::string(channel));
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  bool all_online() const override { return online; }
  std::string state(std::string_view device) const override {
    return device == "d" ? (online ? "online" : "offline") : "";
  }
};

TEST(Scenario, CheckRejectsUnknownNamesAndValues) {
  FakeTarget t;
  const std::pair<const char*, const char*> rows[] = {
      {"- set x temperature 1\n", "s.yaml:1: set x temperature 1: unknown device or channel"},
      {"- set d nope 1\n", "s.yaml:1: set d nope 1: unknown device or channel"},
      {"- set d buzzer 1\n",
       "s.yaml:1: set d buzzer 1: 'buzzer' is an output; here `set` changes inputs"},
      {"- expect d temperature warm\n",
       "s.yaml:1: expect d temperature warm: 'warm' is not a value of temperature"},
      {"- state x online\n", "s.yaml:1: state x online: unknown device"},
  };
  for (const auto& [text, error] : rows) {
    try {
      check(parse_scenario(text, "s.yaml"), t);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ScenarioError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(error, 0), 0u) << e.what();
    }
  }
  EXPECT_NO_THROW(
      check(parse_scenario("- set d temperature 21.5\n- expect d buzzer on\n", "s.yaml"), t));
}

TEST(Scenario, RunnerWaitsSetsAndExpects) {
  FakeTarget t;
  std::vector<std::string> out;
  ScenarioRunner r(
      parse_scenario(
          "- wait online 1000\n- set d temperature 21.5\n- expect d buzzer 1 within 500\n"
          "- wait 100\n- expect d humidity 40 within 50\n",
          "s.yaml"),
      t, [&](const std::string& s) { out.push_back(s); });
  r.poll(0);
  EXPECT_FALSE(r.done());
  t.online = true;
  r.poll(10);
  EXPECT_EQ(t.sets, std::vector<std::string>{"temperature=21.5"});
  r.poll(300);
  t.values["buzzer"] = true;
  r.poll(400);
  r.poll(450);  // wait 100 from 400
  EXPECT_FALSE(r.done());
  r.poll(500);  // wait over; humidity expectation starts at 500
  r.poll(560);  // and fails at 550
  ASSERT_TRUE(r.done());
  EXPECT_EQ(r.failures(), 1);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], "ok: wait online (after 10 ms)");
  EXPECT_EQ(out[2], "ok: expect d buzzer 1 within 500 (after 390 ms)");
  EXPECT_EQ(out[3], "FAIL: s.yaml:5: expect d humidity 40 within 50: no value");
}

TEST(Scenario, AbortFailsWhatIsLeft) {
  FakeTarget t;
  std::vector<std::string> out;
  ScenarioRunner r(parse_scenario("- wait online 1000\n- wait 10\n- expect d buzzer 1\n", "s.yaml"),
                   t, [&](const std::string& s) { out.push_back(s); });
  r.poll(0);
  r.abort("--duration ran out");
  EXPECT_EQ(r.failures(), 2);
  EXPECT_EQ(out.back(), "FAIL: s.yaml:3: expect d buzzer 1: --duration ran out");
}

TEST(Scenario, ValuesMatchWithTolerance) {
  EXPECT_TRUE(values_match(22.5, 22.5000000001));
  EXPECT_FALSE(values_match(22.5, 22.51));
  EXPECT_TRUE(values_match(true, true));
  EXPECT_FALSE(values_match(true, 1.0));
}

TEST(StateFile, RoundTripAndErrors) {
  EmulationState st;
  st.tree_device_ids[0xB0000001] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xFF};
  const auto text = format_state(st);
  EXPECT_NE(text.find("B0000001: 0102030405060708090a0bff"), std::string::npos) << text;
  EXPECT_EQ(parse_state(text, "st.yaml").tree_device_ids, st.tree_device_ids);
  EXPECT_TRUE(parse_state("", "st.yaml").tree_device_ids.empty());
  const std::pair<const char*, const char*> rows[] = {
      {"foo: 1\n", "st.yaml:1:1: unknown key 'foo'"},
      {"tree_device_ids:\n  XYZ: 00\n",
       "st.yaml:2:3: tree_device_ids: expected a serial of 8 hex digits"},
      {"tree_device_ids:\n  B0000001: 0102\n",
       "st.yaml:2:13: tree_device_ids.B0000001: expected 24 hex digits"},
      {"tree_device_ids: [1]\n", "st.yaml:1:18: tree_device_ids: expected a mapping"},
      {"a: [\n", "st.yaml:"},
  };
  for (const auto& [t, error] : rows) {
    try {
      parse_state(t, "st.yaml");
      ADD_FAILURE() << "accepted: " << t;
    } catch (const StateFileError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(error, 0), 0u) << e.what();
    }
  }
}

TEST(StateFile, SaveIsPrivateAndLoadable) {
  char dir[] = "/tmp/loxcan-state-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/state.yaml";
  EXPECT_TRUE(load_state(path).tree_device_ids.empty());  // missing: empty
  EmulationState st;
  st.tree_device_ids[0xC0168612] = {0xA5, 0x5A};
  save_state(path, st);
  struct stat sb {};
  ASSERT_EQ(stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  EXPECT_EQ(load_state(path).tree_device_ids, st.tree_device_ids);
  EXPECT_THROW(save_state(std::string(dir) + "/no/such/dir/state.yaml", st), StateFileError);
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace loxcan::sim
