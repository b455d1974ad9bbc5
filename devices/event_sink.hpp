#pragma once
// EventSink: the end of the daemon's frame path (doc/ARCHITECTURE.md). Whatever shows or forwards
// device events and raw frames (the MQTT bridge, a web view, ...) implements it; the daemon feeds
// every sink the same events, after the channel policy, in bus order, on its loop thread.
//
// Events are in public form: values scaled/inverted as the device map says, channels under their
// model names (a sink maps them to its own names, e.g. topics). Raw frames come as received (rx),
// as sent by loxcan (tx: commands and emulated devices), or as received and not understood
// (unknown: also among rx); a sink gets them only for the directions it wants_frames().
//
// A sink must not block or throw; it must not call back into the daemon from on_event/on_frame.

#include <cstdint>

#include "canproto/frame.hpp"
#include "devices/events.hpp"

namespace loxcan::devices {

enum class FrameDirection { rx, tx, unknown };

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const Event& e) = 0;
  /// Asked before each frame: the daemon builds nothing for a direction no sink wants.
  virtual bool wants_frames(FrameDirection) const { return false; }
  virtual void on_frame(FrameDirection, std::int64_t /*ts_ns*/, const canproto::Frame&) {}
};

}  // namespace loxcan::devices
