#pragma once
// CAN identifiers of both Loxone protocol generations (LOXONE_CAN.md section 2).
//
// NAT (bus type 0x10 on the Link bus, 0x11 on a Tree branch):
//   bit 28..24 bus type | 23 zero | 22..21 direction | 20 fragment | 19..12 NAT | 11..8 zero | 7..0
//   cmd make_nat_id(Bus::link, Direction::to_device, false, 0x06, 0x05) == 0x10606005   (Ping to
//   NAT 6) make_nat_id(Bus::link, Direction::from_device, true, 0x8B, 0xF0) == 0x1018B0F0 (fragment
//   header)
// Legacy (Link bus only):
//   bit 28 = to extension | 27..24 type | 23..0 serial (lower 24 bits); Loxone prints the serial as
//   type followed by those 24 bits: id 0x1BFF0A01 -> to Relay Extension (type 0xB) serial
//   "0BFF0A01". 0x00000000 = broadcast, 0x0T000000 = multicast to type T, 0x1FTTPPPP = firmware
//   data for type TT, package PPPP.
//
// classify_id() implements the decoder algorithm of section 2.3. Pitfall handled there: on the Link
// bus 0x11xxxxxx is a legacy frame to a type-1 Extension, not a Tree frame (Tree ids exist only on
// a branch). Everything here is constexpr and allocation-free.

#include <cstdint>

namespace loxcan::canproto {

/// Which physical bus a frame was seen on.
enum class Bus : std::uint8_t {
  link,  ///< Loxone Link, 125 kbit/s: NAT (0x10...) and legacy frames
  tree,  ///< one Tree branch, 50 kbit/s: only NAT tree frames (0x11...)
};

enum class Protocol : std::uint8_t { nat, legacy, unknown };

/// Direction of a message, named from the Miniserver's point of view as `loxcan decode` prints it.
enum class Direction : std::uint8_t {
  to_device,    ///< Miniserver -> extension/device (NAT dir 11, legacy bit 28 = 1)
  from_device,  ///< extension/device -> Miniserver (NAT dir 00, legacy bit 28 = 0)
  shortcut,     ///< NAT dir 10: a Miniserver frame re-emitted by a Tree Extension (section 3.4)
};

const char* to_string(Bus bus);            ///< "link" / "tree"
const char* to_string(Protocol protocol);  ///< "nat" / "legacy" / "unknown"
const char* to_string(Direction dir);      ///< "to_device" / "from_device" / "shortcut"

// ---- NAT ----------------------------------------------------------------------------------------

inline constexpr std::uint8_t kNatBusLink = 0x10;  ///< bus type field on the Link bus
inline constexpr std::uint8_t kNatBusTree = 0x11;  ///< bus type field on a Tree branch
inline constexpr std::uint32_t kNatFragmentBit = 0x00100000;
inline constexpr std::uint8_t kNatBroadcast = 0xFF;  ///< extension NAT / device NAT "all"

/// Raw 2-bit direction values of a NAT id.
inline constexpr std::uint8_t kNatDirDevice = 0b00;
inline constexpr std::uint8_t kNatDirIllegal = 0b01;
inline constexpr std::uint8_t kNatDirShortcut = 0b10;
inline constexpr std::uint8_t kNatDirServer = 0b11;

/// The fields of a NAT id, unvalidated.
struct NatId {
  std::uint8_t bus_type = kNatBusLink;  ///< bits 28..24
  std::uint8_t dir_bits = 0;            ///< bits 22..21, raw
  bool fragment = false;                ///< bit 20
  std::uint8_t nat = 0;                 ///< bits 19..12
  std::uint8_t cmd = 0;                 ///< bits 7..0
  bool reserved_set = false;            ///< bit 23 or bits 11..8 are not zero (malformed)

  friend constexpr bool operator==(const NatId&, const NatId&) = default;
};

constexpr NatId parse_nat_id(std::uint32_t id) {
  return NatId{static_cast<std::uint8_t>((id >> 24) & 0x1F),
               static_cast<std::uint8_t>((id >> 21) & 0x3),
               ((id >> 20) & 1) != 0,
               static_cast<std::uint8_t>((id >> 12) & 0xFF),
               static_cast<std::uint8_t>(id & 0xFF),
               (id & 0x00800F00u) != 0};
}

/// bus_type<<24 | dir<<21 | frag<<20 | nat<<12 | cmd (section 2.1).
constexpr std::uint32_t make_nat_id(std::uint8_t bus_type, std::uint8_t dir_bits, bool fragment,
                                    std::uint8_t nat, std::uint8_t cmd) {
  return (std::uint32_t{bus_type} & 0x1F) << 24 | (std::uint32_t{dir_bits} & 3) << 21 |
         (fragment ? kNatFragmentBit : 0) | std::uint32_t{nat} << 12 | cmd;
}

constexpr std::uint8_t nat_dir_bits(Direction dir) {
  return dir == Direction::to_device  ? kNatDirServer
         : dir == Direction::shortcut ? kNatDirShortcut
                                      : kNatDirDevice;
}

constexpr std::uint32_t make_nat_id(Bus bus, Direction dir, bool fragment, std::uint8_t nat,
                                    std::uint8_t cmd) {
  return make_nat_id(bus == Bus::tree ? kNatBusTree : kNatBusLink, nat_dir_bits(dir), fragment, nat,
                     cmd);
}

/// Tree Extension routing (section 3.4): the id a Link frame for device NAT `device_nat` gets on
/// the branch (bus 0x10 -> 0x11, NAT field := device NAT; direction, fragment bit, cmd kept) ...
constexpr std::uint32_t tree_id_from_link(std::uint32_t link_id, std::uint8_t device_nat) {
  return (link_id & 0x00F00FFFu) | std::uint32_t{kNatBusTree} << 24 |
         std::uint32_t{device_nat} << 12;
}
/// ... and the id a branch frame gets on the Link bus (bus 0x11 -> 0x10, NAT := extension's NAT).
constexpr std::uint32_t link_id_from_tree(std::uint32_t tree_id, std::uint8_t extension_nat) {
  return (tree_id & 0x00F00FFFu) | std::uint32_t{kNatBusLink} << 24 |
         std::uint32_t{extension_nat} << 12;
}

/// Extension NAT classes (section 3.3).
constexpr bool is_parked_nat(std::uint8_t nat) {
  return nat >= 0x81 && nat <= 0xFE;
}
constexpr bool is_active_nat(std::uint8_t nat) {
  return nat >= 0x01 && nat <= 0x7E;
}
/// Device NAT behind a Tree Extension: bit 6 set = left branch.
constexpr bool is_left_branch(std::uint8_t device_nat) {
  return (device_nat & 0x40) != 0;
}

// ---- Legacy -------------------------------------------------------------------------------------

enum class LegacyKind : std::uint8_t {
  direct,          ///< 0x1Tssssss to / 0x0Tssssss from one extension
  broadcast,       ///< 0x00000000: Miniserver to all legacy extensions
  type_multicast,  ///< 0x0T000000: Miniserver to all extensions of type T
  firmware_data,   ///< 0x1FTTPPPP: 8 image bytes for type TT, package PPPP
};

struct LegacyId {
  LegacyKind kind = LegacyKind::direct;
  Direction dir = Direction::to_device;
  std::uint8_t type = 0;       ///< 4-bit type (firmware_data: the 8-bit TT)
  std::uint32_t serial24 = 0;  ///< low 24 bits of the serial (0 for broadcast/multicast)
  std::uint16_t package = 0;   ///< firmware_data only; 0xFFFF = end of image

  /// Serial as Loxone prints it: type in the top byte, e.g. 0x0BFF0A01.
  constexpr std::uint32_t serial() const { return std::uint32_t{type} << 24 | serial24; }
  friend constexpr bool operator==(const LegacyId&, const LegacyId&) = default;
};

constexpr LegacyId parse_legacy_id(std::uint32_t id) {
  LegacyId l;
  if (((id >> 24) & 0x1F) == 0x1F) {
    l.kind = LegacyKind::firmware_data;
    l.type = static_cast<std::uint8_t>((id >> 16) & 0xFF);
    l.package = static_cast<std::uint16_t>(id & 0xFFFF);
    return l;
  }
  l.dir = (id & 0x10000000u) != 0 ? Direction::to_device : Direction::from_device;
  l.type = static_cast<std::uint8_t>((id >> 24) & 0xF);
  l.serial24 = id & 0xFFFFFF;
  if (id == 0) {
    l.kind = LegacyKind::broadcast;
    l.dir = Direction::to_device;
  } else if (l.serial24 == 0 && l.dir == Direction::from_device) {
    // 0x0T000000: bit 28 is clear although the Miniserver sends it. (0x1T000000 stays a direct
    // id with serial 0, so that the id survives a round trip.)
    l.kind = LegacyKind::type_multicast;
    l.dir = Direction::to_device;
  }
  return l;
}

/// Direct id: (to_device ? 1 : 0) << 28 | type << 24 | serial24.
constexpr std::uint32_t make_legacy_id(Direction dir, std::uint8_t type, std::uint32_t serial24) {
  return (dir == Direction::to_device ? 0x10000000u : 0u) | (std::uint32_t{type} & 0xF) << 24 |
         (serial24 & 0xFFFFFF);
}
constexpr std::uint32_t make_legacy_id(const LegacyId& l) {
  switch (l.kind) {
    case LegacyKind::broadcast: return 0;
    case LegacyKind::type_multicast: return (std::uint32_t{l.type} & 0xF) << 24;
    case LegacyKind::firmware_data: return 0x1F000000u | std::uint32_t{l.type} << 16 | l.package;
    case LegacyKind::direct: break;
  }
  return make_legacy_id(l.dir, l.type, l.serial24);
}

// ---- Classification (section 2.3) ---------------------------------------------------------------

/// What an identifier is, judged from the id alone (the frame shape is checked by the Decoder).
/// Link bus: top5 0x10 -> nat; everything else -> legacy (including 0x11..., 0x1F... firmware data,
/// 0 broadcast, 0x0T000000 multicast), except type-0 direct ids (0x00ssssss with a serial), which
/// no extension uses -> unknown. (0x0Fssssss stays legacy: the Froeling extension reports type F.)
/// Tree branch: top5 0x11 -> nat; anything else -> unknown.
constexpr Protocol classify_id(std::uint32_t id, Bus bus) {
  const std::uint32_t top5 = (id >> 24) & 0x1F;
  if (bus == Bus::tree) return top5 == kNatBusTree ? Protocol::nat : Protocol::unknown;
  if (top5 == kNatBusLink) return Protocol::nat;
  if (top5 == 0x1F || id == 0 || (id & 0x00FFFFFF) == 0) return Protocol::legacy;
  const std::uint32_t type = (id >> 24) & 0xF;
  if (type == 0) return Protocol::unknown;
  return Protocol::legacy;
}

}  // namespace loxcan::canproto
