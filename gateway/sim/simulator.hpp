#pragma once
// Simulator: the simulated Miniserver (emulation::MiniserverSim) on an EventLoop, for `loxcan sim`.
//
// Its configuration is the YAML device map: every device with a `type` is "in the Miniserver's
// configuration" (any mode; Tree devices under their `parent`, on their `branch`); all others
// that show up on the bus get parked. Keys: `auth` (override, else emulation.auth): test = the
// built-in TEST key set, on = emulation.keys_file (or the --keys override), off = no
// authentication (a Miniserver older than 10.3).
//
// Errors: the constructor throws std::runtime_error naming the key file and the problem when
// authentication is on and the key file cannot be used (the simulator cannot run without it).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "devices/emulation/miniserver.hpp"
#include "gateway/config/config.hpp"
#include "gateway/loop/event_loop.hpp"

namespace loxcan::sim {

struct SimulatorOptions {
  std::optional<std::string> keys_file;
  std::optional<config::EmulationAuth> auth;
  std::uint32_t offline_timeout_s = emulation::kDefaultOfflineTimeoutS;
  emulation::Millis time_sync_ms = 60000;
  emulation::Millis alive_ms = 600000;
  emulation::Millis ping_ms = 0;
};

class Simulator {
 public:
  using SendFn = std::function<void(const canproto::Frame&)>;
  using EventFn = std::function<void(const devices::Event&)>;

  Simulator(gateway::EventLoop& loop, const config::Config& config, SendFn send, EventFn event,
            SimulatorOptions options = {});
  ~Simulator();

  /// The Miniserver's start-up sequence (also used for a restart: a fresh Miniserver state).
  void start();
  /// Neither sends nor listens for `ms`, then carries on (devices time out meanwhile).
  void silence(emulation::Millis ms);
  void on_frame(const canproto::Frame& frame);
  emulation::MiniserverSim& miniserver() { return *sim_; }
  emulation::Millis now() const;
  /// Call after changing the Miniserver from outside (set_output): re-arms the timer.
  void reschedule();

 private:
  void tick();
  std::unique_ptr<emulation::MiniserverSim> make();

  gateway::EventLoop& loop_;
  std::vector<emulation::SimDevice> devices_;
  emulation::SimOptions options_;
  std::optional<emulation::KeySet> keys_;
  SendFn send_;
  EventFn event_;
  std::unique_ptr<emulation::MiniserverSim> sim_;
  gateway::EventLoop::TimePoint origin_;
  gateway::EventLoop::TimerId timer_ = 0;
  emulation::Millis silent_until_ = 0;
};

}  // namespace loxcan::sim
