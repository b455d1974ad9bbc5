#pragma once
// Gateway: the composition root of loxcan-gateway. It owns, and wires together on one event loop:
//
//   CanPort per configured interface --> Decoder per port --> Inventory (Link bus)
//        ^                                                         |  devices::Event
//        |  frames (commands of monitored outputs, emulation)      v
//   Emulation runtime (emulated devices) <-- commands -- wiring::ChannelMap -- MqttBridge <-->
//   broker
//
// plus the side modules (discovery), systemd notification, logging and signal handling.
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
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "canproto/decoder.hpp"
#include "devices/inventory.hpp"
#include "devices/registry.hpp"
#include "gateway/canio/can_port.hpp"
#include "gateway/config/config.hpp"
#include "gateway/daemon/notify.hpp"
#include "gateway/loop/event_loop.hpp"
#include "gateway/loop/loop_reactor.hpp"
#include "gateway/wiring/channel_map.hpp"
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
    canproto::Decoder decoder;
    config::InterfaceConfig config;
  };
  struct DeviceView {  ///< per known serial: its overrides and whether loxcan plays it
    wiring::ChannelMap channels;
    bool emulated = false;
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

  // the web view (web_host.cpp): started before MQTT, told about rejected commands
  void start_web();
  void web_observe_rejections();
  void deliver(const devices::Event& e);  ///< to every sink: MQTT bridge, web view

  // traffic
  void on_frame(Port& port, const canproto::Frame& frame);
  void observe(Port& port, const canproto::Frame& frame);
  void on_events(std::vector<devices::Event>& events);
  void publish_event(const devices::Event& e);
  bool debounce(const devices::ChannelChanged& ev, std::uint32_t ms);
  void on_command(const mqtt::BridgeCommand& cmd);
  void command_monitored(const mqtt::BridgeCommand& cmd, const wiring::MappedChannel* ch);
  bool send_on_link(const canproto::Frame& frame);

  // device map
  void rebuild_views();
  void refresh_bridge_devices();
  DeviceView& view_for(std::uint32_t serial);

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
  std::shared_ptr<spdlog::logger> dev_log_, proto_log_;
  std::vector<std::unique_ptr<Port>> ports_;
  devices::Inventory inventory_;
  std::map<std::uint32_t, DeviceView> views_;
  std::unique_ptr<mqtt::MosquittoClient> mqtt_client_;
  std::unique_ptr<mqtt::MqttBridge> bridge_;
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
  struct Debounced {
    devices::ChannelChanged event;  ///< the latest value, published once stable
    gateway::EventLoop::TimerId timer = 0;
    bool releasing = false;
  };
  std::map<std::pair<std::uint32_t, std::string>, Debounced> debounced_;  ///< by (serial, channel)
};

}  // namespace loxcan::daemon
