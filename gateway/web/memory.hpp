#pragma once
// WebMemory: what the pages show beyond the daemon's own state, kept bounded in memory on the
// loop thread: the current value of every channel, a short event log per device, the last hour of
// each numeric channel (one point per 30 s bucket: the last value in it) and the last frames.
//
// It sits on the bus path (every value change of every device passes through record()), so it
// keeps compact records and builds JSON only when a page asks: per device a slot with its channels
// (current value, unit, history series) and a fixed ring of small event records; a history point is
// appended only when the 30 s bucket changes, else the last one is overwritten. With a live-stream
// client record() also writes the event's JSON line, by hand from pieces cached per device and
// channel (no nlohmann::json per value event). The rarer events (device states, new devices, bus
// events, rejections) are kept as JSON objects in the global log.
//
// Bounds (the web view's RSS budget is 1.5 MiB): kMaxDevices devices with kMaxChannels channels
// each (events of further devices/channels are streamed but not kept), kEventsPerDevice event
// records per device, kRecentEvents global, history_min * 2 points per series and at most
// kMaxSeries series, kFrames frames. What that costs: a device ~1.7 KB for its event ring (30
// records of 56 bytes), a channel ~0.2 KB, a numeric channel's hour of history ~1 KB (120 points
// of 8 bytes), the frame ring 0.2 MB (2000 frames of 104 bytes); a bus of 30 devices with 20
// channels each, all numeric, ~0.8 MB after an hour besides the frame ring (the JSON-object store
// this replaced kept the same history, a JSON object per event and no bound on devices). Nothing is
// allocated per value event once a channel has its slot and its device's ring is full (except a
// text value longer than the short-string buffer); the frame ring is filled in place.
//
// Output (values(), events(), history(), recent_events(), the stream lines) is the JSON the
// previous JSON-object store produced, byte for byte (tests/web/web_memory_test.cpp checks it
// against that store), with one difference: events show the device's current name and model,
// not the ones it had when the event happened (they differ only after a rename by SIGHUP).

#include <array>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "canproto/frame.hpp"
#include "devices/events.hpp"
#include "gateway/web/api.hpp"

namespace loxcan::web {

class WebMemory final : public Memory {
 public:
  static constexpr std::size_t kMaxDevices = 512;
  static constexpr std::size_t kMaxChannels = 128;  ///< per device
  static constexpr std::size_t kEventsPerDevice = 30;
  static constexpr std::size_t kRecentEvents = 100;
  static constexpr std::size_t kMaxSeries = 1024;
  static constexpr std::size_t kFrames = 2000;
  static constexpr std::int64_t kBucketNs = 30'000'000'000;

  explicit WebMemory(std::uint32_t history_min = 60) : points_(history_min * 2) {}

  /// Records a (translated) event and returns its stream event name: "value", "command", "state",
  /// "seen" or "bus". With `stream_line`, also replaces its content with the event as one line of
  /// JSON for the live stream: {"type": <name>, "serial", "device", ...} (see web_view.hpp).
  std::string_view record(const devices::Event& e, std::string* stream_line = nullptr);
  /// A rejected command (or any other event without a device) for the global log.
  void record_recent(nlohmann::json event);
  void record_frame(const canproto::Frame& f) {
    frames_[next_frame_ % kFrames] = f;
    ++next_frame_;
  }

  nlohmann::json values(std::uint32_t serial) const override;
  nlohmann::json events(std::uint32_t serial) const override;
  nlohmann::json history(std::uint32_t serial) const override;
  std::string candump(std::size_t n) const override;
  nlohmann::json recent_events() const;

  /// For the bounds test: devices with a slot, series allocated.
  std::size_t device_count() const { return devices_.size(); }
  std::size_t series_count() const { return series_.size(); }

 private:
  enum class Kind : std::uint8_t { value, command, state, seen };
  struct Point {
    std::uint32_t t;  ///< seconds since the Unix epoch (start of the bucket)
    float v;
  };
  /// A fixed-capacity ring, filled before it wraps (`head` is the oldest once full).
  template <class T>
  struct Ring {
    std::vector<T> items;
    std::size_t head = 0;
    void push(T item, std::size_t capacity);
    template <class F>
    void for_each_oldest_first(F&& f) const;
  };
  struct Channel {
    std::string id;
    std::string unit;
    std::string key_json;   ///< {"channel":"<id>"  (the start of its stream lines)
    std::string unit_json;  ///< ,"unit":"<unit>"
    devices::ChannelValue value;
    std::int32_t series = -1;  ///< index into series_, -1: none yet
  };
  struct EventRecord {
    std::int64_t ts_ns = 0;
    Kind kind = Kind::value;
    devices::DeviceState from = devices::DeviceState::offline, to = from;
    std::uint16_t channel = 0;  ///< value and command: index into Device::channels
    devices::ChannelValue value;
  };
  struct Device {
    std::uint32_t serial = 0;
    std::string name;
    std::string model;
    std::string name_json;  ///< ,"device":"<name>","serial":"<serial>"
    std::vector<Channel> channels;
    Ring<EventRecord> events;
  };

  Device* device(const devices::DeviceInfo& info);
  const Device* find(std::uint32_t serial) const;
  Channel* channel(Device& d, const std::string& id);
  void add_point(Channel& c, double v, std::int64_t ts_ns);
  nlohmann::json event_json(const Device& d, const EventRecord& r) const;
  /// The events without a stored slot (over the bounds) and the rare kinds: as JSON objects.
  nlohmann::json record_json(const devices::Event& e, std::string_view& type);

  std::size_t points_;
  std::vector<Device> devices_;
  std::unordered_map<std::uint32_t, std::uint32_t> index_;  ///< serial -> devices_ index
  std::uint32_t last_ = UINT32_MAX;                         ///< devices_ index of the last hit
  std::vector<Ring<Point>> series_;
  std::deque<nlohmann::json> recent_;
  std::array<canproto::Frame, kFrames> frames_{};
  std::uint64_t next_frame_ = 0;
};

/// A ChannelValue as JSON: bool, number, {"r","g","b","w"} or string.
nlohmann::json value_json(const devices::ChannelValue& v);
/// "13000001".
std::string serial_text(std::uint32_t serial);
/// Appends `s` as nlohmann::json::dump(-1, ' ', false, replace) writes it (a JSON string).
void append_json_text(std::string& out, std::string_view s);
/// Appends `v` as nlohmann::json::dump writes a number_float ("null" when not finite).
void append_json_number(std::string& out, double v);
/// Appends value_json(v).dump(-1, ' ', false, replace) without building the JSON object.
void append_json_value(std::string& out, const devices::ChannelValue& v);

}  // namespace loxcan::web
