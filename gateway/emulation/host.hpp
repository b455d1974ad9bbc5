#pragma once
// EmulationHost: the daemon's seam to the emulated devices of the map (mode: emulate). It hosts
// the devices/emulation state machines on the daemon's loop and CAN ports, feeds them the frames
// of their interface, drives their timers, turns MQTT commands into input values, and hands their
// events (outputs commanded by the Miniserver, state changes) back to the daemon.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "canproto/frame.hpp"
#include "devices/events.hpp"
#include "devices/registry.hpp"
#include "gateway/config/config.hpp"
#include "gateway/loop/event_loop.hpp"

namespace loxcan::emulation {

class EmulationHost {
 public:
  /// Sends a frame on the named interface; false when it could not be queued.
  using SendFn = std::function<bool(const std::string& iface, const canproto::Frame& frame)>;
  using EventsFn = std::function<void(std::vector<devices::Event>& events)>;

  virtual ~EmulationHost() = default;
  /// Powers the devices up (NAT index requests / legacy starts begin).
  virtual void start() = 0;
  /// Stops every device timer; nothing is sent afterwards.
  virtual void stop() = 0;
  /// A frame received on `iface` (every frame of the interface, in bus order), read at `at`
  /// (CLOCK_MONOTONIC; the port reads the clock once per receive batch: CanPort::rx_time()).
  virtual void on_frame(const std::string& iface, const canproto::Frame& frame,
                        gateway::EventLoop::TimePoint at) = 0;
  /// The same, read now.
  void on_frame(const std::string& iface, const canproto::Frame& frame) {
    on_frame(iface, frame, gateway::EventLoop::now());
  }
  /// Sets an input channel of emulated device `serial` (model channel name). False (and logged)
  /// when the device or channel is unknown or the value does not fit.
  virtual bool set_input(std::uint32_t serial, std::string_view channel,
                         const devices::ChannelValue& value) = 0;
  /// A reloaded map: devices added are powered up, removed ones stop, kept ones keep their state.
  virtual void apply(const config::Config& config) = 0;
};

/// nullptr when the map emulates nothing. Throws std::runtime_error at start-up when emulation
/// cannot work at all (e.g. the key file is required but unreadable), naming what is missing.
std::unique_ptr<EmulationHost> make_emulation_host(gateway::EventLoop& loop,
                                                   const config::Config& config,
                                                   const devices::Registry& registry,
                                                   EmulationHost::SendFn send,
                                                   EmulationHost::EventsFn events);

}  // namespace loxcan::emulation
