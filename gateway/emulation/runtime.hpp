#pragma once
// Emulation: the emulated devices of the YAML map (mode: emulate) running on an EventLoop, one
// emulation::EmulatedBus per CAN interface. Implements the daemon's EmulationHost seam
// (gateway/emulation/host.hpp) and is what `loxcan emulate` runs.
//
// Built from config::Config:
//   - devices with mode: emulate (and, with EmulationOptions::only_iface, on that interface only);
//     Tree devices hang on their `parent` Tree Extension, which must be emulated on the same
//     interface; `firmware` per device or emulation.firmware;
//   - authentication per device: `auth` (inherit -> emulation.auth): on = the key file
//     (emulation.keys_file, mode 0600), test = the built-in TEST key set (only `loxcan sim`
//     accepts it), off = none (Miniservers older than 10.3);
//   - Tree device IDs from emulation.state_file (created on first use, random, then kept).
//
// Errors: a device that cannot be emulated (no type, Tree device without an emulated parent)
// is left out with one error line naming it; a key file that cannot be used is reported once
// ("emulation: the key file ... cannot be used: ...; devices that need it: a, b"), and those
// devices answer challenges with an error naming the missing file. Nothing here throws after
// construction; the constructor throws std::runtime_error only for programming errors.
//
// Example:
//   Emulation emu(loop, cfg, registry, [&](auto& iface, auto& f) { return port.send(f) == queued;
//   },
//                 [](auto& events) { for (auto& e : events) print(e); });
//   port.set_frame_handler([&](const canproto::Frame& f) { emu.on_frame("can0", f); });
//   emu.start();
//   emu.set_input("di-hall", "i1", "1");

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/emulation/device.hpp"
#include "gateway/config/config.hpp"
#include "gateway/emulation/host.hpp"
#include "gateway/loop/event_loop.hpp"

namespace loxcan::emulation {

struct EmulationOptions {
  std::string only_iface;                  ///< non-empty: only devices on this interface
  emulation::Millis legacy_alive_ms = -1;  ///< legacy alive period; -1: 360 s + (serial & 0x3F) s
  std::optional<std::string> keys_file;    ///< overrides emulation.keys_file
  std::optional<config::EmulationAuth> auth;  ///< overrides emulation.auth (devices on inherit)
  std::optional<std::string> state_file;      ///< overrides emulation.state_file
};

class Emulation : public EmulationHost {
 public:
  Emulation(gateway::EventLoop& loop, const config::Config& config,
            const devices::Registry& registry, SendFn send, EventsFn events,
            EmulationOptions options = {});
  ~Emulation() override;

  void start() override;
  void stop() override;
  using EmulationHost::on_frame;
  void on_frame(const std::string& iface, const canproto::Frame& frame,
                gateway::EventLoop::TimePoint at) override;
  bool set_input(std::uint32_t serial, std::string_view channel,
                 const devices::ChannelValue& value) override;
  /// Rebuilds the devices when the emulated set changed (they then ask for a NAT again).
  void apply(const config::Config& config) override;

  /// By friendly name or serial; the value as text (parse_value of the channel). "" when set,
  /// otherwise the reason ("unknown device 'x'", "touch1: unknown channel 'foo'", ...).
  std::string set_input_text(std::string_view device, std::string_view channel,
                             std::string_view text);

  std::vector<emulation::Emulated*> devices() const;
  emulation::Emulated* find(std::string_view name_or_serial) const;
  bool all_online() const;
  /// Milliseconds on the emulation's clock (monotonic, 0 at construction).
  emulation::Millis now() const;

 private:
  struct Bus;
  void build(const config::Config& config);
  void reschedule();
  void tick();

  gateway::EventLoop& loop_;
  SendFn send_;
  EventsFn events_;
  EmulationOptions options_;
  std::vector<std::unique_ptr<Bus>> buses_;
  std::optional<emulation::KeySet> file_keys_;
  std::string signature_;  // what was built, to detect changes on apply()
  gateway::EventLoop::TimePoint origin_;
  gateway::EventLoop::TimerId timer_ = 0;
  emulation::Millis timer_deadline_ = 0;  // what timer_ is armed for
  bool running_ = false;
};

}  // namespace loxcan::emulation
