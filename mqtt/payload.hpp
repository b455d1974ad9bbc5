#pragma once
// Payload codec: channel values -> MQTT payloads, and `/set` command payloads -> channel values.
//
// State payloads (CONVENTIONS.md 4.1/4.4):
//   boolean "0"/"1"; number with '.' and no exponent or trailing zeros ("22.5", "-3", "0.25");
//   bitmask decimal ("5"); text as is; RGBW as the Home Assistant JSON-light object
//   {"state":"ON","brightness":80,"color":{"r":255,"g":120,"b":0,"w":40}}
//   (brightness 0..100 = the brightest channel's percent; colors 0..255 relative to it).
//
// Command payloads (parse_command), checked against the channel's spec:
//   boolean  1/0, true/false, on/off (any case), toggle; JSON true/false/1/0, {"state":"ON"},
//            {"value":1}
//   number   a finite decimal number (no ',' as decimal point, no hex), JSON number, {"value":n};
//            within [min, max] when the spec has a range (max > min). Position channels also take
//            OPEN (= max) / CLOSE (= min); brightness channels ON (= max) / OFF (= min).
//   bitmask  unsigned decimal below 2^bits, or {"value":n}
//   rgbw     the JSON light command (keys state, brightness 0..100, color{r,g,b,w} 0..255,
//            transition - ignored), or plain "r,g,b,w" in percent
//   text     any valid UTF-8 up to 255 bytes, or {"value":"…"}
// Every payload must be valid UTF-8 without NUL and at most kMaxCommandPayload bytes.
// Errors never throw: the result names the error kind and a human-readable detail, e.g.
//   parse_command(spec{number 0..100}, "150") -> {error=out_of_range, detail="150 is outside
//   0..100"}.

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "devices/channel.hpp"

namespace loxcan::mqtt {

constexpr std::size_t kMaxCommandPayload = 1024;
constexpr std::size_t kMaxTextValue = 255;

/// A number as published: '.' as decimal point, no exponent, shortest form that round-trips
/// (22.5, -3, 0.25, 1000000, 0.000001); -0 and non-finite values give "0".
/// (devices::to_plain switches to exponents for large/small values; LoxBerry needs plain digits.)
std::string plain_number(double d);

/// Payload of `<base>/<dev>/<ch>`.
std::string encode_state(const devices::ChannelValue& v);

/// The value inside the device JSON object: bool -> 0/1, number, bitmask, light object, string.
nlohmann::json to_json(const devices::ChannelValue& v);

/// Payload of `<base>/<dev>`: {"<ch>": value, ...} in channel-name order.
std::string encode_device_json(const std::map<std::string, devices::ChannelValue>& values);

enum class CommandError : std::uint8_t {
  none,
  empty,            ///< zero-length payload
  too_long,         ///< more than kMaxCommandPayload bytes
  not_utf8,         ///< invalid UTF-8 or a NUL byte (binary data)
  bad_json,         ///< starts like JSON ('{' or '[') but does not parse
  unknown_key,      ///< JSON object with a key the channel does not take
  wrong_type,       ///< e.g. "abc" for a number, 2 for a boolean
  out_of_range,     ///< number outside the channel's range
  unsupported,      ///< valid word the channel cannot do (STOP on a valve)
  unknown_device,   ///< topic names no known device
  unknown_channel,  ///< device has no such channel
  not_writable,     ///< channel is read-only
  retained,         ///< command arrived with the retain flag (stale; ignored)
};

std::string_view to_string(CommandError e);

struct CommandResult {
  std::optional<devices::ChannelValue> value;
  CommandError error = CommandError::none;
  std::string detail;  ///< empty when ok
  bool ok() const { return error == CommandError::none; }
};

/// Parses a command for a channel. `current` (may be null) is the channel's last known value:
/// it resolves TOGGLE and partial light commands (only brightness, only state ON).
CommandResult parse_command(const devices::ChannelSpec& spec, std::string_view payload,
                            const devices::ChannelValue* current);

/// Light object <-> RGBW percent (exposed for tests and the discovery checker).
nlohmann::json rgbw_to_light(const devices::Rgbw& c);

/// Printable form of an arbitrary payload for logs and error events: valid UTF-8 is kept,
/// other bytes become \xNN, control characters are escaped, cut at `max` bytes with
/// "...(N bytes)" appended.
std::string printable_payload(std::string_view payload, std::size_t max = 200);

/// True when `s` is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF) without NUL.
bool is_valid_utf8(std::string_view s);

}  // namespace loxcan::mqtt
