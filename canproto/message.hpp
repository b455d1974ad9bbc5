#pragma once
// Typed Loxone messages (LOXONE_CAN.md sections 4 and 6) and their frame codec.
//
//   Message = NatMessage | LegacyMessage | UnknownMessage | MalformedMessage
//   NatMessage    = {NatAddress{bus, dir, nat, device_nat}, NatBody (one struct per command),
//   residue} LegacyMessage = {LegacyId{kind, dir, type, serial24, package}, LegacyBody, residue}
//
// decode_frame() turns ONE frame into a Message without allocating and without reassembly: the
// fragment frames 0xF0/0xF1 (NAT) and 0x44/0x45/0x46 (legacy) decode to FragmentHeader/FragmentData
// bodies; the Decoder (decoder.hpp) reassembles them and decodes the payload with
// decode_nat_payload()/decode_legacy_payload(). encode() is the reverse and fragments on its own
// where the command is always sent fragmented (NAT 0x02 0x03 0x11 0x12 0x13 0x1E 0x8A 0x8B
// 0x90..0x9D 0xEF 0xF3; legacy LegacyPacket bodies).
//
// Nothing is dropped silently and nothing throws:
//   - frames that are not Loxone-shaped (not extended / RTR / error / FD / DLC != 8), 11-bit ids on
//     the Link bus, NAT ids with reserved bits or the illegal direction 01, fragment commands
//     without the fragment bit (or the bit on other commands) -> MalformedMessage{reason, original
//     frame};
//   - ids no protocol uses (type-0 legacy ids, non-tree ids on a Tree branch) and command bytes not
//     in the catalogue -> UnknownMessage{reason, original frame};
//   - bytes a typed layout does not cover (documented as unused, e.g. D1 of a Ping, D3 of a NAT
//     offer, legacy D0 bit 7 not matching the id direction) are kept in `residue`: the XOR of the
//     8 received bytes with the bytes encode() produces from the typed body. encode() XORs it back,
//     so decode -> encode reproduces every frame exactly. `loxcan decode` prints a non-zero
//     residue.
//
// Open questions of the spec (section 12) and what this codec does:
//   1. device NAT (D0) of Miniserver broadcasts: taken from / written to NatAddress::device_nat as
//      is, any value accepted. loxcan's own senders use 0xFF for time sync/identify/version request
//      and Tree-device broadcasts, 0x00 for NAT offers to extensions (as in vectors.yaml).
//   2. "extensions offline": both 0x07 (Park) and 0x0A (ExtensionsOffline) decode; each encodes
//      to its own command.
//   3. fragment CRC of odd lengths: decoding accepts the zero-padded and the truncated CRC
//      (PacketInfo::crc_match says which matched); encoding always sends the zero-padded CRC.
//   4. composite white (0x8A): decoding picks the layout by payload length: 16 bytes -> values
//      P[2..5], fades P[6..13] ([LL-GL], sent by us); 15 bytes -> P[3..6]/P[7..14] ([S-NAT]);
//      other lengths >= 13 -> P[1..4]/P[5..12] ([S-PY]). Encoding uses the layout stored in the
//      body.
//   7. Alive val16 and Start bytes 4..7 are kept as `config_version` and `unknown`.
//  15. legacy 0x53 raw/0.1 degC selector: both D1 and D2 are kept; celsius() treats either == 1 (or
//      a hardware version <= 1 when known) as raw ADC.
//
// Field visitors: every body has `template <class V> void visit(V& v) const` that reports its
// fields by name (used by `loxcan decode`, tests, and anyone printing messages). V must provide:
//   num(name, std::uint64_t)    sint(name, std::int64_t)    real(name, double)   flag(name, bool)
//   hex(name, std::uint32_t value, int digits)   text(name, std::string_view)
//   bytes(name, std::span<const std::uint8_t>)

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "canproto/can_id.hpp"
#include "canproto/frame.hpp"
#include "canproto/result.hpp"

namespace loxcan::canproto {

using Bytes7 = std::array<std::uint8_t, 7>;
using Bytes8 = std::array<std::uint8_t, 8>;

// ---- Command numbers ----------------------------------------------------------------------------

namespace nat_cmd {
inline constexpr std::uint8_t kVersionRequest = 0x01, kStart = 0x02, kVersionInfo = 0x03,
                              kConfigEqual = 0x04, kPing = 0x05, kPong = 0x06, kPark = 0x07,
                              kAlive = 0x08, kExtensionsOffline = 0x0A, kTimeSync = 0x0C,
                              kIdentify = 0x10, kConfig = 0x11, kWebservice = 0x12,
                              kDeviceLog = 0x13, kAlarmMode = 0x14, kInternormMonitor = 0x15,
                              kCanDiagReply = 0x16, kCanDiagRequest = 0x17, kCanErrorReply = 0x18,
                              kCanErrorRequest = 0x19, kTreeShortcut = 0x1A,
                              kTreeShortcutTest = 0x1B, kKnxSendTelegram = 0x1C,
                              kKnxGroupConfig = 0x1D, kGroupIdentify = 0x1E, kTreeSniffer = 0x1F;
inline constexpr std::uint8_t kDigitalValue = 0x80, kAnalogValue = 0x81, kInternormDigital = 0x82,
                              kInternormAnalog = 0x83, kRgbw = 0x84, kFrequency = 0x85,
                              kAccessCode = 0x86, kKeypadNfcId = 0x87, kCompositeRgbw = 0x88,
                              kKeypadValue = 0x89, kCompositeWhite = 0x8A,
                              kCompositeRgbwMagic = 0x8B, kInternormData = 0x8D,
                              kSmartTunableWhite = 0xA8;
inline constexpr std::uint8_t kCryptDigital = 0x90, kCryptAnalog = 0x91, kCryptCode = 0x92,
                              kCryptNfc = 0x93, kCryptKey = 0x94, kCryptDeviceIdReply = 0x98,
                              kCryptDeviceIdRequest = 0x99, kRollingKeyReply = 0x9A,
                              kRollingKeyRequest = 0x9B, kChallengeRequest = 0x9C,
                              kChallengeReply = 0x9D;
inline constexpr std::uint8_t kFirmwareUpdateNew = 0xEF, kFragmentHeader = 0xF0,
                              kFragmentData = 0xF1, kFirmwareUpdate = 0xF3, kIdentifyUnknown = 0xF4,
                              kKnxMonitor = 0xF5, kInternormLearn = 0xFA, kSearchDevices = 0xFB,
                              kSearchReply = 0xFC, kNatOffer = 0xFD, kNatIndexRequest = 0xFE;
}  // namespace nat_cmd

namespace legacy_cmd {
inline constexpr std::uint8_t kIdentify = 0x00, kUpdateInit = 0x01, kUpdateReboot = 0x02,
                              kUpdateVerify = 0x03, kConfigAck = 0x04, kUpdateAck = 0x05,
                              kUpdateNak = 0x06, kStart = 0x07, kIdentifyLed = 0x08, kAlive = 0x09,
                              kUpdateInitModules = 0x0A, kIdentifyUnknown = 0x0B,
                              kSetOffline = 0x0C, kHeartbeat = 0x0D, kBlinkPosition = 0x0E,
                              kAliveReply = 0x0F, kAnalogInputs = 0x20, kDateTime = 0x2D,
                              kAnalogOutputs = 0x30, kWriteWord = 0x34, kLogLevel = 0x35,
                              kSettings = 0x36, kPark = 0x37, kCanDiagReply = 0x38,
                              kCanDiagRequest = 0x39, kFragment = 0x44, kFragmentLargeData = 0x45,
                              kFragmentLargeHeader = 0x46, kDigitalInputs = 0x50,
                              kFrequencies = 0x51, kTemperature = 0x53, kPageCrc = 0x54,
                              kMute = 0x5B, kOutputs = 0x60, kConfigChecksum = 0x78,
                              kRequestChecksum = 0x79;
/// Pseudo command number reported for firmware-data frames (0x1FTTPPPP), which have no command
/// byte.
inline constexpr int kFirmwareDataPseudo = -1;
}  // namespace legacy_cmd

/// snake_case name of a NAT command ("ping", "analog_value", "nat_offer"; "unknown" if not listed).
const char* nat_command_name(std::uint8_t cmd);
/// snake_case name of a legacy command (bit 7 ignored); type-specific ones (0x20, 0x30, 0x50, 0x51,
/// 0x60 of the Extension/Relay Extension) depend on the 4-bit type; "unknown" if not listed.
const char* legacy_command_name(std::uint8_t cmd, std::uint8_t type);
/// snake_case name of a legacy fragment type (section 5.2), e.g. 0x09 "webservice_request";
/// "unknown" if not listed.
const char* legacy_fragment_type_name(std::uint8_t type);
/// True when the NAT command is always carried in fragments (list at the top of this header).
bool nat_command_is_fragmented(std::uint8_t cmd);

// ---- Shared field types -------------------------------------------------------------------------

/// Date/time packing of NAT 0x0C and legacy 0x2D (section 4.1.3): 24-bit LE v in D1..D3,
/// year = v & 0x7FFF, month = (v >> 15) & 0xF, day = (v >> 19) & 0x1F; val32 = ms since midnight.
struct DateTime {
  std::uint16_t year = 0;  ///< 0..32767
  std::uint8_t month = 0;  ///< 1..12 (4 bits)
  std::uint8_t day = 0;    ///< 1..31 (5 bits)
  std::uint32_t ms_of_day = 0;
  friend bool operator==(const DateTime&, const DateTime&) = default;
  std::uint32_t packed() const {
    return (std::uint32_t{year} & 0x7FFF) | (std::uint32_t{month} & 0xF) << 15 |
           (std::uint32_t{day} & 0x1F) << 19;
  }
  static DateTime unpack(std::uint32_t v, std::uint32_t ms) {
    return {static_cast<std::uint16_t>(v & 0x7FFF), static_cast<std::uint8_t>((v >> 15) & 0xF),
            static_cast<std::uint8_t>((v >> 19) & 0x1F), ms};
  }
  template <class V>
  void visit(V& v) const {
    v.num("year", year);
    v.num("month", month);
    v.num("day", day);
    v.num("ms_of_day", ms_of_day);
  }
};

/// Analog value flags (section 4.2.1): bits 0..3 select the factor, bit 4 = signed raw value.
/// Returns NaN for the unused factor codes 4 and 9..15.
double scale_analog(std::uint32_t raw, std::uint8_t flags);
/// Inverse for encoders: the raw integer that scale_analog() maps to `value` (rounded, saturated).
std::uint32_t unscale_analog(double value, std::uint8_t flags);

// ---- NAT bodies: single frame -------------------------------------------------------------------
// D0 is always the device NAT (NatAddress::device_nat). "val16" = D2..D3, "val32" = D4..D7, LE.

struct VersionRequest {  ///< 0x01: val32 = serial that should answer with 0x03
  std::uint32_t serial = 0;
  template <class V>
  void visit(V& v) const {
    v.hex("serial", serial, 8);
  }
};
struct ConfigEqual {  ///< 0x04
  template <class V>
  void visit(V&) const {}
};
struct Ping {  ///< 0x05
  template <class V>
  void visit(V&) const {}
};
struct Pong {  ///< 0x06
  template <class V>
  void visit(V&) const {}
};
struct Park {  ///< 0x07: park devices / set offline
  template <class V>
  void visit(V&) const {}
};
struct Alive {  ///< 0x08: D1 reason, val16 config version, val32 config CRC
  std::uint8_t reason = 0;
  std::uint16_t config_version = 0;
  std::uint32_t config_crc = 0;
  template <class V>
  void visit(V& v) const {
    v.num("reason", reason);
    v.num("config_version", config_version);
    v.hex("config_crc", config_crc, 8);
  }
};
struct ExtensionsOffline {  ///< 0x0A ([NET] only)
  template <class V>
  void visit(V&) const {}
};
struct TimeSync {  ///< 0x0C
  DateTime time;
  template <class V>
  void visit(V& v) const {
    time.visit(v);
  }
};
struct Identify {  ///< 0x10: val16 timeout s (probably unused), val32 serial (0 = stop)
  std::uint16_t timeout_s = 0;
  std::uint32_t serial = 0;
  template <class V>
  void visit(V& v) const {
    v.num("timeout_s", timeout_s);
    v.hex("serial", serial, 8);
  }
};
/// 0x16 CAN diagnostics reply and 0x18 CAN error reply: D1 bus (0 Link port, 1 left, 2 right),
/// D2 REC, D3 TEC, val32 error count.
struct CanStats {
  std::uint8_t bus = 0;
  std::uint8_t rec = 0;
  std::uint8_t tec = 0;
  std::uint32_t error_count = 0;
  template <class V>
  void visit(V& v) const {
    v.num("bus", bus);
    v.num("rec", rec);
    v.num("tec", tec);
    v.num("error_count", error_count);
  }
};
struct CanDiagReply : CanStats {};   ///< 0x16
struct CanErrorReply : CanStats {};  ///< 0x18
struct CanDiagRequest {              ///< 0x17: val16 bus 0/1/2
  std::uint16_t bus = 0;
  template <class V>
  void visit(V& v) const {
    v.num("bus", bus);
  }
};
struct CanErrorRequest {  ///< 0x19: val16 bus 0/1/2
  std::uint16_t bus = 0;
  template <class V>
  void visit(V& v) const {
    v.num("bus", bus);
  }
};
struct TreeShortcut {  ///< 0x1A: D1 0x00 right / 0x40 left
  std::uint8_t branch = 0;
  template <class V>
  void visit(V& v) const {
    v.num("branch", branch);
    v.flag("left", (branch & 0x40) != 0);
  }
};
struct TreeShortcutTest {  ///< 0x1B: D1 branch flag, D2 sender NAT ([S-PY], unverified), val32
                           ///< serial
  std::uint8_t branch = 0;
  std::uint8_t sender_nat = 0;
  std::uint32_t serial = 0;
  template <class V>
  void visit(V& v) const {
    v.num("branch", branch);
    v.num("sender_nat", sender_nat);
    v.hex("serial", serial, 8);
  }
};
struct DigitalValue {  ///< 0x80: D1 index, val32 bit mask
  std::uint8_t index = 0;
  std::uint32_t bitmask = 0;
  template <class V>
  void visit(V& v) const {
    v.num("index", index);
    v.num("bitmask", bitmask);
  }
};
struct AnalogValue {  ///< 0x81: D1 index, D2 format flags, D3 high flags byte, val32 raw
  std::uint8_t index = 0;
  std::uint8_t flags = 0;
  std::uint8_t flags_high = 0;
  std::uint32_t raw = 0;
  bool is_signed() const { return (flags & 0x10) != 0; }
  double value() const { return scale_analog(raw, flags); }
  template <class V>
  void visit(V& v) const {
    v.num("index", index);
    v.num("flags", flags);
    if (flags_high != 0) v.num("flags_high", flags_high);
    if (is_signed())
      v.sint("raw", static_cast<std::int32_t>(raw));
    else
      v.num("raw", raw);
    v.real("value", value());
  }
};
struct RgbwValue {  ///< 0x84: val16 bits 0..2 jump R/G/B, bit 3 jump W; D4..D7 R G B W percent
  std::uint16_t jump_flags = 0;
  std::uint8_t r = 0, g = 0, b = 0, w = 0;
  template <class V>
  void visit(V& v) const {
    v.num("flags", jump_flags);
    v.num("r", r);
    v.num("g", g);
    v.num("b", b);
    v.num("w", w);
  }
};
struct FrequencyValue {  ///< 0x85: D1 input index, val32 Hz
  std::uint8_t index = 0;
  std::uint32_t hz = 0;
  template <class V>
  void visit(V& v) const {
    v.num("index", index);
    v.num("value", hz);
  }
};
/// Fade time of composite commands (0x88 val16, 0x8A fades): bits 0..13 value, bit 14 unit
/// (1 = seconds, 0 = tenths), bit 15 jump to target.
struct Fade {
  std::uint16_t raw = 0;
  double seconds() const {
    return (raw & 0x4000) ? double(raw & 0x3FFF) : double(raw & 0x3FFF) / 10.0;
  }
  bool jump() const { return (raw & 0x8000) != 0; }
  static Fade from_tenths(std::uint16_t tenths, bool jump = false) {
    return {static_cast<std::uint16_t>((tenths & 0x3FFF) | (jump ? 0x8000 : 0))};
  }
  friend bool operator==(const Fade&, const Fade&) = default;
};
struct CompositeRgbw {  ///< 0x88: val16 fade, D4..D7 R G B W percent (D1 unused)
  Fade fade;
  std::uint8_t r = 0, g = 0, b = 0, w = 0;
  template <class V>
  void visit(V& v) const {
    v.num("fade_raw", fade.raw);
    v.real("fade_s", fade.seconds());
    v.flag("jump", fade.jump());
    v.num("r", r);
    v.num("g", g);
    v.num("b", b);
    v.num("w", w);
  }
};
struct KeypadValue {  ///< 0x89: NFC keypad; D1 index, val16, val32 (meaning partly unknown)
  std::uint8_t index = 0;
  std::uint16_t val16 = 0;
  std::uint32_t val32 = 0;
  template <class V>
  void visit(V& v) const {
    v.num("index", index);
    v.num("val16", val16);
    v.num("val32", val32);
  }
};
struct SmartTunableWhite {  ///< 0xA8 ([LL-GL]): D1 pair index, val16 fade, val32 = brightness<<16 |
                            ///< kelvin
  std::uint8_t index = 0;
  Fade fade;
  std::uint16_t brightness = 0;
  std::uint16_t kelvin = 0;
  template <class V>
  void visit(V& v) const {
    v.num("index", index);
    v.num("fade_raw", fade.raw);
    v.num("brightness", brightness);
    v.num("kelvin", kelvin);
  }
};
struct FragmentHeader {  ///< 0xF0: D1 wrapped command, val16 payload size, val32 STM32 CRC
  std::uint8_t cmd = 0;
  std::uint16_t size = 0;
  std::uint32_t crc = 0;
  template <class V>
  void visit(V& v) const {
    v.num("packet_cmd", cmd);
    v.text("packet_cmd_name", nat_command_name(cmd));
    v.num("size", size);
    v.hex("crc", crc, 8);
  }
};
struct FragmentData {  ///< 0xF1: D1..D7 = next 7 payload bytes
  Bytes7 bytes{};
  template <class V>
  void visit(V& v) const {
    v.bytes("chunk", bytes);
  }
};
struct IdentifyUnknown {  ///< 0xF4
  template <class V>
  void visit(V&) const {}
};
struct SearchDevices {  ///< 0xFB
  template <class V>
  void visit(V&) const {}
};
/// 0xFC search reply / 0xFE NAT index request: D1 flags (0x40 = arrived on the left branch),
/// val16 device type, val32 serial.
struct DeviceAnnounce {
  std::uint8_t branch_flags = 0;
  std::uint16_t device_type = 0;
  std::uint32_t serial = 0;
  template <class V>
  void visit(V& v) const {
    v.num("branch_flags", branch_flags);
    v.hex("device_type", device_type, 4);
    v.hex("serial", serial, 8);
  }
};
struct SearchReply : DeviceAnnounce {};      ///< 0xFC
struct NatIndexRequest : DeviceAnnounce {};  ///< 0xFE
struct NatOffer {  ///< 0xFD: D1 new NAT, D2 flags (bit 0 park, bit 1 no values, bit 2 see 4.1.5),
                   ///< val32 serial
  std::uint8_t new_nat = 0;
  std::uint8_t flags = 0;
  std::uint32_t serial = 0;
  static constexpr std::uint8_t kPark = 0x01, kNoValues = 0x02, kNoRollingKey = 0x04;
  template <class V>
  void visit(V& v) const {
    v.num("new_nat", new_nat);
    v.num("flags", flags);
    v.flag("park", (flags & kPark) != 0);
    v.hex("serial", serial, 8);
  }
};
/// A catalogued single-frame command whose layout is undocumented (0x14 0x15 0x1C 0x1D 0x1F 0x82
/// 0x83 0x86 0x87 0x8D 0xF5 0xFA, and unfragmented frames of fragmented commands): D1..D7 kept.
struct NatOpaque {
  std::uint8_t cmd = 0;
  Bytes7 bytes{};
  template <class V>
  void visit(V& v) const {
    v.bytes("bytes", bytes);
  }
};

// ---- NAT bodies: fragmented packets (payload P[0..n-1]) -----------------------------------------

/// 0x02 Start / 0x03 Version info (section 4.1.1, 20 bytes).
struct DeviceInfo {
  std::uint32_t version = 0;     ///< firmware version, decimal AABBCCDD (10031108 = 10.3.11.8)
  std::uint32_t unknown = 0;     ///< bytes 4..7, always 0 so far
  std::uint32_t config_crc = 0;  ///< 0 if none
  std::uint32_t serial = 0;
  std::uint8_t reason = 0;        ///< section 4.1.2
  std::uint16_t device_type = 0;  ///< section 8.1
  std::uint8_t hw_version = 0;
  template <class V>
  void visit(V& v) const {
    v.num("version", version);
    if (unknown != 0) v.num("unknown", unknown);
    v.hex("config_crc", config_crc, 8);
    v.hex("serial", serial, 8);
    v.num("reason", reason);
    v.hex("device_type", device_type, 4);
    v.num("hw_version", hw_version);
  }
};
struct Start : DeviceInfo {};        ///< 0x02
struct VersionInfo : DeviceInfo {};  ///< 0x03

/// 0x11 device configuration (section 4.1.4). `bytes` is the whole payload: 8-byte header
/// (size, version, blink offset, reserved, u32 offline timeout), device-specific part, 4 zero
/// bytes.
struct Config {
  std::vector<std::uint8_t> bytes;
  std::uint8_t size() const { return bytes.empty() ? 0 : bytes[0]; }
  std::uint8_t version() const { return bytes.size() > 1 ? bytes[1] : 0; }
  std::uint8_t blink_offset() const { return bytes.size() > 2 ? bytes[2] : 0; }
  std::uint32_t offline_timeout_s() const;
  std::span<const std::uint8_t> device_specific() const;  ///< bytes 8 .. size-4 (empty if short)
  std::uint32_t crc() const;                              ///< config_crc() of section 5.5
  /// Build a config: header + specific + 4 zero bytes, size byte filled in.
  static Config make(std::uint8_t version, std::uint8_t blink_offset,
                     std::uint32_t offline_timeout_s, std::span<const std::uint8_t> specific);
  template <class V>
  void visit(V& v) const {
    v.num("size", size());
    v.num("config_version", version());
    v.num("blink_offset", blink_offset());
    v.num("offline_timeout_s", offline_timeout_s());
    v.bytes("device_config", device_specific());
    v.hex("config_crc", crc(), 8);
  }
};

/// 0x12 webservice text / 0x13 device log: P[0] = 0, P[1] = length incl. NUL, text, NUL.
struct TextPacket {
  std::string text;
  template <class V>
  void visit(V& v) const {
    v.text("text", text);
  }
};
struct Webservice : TextPacket {};  ///< 0x12
struct DeviceLog : TextPacket {};   ///< 0x13

/// 0x1E group identify: u16 count, u16 flags, u32 unknown, entries of {u32 serial, u8 index, u8
/// filler}.
struct GroupIdentify {
  struct Entry {
    std::uint32_t serial = 0;
    std::uint8_t index = 0;
    std::uint8_t filler = 0;
    friend bool operator==(const Entry&, const Entry&) = default;
  };
  std::uint16_t count = 0;
  std::uint16_t flags = 0;
  std::uint32_t unknown = 0;
  std::vector<Entry> entries;
  template <class V>
  void visit(V& v) const {
    v.num("count", count);
    v.num("flags", flags);
    for (const auto& e : entries) v.hex("serial", e.serial, 8);
  }
};

/// 0x8A composite white: four channel values (%; 0xFF = unchanged) with individual fades.
struct CompositeWhite {
  enum class Layout : std::uint8_t {
    ll_gl,  ///< 16 bytes: values P[2..5], fades P[6..13] (sent by loxcan)
    s_nat,  ///< 15 bytes: values P[3..6], fades P[7..14]
    s_py,   ///< values P[1..4], fades P[5..12] (13 bytes when sent)
  };
  Layout layout = Layout::ll_gl;
  std::array<std::uint8_t, 4> value{};
  std::array<Fade, 4> fade{};
  std::vector<std::uint8_t> padding;  ///< the payload bytes outside values/fades (zeros when sent)
  template <class V>
  void visit(V& v) const {
    static constexpr const char* kNames[] = {"ll_gl", "s_nat", "s_py"};
    v.text("layout", kNames[static_cast<int>(layout)]);
    static constexpr const char* kV[] = {"value1", "value2", "value3", "value4"};
    static constexpr const char* kF[] = {"fade1_raw", "fade2_raw", "fade3_raw", "fade4_raw"};
    for (int k = 0; k < 4; ++k) v.num(kV[k], value[k]);
    for (int k = 0; k < 4; ++k) v.num(kF[k], fade[k].raw);
  }
};

/// 0x8B composite RGBW with magic: P[0..7] a 0x88 body (P[0] device NAT, P[1] unused, P[2..3]
/// fade, P[4..7] R G B W), P[8..11] magic; bytes beyond 12 kept in `extra`.
struct CompositeRgbwMagic {
  std::uint8_t head0 = 0, head1 = 0;
  CompositeRgbw rgbw;
  std::uint32_t magic = 0;
  std::vector<std::uint8_t> extra;
  template <class V>
  void visit(V& v) const {
    rgbw.visit(v);
    v.hex("magic", magic, 8);
  }
};

/// 0x90..0x9D encrypted values and authentication: kept as the encrypted bytes (section 7).
struct CryptoPacket {
  std::uint8_t cmd = nat_cmd::kChallengeRequest;
  std::vector<std::uint8_t> data;
  template <class V>
  void visit(V& v) const {
    v.bytes("encrypted", data);
  }
};

/// 0xF3 (old) / 0xEF (new) firmware update (section 4.4.1): 12-byte header + 0..64 data bytes.
struct FirmwareUpdate {
  std::uint8_t cmd = nat_cmd::kFirmwareUpdateNew;
  std::uint8_t size = 0;  ///< as sent (total incl. header per [NET])
  std::uint8_t sub = 0;   ///< 1 data, 2 CRC table, 3 verify, 4 verify+reboot, 0x80 ok, 0x81 failed
  std::uint16_t device_type = 0;
  std::uint32_t version = 0;
  std::uint16_t page = 0;
  std::uint16_t index = 0;
  std::vector<std::uint8_t> data;
  template <class V>
  void visit(V& v) const {
    v.num("size", size);
    v.num("sub", sub);
    v.hex("device_type", device_type, 4);
    v.num("version", version);
    v.num("page", page);
    v.num("index", index);
    v.bytes("data", data);
  }
};

/// A fragmented command whose payload layout is unknown or did not parse (see `note`).
struct NatOpaquePacket {
  std::uint8_t cmd = 0;
  std::vector<std::uint8_t> data;
  const char* note = "";  ///< why the typed layout was not used ("" = none documented)
  template <class V>
  void visit(V& v) const {
    if (note[0] != '\0') v.text("note", note);
    v.bytes("payload", data);
  }
};

using NatBody =
    std::variant<VersionRequest, ConfigEqual, Ping, Pong, Park, Alive, ExtensionsOffline, TimeSync,
                 Identify, CanDiagReply, CanDiagRequest, CanErrorReply, CanErrorRequest,
                 TreeShortcut, TreeShortcutTest, DigitalValue, AnalogValue, RgbwValue,
                 FrequencyValue, CompositeRgbw, KeypadValue, SmartTunableWhite, FragmentHeader,
                 FragmentData, IdentifyUnknown, SearchDevices, SearchReply, NatOffer,
                 NatIndexRequest, NatOpaque,
                 // fragmented:
                 Start, VersionInfo, Config, Webservice, DeviceLog, GroupIdentify, CompositeWhite,
                 CompositeRgbwMagic, CryptoPacket, FirmwareUpdate, NatOpaquePacket>;

/// Command number of a body.
std::uint8_t nat_command(const NatBody& body);

struct NatAddress {
  Bus bus = Bus::link;
  Direction dir = Direction::to_device;
  std::uint8_t nat = 0;         ///< id NAT: extension NAT on Link, device NAT on a Tree branch
  std::uint8_t device_nat = 0;  ///< D0
  friend bool operator==(const NatAddress&, const NatAddress&) = default;
};

struct NatMessage {
  NatAddress addr;
  NatBody body;
  std::uint64_t residue = 0;  ///< see top of header; bytes D0..D7 as a little-endian u64
};

// ---- Legacy bodies ------------------------------------------------------------------------------
// D0 = command | 0x80 when sent by an extension; D1 = "b0"; val16 = D2..D3; val32 = D4..D7.

struct LegacyIdentify {
  template <class V>
  void visit(V&) const {}
};  ///< 0x00
struct LegacyIdentifyUnknown {
  template <class V>
  void visit(V&) const {}
};  ///< 0x0B
struct LegacySetOffline {
  template <class V>
  void visit(V&) const {}
};  ///< 0x0C
struct LegacyPark {
  template <class V>
  void visit(V&) const {}
};  ///< 0x37
struct LegacyCanDiagRequest {
  template <class V>
  void visit(V&) const {}
};  ///< 0x39
struct LegacyMute {
  template <class V>
  void visit(V&) const {}
};  ///< 0x5B
struct LegacyRequestChecksum {
  template <class V>
  void visit(V&) const {}
};  ///< 0x79

/// 0x01 update init / 0x0A update init modules / 0x02 reboot / 0x03 verify: D1 param
/// (min hw / 0 / flags), val16 (0xDEAD force / pages), val32 version.
struct LegacyUpdateCommand {
  std::uint8_t param = 0;
  std::uint16_t val16 = 0;
  std::uint32_t version = 0;
  template <class V>
  void visit(V& v) const {
    v.num("param", param);
    v.num("val16", val16);
    v.num("version", version);
  }
};
struct LegacyUpdateInit : LegacyUpdateCommand {};         ///< 0x01
struct LegacyUpdateReboot : LegacyUpdateCommand {};       ///< 0x02
struct LegacyUpdateVerify : LegacyUpdateCommand {};       ///< 0x03
struct LegacyUpdateInitModules : LegacyUpdateCommand {};  ///< 0x0A

struct LegacyConfigAck {  ///< 0x04: val16 config bit mask, val32 firmware
  std::uint16_t mask = 0;
  std::uint32_t version = 0;
  template <class V>
  void visit(V& v) const {
    v.num("mask", mask);
    v.num("version", version);
  }
};
struct LegacyUpdateReply {  ///< 0x05 ACK / 0x06 NAK: val32 firmware
  std::uint32_t version = 0;
  template <class V>
  void visit(V& v) const {
    v.num("version", version);
  }
};
struct LegacyUpdateAck : LegacyUpdateReply {};  ///< 0x05
struct LegacyUpdateNak : LegacyUpdateReply {};  ///< 0x06

/// 0x07 start / 0x09 alive: D1 hardware version, val16 config version, val32 firmware.
struct LegacyDeviceInfo {
  std::uint8_t hw_version = 0;
  std::uint16_t config_version = 0;
  std::uint32_t version = 0;
  template <class V>
  void visit(V& v) const {
    v.num("hw_version", hw_version);
    v.num("config_version", config_version);
    v.num("version", version);
  }
};
struct LegacyStart : LegacyDeviceInfo {};  ///< 0x07
struct LegacyAlive : LegacyDeviceInfo {};  ///< 0x09

struct LegacyIdentifyLed {  ///< 0x08: DMX uses val16 manufacturer, val32 device id
  std::uint16_t val16 = 0;
  std::uint32_t val32 = 0;
  template <class V>
  void visit(V& v) const {
    v.num("val16", val16);
    v.num("val32", val32);
  }
};
struct LegacyHeartbeat {  ///< 0x0D: val32 ms since the previous heartbeat
  std::uint32_t delta_ms = 0;
  template <class V>
  void visit(V& v) const {
    v.num("delta_ms", delta_ms);
  }
};
struct LegacyBlinkPosition {  ///< 0x0E: val32 blink position
  std::uint32_t position = 0;
  template <class V>
  void visit(V& v) const {
    v.num("position", position);
  }
};
struct LegacyAliveReply {  ///< 0x0F: val32 version (from an extension)
  std::uint32_t version = 0;
  template <class V>
  void visit(V& v) const {
    v.num("version", version);
  }
};
struct LegacyDateTime {  ///< 0x2D
  DateTime time;
  template <class V>
  void visit(V& v) const {
    time.visit(v);
  }
};
struct LegacyWriteWord {  ///< 0x34: 24-bit address in D1..D3, val32 word
  std::uint32_t address = 0;
  std::uint32_t word = 0;
  template <class V>
  void visit(V& v) const {
    v.hex("address", address, 6);
    v.hex("word", word, 8);
  }
};
struct LegacyLogLevel {  ///< 0x35: val32 level
  std::uint32_t level = 0;
  template <class V>
  void visit(V& v) const {
    v.num("level", level);
  }
};
struct LegacySettings {  ///< 0x36: val16 settings version, val32 settings CRC
  std::uint16_t settings_version = 0;
  std::uint32_t crc = 0;
  template <class V>
  void visit(V& v) const {
    v.num("settings_version", settings_version);
    v.hex("crc", crc, 8);
  }
};
struct LegacyCanDiagReply {  ///< 0x38: D2 REC, D3 TEC (7 bit), val32 error count
  std::uint8_t rec = 0;
  std::uint8_t tec = 0;
  std::uint32_t error_count = 0;
  template <class V>
  void visit(V& v) const {
    v.num("rec", rec);
    v.num("tec", tec);
    v.num("error_count", error_count);
  }
};
/// Fragment header: 0x44 with D1 = 0 (small) or 0x46 (large): D2 fragment type, D4..D5 length,
/// D6..D7 16-bit sum.
struct LegacyFragmentHeader {
  bool large = false;
  std::uint8_t type = 0;
  std::uint16_t size = 0;
  std::uint16_t sum = 0;
  template <class V>
  void visit(V& v) const {
    v.flag("large", large);
    v.num("fragment_type", type);
    v.num("size", size);
    v.hex("sum", sum, 4);
  }
};
/// Fragment data: 0x44 with D1 = index 1..255 and 6 bytes in D2..D7 (count = 6), or 0x45 with
/// 7 bytes in D1..D7 (large, count = 7, index 0).
struct LegacyFragmentData {
  bool large = false;
  std::uint8_t index = 0;
  Bytes7 bytes{};
  std::span<const std::uint8_t> chunk() const { return {bytes.data(), large ? 7u : 6u}; }
  template <class V>
  void visit(V& v) const {
    if (!large) v.num("index", index);
    v.bytes("chunk", chunk());
  }
};
/// 0x53 temperature: D1 / D2 raw-ADC selectors (see open question 15), D3 shutdown flag, val32.
struct LegacyTemperature {
  std::uint8_t selector_d1 = 0;
  std::uint8_t selector_d2 = 0;
  std::uint8_t shutdown = 0;
  std::uint32_t value = 0;
  /// degC: raw ADC formula when a selector is 1 or hw_version <= 1 (if known), else value / 10.
  double celsius(std::optional<std::uint8_t> hw_version = std::nullopt) const;
  template <class V>
  void visit(V& v) const {
    v.num("selector_d1", selector_d1);
    v.num("selector_d2", selector_d2);
    v.flag("shutdown", shutdown != 0);
    v.num("raw", value);
    v.real("value", celsius());
  }
};
struct LegacyPageCrc {  ///< 0x54: val16 page number, val32 CRC32
  std::uint16_t page = 0;
  std::uint32_t crc = 0;
  template <class V>
  void visit(V& v) const {
    v.num("page", page);
    v.hex("crc", crc, 8);
  }
};
struct LegacyConfigChecksum {  ///< 0x78: 7-byte checksum in D1..D7 (zeros = no config)
  Bytes7 checksum{};
  template <class V>
  void visit(V& v) const {
    v.bytes("checksum", checksum);
  }
};
/// Extension (type 1) 0x20 analog inputs / 0x30 analog outputs: four 10-bit values packed as
/// v1 = D4 + ((D1&3)<<8), v2 = D5 + ((D1&0xC)<<6), v3 = D6 + ((D1&0x30)<<4), v4 = D7 +
/// ((D1&0xC0)<<2); 0..1000 = 0..10.00 V. D2..D3 unused.
struct LegacyAnalog4 {
  std::array<std::uint16_t, 4> raw{};
  template <class V>
  void visit(V& v) const {
    static constexpr const char* kN[] = {"value1", "value2", "value3", "value4"};
    for (int k = 0; k < 4; ++k) v.real(kN[k], raw[k] / 100.0);
  }
};
struct LegacyAnalogInputs : LegacyAnalog4 {};   ///< 0x20 (Extension)
struct LegacyAnalogOutputs : LegacyAnalog4 {};  ///< 0x30 (Extension)
struct LegacyDigitalInputs {  ///< 0x50 (Extension): val32 bit mask of the 12 inputs
  std::uint32_t bitmask = 0;
  template <class V>
  void visit(V& v) const {
    v.num("bitmask", bitmask);
  }
};
struct LegacyOutputs {  ///< 0x60 (Extension, Relay Extension): val32 bit mask of the relays
  std::uint32_t bitmask = 0;
  template <class V>
  void visit(V& v) const {
    v.num("bitmask", bitmask);
  }
};
/// Any other catalogued legacy command (device-specific tables of section 8.2, statistics, Air,
/// debug, ...): the generic layout.
struct LegacyGeneric {
  std::uint8_t cmd = 0;  ///< 7-bit command
  std::uint8_t b0 = 0;
  std::uint16_t val16 = 0;
  std::uint32_t val32 = 0;
  template <class V>
  void visit(V& v) const {
    v.num("b0", b0);
    v.num("val16", val16);
    v.num("val32", val32);
  }
};
/// 0x1FTTPPPP firmware image data: the 8 raw bytes (type and package are in LegacyId).
struct LegacyFirmwareData {
  Bytes8 bytes{};
  template <class V>
  void visit(V& v) const {
    v.bytes("image", bytes);
  }
};
/// A reassembled legacy fragment packet (section 5.2): fragment type and payload. Types 0x09
/// (webservice request) and 0x0B (webservice reply) also expose the text.
struct LegacyPacket {
  std::uint8_t type = 0;
  std::vector<std::uint8_t> data;
  bool force_large = false;  ///< encode with 0x46/0x45 even when <= 1530 bytes
  std::string text() const;  ///< printable part for webservice types (else empty)
  template <class V>
  void visit(V& v) const {
    v.num("fragment_type", type);
    if (type == 0x09 || type == 0x0B) v.text("text", text());
    v.bytes("payload", data);
  }
};

using LegacyBody =
    std::variant<LegacyIdentify, LegacyUpdateInit, LegacyUpdateReboot, LegacyUpdateVerify,
                 LegacyConfigAck, LegacyUpdateAck, LegacyUpdateNak, LegacyStart, LegacyIdentifyLed,
                 LegacyAlive, LegacyUpdateInitModules, LegacyIdentifyUnknown, LegacySetOffline,
                 LegacyHeartbeat, LegacyBlinkPosition, LegacyAliveReply, LegacyDateTime,
                 LegacyWriteWord, LegacyLogLevel, LegacySettings, LegacyPark, LegacyCanDiagReply,
                 LegacyCanDiagRequest, LegacyFragmentHeader, LegacyFragmentData, LegacyTemperature,
                 LegacyPageCrc, LegacyMute, LegacyConfigChecksum, LegacyRequestChecksum,
                 LegacyAnalogInputs, LegacyAnalogOutputs, LegacyDigitalInputs, LegacyOutputs,
                 LegacyGeneric, LegacyFirmwareData, LegacyPacket>;

/// 7-bit command of a body (LegacyFirmwareData and LegacyPacket: the command of their first frame,
/// 0x1F-range data has none and reports 0).
std::uint8_t legacy_command(const LegacyBody& body);

struct LegacyMessage {
  LegacyId addr;
  LegacyBody body;
  std::uint64_t residue = 0;  ///< see top of header
};

// ---- Unknown / malformed ------------------------------------------------------------------------

/// A frame whose id or command no protocol table knows. `frame` is the original, unchanged.
struct UnknownMessage {
  Protocol protocol = Protocol::unknown;  ///< the protocol the id belongs to, if any
  const char* reason = "";                ///< static text, e.g. "unknown NAT command"
  Frame frame;
};

/// A frame (or reassembled packet) that breaks the protocol's rules. `frame` is the original frame
/// (for packets: the frame that completed or abandoned it).
struct MalformedMessage {
  Protocol protocol = Protocol::unknown;
  const char* reason = "";  ///< static text, e.g. "DLC is not 8", "fragment CRC mismatch"
  Frame frame;
};

using Message = std::variant<NatMessage, LegacyMessage, UnknownMessage, MalformedMessage>;

// ---- Codec --------------------------------------------------------------------------------------

/// Decode one frame seen on `bus`. Allocation-free; never fails (see the top of this header).
Message decode_frame(const Frame& frame, Bus bus);

/// Decode a reassembled NAT payload of command `cmd` into its typed body. Payloads that do not fit
/// the documented layout (wrong size, inconsistent length byte) become NatOpaquePacket with a note.
NatBody decode_nat_payload(std::uint8_t cmd, std::span<const std::uint8_t> payload);
/// Bytes a fragmented body is carried as (inverse of decode_nat_payload). For single-frame bodies
/// returns D1..D7 of their frame.
std::vector<std::uint8_t> encode_nat_payload(const NatBody& body);

enum class EncodeErrc : std::uint8_t {
  needs_fragments,    ///< encode_frame() of a body that is sent fragmented
  payload_too_large,  ///< fragmented payload > 65535 bytes (NAT) / 65535 (legacy)
};
const char* to_string(EncodeErrc code);

/// One frame for a single-frame message (no allocation). ts_ns/iface of the result are default.
Result<Frame, EncodeErrc> encode_frame(const NatMessage& message);
Result<Frame, EncodeErrc> encode_frame(const LegacyMessage& message);

/// All frames of a message, fragmenting where needed (NAT: 0xF0 header + 0xF1 data frames with the
/// zero-padded STM32 CRC; legacy LegacyPacket: 0x44 small <= 1530 bytes, else 0x46/0x45).
/// Unknown/Malformed messages encode to their original frame, whatever its shape.
Result<std::vector<Frame>, EncodeErrc> encode(const Message& message);
Result<std::vector<Frame>, EncodeErrc> encode(const NatMessage& message);
Result<std::vector<Frame>, EncodeErrc> encode(const LegacyMessage& message);

/// Convenience: a NatMessage from address + body (residue 0).
inline NatMessage nat_message(const NatAddress& addr, NatBody body) {
  return {addr, std::move(body), 0};
}

}  // namespace loxcan::canproto
