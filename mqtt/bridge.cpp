#include "mqtt/bridge.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "mqtt/log.hpp"

namespace loxcan::mqtt {

using devices::ChannelValue;
using nlohmann::json;

namespace {

std::int64_t system_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Metric names go into topics and LoxBerry VI names: keep [a-z0-9] only.
std::string metric_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
  }
  return out;
}

const char* const kOwnMetrics[] = {
    "mqttpublished", "mqttreceived",     "mqttdropped", "mqttsuperseded", "mqttconnects",
    "commands",      "commandsrejected", "devices",     "uptime",         "keepaliveepoch"};

}  // namespace

MqttBridge::MqttBridge(MqttOptions options, MqttClient& client, CommandHandler on_command,
                       Clock clock)
    : options_(std::move(options)),
      topics_(options_.base_topic),
      client_(client),
      on_command_(std::move(on_command)),
      clock_(clock ? std::move(clock) : Clock(system_now_ns)),
      raw_(options_.raw) {
  if (const auto err = validate(options_); !err.empty()) throw std::invalid_argument(err);
  discovery_ = DiscoveryContext{topics_, options_.homeassistant.prefix, effective_node_id(options_),
                                info_.version};
  started_ns_ = clock_();
  last_stats_ns_ = started_ns_;
  // Seeds the birth-answer delay: gateways started at the same time still pick different delays.
  random_state_ =
      static_cast<std::uint64_t>(started_ns_) ^ std::hash<std::string>{}(discovery_.node_id);
}

Publication MqttBridge::will(const MqttOptions& options) {
  return {TopicScheme(options.base_topic).bridge("state"), "offline", 1, true};
}

void MqttBridge::start() {
  client_.set_handlers({[this] { on_connected(); },
                        [this](const std::string& cause) { on_lost(cause); },
                        [this](IncomingMessage m) { on_message(std::move(m)); }});
  retained_[topics_.bridge("state")] = "online";
  retained_qos_[topics_.bridge("state")] = 1;
  publish_info();
  if (options_.homeassistant.enabled) {
    auto pubs = ha_device_mode()
                    ? std::vector<Publication>{bridge_device_discovery(discovery_, metric_names())}
                    : discovery_for_bridge(discovery_, metric_names());
    for (auto& p : pubs) {
      bridge_discovery_.push_back(p.topic);
      publish(std::move(p));
    }
  }
  client_.start();
}

void MqttBridge::stop() {
  retained_[topics_.bridge("state")] = "offline";
  if (connected_) send({topics_.bridge("state"), "offline", 1, true});
  client_.stop();
  connected_ = false;
}

// ---- publishing -----------------------------------------------------------------------------

void MqttBridge::publish(Publication p) {
  if (p.retain) {
    if (p.payload.empty()) {
      clear_retained(p.topic);
      return;
    }
    // The cache is what the broker holds (or gets on the next connect): an unchanged value is not
    // sent again. A monitored output, for one, arrives twice: the Miniserver's command, then the
    // extension's report.
    auto [it, added] = retained_.try_emplace(p.topic, p.payload);
    if (!added && it->second == p.payload) return;
    it->second = p.payload;
    retained_qos_[p.topic] = p.qos;
    pending_clears_.erase(p.topic);
    // Held back until the old mode's configs are migrated; sent by finish_migration_scan().
    if (scanning_ && is_discovery_topic(p.topic)) return;
  }
  if (connected_) {
    send(p);
  } else if (!p.retain) {
    if (options_.offline_buffer == 0) {
      ++counters_.dropped;
      return;
    }
    if (offline_.size() >= options_.offline_buffer) {
      offline_.pop_front();
      ++counters_.dropped;
    }
    offline_.push_back(std::move(p));
    ++counters_.buffered;
  }  // retained while offline: the cache is republished on connect
}

void MqttBridge::publish_retained(const std::string& topic, std::string payload, int qos) {
  publish({topic, std::move(payload), qos, true});
}

void MqttBridge::clear_retained(const std::string& topic) {
  retained_.erase(topic);
  retained_qos_.erase(topic);
  if (connected_) {
    send({topic, "", 1, true});
  } else {
    pending_clears_.insert(topic);
  }
}

void MqttBridge::send(const Publication& p) {
  switch (client_.publish(p)) {
    case PublishResult::ok: ++counters_.published; break;
    case PublishResult::error: ++counters_.publish_errors; break;
    case PublishResult::not_connected:
      // The connection dropped and the lost handler has not run yet: keep what would be lost.
      if (!p.retain && offline_.size() < options_.offline_buffer) {
        offline_.push_back(p);
        ++counters_.buffered;
      } else if (!p.retain) {
        ++counters_.dropped;
      } else if (p.payload.empty()) {
        pending_clears_.insert(p.topic);
      }
      break;
  }
}

void MqttBridge::flush_offline() {
  while (connected_ && !offline_.empty()) {
    // The connection may drop before the lost handler runs: then keep the rest, in order, for
    // the next connect. (send() would queue each one again at the back: an endless loop.)
    if (client_.publish(offline_.front()) == PublishResult::not_connected) return;
    ++counters_.published;
    offline_.pop_front();
  }
}

void MqttBridge::republish_all() {
  if (!connected_) return;
  for (const auto& [topic, payload] : retained_) {
    if (!(scanning_ && is_discovery_topic(topic)))
      send({topic, payload, retained_qos_[topic], true});
  }
}

void MqttBridge::publish_event(const std::string& type, json data) {
  publish(
      {topics_.bridge("event"), dump(json{{"type", type}, {"data", std::move(data)}}), 0, false});
}

void MqttBridge::publish_info() {
  json j = {{"version", info_.version},
            {"commit", info_.commit},
            {"interface", info_.interface},
            {"bitrate", info_.bitrate},
            {"miniserver", info_.miniserver},
            {"devices", devices_.size()},
            {"config",
             {{"basetopic", options_.base_topic},
              {"jsonstate", options_.json_state},
              {"retain", options_.retain_states},
              {"homeassistant", options_.homeassistant.enabled},
              {"protocol", options_.protocol == ProtocolVersion::v5 ? "5" : "3.1.1"}}}};
  publish_retained(topics_.bridge("info"), dump(j));
}

void MqttBridge::set_info(BridgeInfo info) {
  info_ = std::move(info);
  discovery_.version = info_.version;
  publish_info();
}

void MqttBridge::publish_bridge_devices() {
  json arr = json::array();
  for (const auto& [serial, e] : devices_) {
    json chans = json::array();
    for (const auto& ch : e.device.channels) {
      chans.push_back({{"name", topic_channel(ch)},
                       {"channel", ch.spec.name},
                       {"direction", devices::to_string(ch.spec.direction)},
                       {"type", devices::to_string(ch.spec.type)},
                       {"semantic", devices::to_string(ch.spec.semantic)},
                       {"unit", ch.spec.unit},
                       {"min", ch.spec.min},
                       {"max", ch.spec.max},
                       {"writable", ch.writable},
                       {"published", ch.publish}});
    }
    arr.push_back({{"serial", serial_text(serial)},
                   {"model", e.device.info.model},
                   {"name", e.segment},
                   {"firmware", firmware_text(e.device.info.firmware)},
                   {"generation", devices::to_string(e.device.info.generation)},
                   {"bus", e.device.bus},
                   {"emulated", e.device.emulated},
                   {"available", e.device.available},
                   {"channels", std::move(chans)}});
  }
  publish_retained(topics_.bridge("devices"), dump(arr));
  publish_info();
}

// ---- raw frames and stats -------------------------------------------------------------------

bool MqttBridge::raw_enabled(RawDirection dir) const {
  switch (dir) {
    case RawDirection::rx: return raw_.rx;
    case RawDirection::tx: return raw_.tx;
    case RawDirection::unknown: return raw_.unknown;
  }
  return false;
}

void MqttBridge::set_raw_enabled(RawDirection dir, bool on) {
  (dir == RawDirection::rx ? raw_.rx : dir == RawDirection::tx ? raw_.tx : raw_.unknown) = on;
}

void MqttBridge::publish_raw(RawDirection dir, std::int64_t ts_ns, std::string_view frame) {
  if (!raw_enabled(dir)) return;
  const lldiv_t d = std::lldiv(ts_ns, 1000000000LL);
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "(%lld.%06lld) ", d.quot, d.rem / 1000);
  const char* leaf = dir == RawDirection::rx   ? "raw/rx"
                     : dir == RawDirection::tx ? "raw/tx"
                                               : "raw/unknown";
  std::string line = stamp + info_.interface + " ";
  line += frame;
  publish({topics_.bridge(leaf), std::move(line), 0, false});
}

std::vector<std::string> MqttBridge::metric_names() const {
  std::vector<std::string> provided;
  if (metrics_) {
    for (const auto& m : metrics_()) provided.push_back(m.name);
  }
  return metric_names_for(provided);
}

std::vector<std::string> MqttBridge::metric_names_for(
    const std::vector<std::string>& provider_names) {
  std::vector<std::string> names;
  auto add = [&names](std::string n) {
    if (!n.empty() && std::find(names.begin(), names.end(), n) == names.end())
      names.push_back(std::move(n));
  };
  for (const auto& n : provider_names) add(metric_name(n));
  for (const char* n : kOwnMetrics) add(n);
  return names;
}

void MqttBridge::publish_stats() {
  const std::int64_t now = clock_();
  last_stats_ns_ = now;
  std::vector<Metric> all;
  if (metrics_) all = metrics_();
  for (auto& m : all) m.name = metric_name(m.name);
  const auto n = [](std::uint64_t v) { return static_cast<double>(v); };
  all.push_back({"mqttpublished", n(counters_.published)});
  all.push_back({"mqttreceived", n(counters_.received)});
  const ClientCounters held = client_.counters();
  all.push_back({"mqttdropped", n(counters_.dropped + held.dropped)});
  all.push_back({"mqttsuperseded", n(held.superseded)});
  all.push_back({"mqttconnects", n(counters_.connects)});
  all.push_back({"commands", n(counters_.commands)});
  all.push_back({"commandsrejected", n(counters_.commands_rejected)});
  all.push_back({"devices", n(devices_.size())});
  all.push_back({"uptime", static_cast<double>((now - started_ns_) / 1000000000LL)});
  all.push_back({"keepaliveepoch", static_cast<double>(now / 1000000000LL)});
  json obj = json::object();
  for (const auto& m : all) {
    if (m.name.empty()) continue;
    publish_retained(topics_.bridge("stats/" + m.name), plain_number(m.value));
    obj[m.name] = to_json(ChannelValue{m.value});
  }
  publish_retained(topics_.bridge("stats"), dump(obj));
}

void MqttBridge::tick() {
  deliver_deferred();
  const std::int64_t now = clock_();
  if (scanning_ && now - scan_started_ns_ >= 10 * 1000000000LL) {
    log()->warn(
        "Home Assistant discovery: the broker did not echo the sync marker within 10 s; publishing "
        "anyway");
    finish_migration_scan();
  }
  if (ha_republish_at_ns_ != 0 && now >= ha_republish_at_ns_ && !scanning_) {
    ha_republish_at_ns_ = 0;
    republish_for_ha();
  }
  if (options_.stats_interval_s <= 0) return;
  // Each changed value may become one HTTP request to the Miniserver: never more often than 10 s.
  const std::int64_t interval = std::max(options_.stats_interval_s, 10) * 1000000000LL;
  if (clock_() - last_stats_ns_ >= interval) publish_stats();
}

// ---- client handlers ------------------------------------------------------------------------

void MqttBridge::on_connected() {
  connected_ = true;
  ++counters_.connects;
  log()->info("connected to the broker ({} retained topics to publish, {} buffered messages)",
              retained_.size(), offline_.size());
  client_.subscribe(topics_.set_filter(), 1);
  client_.subscribe(topics_.get_filter(), 0);
  client_.subscribe(topics_.request_filter(), 1);
  if (!options_.loxberry_gateway_status.empty())
    client_.subscribe(options_.loxberry_gateway_status, 0);
  const std::string state = topics_.bridge("state");
  retained_[state] = "online";
  send({state, "online", 1, true});
  if (options_.homeassistant.enabled) {
    client_.subscribe(options_.homeassistant.prefix + "/status", 1);
    start_migration_scan();
  }
  const auto clears = std::move(pending_clears_);
  pending_clears_.clear();
  for (const auto& t : clears) send({t, "", 1, true});
  for (const auto& [topic, payload] : retained_) {
    if (topic != state && !(scanning_ && is_discovery_topic(topic)))
      send({topic, payload, retained_qos_[topic], true});
  }
  flush_offline();
}

void MqttBridge::on_lost(const std::string& cause) {
  if (!connected_) return;
  connected_ = false;
  log()->warn("lost the broker connection{}{}; reconnecting", cause.empty() ? "" : ": ", cause);
}

// Home Assistant's birth message and LoxBerry's gateway status; true when `m` was one of them.
bool MqttBridge::on_peer_status(const IncomingMessage& m) {
  if (options_.homeassistant.enabled && m.topic == options_.homeassistant.prefix + "/status") {
    if (m.payload == "online") {
      // HA's advice: answer its birth message after a small random delay, discovery before states.
      random_state_ = random_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
      const std::int64_t delay_ms = 1000 + static_cast<std::int64_t>((random_state_ >> 33) % 4001);
      ha_republish_at_ns_ = clock_() + delay_ms * 1000000LL;
      log()->info("Home Assistant is online: republishing discovery and states in {} ms", delay_ms);
    }
    return true;
  }
  if (options_.loxberry_gateway_status.empty() ||
      !topic_matches(options_.loxberry_gateway_status, m.topic)) {
    return false;
  }
  // The retained "Connected" delivered when loxcan subscribes is old news (loxcan has just
  // published everything); only a live one means the gateway (re)subscribed.
  if (m.payload == "Connected" && !m.retained) {
    log()->info("LoxBerry's MQTT Gateway is online ({}): republishing {} retained states", m.topic,
                retained_.size());
    republish_all();
  }
  return true;
}

void MqttBridge::on_message(IncomingMessage m) {
  ++counters_.received;
  if (on_peer_status(m)) return;
  if (options_.homeassistant.enabled && m.topic == topics_.bridge("discovery-sync")) {
    if (scanning_ && m.payload == scan_token_) finish_migration_scan();
    return;
  }
  if (options_.homeassistant.enabled && is_discovery_topic(m.topic)) {
    on_other_mode_config(m);
    return;
  }
  const auto parsed = topics_.parse(m.topic);
  switch (parsed.kind) {
    case TopicScheme::Kind::set: on_set(parsed, m); break;
    case TopicScheme::Kind::request: on_request(parsed.channel, m); break;
    case TopicScheme::Kind::get: {
      if (m.retained) break;
      const auto it = by_segment_.find(parsed.device);
      if (it == by_segment_.end()) break;
      const std::string topic = topics_.channel(parsed.device, parsed.channel);
      if (auto r = retained_.find(topic); r != retained_.end() && connected_)
        send({topic, r->second, 0, true});
      break;
    }
    case TopicScheme::Kind::other: break;
  }
}

CommandResult MqttBridge::reject(const IncomingMessage& m, PayloadError e,
                                 const std::string& detail) {
  ++counters_.commands_rejected;
  const std::string shown = printable_payload(m.payload);
  log()->warn("rejected command on {}: {} ({}); payload \"{}\"", m.topic, to_string(e), detail,
              shown);
  publish_event("command_rejected", {{"topic", m.topic},
                                     {"payload", shown},
                                     {"error", std::string(to_string(e))},
                                     {"detail", detail}});
  if (on_rejected_) on_rejected_(m.topic, shown, e, detail);
  return CommandResult{std::nullopt, e, detail};
}

void MqttBridge::on_set(const TopicScheme::Parsed& p, const IncomingMessage& m) {
  if (m.retained) {
    reject(m, PayloadError::retained,
           "retained command ignored; publish commands without the retain flag");
    return;
  }
  (void)check_and_submit(p.device, p.channel, m);
}

CommandResult MqttBridge::command(const std::string& device_segment,
                                  const std::string& channel_segment, std::string_view payload) {
  IncomingMessage m{topics_.set(device_segment, channel_segment), std::string(payload), false};
  return check_and_submit(device_segment, channel_segment, m);
}

CommandResult MqttBridge::check_and_submit(const std::string& device, const std::string& channel,
                                           const IncomingMessage& m) {
  const auto it = by_segment_.find(device);
  if (it == by_segment_.end())
    return reject(m, PayloadError::unknown_device, "no device \"" + device + "\"");
  DeviceEntry& e = devices_.at(it->second);
  if (channel == "identify" && e.device.identify) {
    on_identify(e, m);
    return CommandResult{};
  }
  const BridgeChannel* ch = find_channel(e, channel);
  if (!ch || !ch->publish)
    return reject(m, PayloadError::unknown_channel,
                  "device \"" + device + "\" has no channel \"" + channel + "\"");
  if (!ch->writable)
    return reject(m, PayloadError::not_writable, "channel \"" + channel + "\" is read-only");
  const auto cur = e.values.find(channel);
  auto r = parse_command(ch->spec, m.payload, cur == e.values.end() ? nullptr : &cur->second);
  if (!r.ok()) return reject(m, r.error, r.detail);
  submit(e, *ch, *r.value);
  return r;
}

void MqttBridge::on_request(const std::string& name, const IncomingMessage& m) {
  const std::string topic = topics_.bridge("response/" + sanitize_segment(name));
  json resp = {{"status", "ok"}, {"data", json::object()}};
  json req = m.payload.empty() ? json::object() : json::parse(m.payload, nullptr, false);
  if (req.is_object() && req.contains("transaction")) resp["transaction"] = req["transaction"];
  if (m.retained) {
    log()->warn("ignored retained request on {}", m.topic);
    return;
  }
  if (name == "republish") {
    republish_all();
  } else if (name == "raw" && req.is_object()) {
    for (const auto& [key, dir] : {std::pair{"rx", RawDirection::rx},
                                   {"tx", RawDirection::tx},
                                   {"unknown", RawDirection::unknown}}) {
      if (req.contains(key) && req[key].is_boolean()) set_raw_enabled(dir, req[key].get<bool>());
    }
    resp["data"] = {{"rx", raw_.rx}, {"tx", raw_.tx}, {"unknown", raw_.unknown}};
  } else {
    resp["status"] = "error";
    resp["error"] = name == "raw" ? "expected a JSON object like {\"rx\":true}"
                                  : "unknown request \"" + name + "\"";
  }
  publish({topic, dump(resp), 0, false});
}

// ---- devices --------------------------------------------------------------------------------

MqttBridge::DeviceEntry& MqttBridge::entry_for(const devices::DeviceInfo& info) {
  auto it = devices_.find(info.serial);
  if (it != devices_.end()) {
    auto& known = it->second.device.info;
    if (info.firmware != 0 && info.firmware != known.firmware) {
      known.firmware = info.firmware;
      publish_discovery(it->second);
    }
    return it->second;
  }
  DeviceEntry e;
  e.device.info = info;
  e.segment = device_segment(info);
  if (by_segment_.count(e.segment))
    e.segment += "-" + serial_hex(info.serial);  // two devices, one name
  by_segment_[e.segment] = info.serial;
  return devices_.emplace(info.serial, std::move(e)).first->second;
}

const BridgeChannel* MqttBridge::find_channel(const DeviceEntry& e,
                                              const std::string& segment) const {
  for (const auto& ch : e.device.channels) {
    if (topic_channel(ch) == segment) return &ch;
  }
  return nullptr;
}

void MqttBridge::publish_value(DeviceEntry& e, const std::string& channel, const ChannelValue& v) {
  // Events name the model's channel; the topic may use a friendly name from the device map.
  const BridgeChannel* ch = nullptr;
  for (const auto& c : e.device.channels) {
    if (c.spec.name == channel) ch = &c;
  }
  if (!ch) ch = find_channel(e, channel_segment(channel));
  const std::string seg = ch ? topic_channel(*ch) : channel_segment(channel);
  if (ch && !ch->publish) return;
  e.values[seg] = v;
  const bool momentary = ch && ch->spec.semantic == devices::Semantic::button;
  publish(
      {topics_.channel(e.segment, seg), encode_state(v), 0, options_.retain_states && !momentary});
  if (options_.json_state)
    publish_retained(topics_.device(e.segment), encode_device_json(e.values));
}

void MqttBridge::set_available(DeviceEntry& e, bool available) {
  e.device.available = available;
  publish_retained(topics_.availability(e.segment), available ? "online" : "offline");
}

void MqttBridge::publish_discovery(DeviceEntry& e) {
  if (!options_.homeassistant.enabled || !e.from_map) return;
  if (connected_) watch_other_mode(device_node_id(e.device.info.serial));
  std::vector<Publication> pubs;
  if (ha_device_mode()) {
    // Components that were in the last message and are gone now: sent once as {"p": …} removals.
    std::vector<std::pair<std::string, std::string>> removed;
    Publication p = device_discovery(discovery_, e.device, e.segment);
    const auto now = device_components(p.payload);
    for (const auto& old : e.components) {
      if (std::find(now.begin(), now.end(), old) == now.end()) removed.push_back(old);
    }
    if (!removed.empty()) p = device_discovery(discovery_, e.device, e.segment, removed);
    e.components = now;
    if (!p.payload.empty() || retained_.count(p.topic)) pubs.push_back(std::move(p));
  } else {
    pubs = discovery_for_device(discovery_, e.device, e.segment);
  }
  std::vector<std::string> topics;
  for (const auto& p : pubs) topics.push_back(p.topic);
  for (const auto& old : e.discovery_topics) {
    if (std::find(topics.begin(), topics.end(), old) == topics.end()) clear_retained(old);
  }
  for (auto& p : pubs) publish(std::move(p));
  e.discovery_topics = std::move(topics);
}

void MqttBridge::clear_device_topics(const std::string& segment,
                                     const std::vector<std::string>& discovery) {
  const std::string dev = topics_.device(segment);
  std::vector<std::string> doomed;
  for (const auto& [topic, payload] : retained_) {
    if (topic == dev || topic.compare(0, dev.size() + 1, dev + "/") == 0) doomed.push_back(topic);
  }
  doomed.insert(doomed.end(), discovery.begin(), discovery.end());
  for (const auto& t : doomed) clear_retained(t);
}

void MqttBridge::remove_device(DeviceEntry& e) {
  publish_event("device_removed",
                {{"serial", serial_text(e.device.info.serial)}, {"name", e.segment}});
  clear_device_topics(e.segment, e.discovery_topics);
  by_segment_.erase(e.segment);
  buckets_.erase(e.device.info.serial);
  devices_.erase(e.device.info.serial);
}

void MqttBridge::set_devices(std::vector<BridgeDevice> list) {
  std::set<std::uint32_t> listed;
  for (auto& d : list) {
    const std::uint32_t serial = d.info.serial;
    if (!listed.insert(serial).second) continue;  // duplicate serial: first one wins
    auto it = devices_.find(serial);
    bool renamed = false;
    if (it != devices_.end() && device_segment(d.info) != device_segment(it->second.device.info)) {
      DeviceEntry& old = it->second;
      // Discovery ids hang on the serial, not the name: its configs are updated in place below
      // (clearing them would make HA delete the device and its entities first).
      clear_device_topics(old.segment, {});
      by_segment_.erase(old.segment);
      old.segment = device_segment(d.info);
      if (by_segment_.count(old.segment)) old.segment += "-" + serial_hex(serial);
      by_segment_[old.segment] = serial;
      renamed = true;
    }
    DeviceEntry& e = it != devices_.end() ? it->second : entry_for(d.info);
    e.device = std::move(d);
    e.from_map = true;
    set_available(e, e.device.available);
    publish_discovery(e);
    if (renamed) {
      const auto values = e.values;
      for (const auto& [ch, v] : values) publish_value(e, ch, v);
    }
  }
  std::vector<std::uint32_t> gone;
  for (const auto& [serial, e] : devices_) {
    if (e.from_map && !listed.count(serial)) gone.push_back(serial);
  }
  for (auto serial : gone) remove_device(devices_.at(serial));
  publish_bridge_devices();
}

void MqttBridge::handle(const devices::Event& ev) {
  if (const auto* seen = std::get_if<devices::DeviceSeen>(&ev)) {
    const bool is_new = devices_.count(seen->device.serial) == 0;
    DeviceEntry& e = entry_for(seen->device);
    if (is_new) {
      set_available(e, true);
      publish_event("device_joined", {{"serial", serial_text(seen->device.serial)},
                                      {"model", seen->device.model},
                                      {"name", e.segment}});
      publish_bridge_devices();
    }
  } else if (const auto* st = std::get_if<devices::DeviceStateChanged>(&ev)) {
    DeviceEntry& e = entry_for(st->device);
    set_available(e, st->to != devices::DeviceState::offline);
    publish_event(std::string("device_") + std::string(devices::to_string(st->to)),
                  {{"serial", serial_text(st->device.serial)},
                   {"name", e.segment},
                   {"from", devices::to_string(st->from)},
                   {"to", devices::to_string(st->to)}});
  } else if (const auto* cc = std::get_if<devices::ChannelChanged>(&ev)) {
    publish_value(entry_for(cc->device), cc->channel, cc->value);
  } else if (const auto* cmd = std::get_if<devices::Command>(&ev)) {
    publish_value(entry_for(cmd->device), cmd->channel, cmd->value);  // the output's new state
  } else if (const auto* bus = std::get_if<devices::BusEvent>(&ev)) {
    publish_event(bus->kind, {{"detail", bus->detail}, {"raw", bus->raw}});
    if (!bus->raw.empty() && bus->kind.find("unknown") != std::string::npos) {
      publish_raw(RawDirection::unknown, bus->ts_ns, bus->raw);
    }
  }
}

// ---- commands and the rate limit ------------------------------------------------------------

void MqttBridge::refill(Bucket& b, std::int64_t now) {
  const double burst = options_.rate_limit.burst;
  if (b.last_ns == 0) {
    b.tokens = burst;
  } else if (now > b.last_ns) {
    b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.last_ns) * 1e-9 *
                                              options_.rate_limit.per_second);
  }
  b.last_ns = now;
}

void MqttBridge::submit(DeviceEntry& e, const BridgeChannel& ch, ChannelValue v) {
  Bucket& b = buckets_[e.device.info.serial];
  refill(b, clock_());
  if (options_.rate_limit.per_second <= 0 || (b.pending.empty() && b.tokens >= 1)) {
    b.tokens -= 1;
    ++counters_.commands;
    if (on_command_) on_command_({e.device.info, ch.spec.name, std::move(v)});
    return;
  }
  ++counters_.commands_deferred;
  if (!b.pending.insert_or_assign(ch.spec.name, std::move(v)).second)
    ++counters_.commands_coalesced;
}

void MqttBridge::deliver_deferred() {
  const std::int64_t now = clock_();
  for (auto& [serial, b] : buckets_) {
    if (b.pending.empty()) continue;
    refill(b, now);
    const auto dev = devices_.find(serial);
    while (!b.pending.empty() && b.tokens >= 1 && dev != devices_.end()) {
      auto node = b.pending.extract(b.pending.begin());
      b.tokens -= 1;
      ++counters_.commands;
      if (on_command_) on_command_({dev->second.device.info, node.key(), std::move(node.mapped())});
    }
  }
}

void MqttBridge::publish_bridge_topic(const std::string& name, std::string payload) {
  publish_retained(topics_.bridge(name), std::move(payload), 1);
}

}  // namespace loxcan::mqtt

namespace loxcan::mqtt {

// ---- identify -------------------------------------------------------------------------------

void MqttBridge::on_identify(DeviceEntry& e, const IncomingMessage& m) {
  if (m.payload.size() > 1024) {
    reject(m, PayloadError::too_long, "identify takes any short payload, e.g. PRESS");
    return;
  }
  ++counters_.commands;
  log()->info("{}: identify (LED blink) requested", e.segment);
  if (on_identify_) on_identify_(e.device.info);
}

// ---- Home Assistant: mode migration and birth ------------------------------------------------

bool MqttBridge::ha_device_mode() const {
  return options_.homeassistant.mode == HaDiscoveryMode::device;
}

bool MqttBridge::is_discovery_topic(const std::string& topic) const {
  const std::string& prefix = options_.homeassistant.prefix;
  return topic.size() > prefix.size() + 7 &&
         topic.compare(0, prefix.size() + 1, prefix + "/") == 0 &&
         topic.compare(topic.size() - 7, 7, "/config") == 0;
}

void MqttBridge::watch_other_mode(const std::string& node_id) {
  if (!watched_nodes_.insert(node_id).second) return;
  client_.subscribe(other_mode_filter(discovery_, ha_device_mode(), node_id), 1);
}

void MqttBridge::start_migration_scan() {
  watched_nodes_.clear();  // a new session has no subscriptions
  leftovers_.clear();
  watch_other_mode(bridge_node_id(discovery_));
  for (const auto& [serial, e] : devices_) {
    if (e.from_map) watch_other_mode(device_node_id(serial));
  }
  // The broker delivers the retained messages of these subscriptions before it routes a message
  // we publish afterwards back to us: when the marker returns, every old config has been seen.
  const std::string sync = topics_.bridge("discovery-sync");
  client_.subscribe(sync, 1);
  scan_token_ = std::to_string(started_ns_) + "-" + std::to_string(counters_.connects);
  scan_started_ns_ = clock_();
  scanning_ = true;
  // Not through send(): a marker that cannot go out now is useless later (the next connect starts
  // a new scan), so it never takes a place in the offline buffer.
  if (client_.publish({sync, scan_token_, 1, false}) == PublishResult::ok) ++counters_.published;
}

void MqttBridge::finish_migration_scan() {
  scanning_ = false;
  for (const auto& [topic, payload] : retained_) {
    if (is_discovery_topic(topic)) send({topic, payload, retained_qos_[topic], true});
  }
  if (!leftovers_.empty()) {
    log()->info("Home Assistant discovery: {} old {} config(s) migrated and cleared",
                leftovers_.size(), ha_device_mode() ? "per-entity" : "per-device");
  }
  for (const auto& t : leftovers_) clear_retained(t);
  leftovers_.clear();
}

void MqttBridge::on_other_mode_config(const IncomingMessage& m) {
  if (!is_live_config(m.payload) || retained_.count(m.topic) != 0) return;  // our own echo, or gone
  log()->info("Home Assistant discovery: moving {} to {} discovery (migrate_discovery)", m.topic,
              ha_device_mode() ? "device" : "entity");
  send({m.topic, kMigratePayload, 1, true});  // step 1: HA unloads it and keeps the entities
  if (scanning_) {
    leftovers_.insert(m.topic);  // steps 2 and 3 when the scan ends
    return;
  }
  // A config that turned up later: re-send the node's new config, then clear the old one. The
  // node id is the level after the component (entity topics) or after "device" (device topics).
  const std::string rest = m.topic.substr(options_.homeassistant.prefix.size() + 1);
  const auto first = rest.find('/');
  const auto node_end = first == std::string::npos ? std::string::npos : rest.find('/', first + 1);
  if (node_end == std::string::npos) return;
  const std::string node = rest.substr(first + 1, node_end - first - 1);
  send_discovery_of(node);
  clear_retained(m.topic);
}

void MqttBridge::send_discovery_of(const std::string& node_id) {
  for (const auto& [topic, payload] : retained_) {
    if (is_discovery_topic(topic) && topic.find("/" + node_id + "/") != std::string::npos) {
      send({topic, payload, retained_qos_[topic], true});
    }
  }
}

void MqttBridge::republish_for_ha() {
  if (!connected_ || scanning_) return;
  log()->info("Home Assistant: republishing discovery, then states");
  for (const auto& [topic, payload] : retained_) {
    if (is_discovery_topic(topic)) send({topic, payload, retained_qos_[topic], true});
  }
  for (const auto& [topic, payload] : retained_) {
    if (!is_discovery_topic(topic)) send({topic, payload, retained_qos_[topic], true});
  }
}

}  // namespace loxcan::mqtt
