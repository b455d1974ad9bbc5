#pragma once
// Scenarios for `loxcan sim` and `loxcan emulate`: a YAML list of steps, run in order.
//
//   # scenario.yaml
//   - wait online 10000            # every device of this side online within 10 s (else a failure)
//   - set ao1 aq1 5.5              # sim: an output of a device; emulate: an input of an emulated
//   device
//   - expect di1 i3 1 within 5000  # sim: an input reported by a device; emulate: an output
//   received
//   - state touch1 online within 3000
//   - wait 500                     # milliseconds
//   - restart                      # sim only: the Miniserver starts again (NAT assignment anew)
//   - silence 8000                 # sim only: the Miniserver neither sends nor listens for 8 s
//
// Devices by friendly name or serial; channels by the model's channel names; values as the
// channel takes them (bool 0/1/on/off/true/false, numbers, masks decimal or 0x, RGBW "r,g,b,w").
// `within` defaults to 5000 ms, `wait online` to 15000 ms. Numbers compare with a tolerance of
// 1e-6 (relative, at least 1e-9).
//
// Errors: parse_scenario()/load_scenario() throw ScenarioError "file:line:column: problem" for
// YAML errors, unknown steps, missing or malformed arguments; check() reports steps naming
// devices/channels the target lacks, or values the channel does not take, the same way.
// The runner reports each step on its Report callback:
//   "ok: expect di1 i3 1 (after 120 ms)"
//   "FAIL: scenario.yaml:3: expect di1 i3 1 within 5000: last value 0"

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "devices/channel.hpp"
#include "devices/emulation/device.hpp"

namespace loxcan::sim {

class ScenarioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Step {
  enum class Kind : std::uint8_t { set, expect, wait, wait_online, state, restart, silence };
  Kind kind = Kind::wait;
  std::string device, channel, value;  ///< value: the text (state: online/parked/offline)
  emulation::Millis ms = 0;            ///< wait / within / silence
  std::string where;                   ///< "file:line"
  std::string text;                    ///< the step as written
};

struct Scenario {
  std::string file;
  std::vector<Step> steps;
};

/// One step from its text ("set di1 i1 1"); `where` names it in errors.
Step parse_step(std::string_view text, const std::string& where);
Scenario parse_scenario(std::string_view yaml, std::string_view file);
Scenario load_scenario(const std::string& path);

/// What a scenario acts on: the simulated Miniserver or the emulated devices.
class ScenarioTarget {
 public:
  virtual ~ScenarioTarget() = default;
  /// The channel's spec, or nullptr when the device or channel is unknown.
  virtual const devices::ChannelSpec* spec(std::string_view device,
                                           std::string_view channel) const = 0;
  /// Which direction `set` acts on (sim: outputs, emulate: inputs); used by check().
  virtual devices::ChannelDirection settable() const = 0;
  /// "" when done, otherwise why not.
  virtual std::string set(std::string_view device, std::string_view channel,
                          const devices::ChannelValue& v) = 0;
  virtual std::optional<devices::ChannelValue> value(std::string_view device,
                                                     std::string_view channel) const = 0;
  virtual bool all_online() const = 0;
  /// "online", "parked", "offline"; "" for an unknown device.
  virtual std::string state(std::string_view device) const = 0;
  virtual bool restart() { return false; }                   ///< false: not supported here
  virtual bool silence(emulation::Millis) { return false; }  ///< false: not supported here
};

/// Checks every step against the target before running (throws ScenarioError).
void check(const Scenario& s, const ScenarioTarget& target);

/// True when `actual` equals `expected` (numbers within the tolerance).
bool values_match(const devices::ChannelValue& expected, const devices::ChannelValue& actual);

class ScenarioRunner {
 public:
  using Report = std::function<void(const std::string&)>;
  ScenarioRunner(Scenario scenario, ScenarioTarget& target, Report report);

  /// Runs steps until one has to wait; call again at next_deadline() or when something changed.
  void poll(emulation::Millis now);
  emulation::Millis next_deadline() const;
  bool done() const { return index_ >= scenario_.steps.size(); }
  int failures() const { return failures_; }
  /// Fails the step in progress and every step not run (e.g. --duration ran out).
  void abort(const std::string& why);

 private:
  bool run_current(emulation::Millis now);  // true: finished (ok or failed)

  Scenario scenario_;
  ScenarioTarget& target_;
  Report report_;
  std::size_t index_ = 0;
  emulation::Millis step_started_ = -1;
  int failures_ = 0;
};

}  // namespace loxcan::sim
