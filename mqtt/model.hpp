#pragma once
// What the MQTT bridge needs to know about devices: the daemon builds these from its inventory
// and device map (devices/), so mqtt/ does not depend on the device models themselves.

#include <cstdint>
#include <string>
#include <vector>

#include "devices/channel.hpp"
#include "devices/events.hpp"

namespace loxcan::mqtt {

struct BridgeChannel {
  devices::ChannelSpec spec;  ///< spec.name = the model's channel name (events and commands use it)
  bool publish = true;        ///< false: neither state topic nor discovery (hidden channel)
  bool writable = false;      ///< true: `/set` accepted and an HA command entity (emulated devices)
  std::string name;           ///< friendly topic name from the device map; empty = spec.name
};

/// The channel's topic segment: channel_segment(name or spec.name).
std::string topic_channel(const BridgeChannel& ch);

struct BridgeDevice {
  devices::DeviceInfo info;
  std::vector<BridgeChannel> channels;
  bool available = false;  ///< present on the bus (drives `<base>/<dev>/availability`)
  bool emulated = false;   ///< loxcan itself plays this device
  std::string bus;         ///< e.g. "link", "tree1"; informational (bridge/devices)
  /// The protocol documents an identify (LED blink) the Miniserver can send to this device
  /// (NAT 0x10, legacy 0x08): HA gets an identify button and `<dev>/identify/set` is accepted.
  bool identify = false;
};

/// One MQTT message the bridge wants out.
struct Publication {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
  friend bool operator==(const Publication&, const Publication&) = default;
};

/// One statistic for `<base>/bridge/stats/<name>`; name is [a-z0-9] (no '_', LoxBerry V1 safe).
struct Metric {
  std::string name;
  double value = 0;
};

/// Firmware as Loxone prints it: 10031108 -> "10.3.11.8"; 0 -> "".
std::string firmware_text(std::uint32_t firmware);

/// Serial as Loxone prints it: 8 uppercase hex digits.
std::string serial_text(std::uint32_t serial);

}  // namespace loxcan::mqtt
