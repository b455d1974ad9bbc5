#pragma once
// Device models: what a device type is called, which channels it has and how they travel on the
// bus. One Model per device type of LOXONE_CAN.md section 8; the mapping is data (a binding per
// channel), not a class per model. The codec (devices/codec.hpp) interprets the bindings.
//
// Channel names follow Loxone where Loxone numbers them (`i1`..`i20` digital inputs, `q1` relays,
// `ai1`/`aq1` analog in/out, `f1` frequency inputs) and are meaningful elsewhere (`temperature`,
// `motion`, `rgbw`). Names are lowercase [a-z0-9_], unique per model, stable (MQTT topics use
// them).
//
// Example: the Touch Tree (0x8003) has `zones` (bitmask input, 0x80 idx 0), `top_left` ..
// `bottom_right` (the same frame, one bool per zone), `temperature`/`humidity` (0x81 idx 0/1,
// flag-scaled) and `buzzer` (bool output, 0x80 idx 0 bit 0).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "devices/channel.hpp"
#include "devices/events.hpp"

namespace loxcan::devices {

enum class Protocol : std::uint8_t { legacy, nat };

/// How one channel's value is carried. NAT codecs read D1 = index, val16 = flags, val32 = value
/// (LOXONE_CAN.md 4.2); legacy codecs read the legacy layout (6, 8.2).
enum class Codec : std::uint8_t {
  none,                ///< declared, no documented frame (value never changes from the bus)
  nat_bit,             ///< cmd/index: bit `bit` of val32 -> bool
  nat_nonzero,         ///< cmd/index: val32 != 0 -> bool
  nat_mask,            ///< cmd/index: val32 masked to `bits` -> bitmask
  nat_analog,          ///< 0x81/index: raw scaled by the format flags (4.2.1), times `scale`
  nat_frequency,       ///< 0x85/index: val32 Hz
  nat_rgbw,            ///< 0x84, 0x88, 0x8A (fragment), 0x8B (fragment): four percentages
  nat_white,           ///< as nat_rgbw, only the W percentage -> number
  nat_can_errors,      ///< 0x16/0x18 for bus `index`: `bit` 0 = error count, 1 = REC, 2 = TEC
  legacy_bit,          ///< legacy cmd: bit `bit` of val32 -> bool
  legacy_analog10,     ///< legacy cmd: 10-bit slot `index` (0..3), times `scale`
  legacy_frequency,    ///< legacy 0x51: the slot whose input nibble equals `bit` -> Hz
  legacy_temperature,  ///< legacy 0x53: CPU temperature in degC (6, "0x53 temperature")
};

struct Binding {
  Codec codec = Codec::none;
  std::uint8_t cmd = 0;    ///< NAT command or legacy command (bit 7 clear)
  std::uint8_t index = 0;  ///< NAT D1 index / legacy slot / CAN bus number
  std::uint8_t bit = 0;    ///< bit number, or field selector (see Codec)
  double scale = 1;        ///< multiplier applied after decoding (legacy 10-bit: 0.01 -> V)
};

struct ModelChannel {
  ChannelSpec spec;
  Binding binding;
};

/// Behaviour that is not a fixed channel table (dynamic channel names such as `dmx12`).
enum class Special : std::uint8_t {
  none,
  dmx,             ///< legacy DMX: actor fragments -> commands on `dmx<channel>`
  onewire,         ///< legacy 1-Wire: `t<sensor>` temperatures, iButton arrivals
  serial_port,     ///< legacy RS232/RS485: `tx`/`rx` byte strings (hex), `config`
  modbus,          ///< legacy Modbus: `a<address>_r<register>` values, `error`
  tree_extension,  ///< NAT Tree Extension: routes Tree devices (handled by the inventory)
};

struct Model {
  std::string name;   ///< registry name used in YAML and generated names: "touch", "di_extension"
  std::string title;  ///< human name: "Touch Tree"
  Protocol protocol = Protocol::nat;
  std::uint16_t type = 0;  ///< NAT 16-bit type or legacy 4-bit type
  Generation generation = Generation::nat_extension;
  bool documented = true;  ///< false: only the type is known (LOXONE_CAN.md 8.1 "not documented")
  Special special = Special::none;
  std::vector<ModelChannel> channels;

  /// The channel called `name`, or nullptr.
  const ModelChannel* find(std::string_view channel) const;
};

/// Type id as printed in docs and JSON: "0x8003" (NAT, 4 digits) or "0xB" (legacy, 1 digit).
std::string type_id_string(Protocol p, std::uint16_t type);

}  // namespace loxcan::devices
