#pragma once
// ChannelPolicy: the step of the daemon's frame path between the bus monitor and the sinks
// (doc/ARCHITECTURE.md). It knows, per device, the channel map of the YAML file (names, scale,
// invert, unit, publish, debounce) and whether loxcan plays the device, and applies it both ways:
//
//   events (model form)  -> on_event()   -> publish? debounce -> public form -> Output (the sinks)
//   /set (public form)   -> on_command() -> model form -> ToEmulation (device played by loxcan)
//                                                        or ToBus (a monitored device's output)
//
// Events keep their model channel name (the sinks map it to a topic); only the value (and, for
// numbers, the unit) change. DeviceSeen, DeviceStateChanged and BusEvent pass through untouched.
//
// Debounce (channels with `debounce: ms`): a changed value is held back until it has been stable
// for `ms`; each change within the window restarts it; then the last value is published once.
// Time comes from a Timers object (the daemon's event loop; a fake clock in the tests).
//
// Devices not in the map get a channel map from their model (looked up through ModelLookup, i.e.
// the inventory) the first time they are seen, so everything passes through unchanged.
//
//   ChannelPolicy policy(timers, [&](auto serial) { return inventory.model_of(serial); });
//   policy.set_output([&](const devices::Event& e) { bridge.handle(e); });
//   policy.set_command_targets(to_emulation, to_bus);
//   policy.apply(config);                 // and again on every reload
//   for (auto& e : events) policy.on_event(e);

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "devices/events.hpp"
#include "devices/model.hpp"
#include "gateway/config/config.hpp"
#include "gateway/wiring/channel_map.hpp"
#include "mqtt/bridge.hpp"

namespace loxcan::wiring {

/// One-shot timers on the caller's clock: the daemon's EventLoop, or a fake clock in tests.
class Timers {
 public:
  using Id = std::uint64_t;
  virtual ~Timers() = default;
  virtual Id add_timer(std::chrono::milliseconds after, std::function<void()> fn) = 0;
  virtual void cancel(Id id) = 0;
};

class ChannelPolicy {
 public:
  /// An event in public form, for the sinks.
  using Output = std::function<void(const devices::Event& e)>;
  /// A command in model form (model channel name and value) for device `serial`.
  using CommandTarget = std::function<void(const mqtt::BridgeCommand& cmd)>;
  /// The model of a device the bus reported (nullptr when unknown).
  using ModelLookup = std::function<const devices::Model*(std::uint32_t serial)>;

  ChannelPolicy(Timers& timers, ModelLookup models);
  ~ChannelPolicy();
  ChannelPolicy(const ChannelPolicy&) = delete;
  ChannelPolicy& operator=(const ChannelPolicy&) = delete;

  void set_output(Output out) { output_ = std::move(out); }
  void set_command_targets(CommandTarget to_emulation, CommandTarget to_bus);

  /// The device map (on start and on every reload). `config` must outlive the policy or the next
  /// apply(). Values being debounced are kept and released on time.
  void apply(const config::Config& config);

  /// One event from the bus monitor (or the emulation), in model form.
  void on_event(const devices::Event& e);
  /// A /set from a sink, in public form: routed to the emulation when loxcan plays the device,
  /// else to the bus; in both cases in model form.
  void on_command(const mqtt::BridgeCommand& cmd);

  /// The device as the MQTT bridge lists it: its channels in public form and who plays it.
  mqtt::BridgeDevice bridge_device(const devices::DeviceInfo& info, const devices::Model* model,
                                   bool available);
  bool emulated(std::uint32_t serial) const;

 private:
  struct DeviceView {
    ChannelMap channels;
    bool emulated = false;
  };
  struct Debounced {
    devices::ChannelChanged event;  ///< the latest value, published once stable
    Timers::Id timer = 0;
    bool releasing = false;
  };
  using Key = std::pair<std::uint32_t, std::string>;

  DeviceView& view_for(std::uint32_t serial);
  template <class E>
  void translate(E ev);
  bool debounce(const devices::ChannelChanged& ev, std::uint32_t ms);
  void release(const Key& key);

  Timers& timers_;
  ModelLookup models_;
  Output output_;
  CommandTarget to_emulation_, to_bus_;
  const config::Config* config_ = nullptr;
  std::map<std::uint32_t, DeviceView> views_;
  std::map<Key, Debounced> debounced_;  ///< by (serial, model channel)
};

}  // namespace loxcan::wiring
