#include "gateway/sim/scenario.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "devices/emulation/values.hpp"

namespace loxcan::sim {
namespace {

using emulation::Millis;

constexpr Millis kDefaultWithin = 5000;
constexpr Millis kDefaultOnline = 15000;
constexpr Millis kMaxMs = 24LL * 3600 * 1000;

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ScenarioError(where + ": " + what);
}

Millis parse_ms(const std::string& tok, const std::string& where, const std::string& step) {
  Millis v = 0;
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  if (ec != std::errc{} || p != tok.data() + tok.size() || v < 0 || v > kMaxMs)
    fail(where,
         step + ": expected milliseconds (0.." + std::to_string(kMaxMs) + "), got '" + tok + "'");
  return v;
}

// "... within MS" at the end of `w` (from position `at`): returns the ms or the default.
Millis within(const std::vector<std::string>& w, std::size_t at, const std::string& where,
              const std::string& step) {
  if (w.size() == at) return kDefaultWithin;
  if (w.size() != at + 2 || w[at] != "within")
    fail(where, step + ": expected 'within <ms>' after the value");
  return parse_ms(w[at + 1], where, step);
}

std::string plain(const devices::ChannelValue& v) {
  return devices::to_plain(v);
}

}  // namespace

Step parse_step(std::string_view text, const std::string& where) {
  const auto w = words(text);
  Step s;
  s.where = where;
  s.text = std::string(text);
  if (w.empty()) fail(where, "empty step");
  const std::string& verb = w[0];
  if (verb == "set") {
    if (w.size() != 4) fail(where, "set: expected 'set <device> <channel> <value>'");
    s.kind = Step::Kind::set;
    s.device = w[1], s.channel = w[2], s.value = w[3];
  } else if (verb == "expect") {
    if (w.size() < 4)
      fail(where, "expect: expected 'expect <device> <channel> <value> [within <ms>]'");
    s.kind = Step::Kind::expect;
    s.device = w[1], s.channel = w[2], s.value = w[3];
    s.ms = within(w, 4, where, "expect");
  } else if (verb == "state") {
    if (w.size() < 3)
      fail(where, "state: expected 'state <device> online|parked|offline [within <ms>]'");
    s.kind = Step::Kind::state;
    s.device = w[1], s.value = w[2];
    if (s.value != "online" && s.value != "parked" && s.value != "offline")
      fail(where, "state: expected online, parked or offline, got '" + s.value + "'");
    s.ms = within(w, 3, where, "state");
  } else if (verb == "wait" && w.size() >= 2 && w[1] == "online") {
    if (w.size() > 3) fail(where, "wait online: expected 'wait online [<ms>]'");
    s.kind = Step::Kind::wait_online;
    s.ms = w.size() == 3 ? parse_ms(w[2], where, "wait online") : kDefaultOnline;
  } else if (verb == "wait") {
    if (w.size() != 2) fail(where, "wait: expected 'wait <ms>' or 'wait online [<ms>]'");
    s.kind = Step::Kind::wait;
    s.ms = parse_ms(w[1], where, "wait");
  } else if (verb == "restart") {
    if (w.size() != 1) fail(where, "restart: takes no arguments");
    s.kind = Step::Kind::restart;
  } else if (verb == "silence") {
    if (w.size() != 2) fail(where, "silence: expected 'silence <ms>'");
    s.kind = Step::Kind::silence;
    s.ms = parse_ms(w[1], where, "silence");
  } else {
    fail(where,
         "unknown step '" + verb + "' (expected set, expect, state, wait, restart, silence)");
  }
  return s;
}

namespace {

Scenario parse_scenario_yaml(std::string_view yaml, std::string_view file) {
  Scenario sc;
  sc.file = std::string(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    fail(sc.file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
         "YAML syntax error: " + e.msg);
  }
  auto where = [&](const YAML::Node& n) {
    return sc.file + ":" + std::to_string(n.Mark().line + 1) + ":" +
           std::to_string(n.Mark().column + 1);
  };
  if (!root || root.IsNull()) return sc;
  YAML::Node steps = root;
  if (root.IsMap()) {
    for (const auto& kv : root)
      if (kv.first.as<std::string>() != "steps")
        fail(where(kv.first), "unknown key '" + kv.first.as<std::string>() + "' (expected steps)");
    steps = root["steps"];
  }
  if (!steps.IsSequence()) fail(where(steps), "expected a list of steps");
  for (const auto& item : steps) {
    if (!item.IsScalar()) fail(where(item), "a step is one line of text, e.g. 'set di1 i1 1'");
    sc.steps.push_back(
        parse_step(item.as<std::string>(), sc.file + ":" + std::to_string(item.Mark().line + 1)));
  }
  return sc;
}

}  // namespace

Scenario parse_scenario(std::string_view yaml, std::string_view file) {
  try {
    return parse_scenario_yaml(yaml, file);
  } catch (const YAML::Exception& e) {  // e.g. a key that is not text
    throw ScenarioError(std::string(file) + ":" + std::to_string(e.mark.line + 1) + ":" +
                        std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path + ": cannot read scenario");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

void check(const Scenario& s, const ScenarioTarget& target) {
  for (const auto& st : s.steps) {
    if (st.kind == Step::Kind::set || st.kind == Step::Kind::expect) {
      const auto* spec = target.spec(st.device, st.channel);
      if (!spec) fail(st.where, st.text + ": unknown device or channel");
      if (st.kind == Step::Kind::set && spec->direction != target.settable())
        fail(st.where, st.text + ": '" + st.channel + "' is an " +
                           std::string(devices::to_string(spec->direction)) +
                           "; here `set` changes " +
                           std::string(devices::to_string(target.settable())) + "s");
      if (!emulation::parse_value(*spec, st.value))
        fail(st.where, st.text + ": '" + st.value + "' is not a value of " + st.channel + " (" +
                           std::string(devices::to_string(spec->type)) + ")");
    }
    if (st.kind == Step::Kind::state && target.state(st.device).empty())
      fail(st.where, st.text + ": unknown device");
  }
}

bool values_match(const devices::ChannelValue& expected, const devices::ChannelValue& actual) {
  const auto* e = std::get_if<double>(&expected);
  const auto* a = std::get_if<double>(&actual);
  if (e && a) return std::fabs(*e - *a) <= std::max(1e-9, 1e-6 * std::fabs(*e));
  return expected == actual;
}

ScenarioRunner::ScenarioRunner(Scenario scenario, ScenarioTarget& target, Report report)
    : scenario_(std::move(scenario)), target_(target), report_(std::move(report)) {}

Millis ScenarioRunner::next_deadline() const {
  if (done() || step_started_ < 0) return done() ? emulation::kNever : 0;
  const auto& st = scenario_.steps[index_];
  return step_started_ + st.ms;
}

void ScenarioRunner::poll(Millis now) {
  while (!done()) {
    if (step_started_ < 0) step_started_ = now;
    if (!run_current(now)) return;
    ++index_;
    step_started_ = -1;
  }
}

void ScenarioRunner::abort(const std::string& why) {
  for (; index_ < scenario_.steps.size(); ++index_) {
    const auto& st = scenario_.steps[index_];
    if (st.kind == Step::Kind::expect || st.kind == Step::Kind::state ||
        st.kind == Step::Kind::wait_online || st.kind == Step::Kind::set) {
      ++failures_;
      report_("FAIL: " + st.where + ": " + st.text + ": " + why);
    }
  }
}

bool ScenarioRunner::run_current(Millis now) {
  const auto& st = scenario_.steps[index_];
  const Millis elapsed = now - step_started_;
  auto failed = [&](const std::string& why) {
    ++failures_;
    report_("FAIL: " + st.where + ": " + st.text + ": " + why);
    return true;
  };
  switch (st.kind) {
    case Step::Kind::wait: return elapsed >= st.ms;
    case Step::Kind::restart:
      if (!target_.restart()) return failed("restart is a `loxcan sim` step");
      report_("ok: restart");
      return true;
    case Step::Kind::silence:
      if (!target_.silence(st.ms)) return failed("silence is a `loxcan sim` step");
      report_("ok: silence " + std::to_string(st.ms));
      return true;
    case Step::Kind::set: {
      const auto* spec = target_.spec(st.device, st.channel);
      auto v = spec ? emulation::parse_value(*spec, st.value) : std::nullopt;
      if (!v) return failed("unknown channel or bad value");
      const std::string err = target_.set(st.device, st.channel, *v);
      if (!err.empty()) return failed(err);
      report_("ok: " + st.text);
      return true;
    }
    case Step::Kind::wait_online:
      if (target_.all_online()) {
        report_("ok: wait online (after " + std::to_string(elapsed) + " ms)");
        return true;
      }
      return elapsed >= st.ms ? failed("not every device is online") : false;
    case Step::Kind::state:
      if (target_.state(st.device) == st.value) {
        report_("ok: " + st.text + " (after " + std::to_string(elapsed) + " ms)");
        return true;
      }
      return elapsed >= st.ms ? failed("state is " + target_.state(st.device)) : false;
    case Step::Kind::expect: {
      const auto* spec = target_.spec(st.device, st.channel);
      auto want = spec ? emulation::parse_value(*spec, st.value) : std::nullopt;
      auto got = target_.value(st.device, st.channel);
      if (want && got && values_match(*want, *got)) {
        report_("ok: " + st.text + " (after " + std::to_string(elapsed) + " ms)");
        return true;
      }
      if (elapsed < st.ms) return false;
      return failed(got ? "last value " + plain(*got) : "no value");
    }
  }
  return true;
}

}  // namespace loxcan::sim
