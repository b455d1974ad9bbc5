#include "gateway/daemon/gateway.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>

#include "canproto/candump.hpp"
#include "devices/serial.hpp"
#include "gateway/daemon/web_host.hpp"
#include "gateway/emulation/host.hpp"
#include "gateway/lan/discover.hpp"
#include "gateway/lan/miniserver_info.hpp"
#include "gateway/version.hpp"
#include "gateway/web/web_view.hpp"
#include "gateway/wiring/logging.hpp"
#include "gateway/wiring/options_map.hpp"
#include "mqtt/bus_metrics.hpp"
#include "mqtt/loxberry.hpp"
#include "mqtt/mosquitto_client.hpp"

namespace loxcan::daemon {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<spdlog::logger> log() {
  return spdlog::get("gw");
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

canio::Role role_of(config::InterfaceRole r) {
  switch (r) {
    case config::InterfaceRole::link: return canio::Role::link;
    case config::InterfaceRole::tree_left: return canio::Role::tree_left;
    case config::InterfaceRole::tree_right: return canio::Role::tree_right;
  }
  return canio::Role::link;
}

canproto::Bus bus_of(config::InterfaceRole r) {
  return r == config::InterfaceRole::link ? canproto::Bus::link : canproto::Bus::tree;
}

canio::PortConfig port_config(const config::InterfaceConfig& c) {
  auto pc = canio::PortConfig::for_role(c.name, role_of(c.role));
  pc.configure_link = c.configure;
  pc.bitrate = c.bitrate;
  pc.restart_ms = c.restart_ms;
  if (c.rcvbuf != 0) pc.socket.rcvbuf = static_cast<int>(c.rcvbuf);
  // Our own frames (emulated devices, commands) come back in true bus order, so the decoder and
  // the inventory see the bus exactly as a passive monitor would.
  pc.socket.recv_own = true;
  pc.tx_queue_limit = c.tx_queue;
  return pc;
}

bool same_port(const config::InterfaceConfig& a, const config::InterfaceConfig& b) {
  return a.name == b.name && a.role == b.role && a.configure == b.configure &&
         a.bitrate == b.bitrate && a.restart_ms == b.restart_ms && a.rcvbuf == b.rcvbuf &&
         a.tx_queue == b.tx_queue;
}

bool is_raw_unknown(const canproto::Message& m) {
  return std::holds_alternative<canproto::UnknownMessage>(m) ||
         std::holds_alternative<canproto::MalformedMessage>(m);
}

}  // namespace

Gateway::Gateway(config::Config config, const devices::Registry& registry, GatewayOptions options)
    : config_(std::move(config)),
      registry_(registry),
      options_(options),
      monitor_(registry),
      policy_(timers_, [this](std::uint32_t serial) -> const devices::Model* {
        const devices::DeviceRecord* r = monitor_.inventory().find(serial);
        return r ? r->model : nullptr;
      }) {
  wiring::setup_logging(wiring::log_levels(config_.logging, options_.verbosity));
  // Looked up once: spdlog::get() takes the registry's mutex, too slow for every frame. Reloads
  // reconfigure these same logger objects.
  proto_log_ = spdlog::get("proto");
  log_sink_ = std::make_unique<LogSink>();
  sinks_ = {log_sink_.get(), &bridge_sink_};
  policy_.set_output([this](const devices::Event& e) { to_sinks(e); });
  policy_.set_command_targets([this](const mqtt::BridgeCommand& c) { command_emulated(c); },
                              [this](const mqtt::BridgeCommand& c) { command_monitored(c); });
  apply_device_map();
  create_emulation();
}

void Gateway::create_emulation() {
  auto send_on = [this](const std::string& iface, const canproto::Frame& frame) {
    for (auto& p : ports_) {
      if (p->config.name == iface) return send(*p, frame);
    }
    return false;
  };
  // The inventory follows emulated devices through their echoed frames like any other device,
  // so from the emulation only what the bus cannot show is taken: its bus events (auth failures).
  auto events = [this](std::vector<devices::Event>& events) {
    std::erase_if(events,
                  [](const auto& e) { return !std::holds_alternative<devices::BusEvent>(e); });
    on_events(events);
  };
  emulation_ = emulation::make_emulation_host(loop_, config_, registry_, send_on, events);
}

Gateway::~Gateway() = default;

// ---- start-up -----------------------------------------------------------------------------------

int Gateway::run() {
  log()->info("loxcan-gateway {} starting with {} ({} interfaces, {} devices)", version(),
              config_.file, config_.interfaces.size(), config_.devices.size());
  install_signals_and_timers();
  apply_interfaces(config_.interfaces);
  start_web();
  start_mqtt();
  if (emulation_) emulation_->start();
  start_discovery();
  last_status_time_ = loop_.now();
  update_status();
  notifier_.ready(notifier_status());
  loop_.run();
  shutdown();
  return 0;
}

void Gateway::apply_interfaces(const std::vector<config::InterfaceConfig>& next) {
  // Keep ports whose settings did not change: a reload must not drop the bus.
  std::vector<std::unique_ptr<Port>> kept;
  for (const auto& c : next) {
    auto it = std::find_if(ports_.begin(), ports_.end(),
                           [&](const auto& p) { return p && same_port(p->config, c); });
    if (it != ports_.end()) {
      kept.push_back(std::move(*it));
      continue;
    }
    // The Link bus carries every Tree frame too (re-emitted by the Tree Extension), so only the
    // Link port feeds the inventory; branch ports are decoded for raw visibility.
    const bool feeds_inventory = c.role == config::InterfaceRole::link;
    auto port =
        std::make_unique<Port>(Port{std::make_unique<canio::CanPort>(loop_, port_config(c)),
                                    devices::BusMonitor::Port(bus_of(c.role), feeds_inventory), c});
    Port* raw = port.get();
    raw->port->set_frame_handler([this, raw](const canproto::Frame& f) { on_frame(*raw, f); });
    raw->port->set_own_frame_handler([this, raw](const canproto::Frame& f) { observe(*raw, f); });
    (void)raw->port->start();  // a failure is logged by the port, which keeps retrying
    kept.push_back(std::move(port));
  }
  for (auto& p : ports_) {
    if (p) {
      log()->info("{}: closed (no longer configured)", p->config.name);
      p->port->stop();
    }
  }
  ports_ = std::move(kept);
}

void Gateway::start_mqtt() {
  if (!config_.mqtt.enabled) {
    log()->info("MQTT disabled (mqtt.enabled: false)");
    return;
  }
  auto opts = wiring::mqtt_options(config_.mqtt);
  apply_loxberry_broker(opts);
  mqtt_client_ =
      std::make_unique<mqtt::MosquittoClient>(opts, mqtt::MqttBridge::will(opts), reactor_);
  bridge_ = std::make_unique<mqtt::MqttBridge>(
      opts, *mqtt_client_, [this](const mqtt::BridgeCommand& c) { policy_.on_command(c); },
      wall_ns);
  mqtt::BridgeInfo info;
  info.version = version();
  info.interface = ports_.empty() ? "" : ports_.front()->config.name;
  bridge_->set_info(info);
  bridge_->set_metrics_provider([this] { return metrics(); });
  bridge_->set_identify_handler([this](const devices::DeviceInfo& d) { identify(d); });
  web_observe_rejections();
  refresh_bridge_devices();
  replay_values();
  bridge_->start();
}

void Gateway::remember_value(const devices::Event& e) {
  if (const auto* cc = std::get_if<devices::ChannelChanged>(&e)) {
    last_values_.insert_or_assign({cc->device.serial, cc->channel}, e);
  } else if (const auto* cmd = std::get_if<devices::Command>(&e)) {
    last_values_.insert_or_assign({cmd->device.serial, cmd->channel}, e);
  }
}

// Buttons are left out: a press is an event, not a state.
void Gateway::replay_values() {
  for (const auto& [key, e] : last_values_) {
    if (!bridged_.count(key.first)) continue;  // left the device map
    const devices::DeviceRecord* r = monitor_.inventory().find(key.first);
    const devices::ModelChannel* ch = r && r->model ? r->model->find(key.second) : nullptr;
    if (ch != nullptr && ch->spec.semantic == devices::Semantic::button) continue;
    bridge_->handle(e);
  }
}

void Gateway::restart_mqtt(const char* why) {
  log()->info("MQTT: reconnecting ({})", why);
  if (bridge_) bridge_->stop();
  bridge_.reset();
  mqtt_client_.reset();
  start_mqtt();
}

// On a LoxBerry the broker settings live in $LBSCONFIG/general.json (mqtt.loxberry: auto|on|off).
void Gateway::apply_loxberry_broker(mqtt::MqttOptions& opts) {
  const auto mode = config_.mqtt.loxberry;
  const std::string path = mqtt::loxberry_general_json_path();
  if (mode == config::Tristate::off || (mode == config::Tristate::automatic && path.empty())) {
    loxberry_.reset();
    return;
  }
  if (path.empty()) {
    log()->error("mqtt.loxberry is on but LBSCONFIG is not set: using mqtt.broker {}", opts.broker);
    return;
  }
  if (!loxberry_) loxberry_ = std::make_unique<mqtt::GeneralJsonWatcher>(path);
  auto result = loxberry_->check();
  if (!result.error.empty()) log()->warn("LoxBerry: {}", result.error);
  if (!result.broker) return;
  mqtt::apply_loxberry(*result.broker, opts);
  log()->info("LoxBerry: broker {}:{} from {}", result.broker->host, result.broker->port, path);
}

void Gateway::check_loxberry() {
  if (!loxberry_ || !bridge_) return;
  auto result = loxberry_->check();
  if (!result.error.empty()) log()->warn("LoxBerry: {}", result.error);
  if (result.changed) restart_mqtt("LoxBerry's general.json changed");
}

void Gateway::start_discovery() {
  const auto& d = config_.discovery;
  if (!d.enabled || (!d.at_start && d.interval_min == 0)) return;
  lan::DiscoveryOptions opts;
  opts.timeout = std::chrono::seconds(d.timeout_s);
  discovery_ = std::make_unique<lan::DiscoveryService>(
      opts, std::chrono::minutes(d.interval_min), [this](lan::DiscoveryResult result) {
        loop_.post([this, result = std::move(result)] {
          if (!result) {
            spdlog::get("disc")->warn("discovery: {}", result.error());
            return;
          }
          spdlog::get("disc")->info("discovery: {} Miniserver(s) found", result->size());
          miniservers_json_ = lan::miniservers_json(*result);
          if (bridge_) bridge_->publish_bridge_topic("miniservers", miniservers_json_);
        });
      });
  discovery_->start();
}

void Gateway::install_signals_and_timers() {
  loop_.on_signal(SIGTERM, [this] { loop_.stop(); });
  loop_.on_signal(SIGINT, [this] { loop_.stop(); });
  loop_.on_signal(SIGHUP, [this] { reload(); });
  loop_.add_periodic(1s, [this] { tick(); });
  loop_.add_periodic(5s, [this] { update_status(); });
  loop_.add_periodic(10s, [this] { check_loxberry(); });
  if (auto every = notifier_.watchdog_interval()) {
    loop_.add_periodic(*every, [this] { notifier_.watchdog(); });
  }
}

void Gateway::shutdown() {
  notifier_.stopping("stopping");
  log()->info("stopping: publishing offline states");
  if (discovery_) discovery_->stop();
  if (emulation_) emulation_->stop();
  if (bridge_) bridge_->stop();  // publishes bridge/state offline and disconnects (bounded wait)
  if (web_) web_->stop();
  // Every counter of each interface once more, nothing sends any more: rx + rxoverflow against
  // what was on the bus, and own_echo against tx (the kernel's overflow counter counts our own
  // echoes it dropped too, and cannot tell them apart).
  for (auto& p : ports_) log()->info("final statistics: {}", p->port->stats_line());
  for (auto& p : ports_) p->port->stop();
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
}

// ---- the frame path: port -> monitor -> policy -> sinks --------------------------------------

void Gateway::on_frame(Port& port, const canproto::Frame& frame) {
  if (emulation_) emulation_->on_frame(port.config.name, frame, port.port->rx_time());
  frame_to_sinks(devices::FrameDirection::rx, frame.ts_ns, frame);
  observe(port, frame);
}

// Frames received and our own frames echoed back by the kernel, in bus order.
void Gateway::observe(Port& port, const canproto::Frame& frame) {
  const std::int64_t ts = frame.ts_ns != 0 ? frame.ts_ns : wall_ns();
  if (proto_log_->should_log(spdlog::level::debug)) {
    proto_log_->debug("{} {}", port.config.name, canproto::format_compact(frame));
  }
  events_.clear();
  const canproto::Decoded& d = monitor_.feed(port.monitor, frame, ts, events_);
  if (is_raw_unknown(d.message)) frame_to_sinks(devices::FrameDirection::unknown, ts, frame);
  on_events(events_);
}

void Gateway::on_events(std::vector<devices::Event>& events) {
  for (auto& e : events) {
    // The bridge's device list changes only when a device it does not know yet appears.
    if (const auto* seen = std::get_if<devices::DeviceSeen>(&e)) {
      devices_dirty_ |= bridged_.count(seen->device.serial) == 0;
    }
    policy_.on_event(e);
  }
  if (devices_dirty_) {
    devices_dirty_ = false;
    refresh_bridge_devices();
  }
}

void Gateway::to_sinks(const devices::Event& e) {
  remember_value(e);
  for (devices::EventSink* sink : sinks_) sink->on_event(e);
}

void Gateway::frame_to_sinks(devices::FrameDirection dir, std::int64_t ts_ns,
                             const canproto::Frame& frame) {
  for (devices::EventSink* sink : sinks_) {
    if (sink->wants_frames(dir)) sink->on_frame(dir, ts_ns, frame);
  }
}

void Gateway::command_emulated(const mqtt::BridgeCommand& cmd) {
  if (!emulation_) return command_monitored(cmd);
  emulation_->set_input(cmd.device.serial, cmd.channel, cmd.value);
}

void Gateway::command_monitored(const mqtt::BridgeCommand& cmd) {
  auto frames = monitor_.inventory().command(cmd.device.serial, cmd.channel, cmd.value);
  if (!frames) {
    log()->warn("{}/{}: cannot send the command: {}", cmd.device.name, cmd.channel,
                devices::to_string(frames.error()));
    return;
  }
  Port* link = link_port();
  if (link == nullptr) {
    log()->warn("no Link interface configured: cannot send {}/{}", cmd.device.name, cmd.channel);
    return;
  }
  for (const auto& message : frames->messages) {
    auto encoded = canproto::encode(message);
    if (!encoded) continue;
    for (const auto& f : *encoded) {
      if (!send(*link, f)) {
        log()->warn("{}/{}: TX queue full, command dropped", cmd.device.name, cmd.channel);
        return;
      }
    }
  }
}

bool Gateway::send_message(const canproto::Message& message) {
  Port* link = link_port();
  auto encoded = canproto::encode(message);
  if (link == nullptr || !encoded) return false;
  for (const auto& f : *encoded) {
    if (!send(*link, f)) return false;
  }
  return true;
}

// What the Miniserver sends for "identify" (LOXONE_CAN.md 4.1 NAT 0x10, 6 legacy 0x08): the
// device's LED blinks fast. Neither has a working timeout, so loxcan stops it after 10 s itself.
void Gateway::identify(const devices::DeviceInfo& device) {
  constexpr auto kBlink = std::chrono::seconds(10);
  if (device.generation == devices::Generation::legacy) {
    const canproto::LegacyId direct{canproto::LegacyKind::direct, canproto::Direction::to_device,
                                    static_cast<std::uint8_t>(device.serial >> 24 & 0x0F),
                                    device.serial & 0xFFFFFF, 0};
    send_message(canproto::LegacyMessage{direct, canproto::LegacyIdentifyLed{}, 0});
    canproto::LegacyId off = direct;  // a multicast 0x08 switches identify off
    off.kind = canproto::LegacyKind::type_multicast;
    off.serial24 = 0;
    loop_.add_timer(kBlink, [this, off] {
      send_message(canproto::LegacyMessage{off, canproto::LegacyIdentifyLed{}, 0});
    });
    return;
  }
  const canproto::NatAddress broadcast{canproto::Bus::link, canproto::Direction::to_device, 0xFF,
                                       0xFF};
  send_message(canproto::NatMessage{broadcast, canproto::Identify{10, device.serial}, 0});
  loop_.add_timer(kBlink, [this, broadcast] {
    send_message(canproto::NatMessage{broadcast, canproto::Identify{10, 0}, 0});  // serial 0 = stop
  });
}

bool Gateway::send(Port& port, const canproto::Frame& frame) {
  if (port.port->send(frame) != canio::SendStatus::queued) return false;
  frame_to_sinks(devices::FrameDirection::tx, wall_ns(), frame);
  return true;
}

Gateway::Port* Gateway::link_port() {
  for (auto& p : ports_) {
    if (p->config.role == config::InterfaceRole::link) return p.get();
  }
  return nullptr;
}

// ---- sinks --------------------------------------------------------------------------------------

namespace {

mqtt::RawDirection raw_direction(devices::FrameDirection dir) {
  constexpr mqtt::RawDirection kByFrameDirection[] = {
      mqtt::RawDirection::rx, mqtt::RawDirection::tx, mqtt::RawDirection::unknown};
  return kByFrameDirection[static_cast<int>(dir)];
}

}  // namespace

void Gateway::BridgeSink::on_event(const devices::Event& e) {
  if (bridge_) bridge_->handle(e);
}

bool Gateway::BridgeSink::wants_frames(devices::FrameDirection dir) const {
  return bridge_ && bridge_->raw_enabled(raw_direction(dir));
}

void Gateway::BridgeSink::on_frame(devices::FrameDirection dir, std::int64_t ts_ns,
                                   const canproto::Frame& frame) {
  bridge_->publish_raw(raw_direction(dir), ts_ns, canproto::format_compact(frame));
}

Gateway::LogSink::LogSink() : dev_log_(spdlog::get("dev")), proto_log_(spdlog::get("proto")) {}

void Gateway::LogSink::on_event(const devices::Event& e) {
  auto value_line = [this](const auto& ev) {
    if (dev_log_->should_log(spdlog::level::debug)) {
      dev_log_->debug("{} {} = {}", ev.device.name, ev.channel, devices::to_plain(ev.value));
    }
  };
  if (const auto* cc = std::get_if<devices::ChannelChanged>(&e)) {
    value_line(*cc);
  } else if (const auto* cmd = std::get_if<devices::Command>(&e)) {
    value_line(*cmd);
  } else if (const auto* sc = std::get_if<devices::DeviceStateChanged>(&e)) {
    dev_log_->info("{} ({}): {} -> {}", sc->device.name, devices::serial_text(sc->device.serial),
                   devices::to_string(sc->from), devices::to_string(sc->to));
  } else if (const auto* be = std::get_if<devices::BusEvent>(&e)) {
    proto_log_->debug("{}: {} {}", be->kind, be->detail, be->raw);
  }
}

// ---- the device map -----------------------------------------------------------------------------

void Gateway::apply_device_map() {
  for (const auto& d : config_.devices) monitor_.inventory().set_name(d.serial, d.name);
  policy_.apply(config_);
}

void Gateway::refresh_bridge_devices() {
  if (!bridge_) return;
  std::vector<mqtt::BridgeDevice> list;
  bridged_.clear();
  for (const auto& r : monitor_.inventory().devices()) {
    list.push_back(
        policy_.bridge_device(r.info, r.model, r.state != devices::DeviceState::offline));
    bridged_.insert(r.info.serial);
  }
  for (const auto& d : config_.devices) {
    if (bridged_.count(d.serial) || d.model == nullptr) continue;
    devices::DeviceInfo info{d.serial,      d.model->type, d.model->generation,
                             d.model->name, d.name,        0};
    list.push_back(policy_.bridge_device(info, d.model, false));
    bridged_.insert(d.serial);
  }
  write_loxberry_files(list);
  bridge_->set_devices(std::move(list));
}

void Gateway::write_loxberry_files(const std::vector<mqtt::BridgeDevice>& devices) {
  std::string dir = config_.mqtt.loxberry_config_dir;
  if (const char* env = std::getenv("LOXCAN_LOXBERRY_CONFIG_DIR"); dir.empty() && env != nullptr)
    dir = env;
  if (dir.empty()) return;
  const mqtt::TopicScheme topics(config_.mqtt.base_topic);
  const std::pair<std::string, std::string> files[] = {
      {dir + "/mqtt_subscriptions.cfg", mqtt::loxberry_v1_subscriptions(topics, devices)},
      {dir + "/mqtt_conversions.cfg", mqtt::loxberry_conversions()}};
  for (const auto& [path, text] : files) {
    if (loxberry_files_[path] == text) continue;
    std::string error;
    if (mqtt::write_file_atomically(path, text, error)) {
      loxberry_files_[path] = text;
      log()->info("LoxBerry: wrote {} ({} bytes)", path, text.size());
    } else {
      log()->warn("LoxBerry: {}", error);
    }
  }
}

// ---- periodic work ------------------------------------------------------------------------------

void Gateway::tick() {
  const std::int64_t now = wall_ns();
  events_.clear();
  monitor_.tick(now, events_);
  for (auto& p : ports_) monitor_.expire(p->monitor, now, events_);
  on_events(events_);
  if (bridge_) bridge_->tick();
}

void Gateway::update_status() {
  std::uint64_t frames = 0;
  for (auto& p : ports_) frames += p->port->stats().rx_frames;
  const auto now = loop_.now();
  const double secs = std::chrono::duration<double>(now - last_status_time_).count();
  if (secs > 0) frames_per_second_ = (frames - frames_at_last_status_) / secs;
  frames_at_last_status_ = frames;
  last_status_time_ = now;
  notifier_.status(notifier_status());
  if (web_host_) web_host_->sample();
}

std::string Gateway::notifier_status() {
  std::size_t online = 0;
  for (const auto& r : monitor_.inventory().devices())
    online += r.state == devices::DeviceState::online;
  std::string line = std::to_string(online) + "/" +
                     std::to_string(monitor_.inventory().devices().size()) + " devices online, " +
                     std::to_string(static_cast<long>(frames_per_second_)) + " frames/s";
  for (auto& p : ports_) {
    if (p->port->state() != canio::PortState::up) {
      line += ", " + p->config.name + " " + canio::to_string(p->port->state()) + " (retrying)";
    }
  }
  if (bridge_) {
    line += bridge_->connected() ? ", broker connected"
                                 : ", broker unreachable: " + config_.mqtt.broker + " (retrying)";
  }
  return line;
}

namespace {
// The daemon's resident memory in kB (Linux /proc/self/statm: pages), 0 when unknown.
long resident_kb() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}
}  // namespace

std::vector<mqtt::Metric> Gateway::metrics() {
  std::vector<mqtt::Metric> out;
  std::uint64_t rx = 0, tx = 0, errors = 0, overflow = 0, dropped = 0;
  double load = 0;
  for (auto& p : ports_) {
    const auto& s = p->port->stats();
    rx += s.rx_frames;
    tx += s.tx_frames;
    errors += s.rx_error_frames;
    overflow += s.rx_overflow + s.hw_rx_overflow;
    dropped += s.tx_dropped;
    if (p->config.role == config::InterfaceRole::link) load = s.load_percent;
  }
  std::size_t online = 0;
  for (const auto& r : monitor_.inventory().devices())
    online += r.state == devices::DeviceState::online;
  const double values[] = {static_cast<double>(rx),
                           static_cast<double>(tx),
                           static_cast<double>(errors),
                           static_cast<double>(overflow),
                           static_cast<double>(dropped),
                           mqtt::round_busload(load),
                           static_cast<double>(monitor_.inventory().devices().size()),
                           static_cast<double>(online),
                           static_cast<double>(resident_kb())};
  const auto names = mqtt::bus_metric_names();
  for (std::size_t i = 0; i < names.size(); ++i) out.push_back({names[i], values[i]});
  return out;
}

// ---- reload -------------------------------------------------------------------------------------

void Gateway::reload() {
  notifier_.reloading();
  log()->info("SIGHUP: reloading {}", config_.file);
  try {
    apply_config(config::load_file(config_.file, registry_, config_.instance));
    log()->info("reloaded {}: {} interfaces, {} devices", config_.file, config_.interfaces.size(),
                config_.devices.size());
  } catch (const config::ConfigError& e) {
    for (const auto& d : e.errors()) log()->error("{}", d.to_string());
    log()->error("reload rejected: {} error(s); the previous configuration stays in force",
                 e.errors().size());
  }
  notifier_.ready(notifier_status());
}

void Gateway::apply_config(config::Config next) {
  wiring::setup_logging(wiring::log_levels(next.logging, options_.verbosity));
  apply_interfaces(next.interfaces);
  const bool mqtt_changed = !wiring::same_mqtt(next.mqtt, config_.mqtt);
  config_ = std::move(next);
  apply_device_map();
  if (emulation_) {
    emulation_->apply(config_);
  } else {
    create_emulation();  // the reloaded map may be the first to emulate something
    if (emulation_) emulation_->start();
  }
  if (mqtt_changed) {
    restart_mqtt("the mqtt section changed");
  } else {
    refresh_bridge_devices();
  }
  apply_web();
}

}  // namespace loxcan::daemon
