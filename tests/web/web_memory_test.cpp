// WebMemory, the web view's store on the bus path: its output (the live-stream line of every
// event, /api/devices values, /api/devices/<serial> events and history, /api/stats events) is
// byte for byte what the previous store, which kept nlohmann::json objects per event, produced
// (that store is kept below as the reference), and its bounds hold.
#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "gateway/web/memory.hpp"

namespace {

using json = nlohmann::json;
using namespace loxcan;
using loxcan::web::WebMemory;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The store before the compact records (commit 0339266, gateway/web/memory.cpp), reduced to what
// it produced: a JSON object per event, kept in maps and deques.
class ReferenceMemory {
 public:
  explicit ReferenceMemory(std::uint32_t history_min) : points_(history_min * 2) {}

  json record(const devices::Event& e) {
    json out;
    std::uint32_t serial = 0;
    std::visit(
        [&](const auto& ev) {
          using T = std::decay_t<decltype(ev)>;
          out["ts"] = static_cast<double>(ev.ts_ns) / 1e9;
          if constexpr (std::is_same_v<T, devices::BusEvent>) {
            out["type"] = "bus";
            out["kind"] = ev.kind;
            out["detail"] = ev.detail;
            out["raw"] = ev.raw;
          } else {
            serial = ev.device.serial;
            out["serial"] = web::serial_text(serial);
            out["device"] = ev.device.name;
            if constexpr (std::is_same_v<T, devices::ChannelChanged>) {
              out["type"] = "value";
              out["channel"] = ev.channel;
              out["value"] = web::value_json(ev.value);
              out["unit"] = ev.unit;
              values_[serial][ev.channel] = out["value"];
              add_numeric(serial, ev.channel, ev.value, ev.ts_ns);
            } else if constexpr (std::is_same_v<T, devices::Command>) {
              out["type"] = "command";
              out["channel"] = ev.channel;
              out["value"] = web::value_json(ev.value);
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
    if (serial != 0) push(events_[serial], out, WebMemory::kEventsPerDevice);
    const std::string type = out.value("type", "");
    if (type != "value" && type != "command") push(recent_, out, WebMemory::kRecentEvents);
    return out;
  }

  json values(std::uint32_t serial) const {
    json out = json::object();
    if (auto it = values_.find(serial); it != values_.end()) {
      for (const auto& [channel, v] : it->second) out[channel] = v;
    }
    return out;
  }
  json events(std::uint32_t serial) const {
    json out = json::array();
    if (auto it = events_.find(serial); it != events_.end()) {
      for (auto e = it->second.rbegin(); e != it->second.rend(); ++e) out.push_back(*e);
    }
    return out;
  }
  json history(std::uint32_t serial) const {
    json out = json::object();
    for (auto it = history_.lower_bound({serial, std::string()});
         it != history_.end() && it->first.first == serial; ++it) {
      json points = json::array();
      for (const auto& p : it->second) points.push_back({p.t, p.v});
      out[it->first.second] = std::move(points);
    }
    return out;
  }
  json recent_events() const {
    json out = json::array();
    for (auto e = recent_.rbegin(); e != recent_.rend(); ++e) out.push_back(*e);
    return out;
  }

 private:
  struct Point {
    std::uint32_t t;
    float v;
  };
  template <class D>
  static void push(D& d, typename D::value_type v, std::size_t max) {
    d.push_back(std::move(v));
    while (d.size() > max) d.pop_front();
  }
  void add_numeric(std::uint32_t serial, const std::string& channel, const devices::ChannelValue& v,
                   std::int64_t ts_ns) {
    if (const double* d = std::get_if<double>(&v)) add_point(serial, channel, *d, ts_ns);
    if (const bool* b = std::get_if<bool>(&v)) add_point(serial, channel, *b ? 1 : 0, ts_ns);
    if (const std::uint32_t* u = std::get_if<std::uint32_t>(&v))
      add_point(serial, channel, *u, ts_ns);
  }
  void add_point(std::uint32_t serial, const std::string& channel, double v, std::int64_t ts_ns) {
    auto key = std::make_pair(serial, channel);
    auto it = history_.find(key);
    if (it == history_.end()) {
      if (history_.size() >= WebMemory::kMaxSeries) return;
      it = history_.emplace(std::move(key), std::deque<Point>{}).first;
    }
    const auto bucket = static_cast<std::uint32_t>((ts_ns / WebMemory::kBucketNs) * 30);
    auto& points = it->second;
    if (!points.empty() && points.back().t == bucket) {
      points.back().v = static_cast<float>(v);
    } else {
      push(points, Point{bucket, static_cast<float>(v)}, points_);
    }
  }

  std::size_t points_;
  std::map<std::uint32_t, std::map<std::string, json>> values_;
  std::map<std::uint32_t, std::deque<json>> events_;
  std::deque<json> recent_;
  std::map<std::pair<std::uint32_t, std::string>, std::deque<Point>> history_;
};

// Strings that exercise the escaping: quotes, backslashes, control characters, UTF-8, bytes that
// are not UTF-8 (replaced by U+FFFD), DEL.
const std::vector<std::string> kTexts = {
    "",         "plain", "22.5 °C",  "quote\"d", "back\\slash",  "tab\there",    "nl\nx",
    "\x01\x1f", "\x7f",  "\xff\xfe", "caf\xc3",  "\xe2\x82\xac", "\xed\xa0\x80", "a/b<c>&"};

devices::ChannelValue random_value(std::mt19937& rng) {
  const std::vector<double> numbers = {0.0,
                                       -0.0,
                                       22.5,
                                       0.1,
                                       1e16,
                                       1e-5,
                                       -3.25,
                                       100.0,
                                       1e300,
                                       123456789.123,
                                       7.0,
                                       std::nan(""),
                                       std::numeric_limits<double>::infinity()};
  switch (rng() % 5) {
    case 0: return rng() % 2 == 0;
    case 1: return numbers[rng() % numbers.size()];
    case 2: return static_cast<std::uint32_t>(rng());
    case 3:
      return devices::Rgbw{
          static_cast<std::uint8_t>(rng() % 101), static_cast<std::uint8_t>(rng() % 101),
          static_cast<std::uint8_t>(rng() % 101), static_cast<std::uint8_t>(rng() % 101)};
    default: return kTexts[rng() % kTexts.size()];
  }
}

struct Bus {
  // Device i: a fixed name and model (a rename is the documented difference); channel j of any
  // device: a fixed unit.
  std::vector<devices::DeviceInfo> devices;
  std::vector<std::string> channels = {"i1", "ai1", "q1", "temp\"x", "b\xc3\xa4r", "aq1"};
  std::vector<std::string> units = {"", "%", "", "°C", "\x01u", "lx"};
  Bus() {
    for (std::uint32_t i = 0; i < 5; ++i) {
      devices::DeviceInfo d;
      d.serial = i == 4 ? 0 : 0x13000001 + i;  // serial 0: values kept, no device log
      d.name = i == 1 ? "caf\xc3\xa9 \"cellar\"" : "dev-" + std::to_string(i) + "-a-long-name";
      d.model = i == 2 ? "touch_tree" : "di_extension";
      devices.push_back(d);
    }
  }
  devices::Event random_event(std::mt19937& rng, std::int64_t ts_ns) {
    const auto& d = devices[rng() % devices.size()];
    const std::size_t c = rng() % channels.size();
    switch (rng() % 10) {
      case 0: {
        const auto s = [&] { return static_cast<devices::DeviceState>(rng() % 3); };
        return devices::DeviceStateChanged{d, s(), s(), ts_ns};
      }
      case 1: return devices::DeviceSeen{d, ts_ns};
      case 2:
        return devices::BusEvent{"unknown_message", kTexts[rng() % kTexts.size()], "12345678#0102",
                                 ts_ns};
      case 3:
      case 4: return devices::Command{d, channels[c], random_value(rng), ts_ns};
      default: return devices::ChannelChanged{d, channels[c], random_value(rng), units[c], ts_ns};
    }
  }
};

void expect_same_pages(const WebMemory& memory, const ReferenceMemory& reference, const Bus& bus) {
  for (const auto& d : bus.devices) {
    EXPECT_EQ(dump(memory.values(d.serial)), dump(reference.values(d.serial)));
    EXPECT_EQ(dump(memory.events(d.serial)), dump(reference.events(d.serial)));
    EXPECT_EQ(dump(memory.history(d.serial)), dump(reference.history(d.serial)));
  }
  EXPECT_EQ(dump(memory.values(0xDEADBEEF)), dump(reference.values(0xDEADBEEF)));
  EXPECT_EQ(dump(memory.events(0xDEADBEEF)), dump(reference.events(0xDEADBEEF)));
  EXPECT_EQ(dump(memory.recent_events()), dump(reference.recent_events()));
}

TEST(WebMemory, SameJsonAsTheObjectStore) {
  WebMemory memory(3);  // 6 points per series: the history rings wrap
  ReferenceMemory reference(3);
  Bus bus;
  std::mt19937 rng(16);
  std::int64_t ts = 1'733'342'400'123'456'789;
  std::string line;
  for (int i = 0; i < 20000; ++i) {
    ts += static_cast<std::int64_t>(rng() % 4'000'000'000);  // up to 4 s: buckets fill and change
    const devices::Event e = bus.random_event(rng, ts);
    const json old = reference.record(e);
    const std::string_view type = memory.record(e, i % 2 == 0 ? &line : nullptr);
    ASSERT_EQ(type, old.value("type", "")) << dump(old);
    if (i % 2 == 0) {
      ASSERT_EQ(line, dump(old)) << "event " << i;
    }
    if (i % 997 == 0) expect_same_pages(memory, reference, bus);
  }
  expect_same_pages(memory, reference, bus);
}

TEST(WebMemory, NumbersAsTheJsonLibraryWritesThem) {
  for (double v :
       {0.0, -0.0, 1.0, 22.5, 0.1, 1e15, 1e16, 1e-4, 1e-5, 5e-324, 1.7976931348623157e308,
        1733342400.123456789, -12.75, std::nan(""), -std::numeric_limits<double>::infinity()}) {
    std::string s;
    web::append_json_number(s, v);
    EXPECT_EQ(s, dump(json(v))) << v;
  }
}

TEST(WebMemory, StaysWithinItsBounds) {
  WebMemory memory(2);  // 4 points per series
  std::string line;
  std::int64_t ts = 1'733'342'400'000'000'000;
  for (std::uint32_t dev = 0; dev < WebMemory::kMaxDevices + 10; ++dev) {
    devices::DeviceInfo info{0x10000000 + dev,
                             0,
                             devices::Generation::nat_extension,
                             "m",
                             "dev" + std::to_string(dev),
                             0};
    for (std::size_t ch = 0; ch < (dev == 0 ? WebMemory::kMaxChannels + 5 : 3); ++ch) {
      for (int k = 0; k < 12; ++k) {
        ts += WebMemory::kBucketNs;  // a new history point every time
        memory.record(devices::ChannelChanged{info, "c" + std::to_string(ch), double(k), "", ts},
                      &line);
      }
    }
    memory.record(devices::DeviceSeen{info, ts});
  }
  EXPECT_EQ(memory.device_count(), WebMemory::kMaxDevices);
  EXPECT_EQ(memory.series_count(), WebMemory::kMaxSeries);
  const json first = memory.values(0x10000000);
  EXPECT_EQ(first.size(), WebMemory::kMaxChannels);
  EXPECT_EQ(memory.events(0x10000000).size(), WebMemory::kEventsPerDevice);
  const json history = memory.history(0x10000000);
  for (const auto& [channel, points] : history.items()) EXPECT_EQ(points.size(), 4u) << channel;
  EXPECT_EQ(memory.recent_events().size(), WebMemory::kRecentEvents);
  // A device over the bound: nothing kept, but its events are still streamed in full.
  const std::uint32_t extra = 0x10000000 + WebMemory::kMaxDevices + 1;
  EXPECT_EQ(memory.values(extra), json::object());
  EXPECT_EQ(memory.events(extra), json::array());
  devices::DeviceInfo info{extra, 0, devices::Generation::nat_extension, "m", "late", 0};
  EXPECT_EQ(memory.record(devices::ChannelChanged{info, "i1", true, "", ts}, &line), "value");
  EXPECT_EQ(json::parse(line)["device"], "late");
  EXPECT_EQ(json::parse(line)["value"], true);
}

TEST(WebMemory, HistoryKeepsTheLastValueOfEachBucket) {
  WebMemory memory(60);
  devices::DeviceInfo info{0x13000001, 0, devices::Generation::nat_extension, "m", "d", 0};
  const std::int64_t t0 = 1'733'342'400'000'000'000;  // a bucket start
  for (int k = 0; k < 30; ++k)
    memory.record(devices::ChannelChanged{info, "ai1", double(k), "V", t0 + k * 1'000'000'000LL});
  memory.record(devices::ChannelChanged{info, "ai1", 99.0, "V", t0 + WebMemory::kBucketNs});
  EXPECT_EQ(dump(memory.history(0x13000001)), R"({"ai1":[[1733342400,29.0],[1733342430,99.0]]})");
  EXPECT_EQ(memory.values(0x13000001)["ai1"], 99.0);
}

}  // namespace
