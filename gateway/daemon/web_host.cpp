#include "gateway/daemon/web_host.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "gateway/daemon/gateway.hpp"
#include "gateway/version.hpp"
#include "gateway/web/memory.hpp"
#include "gateway/web/web_view.hpp"
#include "mqtt/mosquitto_client.hpp"

namespace loxcan::daemon {
namespace {

using json = nlohmann::json;

double wall_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::uint64_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

json channel_json(const mqtt::BridgeChannel& ch) {
  json j = {{"id", ch.spec.name},
            {"name", mqtt::topic_channel(ch)},
            {"direction", std::string(devices::to_string(ch.spec.direction))},
            {"type", std::string(devices::to_string(ch.spec.type))},
            {"semantic", std::string(devices::to_string(ch.spec.semantic))},
            {"unit", ch.spec.unit},
            {"writable", ch.writable}};
  if (ch.spec.max > ch.spec.min) j["min"] = ch.spec.min, j["max"] = ch.spec.max;
  return j;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

json GatewayWebHost::devices() {
  json list = json::array();
  std::set<std::uint32_t> listed;
  auto add = [&](const devices::DeviceInfo& info, const devices::Model* model,
                 const devices::DeviceRecord* r) {
    const mqtt::BridgeDevice view = gw_.policy_.bridge_device(info, model, r != nullptr);
    json channels = json::array();
    for (const auto& ch : view.channels) {
      if (ch.publish) channels.push_back(channel_json(ch));
    }
    json d = {{"serial", web::serial_text(info.serial)},
              {"serial_int", info.serial},
              {"name", info.name},
              {"model", info.model},
              {"generation", std::string(devices::to_string(info.generation))},
              {"firmware", info.firmware},
              {"emulated", view.emulated},
              {"known_model", model != nullptr},
              {"state", r ? std::string(devices::to_string(r->state)) : "offline"},
              {"channels", std::move(channels)}};
    if (r) {
      d["nat"] = r->nat;
      d["last_seen"] = static_cast<double>(r->last_seen_ns) / 1e9;
      if (r->parent != 0) d["parent"] = web::serial_text(r->parent);
      if (r->branch != devices::BranchSide::none)
        d["branch"] = r->branch == devices::BranchSide::left ? "left" : "right";
    }
    list.push_back(std::move(d));
    listed.insert(info.serial);
  };
  for (const auto& r : gw_.monitor_.inventory().devices()) add(r.info, r.model, &r);
  for (const auto& c : gw_.config_.devices) {
    if (listed.count(c.serial) || c.model == nullptr) continue;
    add({c.serial, c.model->type, c.model->generation, c.model->name, c.name, 0}, c.model, nullptr);
  }
  return list;
}

json GatewayWebHost::stats() {
  json ifaces = json::array();
  for (auto& p : gw_.ports_) {
    const auto& s = p->port->stats();
    ifaces.push_back({{"name", p->config.name},
                      {"role", std::string(config::to_string(p->config.role))},
                      {"state", canio::to_string(p->port->state())},
                      {"controller", canio::to_string(p->port->controller_state())},
                      {"bitrate", p->port->load_bitrate()},
                      {"bitrate_nominal", p->port->bitrate_is_nominal()},
                      {"rx_frames", s.rx_frames},
                      {"tx_frames", s.tx_frames},
                      {"error_frames", s.rx_error_frames},
                      {"bus_off", s.bus_off},
                      {"error_passive", s.error_passive},
                      {"error_warning", s.error_warning},
                      {"rx_overflow", s.rx_overflow + s.hw_rx_overflow},
                      {"tx_dropped", s.tx_dropped},
                      {"tx_queued", s.tx_queued},
                      {"load_percent", s.load_percent},
                      {"load_peak", s.load_peak}});
  }
  json mqtt = {{"enabled", gw_.config_.mqtt.enabled}, {"broker", gw_.config_.mqtt.broker}};
  if (gw_.bridge_) {
    const auto& c = gw_.bridge_->counters();
    mqtt["connected"] = gw_.bridge_->connected();
    mqtt["counters"] = {{"published", c.published},
                        {"received", c.received},
                        {"dropped", c.dropped},
                        {"connects", c.connects},
                        {"commands", c.commands},
                        {"commands_rejected", c.commands_rejected},
                        {"commands_deferred", c.commands_deferred}};
  }
  json web;
  if (gw_.web_) {
    const auto& w = gw_.web_->counters();
    web = {{"requests", w.requests},
           {"stream_clients", w.stream_clients},
           {"stream_messages", w.stream_messages},
           {"clients_dropped", w.clients_dropped},
           {"frames_skipped", w.frames_skipped}};
  }
  std::size_t online = 0;
  for (const auto& r : gw_.monitor_.inventory().devices())
    online += r.state == devices::DeviceState::online;
  return {{"version", version()},
          {"uptime_s",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()},
          {"rss_bytes", rss_bytes()},
          {"frames_per_second", gw_.frames_per_second_},
          {"devices", gw_.monitor_.inventory().devices().size()},
          {"online", online},
          {"interfaces", std::move(ifaces)},
          {"mqtt", std::move(mqtt)},
          {"web", std::move(web)},
          {"history", samples_},
          {"events", gw_.web_ ? gw_.web_->memory().recent_events() : json::array()}};
}

void GatewayWebHost::sample() {
  json load = json::object();
  for (auto& p : gw_.ports_) load[p->config.name] = p->port->stats().load_percent;
  samples_.push_back({{"t", wall_s()}, {"fps", gw_.frames_per_second_}, {"load", std::move(load)}});
  if (samples_.size() > 120) samples_.erase(samples_.begin());
}

json GatewayWebHost::miniservers() {
  if (gw_.miniservers_json_.empty()) return json::array();
  json j = json::parse(gw_.miniservers_json_, nullptr, false);
  return j.is_discarded() ? json::array() : j;
}

std::pair<std::string, std::string> GatewayWebHost::config_text() {
  return {gw_.config_.file, read_file(gw_.config_.file)};
}

json GatewayWebHost::check_config(std::string_view yaml, std::string_view file) {
  json errors = json::array();
  try {
    (void)config::parse(yaml, file, gw_.registry_);
  } catch (const config::ConfigError& e) {
    for (const auto& d : e.errors()) {
      errors.push_back({{"file", d.file},
                        {"line", d.mark.line},
                        {"column", d.mark.column},
                        {"path", d.path},
                        {"message", d.message},
                        {"text", d.to_string()}});
    }
  }
  return errors;
}

// The device as the bridge sees it (channels after the map), from the bus or from the map.
mqtt::BridgeDevice GatewayWebHost::bridge_view(std::uint32_t serial) {
  if (const devices::DeviceRecord* r = gw_.monitor_.inventory().find(serial))
    return gw_.policy_.bridge_device(r->info, r->model, true);
  if (const config::DeviceConfig* c = gw_.config_.find_device(serial); c && c->model) {
    return gw_.policy_.bridge_device(
        {c->serial, c->model->type, c->model->generation, c->model->name, c->name, 0}, c->model,
        false);
  }
  return {};
}

web::ControlResult GatewayWebHost::control(std::uint32_t serial, const std::string& channel,
                                           std::string_view payload) {
  if (!gw_.bridge_)
    return {"unavailable", "controls use the MQTT /set path: mqtt.enabled is false", ""};
  std::string segment = gw_.bridge_->segment_of(serial);
  std::string channel_segment = mqtt::channel_segment(channel);
  for (const auto& ch : bridge_view(serial).channels) {
    if (ch.spec.name == channel) channel_segment = mqtt::topic_channel(ch);
  }
  if (segment.empty())
    segment = web::serial_text(serial);  // unknown: the bridge rejects it by name
  const auto r = gw_.bridge_->command(segment, channel_segment, payload);
  const std::string topic = gw_.bridge_->topics().set(segment, channel_segment);
  if (r.ok()) return {"", "", topic};
  return {std::string(mqtt::to_string(r.error)), r.detail, topic};
}

// ---- the daemon's hooks (Gateway members kept here, next to the adapter) -----------------------

namespace {

// The web section as the server's options; false (and the error logged) when the password file
// cannot be used.
bool web_options(const config::WebConfig& w, web::WebOptions& opts) {
  opts.listen = w.listen;
  opts.history_min = w.history_min;
  if (w.password_file.empty()) return true;
  std::ifstream in(w.password_file);
  std::getline(in, opts.password);
  while (!opts.password.empty() && (opts.password.back() == '\r' || opts.password.back() == ' '))
    opts.password.pop_back();
  if (opts.password.empty()) {
    spdlog::get("gw")->error("web.password_file {}: unreadable or empty", w.password_file);
    return false;
  }
  return true;
}

}  // namespace

void Gateway::start_web() {
  const auto& w = config_.web;
  if (!w.enabled) return;
  web::WebOptions opts;
  if (!web_options(w, opts)) {
    spdlog::get("gw")->error("web view not started");
    return;
  }
  if (!web_host_) web_host_ = std::make_unique<GatewayWebHost>(*this);
  web_ = std::make_unique<web::WebView>(loop_, opts, *web_host_);
  if (auto error = web_->start(); !error.empty()) {
    spdlog::get("gw")->error("{}; web view not started", error);
    web_.reset();
    return;
  }
  sinks_.push_back(web_.get());
  web_observe_rejections();
  spdlog::get("gw")->info("web view on http://{}/ (controls {})", w.listen,
                          opts.password.empty() ? "off: no web.password_file" : "need a login");
}

void Gateway::apply_web() {
  const auto& w = config_.web;
  auto log = spdlog::get("gw");
  if (!w.enabled) {
    if (!web_) return;
    std::erase(sinks_, static_cast<devices::EventSink*>(web_.get()));
    if (bridge_) bridge_->set_rejection_observer({});
    web_.reset();
    log->info("web view stopped (web.enabled: false)");
    return;
  }
  if (!web_) return start_web();
  web::WebOptions opts;
  if (!web_options(w, opts)) {
    log->error("the web view stays on http://{}/", web_->options().listen);
    return;
  }
  opts.send_buffer_bytes = web_->options().send_buffer_bytes;
  if (opts.listen == web_->options().listen && opts.password == web_->options().password) return;
  if (auto error = web_->restart(opts); !error.empty()) {
    log->error("{}; the web view stays on http://{}/", error, web_->options().listen);
    return;
  }
  log->info("web view restarted on http://{}/ (controls {}; history kept)", w.listen,
            opts.password.empty() ? "off: no web.password_file" : "need a login");
}

void Gateway::web_observe_rejections() {
  if (!bridge_ || !web_) return;
  bridge_->set_rejection_observer([this](const std::string& topic, const std::string& payload,
                                         mqtt::PayloadError e, const std::string& detail) {
    if (web_) web_->on_rejection(topic, payload, std::string(mqtt::to_string(e)), detail);
  });
}

}  // namespace loxcan::daemon
