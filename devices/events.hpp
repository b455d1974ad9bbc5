#pragma once
// Typed device events: what the devices layer tells the rest of the gateway (MQTT, logs, CLI).
//
// Producers: the bus inventory (monitor mode, from decoded traffic) and the emulated devices.
// Consumers: the MQTT bridge, `loxcan decode --events`, the daemon's logs.
// Time is passed in by the caller (ns since the Unix epoch, the frame's timestamp where there is
// one).

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "devices/channel.hpp"

namespace loxcan::devices {

enum class Generation : std::uint8_t { legacy, nat_extension, tree_device };

enum class DeviceState : std::uint8_t {
  offline,  ///< no NAT (sending NAT index requests) or fallen silent
  parked,   ///< NAT with bit 7: known to the Miniserver but not in its configuration
  online,   ///< NAT 0x01..0x7E, in the configuration
};

/// Identity and bus facts of one device, as far as known. `name` is the friendly name from the
/// YAML map or the generated `<model>-<serial>` (lowercase, no spaces: safe in MQTT topics).
struct DeviceInfo {
  std::uint32_t serial = 0;  ///< printed by Loxone as 8 uppercase hex digits
  std::uint16_t type = 0;    ///< NAT device type (0x0014, 0x8003...) or legacy 4-bit type
  Generation generation = Generation::nat_extension;
  std::string model;  ///< e.g. "touch_tree", "di_extension", "unknown_8015"
  std::string name;
  std::uint32_t firmware = 0;  ///< decimal AABBCCDD as sent (10031108 = 10.3.11.8); 0 if unknown
};

struct DeviceSeen {
  DeviceInfo device;
  std::int64_t ts_ns = 0;
};

struct DeviceStateChanged {
  DeviceInfo device;
  DeviceState from = DeviceState::offline;
  DeviceState to = DeviceState::offline;
  std::int64_t ts_ns = 0;
};

/// An input (or an output's confirmed state) changed.
struct ChannelChanged {
  DeviceInfo device;
  std::string channel;
  ChannelValue value;
  std::string unit;
  std::int64_t ts_ns = 0;
};

/// The Miniserver commanded an output (monitor mode sees it on the bus; an emulated device
/// receives it and executes it).
struct Command {
  DeviceInfo device;
  std::string channel;
  ChannelValue value;
  std::int64_t ts_ns = 0;
};

/// Anything about the bus itself: bus-off, error counters, shortcut, an unknown message kept raw.
struct BusEvent {
  std::string kind;    ///< snake_case: "bus_off", "tree_shortcut", "unknown_message", ...
  std::string detail;  ///< human-readable, names the frame where there is one
  std::string raw;     ///< candump compact form of the frame(s) concerned, may be empty
  std::int64_t ts_ns = 0;
};

using Event = std::variant<DeviceSeen, DeviceStateChanged, ChannelChanged, Command, BusEvent>;

std::string_view to_string(Generation g);
std::string_view to_string(DeviceState s);

}  // namespace loxcan::devices
