#include "devices/channel.hpp"

#include <charconv>
#include <cmath>

namespace loxcan::devices {

ValueType type_of(const ChannelValue& v) {
  switch (v.index()) {
    case 0: return ValueType::boolean;
    case 1: return ValueType::number;
    case 2: return ValueType::bitmask;
    case 3: return ValueType::rgbw;
    default: return ValueType::text;
  }
}

namespace {

std::string number_to_plain(double d) {
  if (d == 0) return "0";  // also folds -0
  char buf[400];           // fixed notation of the largest double has 309 digits
  // Shortest fixed-point form that round-trips: 22.5 stays 22.5, 0.1 stays 0.1, and 1e6 is
  // written 1000000 (MQTT consumers such as LoxBerry do not read exponents).
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  if (ec != std::errc{}) return "0";
  return std::string(buf, end);
}

}  // namespace

std::string to_plain(const ChannelValue& v) {
  struct Visitor {
    std::string operator()(bool b) const { return b ? "1" : "0"; }
    std::string operator()(double d) const { return number_to_plain(d); }
    std::string operator()(std::uint32_t m) const { return std::to_string(m); }
    std::string operator()(const Rgbw& c) const {
      return std::to_string(c.r) + ',' + std::to_string(c.g) + ',' + std::to_string(c.b) + ',' +
             std::to_string(c.w);
    }
    std::string operator()(const std::string& s) const { return s; }
  };
  return std::visit(Visitor{}, v);
}

std::string_view to_string(ChannelDirection d) {
  return d == ChannelDirection::input ? "input" : "output";
}

std::string_view to_string(ValueType t) {
  switch (t) {
    case ValueType::boolean: return "bool";
    case ValueType::number: return "number";
    case ValueType::bitmask: return "bitmask";
    case ValueType::rgbw: return "rgbw";
    case ValueType::text: return "text";
  }
  return "?";
}

std::string_view to_string(Semantic s) {
  switch (s) {
    case Semantic::generic: return "generic";
    case Semantic::temperature: return "temperature";
    case Semantic::humidity: return "humidity";
    case Semantic::illuminance: return "illuminance";
    case Semantic::co2: return "co2";
    case Semantic::voltage: return "voltage";
    case Semantic::frequency: return "frequency";
    case Semantic::wind_speed: return "wind_speed";
    case Semantic::position: return "position";
    case Semantic::brightness: return "brightness";
    case Semantic::motion: return "motion";
    case Semantic::rain: return "rain";
    case Semantic::tamper: return "tamper";
    case Semantic::problem: return "problem";
    case Semantic::relay: return "relay";
    case Semantic::light: return "light";
    case Semantic::buzzer: return "buzzer";
    case Semantic::button: return "button";
    case Semantic::enumeration: return "enumeration";
  }
  return "?";
}

}  // namespace loxcan::devices

#include "devices/events.hpp"

namespace loxcan::devices {

std::string_view to_string(Generation g) {
  switch (g) {
    case Generation::legacy: return "legacy";
    case Generation::nat_extension: return "nat";
    case Generation::tree_device: return "tree";
  }
  return "?";
}

std::string_view to_string(DeviceState s) {
  switch (s) {
    case DeviceState::offline: return "offline";
    case DeviceState::parked: return "parked";
    case DeviceState::online: return "online";
  }
  return "?";
}

}  // namespace loxcan::devices
