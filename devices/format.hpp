#pragma once
// Text and JSON forms of device events and of the inventory, for `loxcan decode --events`,
// `loxcan devices` and the golden tests.
//
// Text (one line per event, timestamp as candump prints it):
//   (1718000000.100000) device_seen tree_extension-13112233 serial 13112233 type 0x0013 nat
//   fw 10.3.11.8 (1718000000.100000) state touch-c0168612 offline -> online (1718000000.200000)
//   channel touch-c0168612 temperature = 22.5 °C (1718000000.300000) command
//   relay_extension-0bff0a01 q1 = 1 (1718000000.400000) bus unknown_device: analog_value from NAT
//   0x05 ... [10005081#00...]
// JSON: one object per event ({"event": "channel_changed", "ts": "1718000000.200000",
// "device": {...}, "channel": ..., "value": ..., "unit": ...}); values: bool, number, bitmask
// (number), rgbw ({"r","g","b","w"}), text (string). The inventory is {"devices": [...]} in the
// order devices were first seen.

#include <string>

#include "devices/events.hpp"
#include "devices/inventory.hpp"

namespace loxcan::devices {

/// "1718000000.123456" (microseconds, as candump -l).
std::string format_ts(std::int64_t ts_ns);
/// "10.3.11.8" from 10031108 ("" for 0).
std::string format_version(std::uint32_t v);

std::string format_event(const Event& e);
/// One line of JSON (no trailing newline).
std::string event_json(const Event& e);
/// The whole inventory as JSON, pretty-printed with `indent` spaces (-1 = one line).
std::string inventory_json(const Inventory& inventory, int indent = 2);
/// A fixed-width table: one row per device, then its channels indented below it.
std::string inventory_table(const Inventory& inventory);
/// The registry as a table: model, type id, generation, channels (for `loxcan devices --models`).
std::string models_table(const Registry& registry);

}  // namespace loxcan::devices
