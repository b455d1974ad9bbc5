#pragma once
// Gateway: the composition root of loxcan-gateway. It owns, and wires together on one event loop,
// the frame path of doc/ARCHITECTURE.md:
//
//   CanPort per interface -> BusMonitor (decode + inventory) -> ChannelPolicy -> sinks
//        ^                                                          |  (names, scale,   (MQTT
//        bridge, |  frames: commands of monitored outputs, emulated devices |   invert, debounce,
//        log, ...)
//        +-------------------- emulation runtime <---- /set --------+   publish)
//
// plus the side modules (Miniserver discovery), systemd notification, logging and signals.
// Everything runs on the loop thread (the MQTT client too); only the discovery worker post()s to
// it.
//
// Life cycle: construct with a loaded Config (the caller reports config errors and exits 78),
// then run() until SIGTERM/SIGINT. SIGHUP reloads the file: a valid map is applied (interfaces,
// names, channels, devices, discovery topics) without dropping the bus or the broker; an invalid
// one is rejected, every error logged, and the old map kept.

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "devices/event_sink.hpp"
#include "devices/monitor.hpp"
#include "devices/registry.hpp"
#include "gateway/canio/can_port.hpp"
#include "gateway/config/config.hpp"
#include "gateway/daemon/notify.hpp"
#include "gateway/loop/event_loop.hpp"
#include "gateway/loop/loop_reactor.hpp"
#include "gateway/wiring/channel_policy.hpp"
#include "mqtt/bridge.hpp"

namespace loxcan::lan {
class DiscoveryService;
}
namespace loxcan::emulation {
class EmulationHost;
}
namespace loxcan::mqtt {
class MosquittoClient;
class GeneralJsonWatcher;
}  // namespace loxcan::mqtt

namespace loxcan::web {
class WebView;
}

namespace loxcan::daemon {

class GatewayWebHost;

struct GatewayOptions {
  int verbosity = 0;  ///< -v count: 1 debug, 2 trace (overrides the config's logging levels)
};

class Gateway {
 public:
  Gateway(config::Config config, const devices::Registry& registry, GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  /// Opens the interfaces, starts MQTT and discovery, reports READY, and runs until stopped.
  /// Returns the process exit code (0 on a clean stop).
  int run();

  gateway::EventLoop& loop() { return loop_; }

 private:
  struct Port {
    std::unique_ptr<canio::CanPort> port;
    devices::BusMonitor::Port monitor;  ///< its decoder; only the Link port feeds the inventory
    config::InterfaceConfig config;
  };
  /// The policy's debounce timers on the loop.
  class LoopTimers : public wiring::Timers {
   public:
    explicit LoopTimers(gateway::EventLoop& loop) : loop_(loop) {}
    Id add_timer(std::chrono::milliseconds after, std::function<void()> fn) override {
      return loop_.add_timer(after, std::move(fn));
    }
    void cancel(Id id) override { loop_.cancel(id); }

   private:
    gateway::EventLoop& loop_;
  };
  /// The MQTT bridge as a sink (it is recreated when the broker settings change).
  class BridgeSink : public devices::EventSink {
   public:
    explicit BridgeSink(const std::unique_ptr<mqtt::MqttBridge>& bridge) : bridge_(bridge) {}
    void on_event(const devices::Event& e) override;
    bool wants_frames(devices::FrameDirection dir) const override;
    void on_frame(devices::FrameDirection dir, std::int64_t ts_ns,
                  const canproto::Frame& frame) override;

   private:
    const std::unique_ptr<mqtt::MqttBridge>& bridge_;
  };
  /// The `dev` and `proto` log lines of each event.
  class LogSink : public devices::EventSink {
   public:
    LogSink();
    void on_event(const devices::Event& e) override;

   private:
    std::shared_ptr<spdlog::logger> dev_log_, proto_log_;
  };

  // start-up and shutdown
  void start_mqtt();
  void restart_mqtt(const char* why);
  void apply_loxberry_broker(mqtt::MqttOptions& opts);
  void check_loxberry();
  void start_discovery();
  void create_emulation();
  void install_signals_and_timers();
  void shutdown();

  // the web view (web_host.cpp): started before MQTT, told about rejected commands; a sink
  void start_web();
  /// SIGHUP: applies a changed web section (config_ is the new one already): starts, stops or
  /// restarts the server (history kept); on a failure the running server stays.
  void apply_web();
  void web_observe_rejections();

  // the frame path: port -> monitor -> policy -> sinks
  void on_frame(Port& port, const canproto::Frame& frame);
  void observe(Port& port, const canproto::Frame& frame);
  void on_events(std::vector<devices::Event>& events);
  void to_sinks(const devices::Event& e);
  /// Remembers the last value of every channel as the policy published it, so that a new bridge
  /// (restart_mqtt) starts with every state, not only later changes.
  void remember_value(const devices::Event& e);
  /// Hands the remembered values of every bridged device to a new bridge.
  void replay_values();
  void frame_to_sinks(devices::FrameDirection dir, std::int64_t ts_ns,
                      const canproto::Frame& frame);
  // commands: policy -> emulation or bus
  void command_emulated(const mqtt::BridgeCommand& cmd);
  void command_monitored(const mqtt::BridgeCommand& cmd);
  bool send(Port& port, const canproto::Frame& frame);
  Port* link_port();
  bool send_message(const canproto::Message& message);
  void identify(const devices::DeviceInfo& device);

  // device map
  void apply_device_map();
  void refresh_bridge_devices();
  /// Keeps mqtt_subscriptions.cfg / mqtt_conversions.cfg in the LoxBerry plugin config folder
  /// current (mqtt.loxberry_config_dir or $LOXCAN_LOXBERRY_CONFIG_DIR); rewrites only on change.
  void write_loxberry_files(const std::vector<mqtt::BridgeDevice>& devices);

  // periodic work
  void tick();
  void update_status();
  std::string notifier_status();
  std::vector<mqtt::Metric> metrics();

  // reload
  void reload();
  void apply_config(config::Config next);
  void apply_interfaces(const std::vector<config::InterfaceConfig>& next);

  config::Config config_;
  const devices::Registry& registry_;
  GatewayOptions options_;
  gateway::EventLoop loop_;
  gateway::LoopReactor reactor_{loop_};  ///< the MQTT client's socket and timers on loop_
  Notifier notifier_;
  std::shared_ptr<spdlog::logger> proto_log_;
  std::vector<std::unique_ptr<Port>> ports_;
  devices::BusMonitor monitor_;
  LoopTimers timers_{loop_};
  wiring::ChannelPolicy policy_;
  std::unique_ptr<mqtt::MosquittoClient> mqtt_client_;
  std::unique_ptr<mqtt::MqttBridge> bridge_;
  std::unique_ptr<LogSink> log_sink_;
  BridgeSink bridge_sink_{bridge_};
  std::vector<devices::EventSink*> sinks_;              ///< in order: the log, the bridge
  std::map<std::string, std::string> loxberry_files_;   ///< path -> text last written
  std::unique_ptr<mqtt::GeneralJsonWatcher> loxberry_;  ///< set when the broker comes from LoxBerry
  std::unique_ptr<lan::DiscoveryService> discovery_;
  std::unique_ptr<emulation::EmulationHost> emulation_;
  friend class GatewayWebHost;
  std::unique_ptr<GatewayWebHost> web_host_;
  std::unique_ptr<web::WebView> web_;   ///< nullptr: web.enabled false or not started
  std::string miniservers_json_;        ///< the last discovery result (for the web view)
  std::vector<devices::Event> events_;  ///< scratch, reused per frame
  std::uint64_t frames_at_last_status_ = 0;
  gateway::EventLoop::TimePoint last_status_time_{};
  double frames_per_second_ = 0;
  bool devices_dirty_ = false;
  std::set<std::uint32_t> bridged_;  ///< serials in the bridge's device list
  std::map<std::pair<std::uint32_t, std::string>, devices::Event>
      last_values_;  ///< by (serial, channel), as published
};

}  // namespace loxcan::daemon
