#pragma once
// A small device map used by the mqtt tests: one device of every channel kind.

#include <vector>

#include "mqtt/model.hpp"

namespace loxcan::mqtt::test {

using devices::ChannelDirection;
using devices::ChannelSpec;
using devices::Semantic;
using devices::ValueType;

inline BridgeChannel in(const char* name, ValueType t, Semantic s = Semantic::generic,
                        const char* unit = "", double min = 0, double max = 0,
                        std::uint8_t bits = 0) {
  return {ChannelSpec{name, ChannelDirection::input, t, s, unit, min, max, bits}, true, false, ""};
}
inline BridgeChannel out(const char* name, ValueType t, Semantic s = Semantic::generic,
                         const char* unit = "", double min = 0, double max = 0,
                         std::uint8_t bits = 0) {
  return {ChannelSpec{name, ChannelDirection::output, t, s, unit, min, max, bits}, true, true, ""};
}

inline devices::DeviceInfo info(std::uint32_t serial, const char* model, const char* name = "",
                                std::uint32_t fw = 0) {
  devices::DeviceInfo i;
  i.serial = serial;
  i.model = model;
  i.name = name;
  i.firmware = fw;
  return i;
}

inline BridgeDevice extension() {
  return {
      info(0x13001234, "extension", "", 10031108),
      {in("i1", ValueType::boolean), in("i2", ValueType::boolean, Semantic::motion),
       out("q1", ValueType::boolean, Semantic::relay),
       in("ai1", ValueType::number, Semantic::voltage, "V", 0, 10),
       out("aq1", ValueType::number, Semantic::voltage, "V", 0, 10), out("label", ValueType::text),
       in("mask", ValueType::bitmask, Semantic::generic, "", 0, 0, 12)},
      true,
      true,
      "link"};
}
inline BridgeDevice dimmer() {
  return {info(0x0f1e2d3c, "dimmer"),
          {out("aq1", ValueType::number, Semantic::brightness, "%", 0, 100)},
          true,
          true,
          "link"};
}
inline BridgeDevice rgbw() {
  return {info(0xa1b2c3d4, "rgbwdimmer"),
          {out("rgbw", ValueType::rgbw, Semantic::light)},
          true,
          true,
          "tree1"};
}
inline BridgeDevice touch() {
  return {info(0xb0e1f2a3, "touch_tree", "touch-kitchen"),
          {in("temp", ValueType::number, Semantic::temperature, "°C", -40, 85),
           in("hum", ValueType::number, Semantic::humidity, "%", 0, 100),
           in("t1", ValueType::boolean, Semantic::button),
           in("zones", ValueType::bitmask, Semantic::button, "", 0, 0, 5)},
          true,
          false,
          "tree1"};
}
inline BridgeDevice valve() {
  return {info(0x0a0b0c0d, "valve"),
          {out("pos", ValueType::number, Semantic::position, "%", 0, 100)},
          true,
          true,
          "tree2"};
}

inline std::vector<BridgeDevice> all_devices() {
  return {extension(), dimmer(), rgbw(), touch(), valve()};
}

}  // namespace loxcan::mqtt::test
