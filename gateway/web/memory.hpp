#pragma once
// WebMemory: what the pages show beyond the daemon's own state, kept bounded in memory on the
// loop thread: the current value of every channel, a short event log per device, the last hour of
// each numeric channel (one point per 30 s bucket: the last value in it) and the last frames.
//
// Bounds (the web view's RSS budget is 1.5 MiB): kEventsPerDevice events per device,
// kRecentEvents global, history_min * 2 points per series and at most kMaxSeries series,
// kFrames frames. Nothing is allocated per frame (the frame ring is filled in place).

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "canproto/frame.hpp"
#include "devices/events.hpp"
#include "gateway/web/api.hpp"

namespace loxcan::web {

class WebMemory final : public Memory {
 public:
  static constexpr std::size_t kEventsPerDevice = 30;
  static constexpr std::size_t kRecentEvents = 100;
  static constexpr std::size_t kMaxSeries = 1024;
  static constexpr std::size_t kFrames = 2000;
  static constexpr std::int64_t kBucketNs = 30'000'000'000;

  explicit WebMemory(std::uint32_t history_min = 60) : points_(history_min * 2) {}

  /// Records a (translated) event; returns its JSON form for the live stream:
  /// {"type": "value"|"command"|"state"|"seen"|"bus", ...}.
  nlohmann::json record(const devices::Event& e);
  void record_event(std::uint32_t serial, const nlohmann::json& event);
  void record_frame(const canproto::Frame& f) {
    frames_[next_frame_ % kFrames] = f;
    ++next_frame_;
  }

  nlohmann::json values(std::uint32_t serial) const override;
  nlohmann::json events(std::uint32_t serial) const override;
  nlohmann::json history(std::uint32_t serial) const override;
  std::string candump(std::size_t n) const override;
  nlohmann::json recent_events() const;

 private:
  struct Point {
    std::uint32_t t;  ///< seconds since the Unix epoch (start of the bucket)
    float v;
  };
  void add_numeric(std::uint32_t serial, const std::string& channel, const devices::ChannelValue& v,
                   std::int64_t ts_ns);
  void add_point(std::uint32_t serial, const std::string& channel, double v, std::int64_t ts_ns);

  std::size_t points_;
  std::map<std::uint32_t, std::map<std::string, nlohmann::json>> values_;
  std::map<std::uint32_t, std::deque<nlohmann::json>> events_;
  std::deque<nlohmann::json> recent_;
  std::map<std::pair<std::uint32_t, std::string>, std::deque<Point>> history_;
  std::array<canproto::Frame, kFrames> frames_{};
  std::uint64_t next_frame_ = 0;
};

/// A ChannelValue as JSON: bool, number, {"r","g","b","w"} or string.
nlohmann::json value_json(const devices::ChannelValue& v);
/// "13000001".
std::string serial_text(std::uint32_t serial);

}  // namespace loxcan::web
