#pragma once
// Channels: what a device model declares, and the values that flow through them.
//
// A channel is one named value of a device ("i7" of a DI Extension, "temperature" of a Touch).
// Models declare their channels with a ChannelSpec; the inventory keeps the last ChannelValue of
// each; the MQTT layer turns specs into topics and Home Assistant discovery, values into payloads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace loxcan::devices {

enum class ChannelDirection : std::uint8_t {
  input,   ///< device -> Miniserver (a sensor, a button, a digital input)
  output,  ///< Miniserver -> device (a relay, a light, an analog output); writable over MQTT
};

enum class ValueType : std::uint8_t {
  boolean,  ///< one bit: digital input, relay, motion
  number,   ///< a scaled number with unit and range
  bitmask,  ///< several bits at once (Touch zones, DI mask); 32 bits
  rgbw,     ///< four 0..100 % channels
  text,     ///< free text (webservice replies, unknown raw)
};

/// What a channel means, for Home Assistant's component/device_class choice and for units.
/// `generic` when nothing better is known.
enum class Semantic : std::uint8_t {
  generic,
  temperature,  ///< degC
  humidity,     ///< %
  illuminance,  ///< lx
  co2,          ///< ppm
  voltage,      ///< V
  frequency,    ///< Hz
  wind_speed,   ///< km/h
  position,     ///< % of a valve / damper
  brightness,   ///< % of a dimmer channel
  motion,       ///< boolean: motion detected
  rain,         ///< boolean
  tamper,       ///< boolean: true = tamper OK per Loxone; see the model's docs
  problem,      ///< boolean: a fault flag
  relay,        ///< boolean output switching a load
  light,        ///< rgbw output of a light
  buzzer,       ///< boolean output making a sound
  button,       ///< input bits that are touch zones / buttons
  enumeration,  ///< a small integer selecting a mode / class
};

struct Rgbw {
  std::uint8_t r = 0, g = 0, b = 0, w = 0;  ///< percent 0..100
  friend bool operator==(const Rgbw&, const Rgbw&) = default;
};

/// A channel value. The alternative matches the channel's ValueType:
/// boolean -> bool, number -> double, bitmask -> std::uint32_t, rgbw -> Rgbw, text -> std::string.
using ChannelValue = std::variant<bool, double, std::uint32_t, Rgbw, std::string>;

struct ChannelSpec {
  std::string name;  ///< Loxone-style (`i1`, `q1`, `ai1`, `aq1`) or meaningful (`temperature`)
  ChannelDirection direction = ChannelDirection::input;
  ValueType type = ValueType::number;
  Semantic semantic = Semantic::generic;
  std::string
      unit;        ///< "" when unitless; SI-ish symbols: "°C", "%", "lx", "ppm", "V", "Hz", "km/h"
  double min = 0;  ///< inclusive range for number outputs/inputs (ignored for other types)
  double max = 0;
  std::uint8_t bits = 0;  ///< for bitmask: number of meaningful bits
};

/// The ValueType a ChannelValue alternative belongs to.
ValueType type_of(const ChannelValue& v);

/// Plain text form as published on MQTT: booleans "0"/"1", numbers with '.' and no trailing
/// zeros (22.5, 5, -0.25), bitmasks as decimal, RGBW as "r,g,b,w", text as is.
std::string to_plain(const ChannelValue& v);

std::string_view to_string(ChannelDirection d);
std::string_view to_string(ValueType t);
std::string_view to_string(Semantic s);

}  // namespace loxcan::devices
