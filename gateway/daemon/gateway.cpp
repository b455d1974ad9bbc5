#include "gateway/daemon/gateway.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>

#include "canproto/candump.hpp"
#include "gateway/daemon/web_host.hpp"
#include "gateway/emulation/host.hpp"
#include "gateway/lan/discover.hpp"
#include "gateway/lan/miniserver_info.hpp"
#include "gateway/version.hpp"
#include "gateway/web/web_view.hpp"
#include "gateway/wiring/logging.hpp"
#include "gateway/wiring/options_map.hpp"
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
    : config_(std::move(config)), registry_(registry), options_(options), inventory_(registry) {
  wiring::setup_logging(wiring::log_levels(config_.logging, options_.verbosity));
  // Looked up once: spdlog::get() takes the registry's mutex, too slow for every frame. Reloads
  // reconfigure these same logger objects.
  dev_log_ = spdlog::get("dev");
  proto_log_ = spdlog::get("proto");
  rebuild_views();
  create_emulation();
}

void Gateway::create_emulation() {
  auto send = [this](const std::string& iface, const canproto::Frame& frame) {
    for (auto& p : ports_) {
      if (p->config.name != iface) continue;
      if (bridge_ && bridge_->raw_enabled(mqtt::RawDirection::tx)) {
        bridge_->publish_raw(mqtt::RawDirection::tx, wall_ns(), canproto::format_compact(frame));
      }
      return p->port->send(frame) == canio::SendStatus::queued;
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
  emulation_ = emulation::make_emulation_host(loop_, config_, registry_, send, events);
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
    auto port = std::make_unique<Port>(Port{std::make_unique<canio::CanPort>(loop_, port_config(c)),
                                            canproto::Decoder(bus_of(c.role)), c});
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
      opts, *mqtt_client_, [this](const mqtt::BridgeCommand& c) { on_command(c); }, wall_ns);
  mqtt::BridgeInfo info;
  info.version = version();
  info.interface = ports_.empty() ? "" : ports_.front()->config.name;
  bridge_->set_info(info);
  bridge_->set_metrics_provider([this] { return metrics(); });
  web_observe_rejections();
  refresh_bridge_devices();
  bridge_->start();
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
  for (auto& p : ports_) p->port->stop();
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
}

// ---- traffic ------------------------------------------------------------------------------------

void Gateway::on_frame(Port& port, const canproto::Frame& frame) {
  if (emulation_) emulation_->on_frame(port.config.name, frame);
  if (bridge_ && bridge_->raw_enabled(mqtt::RawDirection::rx)) {
    bridge_->publish_raw(mqtt::RawDirection::rx, frame.ts_ns, canproto::format_compact(frame));
  }
  observe(port, frame);
}

void Gateway::observe(Port& port, const canproto::Frame& frame) {
  const std::int64_t ts = frame.ts_ns != 0 ? frame.ts_ns : wall_ns();
  if (proto_log_->should_log(spdlog::level::debug)) {
    proto_log_->debug("{} {}", port.config.name, canproto::format_compact(frame));
  }
  if (web_) web_->on_frame(devices::FrameDirection::rx, ts, frame);
  const canproto::Decoded& d = port.decoder.feed(frame, ts);
  if (bridge_ && is_raw_unknown(d.message) && bridge_->raw_enabled(mqtt::RawDirection::unknown)) {
    bridge_->publish_raw(mqtt::RawDirection::unknown, ts, canproto::format_compact(frame));
  }
  // The Link bus carries every Tree frame too (re-emitted by the Tree Extension), so only the
  // Link port feeds the inventory; branch ports are for raw visibility.
  if (port.config.role != config::InterfaceRole::link) return;
  events_.clear();
  inventory_.feed(d, ts, events_);
  on_events(events_);
}

void Gateway::on_events(std::vector<devices::Event>& events) {
  for (auto& e : events) {
    // The bridge's device list changes only when a device it does not know yet appears.
    if (const auto* seen = std::get_if<devices::DeviceSeen>(&e)) {
      devices_dirty_ |= bridged_.count(seen->device.serial) == 0;
    }
    publish_event(e);
  }
  if (devices_dirty_) {
    devices_dirty_ = false;
    refresh_bridge_devices();
  }
}

void Gateway::publish_event(const devices::Event& e) {
  auto translate = [this](auto ev) {
    const wiring::ChannelMap& map = view_for(ev.device.serial).channels;
    const wiring::MappedChannel* ch = map.by_model_name(ev.channel);
    if (ch != nullptr && !ch->publish) return;
    if constexpr (std::is_same_v<decltype(ev), devices::ChannelChanged>) {
      if (ch != nullptr && ch->debounce_ms > 0 && debounce(ev, ch->debounce_ms)) return;
    }
    ev.value = map.to_public(ch, ev.value);  // the name stays: the bridge maps it to the topic
    if constexpr (std::is_same_v<decltype(ev), devices::ChannelChanged>) {
      if (ch != nullptr) ev.unit = ch->public_spec.unit;
    }
    if (dev_log_->should_log(spdlog::level::debug)) {
      dev_log_->debug("{} {} = {}", ev.device.name, ev.channel, devices::to_plain(ev.value));
    }
    deliver(devices::Event{std::move(ev)});
  };
  if (const auto* cc = std::get_if<devices::ChannelChanged>(&e)) return translate(*cc);
  if (const auto* cmd = std::get_if<devices::Command>(&e)) return translate(*cmd);
  if (const auto* sc = std::get_if<devices::DeviceStateChanged>(&e)) {
    dev_log_->info("{} ({:08X}): {} -> {}", sc->device.name, sc->device.serial,
                   devices::to_string(sc->from), devices::to_string(sc->to));
  } else if (const auto* be = std::get_if<devices::BusEvent>(&e)) {
    proto_log_->debug("{}: {} {}", be->kind, be->detail, be->raw);
  }
  deliver(e);
}

void Gateway::deliver(const devices::Event& e) {
  if (bridge_) bridge_->handle(e);
  if (web_) web_->on_event(e);
}

// Holds a changed input back until it has been stable for `ms`; then publishes the last value.
// Returns true when the event was taken (it comes back through publish_event() once stable).
bool Gateway::debounce(const devices::ChannelChanged& ev, std::uint32_t ms) {
  auto key = std::make_pair(ev.device.serial, ev.channel);
  auto it = debounced_.find(key);
  if (it != debounced_.end() && it->second.releasing) return false;  // the timer's own replay
  if (it != debounced_.end()) loop_.cancel(it->second.timer);
  auto& pending = debounced_[key];
  pending.event = ev;
  pending.timer = loop_.add_timer(std::chrono::milliseconds(ms), [this, key] {
    auto node = debounced_.find(key);
    if (node == debounced_.end()) return;
    node->second.releasing = true;
    publish_event(devices::Event{node->second.event});
    debounced_.erase(key);
  });
  return true;
}

void Gateway::on_command(const mqtt::BridgeCommand& cmd) {
  DeviceView& view = view_for(cmd.device.serial);
  const wiring::MappedChannel* ch = view.channels.by_model_name(cmd.channel);
  if (view.emulated && emulation_) {
    emulation_->set_input(cmd.device.serial, cmd.channel, view.channels.to_model(ch, cmd.value));
    return;
  }
  command_monitored(cmd, ch);
}

void Gateway::command_monitored(const mqtt::BridgeCommand& cmd, const wiring::MappedChannel* ch) {
  const wiring::ChannelMap& map = view_for(cmd.device.serial).channels;
  auto frames = inventory_.command(cmd.device.serial, cmd.channel, map.to_model(ch, cmd.value));
  if (!frames) {
    log()->warn("{}/{}: cannot send the command: {}", cmd.device.name, cmd.channel,
                devices::to_string(frames.error()));
    return;
  }
  for (const auto& message : frames->messages) {
    auto encoded = canproto::encode(message);
    if (!encoded) continue;
    for (const auto& f : *encoded) {
      if (!send_on_link(f)) {
        log()->warn("{}/{}: TX queue full, command dropped", cmd.device.name, cmd.channel);
        return;
      }
      if (bridge_ && bridge_->raw_enabled(mqtt::RawDirection::tx)) {
        bridge_->publish_raw(mqtt::RawDirection::tx, wall_ns(), canproto::format_compact(f));
      }
    }
  }
}

bool Gateway::send_on_link(const canproto::Frame& frame) {
  for (auto& p : ports_) {
    if (p->config.role == config::InterfaceRole::link) {
      return p->port->send(frame) == canio::SendStatus::queued;
    }
  }
  log()->warn("no Link interface configured: cannot send {}", canproto::format_compact(frame));
  return false;
}

// ---- the device map -----------------------------------------------------------------------------

void Gateway::rebuild_views() {
  views_.clear();
  for (const auto& d : config_.devices) {
    inventory_.set_name(d.serial, d.name);
    views_[d.serial] =
        DeviceView{wiring::ChannelMap(d.model, &d), d.mode == config::DeviceMode::emulate};
  }
}

Gateway::DeviceView& Gateway::view_for(std::uint32_t serial) {
  auto it = views_.find(serial);
  if (it != views_.end()) return it->second;
  const devices::DeviceRecord* r = inventory_.find(serial);
  return views_[serial] = DeviceView{wiring::ChannelMap(r ? r->model : nullptr, nullptr), false};
}

void Gateway::refresh_bridge_devices() {
  if (!bridge_) return;
  std::vector<mqtt::BridgeDevice> list;
  bridged_.clear();
  auto add = [&](const devices::DeviceInfo& info, const devices::Model* model, bool available) {
    DeviceView& view = view_for(info.serial);
    if (model != nullptr && view.channels.channels().empty()) {
      view.channels = wiring::ChannelMap(model, config_.find_device(info.serial));
    }
    list.push_back(
        {info, view.channels.bridge_channels(view.emulated), available, view.emulated, "link"});
    bridged_.insert(info.serial);
  };
  for (const auto& r : inventory_.devices()) {
    add(r.info, r.model, r.state != devices::DeviceState::offline);
  }
  for (const auto& d : config_.devices) {
    if (bridged_.count(d.serial) || d.model == nullptr) continue;
    devices::DeviceInfo info{d.serial,      d.model->type, d.model->generation,
                             d.model->name, d.name,        0};
    add(info, d.model, false);
  }
  bridge_->set_devices(std::move(list));
}

// ---- periodic work ------------------------------------------------------------------------------

void Gateway::tick() {
  const std::int64_t now = wall_ns();
  events_.clear();
  inventory_.tick(now, events_);
  on_events(events_);
  for (auto& p : ports_) {
    p->decoder.expire(now, [&](const canproto::PacketInfo&, const char* why) {
      proto_log_->debug("{}: half-finished packet dropped: {}", p->config.name, why);
    });
  }
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
  for (const auto& r : inventory_.devices()) online += r.state == devices::DeviceState::online;
  std::string line = std::to_string(online) + "/" + std::to_string(inventory_.devices().size()) +
                     " devices online, " + std::to_string(static_cast<long>(frames_per_second_)) +
                     " frames/s";
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
  for (const auto& r : inventory_.devices()) online += r.state == devices::DeviceState::online;
  out.push_back({"rxframes", static_cast<double>(rx)});
  out.push_back({"txframes", static_cast<double>(tx)});
  out.push_back({"errorframes", static_cast<double>(errors)});
  out.push_back({"rxoverflow", static_cast<double>(overflow)});
  out.push_back({"txdropped", static_cast<double>(dropped)});
  out.push_back({"busload", load});
  out.push_back({"devices", static_cast<double>(inventory_.devices().size())});
  out.push_back({"online", static_cast<double>(online)});
  return out;
}

// ---- reload -------------------------------------------------------------------------------------

void Gateway::reload() {
  notifier_.reloading();
  log()->info("SIGHUP: reloading {}", config_.file);
  try {
    apply_config(config::load_file(config_.file, registry_));
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
  rebuild_views();
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
}

}  // namespace loxcan::daemon
