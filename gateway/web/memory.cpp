#include "gateway/web/memory.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "canproto/candump.hpp"

namespace loxcan::web {
namespace {

using json = nlohmann::json;

double ns_to_s(std::int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

template <class Deque>
void push_bounded(Deque& d, typename Deque::value_type v, std::size_t max) {
  d.push_back(std::move(v));
  while (d.size() > max) d.pop_front();
}

// Printable ASCII without '"' and '\\': written as is by nlohmann's dump (the usual case).
bool plain_ascii(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return false;
  }
  return true;
}

template <class Int>
void append_int(std::string& out, Int v) {
  char b[24];
  auto [end, ec] = std::to_chars(b, b + sizeof b, v);
  out.append(b, end);
}

std::string_view kind_name(bool command) {
  return command ? "command" : "value";
}

}  // namespace

std::string serial_text(std::uint32_t serial) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", serial);
  return buf;
}

json value_json(const devices::ChannelValue& v) {
  return std::visit(
      [](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, devices::Rgbw>) {
          return {{"r", x.r}, {"g", x.g}, {"b", x.b}, {"w", x.w}};
        } else {
          return x;
        }
      },
      v);
}

void append_json_text(std::string& out, std::string_view s) {
  if (plain_ascii(s)) {
    out += '"';
    out.append(s);
    out += '"';
    return;
  }
  // Escapes, UTF-8 and the replacement of invalid bytes exactly as the JSON library does them.
  out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char b[64];
  // The JSON library's own shortest form (grisu2, "22.0", "1e+16"): the same text as its dump().
  char* end = nlohmann::detail::to_chars(b, b + sizeof b, v);
  out.append(b, end);
}

void append_json_value(std::string& out, const devices::ChannelValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          append_json_number(out, x);
        } else if constexpr (std::is_same_v<T, std::uint32_t>) {
          append_int(out, x);
        } else if constexpr (std::is_same_v<T, devices::Rgbw>) {
          // An object's keys come out sorted.
          out += "{\"b\":", append_int(out, x.b);
          out += ",\"g\":", append_int(out, x.g);
          out += ",\"r\":", append_int(out, x.r);
          out += ",\"w\":", append_int(out, x.w);
          out += '}';
        } else {
          append_json_text(out, x);
        }
      },
      v);
}

// ---- the rings ---------------------------------------------------------------------------------

template <class T>
void WebMemory::Ring<T>::push(T item, std::size_t capacity) {
  if (capacity == 0) return;
  if (items.size() < capacity) {
    items.push_back(std::move(item));
    return;
  }
  items[head] = std::move(item);
  head = (head + 1) % items.size();
}

template <class T>
template <class F>
void WebMemory::Ring<T>::for_each_oldest_first(F&& f) const {
  for (std::size_t i = 0; i < items.size(); ++i) f(items[(head + i) % items.size()]);
}

// ---- recording (the bus path) ------------------------------------------------------------------

WebMemory::Device* WebMemory::device(const devices::DeviceInfo& info) {
  Device* d = nullptr;
  if (last_ < devices_.size() && devices_[last_].serial == info.serial) {
    d = &devices_[last_];
  } else if (auto it = index_.find(info.serial); it != index_.end()) {
    last_ = it->second;
    d = &devices_[last_];
  } else {
    if (devices_.size() >= kMaxDevices) return nullptr;
    last_ = static_cast<std::uint32_t>(devices_.size());
    index_.emplace(info.serial, last_);
    d = &devices_.emplace_back();
    d->serial = info.serial;
    d->events.items.reserve(kEventsPerDevice);
  }
  if (d->name != info.name || d->name_json.empty()) {
    d->name = info.name;
    d->name_json = ",\"device\":";
    append_json_text(d->name_json, d->name);
    d->name_json += ",\"serial\":\"" + serial_text(d->serial) + '"';
  }
  if (d->model != info.model) d->model = info.model;
  return d;
}

const WebMemory::Device* WebMemory::find(std::uint32_t serial) const {
  auto it = index_.find(serial);
  return it == index_.end() ? nullptr : &devices_[it->second];
}

WebMemory::Channel* WebMemory::channel(Device& d, const std::string& id) {
  for (auto& c : d.channels) {
    if (c.id == id) return &c;
  }
  if (d.channels.size() >= kMaxChannels) return nullptr;
  Channel& c = d.channels.emplace_back();
  c.id = id;
  c.key_json = "{\"channel\":";
  append_json_text(c.key_json, id);
  c.unit_json = ",\"unit\":\"\"";
  return &c;
}

std::string_view WebMemory::record(const devices::Event& e, std::string* stream_line) {
  const auto* changed = std::get_if<devices::ChannelChanged>(&e);
  const auto* command = std::get_if<devices::Command>(&e);
  if (changed == nullptr && command == nullptr) {
    // The rare kinds: a device's state, a new device, a bus event.
    std::string_view type;
    json j = record_json(e, type);
    const auto* state = std::get_if<devices::DeviceStateChanged>(&e);
    const auto* seen = std::get_if<devices::DeviceSeen>(&e);
    const devices::DeviceInfo* info = state ? &state->device : seen ? &seen->device : nullptr;
    if (info != nullptr) {
      Device* d = device(*info);
      if (d != nullptr && d->serial != 0) {
        EventRecord r;
        r.ts_ns = state ? state->ts_ns : seen->ts_ns;
        r.kind = state ? Kind::state : Kind::seen;
        if (state) r.from = state->from, r.to = state->to;
        d->events.push(std::move(r), kEventsPerDevice);
      }
    }
    if (stream_line) *stream_line = j.dump(-1, ' ', false, json::error_handler_t::replace);
    record_recent(std::move(j));
    return type;
  }
  const devices::DeviceInfo& info = changed ? changed->device : command->device;
  const std::string& id = changed ? changed->channel : command->channel;
  const devices::ChannelValue& value = changed ? changed->value : command->value;
  const std::int64_t ts_ns = changed ? changed->ts_ns : command->ts_ns;
  Device* d = device(info);
  Channel* c = d ? channel(*d, id) : nullptr;
  if (c == nullptr) {  // over the bounds: streamed, not kept
    std::string_view type;
    if (stream_line) {
      *stream_line = record_json(e, type).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return kind_name(command != nullptr);
  }
  if (changed && changed->unit != c->unit) {
    c->unit = changed->unit;
    c->unit_json = ",\"unit\":";
    append_json_text(c->unit_json, c->unit);
  }
  // An output's commanded state is its value until the device reports otherwise.
  c->value = value;
  if (const double* v = std::get_if<double>(&value)) add_point(*c, *v, ts_ns);
  if (const bool* b = std::get_if<bool>(&value)) add_point(*c, *b ? 1 : 0, ts_ns);
  if (const std::uint32_t* u = std::get_if<std::uint32_t>(&value)) add_point(*c, *u, ts_ns);
  if (d->serial != 0) {
    EventRecord r;
    r.ts_ns = ts_ns;
    r.kind = command ? Kind::command : Kind::value;
    r.channel = static_cast<std::uint16_t>(c - d->channels.data());
    r.value = value;
    d->events.push(std::move(r), kEventsPerDevice);
  }
  if (stream_line) {
    // The keys in the order the JSON library sorts them: channel, device, serial, ts, type,
    // unit, value.
    std::string& o = *stream_line;
    o.assign(c->key_json).append(d->name_json).append(",\"ts\":");
    append_json_number(o, ns_to_s(ts_ns));
    o.append(",\"type\":\"").append(kind_name(command != nullptr)).append("\"");
    if (changed) o.append(c->unit_json);
    o.append(",\"value\":");
    append_json_value(o, value);
    o += '}';
  }
  return kind_name(command != nullptr);
}

void WebMemory::record_recent(json event) {
  push_bounded(recent_, std::move(event), kRecentEvents);
}

json WebMemory::record_json(const devices::Event& e, std::string_view& type) {
  json out;
  std::visit(
      [&](const auto& ev) {
        using T = std::decay_t<decltype(ev)>;
        out["ts"] = ns_to_s(ev.ts_ns);
        if constexpr (std::is_same_v<T, devices::BusEvent>) {
          type = "bus";
          out["kind"] = ev.kind;
          out["detail"] = ev.detail;
          out["raw"] = ev.raw;
        } else {
          out["serial"] = serial_text(ev.device.serial);
          out["device"] = ev.device.name;
          if constexpr (std::is_same_v<T, devices::ChannelChanged>) {
            type = "value";
            out["channel"] = ev.channel;
            out["value"] = value_json(ev.value);
            out["unit"] = ev.unit;
          } else if constexpr (std::is_same_v<T, devices::Command>) {
            type = "command";
            out["channel"] = ev.channel;
            out["value"] = value_json(ev.value);
          } else if constexpr (std::is_same_v<T, devices::DeviceStateChanged>) {
            type = "state";
            out["from"] = std::string(devices::to_string(ev.from));
            out["to"] = std::string(devices::to_string(ev.to));
          } else {
            type = "seen";
            out["model"] = ev.device.model;
          }
        }
        out["type"] = std::string(type);
      },
      e);
  return out;
}

// One point per bucket: a new point only when the bucket changes, else the last one is updated.
void WebMemory::add_point(Channel& c, double v, std::int64_t ts_ns) {
  if (c.series < 0) {
    if (series_.size() >= kMaxSeries) return;
    c.series = static_cast<std::int32_t>(series_.size());
    series_.emplace_back();
  }
  auto& s = series_[static_cast<std::size_t>(c.series)];
  const auto bucket = static_cast<std::uint32_t>((ts_ns / kBucketNs) * (kBucketNs / 1'000'000'000));
  if (!s.items.empty()) {
    Point& last = s.items[(s.head + s.items.size() - 1) % s.items.size()];
    if (last.t == bucket) {
      last.v = static_cast<float>(v);
      return;
    }
  }
  s.push(Point{bucket, static_cast<float>(v)}, points_);
}

// ---- what the pages ask (JSON built here) ------------------------------------------------------

json WebMemory::event_json(const Device& d, const EventRecord& r) const {
  json out;
  out["ts"] = ns_to_s(r.ts_ns);
  out["serial"] = serial_text(d.serial);
  out["device"] = d.name;
  switch (r.kind) {
    case Kind::value:
    case Kind::command: {
      const Channel& c = d.channels[r.channel];
      out["type"] = std::string(kind_name(r.kind == Kind::command));
      out["channel"] = c.id;
      out["value"] = value_json(r.value);
      if (r.kind == Kind::value) out["unit"] = c.unit;
      break;
    }
    case Kind::state:
      out["type"] = "state";
      out["from"] = std::string(devices::to_string(r.from));
      out["to"] = std::string(devices::to_string(r.to));
      break;
    case Kind::seen:
      out["type"] = "seen";
      out["model"] = d.model;
      break;
  }
  return out;
}

json WebMemory::values(std::uint32_t serial) const {
  json out = json::object();
  if (const Device* d = find(serial)) {
    for (const auto& c : d->channels) out[c.id] = value_json(c.value);
  }
  return out;
}

json WebMemory::events(std::uint32_t serial) const {
  json out = json::array();
  const Device* d = find(serial);
  if (d == nullptr) return out;
  d->events.for_each_oldest_first([&](const EventRecord& r) { out.push_back(event_json(*d, r)); });
  std::reverse(out.begin(), out.end());  // newest first
  return out;
}

json WebMemory::history(std::uint32_t serial) const {
  json out = json::object();
  const Device* d = find(serial);
  if (d == nullptr) return out;
  for (const auto& c : d->channels) {
    if (c.series < 0) continue;
    json points = json::array();
    series_[static_cast<std::size_t>(c.series)].for_each_oldest_first([&](const Point& p) {
      points.push_back({p.t, p.v});
    });
    out[c.id] = std::move(points);
  }
  return out;
}

json WebMemory::recent_events() const {
  json out = json::array();
  for (auto e = recent_.rbegin(); e != recent_.rend(); ++e) out.push_back(*e);
  return out;
}

std::string WebMemory::candump(std::size_t n) const {
  const std::uint64_t have = std::min<std::uint64_t>(next_frame_, kFrames);
  const std::uint64_t count = std::min<std::uint64_t>(have, n);
  std::string out;
  out.reserve(count * 48);
  char line[canproto::kMaxLogLineText];
  for (std::uint64_t i = next_frame_ - count; i < next_frame_; ++i) {
    out.append(line, canproto::format_log_line(frames_[i % kFrames], line));
    out += '\n';
  }
  return out;
}

}  // namespace loxcan::web
