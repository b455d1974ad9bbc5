#pragma once
// Topic naming (CONVENTIONS.md 4.3/4.4): every segment loxcan generates matches [a-z0-9-], so the
// LoxBerry Virtual Input name (topic with '/' -> '_') is the same under gateway V1 and V2, and the
// segment is valid in Home Assistant object ids.
//
//   <base>/<dev>                 JSON of the whole device            (retained)
//   <base>/<dev>/<ch>            plain value                         (retained)
//   <base>/<dev>/<ch>/set        command (subscribed)
//   <base>/<dev>/<ch>/get        republish request (subscribed)
//   <base>/<dev>/availability    online/offline                      (retained)
//   <base>/bridge/...            the bridge itself
//
// Examples: sanitize_segment("DI Extension #2") == "di-extension-2",
//           device_segment({.serial=0x13001234, .model="di_extension"}) == "di-extension-13001234".

#include <cstdint>
#include <string>
#include <string_view>

#include "devices/events.hpp"

namespace loxcan::mqtt {

constexpr std::size_t kMaxSegment = 64;

/// True for 1..kMaxSegment characters of [a-z0-9-].
bool is_valid_segment(std::string_view s);

/// Lowercases, maps every run of other characters (space, '_', '/', '%', UTF-8 …) to one '-',
/// trims '-' at both ends and cuts at kMaxSegment. Returns "unnamed" when nothing is left.
std::string sanitize_segment(std::string_view s);

/// 8 lowercase hex digits: 0x13001234 -> "13001234".
std::string serial_hex(std::uint32_t serial);

/// The topic segment of a device: its configured name if set, else `<model>-<serial>`; sanitized.
/// Reserved: a device that would be called `bridge` becomes `bridge-<serial>`.
std::string device_segment(const devices::DeviceInfo& d);

/// The topic segment of a channel (sanitized name). Reserved names `availability`, `set`, `get`,
/// `identify` (the HA identify button's `<dev>/identify/set`)
/// get a `-ch` suffix.
std::string channel_segment(std::string_view channel);

/// Validates a base topic: non-empty, no '+', '#', space or '%', no empty level, no leading or
/// trailing '/'. Returns "" when valid, else the reason.
std::string check_base_topic(std::string_view base);

/// MQTT filter matching (`+` one level, `#` as last level: that level and all below).
/// topic_matches("+/mqttgateway/status", "loxberry/mqttgateway/status") == true.
bool topic_matches(std::string_view filter, std::string_view topic);

class TopicScheme {
 public:
  explicit TopicScheme(std::string base = "loxcan") : base_(std::move(base)) {}

  const std::string& base() const { return base_; }
  std::string device(std::string_view dev) const;
  std::string channel(std::string_view dev, std::string_view ch) const;
  std::string set(std::string_view dev, std::string_view ch) const;
  std::string availability(std::string_view dev) const;
  std::string bridge(std::string_view leaf) const;  ///< `<base>/bridge/<leaf>`

  std::string set_filter() const { return base_ + "/+/+/set"; }
  std::string get_filter() const { return base_ + "/+/+/get"; }
  std::string request_filter() const { return base_ + "/bridge/request/+"; }

  enum class Kind : std::uint8_t { set, get, request, other };
  struct Parsed {
    Kind kind = Kind::other;
    std::string device;   ///< for set/get
    std::string channel;  ///< for set/get; the request name for request
  };
  /// Classifies an incoming topic. Anything not of the three subscribed shapes is `other`.
  Parsed parse(std::string_view topic) const;

 private:
  std::string base_;
};

}  // namespace loxcan::mqtt
