#include "gateway/web/memory.hpp"

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

json WebMemory::record(const devices::Event& e) {
  json out;
  std::uint32_t serial = 0;
  std::visit(
      [&](const auto& ev) {
        using T = std::decay_t<decltype(ev)>;
        out["ts"] = ns_to_s(ev.ts_ns);
        if constexpr (std::is_same_v<T, devices::BusEvent>) {
          out["type"] = "bus";
          out["kind"] = ev.kind;
          out["detail"] = ev.detail;
          out["raw"] = ev.raw;
        } else {
          serial = ev.device.serial;
          out["serial"] = serial_text(serial);
          out["device"] = ev.device.name;
          if constexpr (std::is_same_v<T, devices::ChannelChanged>) {
            out["type"] = "value";
            out["channel"] = ev.channel;
            out["value"] = value_json(ev.value);
            out["unit"] = ev.unit;
            values_[serial][ev.channel] = out["value"];
            add_numeric(serial, ev.channel, ev.value, ev.ts_ns);
          } else if constexpr (std::is_same_v<T, devices::Command>) {
            // An output's commanded state is its value until the device reports otherwise.
            out["type"] = "command";
            out["channel"] = ev.channel;
            out["value"] = value_json(ev.value);
            values_[serial][ev.channel] = out["value"];
            add_numeric(serial, ev.channel, ev.value, ev.ts_ns);
          } else if constexpr (std::is_same_v<T, devices::DeviceStateChanged>) {
            out["type"] = "state";
            out["from"] = std::string(devices::to_string(ev.from));
            out["to"] = std::string(devices::to_string(ev.to));
          } else {
            out["type"] = "seen";
            out["model"] = ev.device.model;
          }
        }
      },
      e);
  record_event(serial, out);
  return out;
}

void WebMemory::record_event(std::uint32_t serial, const json& event) {
  // Values and commands are frequent: the per-device log keeps them, the global log (the Devices
  // page's "recent bus events") keeps the rarer kinds: states, new devices, bus events, rejections.
  if (serial != 0) push_bounded(events_[serial], event, kEventsPerDevice);
  const std::string type = event.value("type", "");
  if (type != "value" && type != "command") push_bounded(recent_, event, kRecentEvents);
}

void WebMemory::add_numeric(std::uint32_t serial, const std::string& channel,
                            const devices::ChannelValue& v, std::int64_t ts_ns) {
  if (const double* d = std::get_if<double>(&v)) add_point(serial, channel, *d, ts_ns);
  if (const bool* b = std::get_if<bool>(&v)) add_point(serial, channel, *b ? 1 : 0, ts_ns);
  if (const std::uint32_t* u = std::get_if<std::uint32_t>(&v))
    add_point(serial, channel, *u, ts_ns);
}

void WebMemory::add_point(std::uint32_t serial, const std::string& channel, double v,
                          std::int64_t ts_ns) {
  auto key = std::make_pair(serial, channel);
  auto it = history_.find(key);
  if (it == history_.end()) {
    if (history_.size() >= kMaxSeries) return;
    it = history_.emplace(std::move(key), std::deque<Point>{}).first;
  }
  const auto bucket = static_cast<std::uint32_t>((ts_ns / kBucketNs) * (kBucketNs / 1'000'000'000));
  auto& points = it->second;
  if (!points.empty() && points.back().t == bucket) {
    points.back().v = static_cast<float>(v);
  } else {
    push_bounded(points, Point{bucket, static_cast<float>(v)}, points_);
  }
}

json WebMemory::values(std::uint32_t serial) const {
  auto it = values_.find(serial);
  if (it == values_.end()) return json::object();
  json out = json::object();
  for (const auto& [channel, v] : it->second) out[channel] = v;
  return out;
}

json WebMemory::events(std::uint32_t serial) const {
  json out = json::array();
  if (auto it = events_.find(serial); it != events_.end()) {
    for (auto e = it->second.rbegin(); e != it->second.rend(); ++e) out.push_back(*e);
  }
  return out;
}

json WebMemory::history(std::uint32_t serial) const {
  json out = json::object();
  for (auto it = history_.lower_bound({serial, std::string()});
       it != history_.end() && it->first.first == serial; ++it) {
    json points = json::array();
    for (const auto& p : it->second) points.push_back({p.t, p.v});
    out[it->first.second] = std::move(points);
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
