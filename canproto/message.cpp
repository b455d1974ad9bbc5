#include "canproto/message.hpp"

#include <cstring>
#include <limits>
#include <type_traits>

#include "canproto/crc.hpp"
#include "canproto/fragment.hpp"

namespace loxcan::canproto {
namespace {

// ---- little-endian access -------------------------------------------------------------------

std::uint16_t u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}
std::uint32_t u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<std::uint8_t>(v >> (8 * k));
}
std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
void xor64(std::uint8_t* p, std::uint64_t v) {
  std::uint64_t x = load64(p) ^ v;
  std::memcpy(p, &x, 8);
}

// ---- command tables -------------------------------------------------------------------------

struct Named {
  std::uint8_t cmd;
  const char* name;
};

constexpr Named kNatNames[] = {
    {0x01, "version_request"},
    {0x02, "start"},
    {0x03, "version_info"},
    {0x04, "config_equal"},
    {0x05, "ping"},
    {0x06, "pong"},
    {0x07, "park"},
    {0x08, "alive"},
    {0x0A, "extensions_offline"},
    {0x0C, "time_sync"},
    {0x10, "identify"},
    {0x11, "config"},
    {0x12, "webservice"},
    {0x13, "device_log"},
    {0x14, "alarm_mode"},
    {0x15, "internorm_monitor"},
    {0x16, "can_diag_reply"},
    {0x17, "can_diag_request"},
    {0x18, "can_error_reply"},
    {0x19, "can_error_request"},
    {0x1A, "tree_shortcut"},
    {0x1B, "tree_shortcut_test"},
    {0x1C, "knx_send_telegram"},
    {0x1D, "knx_group_config"},
    {0x1E, "group_identify"},
    {0x1F, "tree_sniffer"},
    {0x80, "digital_value"},
    {0x81, "analog_value"},
    {0x82, "internorm_digital_value"},
    {0x83, "internorm_analog_value"},
    {0x84, "rgbw"},
    {0x85, "frequency"},
    {0x86, "access_code"},
    {0x87, "keypad_nfc_id"},
    {0x88, "composite_rgbw"},
    {0x89, "keypad_value"},
    {0x8A, "composite_white"},
    {0x8B, "composite_rgbw_magic"},
    {0x8D, "internorm_data"},
    {0x90, "crypt_digital_value"},
    {0x91, "crypt_analog_value"},
    {0x92, "crypt_code_value"},
    {0x93, "crypt_nfc_value"},
    {0x94, "crypt_key_value"},
    {0x98, "crypt_device_id_reply"},
    {0x99, "crypt_device_id_request"},
    {0x9A, "rolling_key_reply"},
    {0x9B, "rolling_key_request"},
    {0x9C, "challenge_request"},
    {0x9D, "challenge_reply"},
    {0xA8, "smart_tunable_white"},
    {0xEF, "firmware_update"},
    {0xF0, "fragment_header"},
    {0xF1, "fragment_data"},
    {0xF3, "firmware_update_old"},
    {0xF4, "identify_unknown"},
    {0xF5, "knx_monitor"},
    {0xFA, "internorm_learn"},
    {0xFB, "search_devices"},
    {0xFC, "search_reply"},
    {0xFD, "nat_offer"},
    {0xFE, "nat_index_request"},
};

constexpr std::array<const char*, 256> make_nat_name_table() {
  std::array<const char*, 256> t{};
  for (auto& n : t) n = nullptr;
  for (const auto& n : kNatNames) t[n.cmd] = n.name;
  return t;
}
constexpr auto kNatNameTable = make_nat_name_table();

constexpr Named kLegacyNames[] = {
    {0x00, "identify"},
    {0x01, "update_init"},
    {0x02, "update_reboot"},
    {0x03, "update_verify"},
    {0x04, "config_ack"},
    {0x05, "update_ack"},
    {0x06, "update_nak"},
    {0x07, "start"},
    {0x08, "identify_led"},
    {0x09, "alive"},
    {0x0A, "update_init_modules"},
    {0x0B, "identify_unknown"},
    {0x0C, "set_offline"},
    {0x0D, "heartbeat"},
    {0x0E, "blink_position"},
    {0x0F, "alive_reply"},
    {0x12, "web_request"},
    {0x13, "crash_report"},
    {0x1B, "air_parameter"},
    {0x1C, "debug"},
    {0x1D, "statistics"},
    {0x1F, "air_otau"},
    {0x2D, "date_time"},
    {0x34, "write_word"},
    {0x35, "log_level"},
    {0x36, "settings"},
    {0x37, "park"},
    {0x38, "can_diag_reply"},
    {0x39, "can_diag_request"},
    {0x44, "fragment"},
    {0x45, "fragment_large_data"},
    {0x46, "fragment_large_header"},
    {0x53, "temperature"},
    {0x54, "page_crc"},
    {0x58, "reboot_air_devices"},
    {0x5B, "mute"},
    {0x78, "config_checksum"},
    {0x79, "request_config_checksum"},
};

struct TypedName {
  std::uint8_t type;
  std::uint8_t cmd;
  const char* name;
};
// Section 8.2: device-specific commands; they take precedence over the common table.
constexpr TypedName kLegacyTypedNames[] = {
    {0x1, 0x10, "ai_config_1_2"},
    {0x1, 0x11, "ai_config_3_4"},
    {0x1, 0x20, "analog_inputs"},
    {0x1, 0x30, "analog_outputs"},
    {0x1, 0x31, "ao_config"},
    {0x1, 0x40, "di_config_1_4"},
    {0x1, 0x41, "di_config_5_8"},
    {0x1, 0x42, "di_config_9_12"},
    {0x1, 0x50, "digital_inputs"},
    {0x1, 0x51, "frequencies"},
    {0x1, 0x60, "outputs"},
    {0xB, 0x60, "outputs"},
    {0x6, 0x69, "serial_config"},
    {0x6, 0x71, "serial_send"},
    {0x6, 0x7C, "serial_ack_config"},
    {0x7, 0x69, "serial_config"},
    {0x7, 0x71, "serial_send"},
    {0x4, 0x64, "dmx_search"},
    {0x4, 0x65, "dmx_search_reply_last"},
    {0x4, 0x74, "dmx_learn"},
    {0x5, 0x63, "ibutton_poll"},
    {0x5, 0x64, "onewire_scan"},
    {0x5, 0x65, "onewire_scan_last"},
    {0x5, 0x66, "onewire_value"},
    {0x5, 0x7A, "ibutton_arrived"},
    {0x5, 0x7B, "ibutton_departed"},
    {0x9, 0x1C, "modbus_error"},
    {0x9, 0x5C, "modbus_read_result"},
    {0x9, 0x5D, "modbus_write_coil"},
    {0x9, 0x5E, "modbus_write_register"},
    {0x9, 0x5F, "modbus_write_registers_1"},
    {0x9, 0x60, "modbus_write_registers_2"},
    {0x9, 0x61, "modbus_write_register_4b"},
    {0x9, 0x62, "modbus_write_registers_4b"},
    {0x9, 0x63, "modbus_write_coils"},
};

// ---- body <-> command traits ----------------------------------------------------------------

template <class T>
struct NatCmdOf {};
#define LOXCAN_NAT_CMD(T, c)                 \
  template <>                                \
  struct NatCmdOf<T> {                       \
    static constexpr std::uint8_t value = c; \
  }
LOXCAN_NAT_CMD(VersionRequest, 0x01);
LOXCAN_NAT_CMD(ConfigEqual, 0x04);
LOXCAN_NAT_CMD(Ping, 0x05);
LOXCAN_NAT_CMD(Pong, 0x06);
LOXCAN_NAT_CMD(Park, 0x07);
LOXCAN_NAT_CMD(Alive, 0x08);
LOXCAN_NAT_CMD(ExtensionsOffline, 0x0A);
LOXCAN_NAT_CMD(TimeSync, 0x0C);
LOXCAN_NAT_CMD(Identify, 0x10);
LOXCAN_NAT_CMD(CanDiagReply, 0x16);
LOXCAN_NAT_CMD(CanDiagRequest, 0x17);
LOXCAN_NAT_CMD(CanErrorReply, 0x18);
LOXCAN_NAT_CMD(CanErrorRequest, 0x19);
LOXCAN_NAT_CMD(TreeShortcut, 0x1A);
LOXCAN_NAT_CMD(TreeShortcutTest, 0x1B);
LOXCAN_NAT_CMD(DigitalValue, 0x80);
LOXCAN_NAT_CMD(AnalogValue, 0x81);
LOXCAN_NAT_CMD(RgbwValue, 0x84);
LOXCAN_NAT_CMD(FrequencyValue, 0x85);
LOXCAN_NAT_CMD(CompositeRgbw, 0x88);
LOXCAN_NAT_CMD(KeypadValue, 0x89);
LOXCAN_NAT_CMD(SmartTunableWhite, 0xA8);
LOXCAN_NAT_CMD(FragmentHeader, 0xF0);
LOXCAN_NAT_CMD(FragmentData, 0xF1);
LOXCAN_NAT_CMD(IdentifyUnknown, 0xF4);
LOXCAN_NAT_CMD(SearchDevices, 0xFB);
LOXCAN_NAT_CMD(SearchReply, 0xFC);
LOXCAN_NAT_CMD(NatOffer, 0xFD);
LOXCAN_NAT_CMD(NatIndexRequest, 0xFE);
LOXCAN_NAT_CMD(Start, 0x02);
LOXCAN_NAT_CMD(VersionInfo, 0x03);
LOXCAN_NAT_CMD(Config, 0x11);
LOXCAN_NAT_CMD(Webservice, 0x12);
LOXCAN_NAT_CMD(DeviceLog, 0x13);
LOXCAN_NAT_CMD(GroupIdentify, 0x1E);
LOXCAN_NAT_CMD(CompositeWhite, 0x8A);
LOXCAN_NAT_CMD(CompositeRgbwMagic, 0x8B);
#undef LOXCAN_NAT_CMD

template <class T>
concept HasNatCmd = requires {
  NatCmdOf<T>::value;
};

template <class T, class... Ts>
constexpr std::size_t index_of(const std::variant<Ts...>*) {
  constexpr bool match[] = {std::is_same_v<T, Ts>...};
  for (std::size_t i = 0; i < sizeof...(Ts); ++i)
    if (match[i]) return i;
  return sizeof...(Ts);
}

template <class T>
struct LegacyCmdOf {};
#define LOXCAN_LEGACY_CMD(T, c)              \
  template <>                                \
  struct LegacyCmdOf<T> {                    \
    static constexpr std::uint8_t value = c; \
  }
LOXCAN_LEGACY_CMD(LegacyIdentify, 0x00);
LOXCAN_LEGACY_CMD(LegacyUpdateInit, 0x01);
LOXCAN_LEGACY_CMD(LegacyUpdateReboot, 0x02);
LOXCAN_LEGACY_CMD(LegacyUpdateVerify, 0x03);
LOXCAN_LEGACY_CMD(LegacyConfigAck, 0x04);
LOXCAN_LEGACY_CMD(LegacyUpdateAck, 0x05);
LOXCAN_LEGACY_CMD(LegacyUpdateNak, 0x06);
LOXCAN_LEGACY_CMD(LegacyStart, 0x07);
LOXCAN_LEGACY_CMD(LegacyIdentifyLed, 0x08);
LOXCAN_LEGACY_CMD(LegacyAlive, 0x09);
LOXCAN_LEGACY_CMD(LegacyUpdateInitModules, 0x0A);
LOXCAN_LEGACY_CMD(LegacyIdentifyUnknown, 0x0B);
LOXCAN_LEGACY_CMD(LegacySetOffline, 0x0C);
LOXCAN_LEGACY_CMD(LegacyHeartbeat, 0x0D);
LOXCAN_LEGACY_CMD(LegacyBlinkPosition, 0x0E);
LOXCAN_LEGACY_CMD(LegacyAliveReply, 0x0F);
LOXCAN_LEGACY_CMD(LegacyDateTime, 0x2D);
LOXCAN_LEGACY_CMD(LegacyWriteWord, 0x34);
LOXCAN_LEGACY_CMD(LegacyLogLevel, 0x35);
LOXCAN_LEGACY_CMD(LegacySettings, 0x36);
LOXCAN_LEGACY_CMD(LegacyPark, 0x37);
LOXCAN_LEGACY_CMD(LegacyCanDiagReply, 0x38);
LOXCAN_LEGACY_CMD(LegacyCanDiagRequest, 0x39);
LOXCAN_LEGACY_CMD(LegacyTemperature, 0x53);
LOXCAN_LEGACY_CMD(LegacyPageCrc, 0x54);
LOXCAN_LEGACY_CMD(LegacyMute, 0x5B);
LOXCAN_LEGACY_CMD(LegacyConfigChecksum, 0x78);
LOXCAN_LEGACY_CMD(LegacyRequestChecksum, 0x79);
LOXCAN_LEGACY_CMD(LegacyAnalogInputs, 0x20);
LOXCAN_LEGACY_CMD(LegacyAnalogOutputs, 0x30);
LOXCAN_LEGACY_CMD(LegacyDigitalInputs, 0x50);
LOXCAN_LEGACY_CMD(LegacyOutputs, 0x60);
LOXCAN_LEGACY_CMD(LegacyFirmwareData, 0x00);
#undef LOXCAN_LEGACY_CMD

// ---- NAT single-frame codec -------------------------------------------------------------------

constexpr bool is_opaque_nat(std::uint8_t c) {
  switch (c) {
    case 0x14:
    case 0x15:
    case 0x1C:
    case 0x1D:
    case 0x1F:
    case 0x82:
    case 0x83:
    case 0x86:
    case 0x87:
    case 0x8D:
    case 0xF5:
    case 0xFA: return true;
    default: return false;
  }
}

Bytes7 tail7(const std::uint8_t* d) {
  Bytes7 b;
  std::memcpy(b.data(), d + 1, 7);
  return b;
}

template <class T>
T announce(const std::uint8_t* d) {
  T t;
  t.branch_flags = d[1];
  t.device_type = u16(d + 2);
  t.serial = u32(d + 4);
  return t;
}
template <class T>
T stats(const std::uint8_t* d) {
  T t;
  t.bus = d[1];
  t.rec = d[2];
  t.tec = d[3];
  t.error_count = u32(d + 4);
  return t;
}

// Returns false (and leaves `body` alone) for commands not in the catalogue.
bool decode_nat_body(std::uint8_t cmd, const std::uint8_t* d, NatBody& body) {
  namespace c = nat_cmd;
  switch (cmd) {
    case c::kVersionRequest: body = VersionRequest{u32(d + 4)}; return true;
    case c::kConfigEqual: body = ConfigEqual{}; return true;
    case c::kPing: body = Ping{}; return true;
    case c::kPong: body = Pong{}; return true;
    case c::kPark: body = Park{}; return true;
    case c::kAlive: body = Alive{d[1], u16(d + 2), u32(d + 4)}; return true;
    case c::kExtensionsOffline: body = ExtensionsOffline{}; return true;
    case c::kTimeSync:
      body = TimeSync{DateTime::unpack(
          std::uint32_t{d[1]} | std::uint32_t{d[2]} << 8 | std::uint32_t{d[3]} << 16, u32(d + 4))};
      return true;
    case c::kIdentify: body = Identify{u16(d + 2), u32(d + 4)}; return true;
    case c::kCanDiagReply: body = stats<CanDiagReply>(d); return true;
    case c::kCanErrorReply: body = stats<CanErrorReply>(d); return true;
    case c::kCanDiagRequest: body = CanDiagRequest{u16(d + 2)}; return true;
    case c::kCanErrorRequest: body = CanErrorRequest{u16(d + 2)}; return true;
    case c::kTreeShortcut: body = TreeShortcut{d[1]}; return true;
    case c::kTreeShortcutTest: body = TreeShortcutTest{d[1], d[2], u32(d + 4)}; return true;
    case c::kDigitalValue: body = DigitalValue{d[1], u32(d + 4)}; return true;
    case c::kAnalogValue: body = AnalogValue{d[1], d[2], d[3], u32(d + 4)}; return true;
    case c::kRgbw: body = RgbwValue{u16(d + 2), d[4], d[5], d[6], d[7]}; return true;
    case c::kFrequency: body = FrequencyValue{d[1], u32(d + 4)}; return true;
    case c::kCompositeRgbw:
      body = CompositeRgbw{Fade{u16(d + 2)}, d[4], d[5], d[6], d[7]};
      return true;
    case c::kKeypadValue: body = KeypadValue{d[1], u16(d + 2), u32(d + 4)}; return true;
    case c::kSmartTunableWhite:
      body = SmartTunableWhite{d[1], Fade{u16(d + 2)}, u16(d + 6), u16(d + 4)};
      return true;
    case c::kFragmentHeader: body = FragmentHeader{d[1], u16(d + 2), u32(d + 4)}; return true;
    case c::kFragmentData: body = FragmentData{tail7(d)}; return true;
    case c::kIdentifyUnknown: body = IdentifyUnknown{}; return true;
    case c::kSearchDevices: body = SearchDevices{}; return true;
    case c::kSearchReply: body = announce<SearchReply>(d); return true;
    case c::kNatOffer: body = NatOffer{d[1], d[2], u32(d + 4)}; return true;
    case c::kNatIndexRequest: body = announce<NatIndexRequest>(d); return true;
    default: break;
  }
  if (is_opaque_nat(cmd) || nat_command_is_fragmented(cmd)) {
    body = NatOpaque{cmd, tail7(d)};
    return true;
  }
  return false;
}

struct NatFrameWriter {
  std::uint8_t* d;  // D0 already set; D1..D7 zero
  void operator()(const VersionRequest& b) const { put32(d + 4, b.serial); }
  void operator()(const Alive& b) const {
    d[1] = b.reason;
    put16(d + 2, b.config_version);
    put32(d + 4, b.config_crc);
  }
  void operator()(const TimeSync& b) const {
    const auto v = b.time.packed();
    d[1] = static_cast<std::uint8_t>(v);
    d[2] = static_cast<std::uint8_t>(v >> 8);
    d[3] = static_cast<std::uint8_t>(v >> 16);
    put32(d + 4, b.time.ms_of_day);
  }
  void operator()(const Identify& b) const {
    put16(d + 2, b.timeout_s);
    put32(d + 4, b.serial);
  }
  void operator()(const CanStats& b) const {
    d[1] = b.bus;
    d[2] = b.rec;
    d[3] = b.tec;
    put32(d + 4, b.error_count);
  }
  void operator()(const CanDiagRequest& b) const { put16(d + 2, b.bus); }
  void operator()(const CanErrorRequest& b) const { put16(d + 2, b.bus); }
  void operator()(const TreeShortcut& b) const { d[1] = b.branch; }
  void operator()(const TreeShortcutTest& b) const {
    d[1] = b.branch;
    d[2] = b.sender_nat;
    put32(d + 4, b.serial);
  }
  void operator()(const DigitalValue& b) const {
    d[1] = b.index;
    put32(d + 4, b.bitmask);
  }
  void operator()(const AnalogValue& b) const {
    d[1] = b.index;
    d[2] = b.flags;
    d[3] = b.flags_high;
    put32(d + 4, b.raw);
  }
  void operator()(const RgbwValue& b) const {
    put16(d + 2, b.jump_flags);
    rgbw(b.r, b.g, b.b, b.w);
  }
  void operator()(const FrequencyValue& b) const {
    d[1] = b.index;
    put32(d + 4, b.hz);
  }
  void operator()(const CompositeRgbw& b) const {
    put16(d + 2, b.fade.raw);
    rgbw(b.r, b.g, b.b, b.w);
  }
  void operator()(const KeypadValue& b) const {
    d[1] = b.index;
    put16(d + 2, b.val16);
    put32(d + 4, b.val32);
  }
  void operator()(const SmartTunableWhite& b) const {
    d[1] = b.index;
    put16(d + 2, b.fade.raw);
    put16(d + 4, b.kelvin);
    put16(d + 6, b.brightness);
  }
  void operator()(const FragmentHeader& b) const {
    d[1] = b.cmd;
    put16(d + 2, b.size);
    put32(d + 4, b.crc);
  }
  void operator()(const FragmentData& b) const { std::memcpy(d + 1, b.bytes.data(), 7); }
  void operator()(const DeviceAnnounce& b) const {
    d[1] = b.branch_flags;
    put16(d + 2, b.device_type);
    put32(d + 4, b.serial);
  }
  void operator()(const NatOffer& b) const {
    d[1] = b.new_nat;
    d[2] = b.flags;
    put32(d + 4, b.serial);
  }
  void operator()(const NatOpaque& b) const { std::memcpy(d + 1, b.bytes.data(), 7); }
  // Empty bodies.
  void operator()(const ConfigEqual&) const {}
  void operator()(const Ping&) const {}
  void operator()(const Pong&) const {}
  void operator()(const Park&) const {}
  void operator()(const ExtensionsOffline&) const {}
  void operator()(const IdentifyUnknown&) const {}
  void operator()(const SearchDevices&) const {}
  // Packet bodies are never written into one frame (callers check first).
  void operator()(const DeviceInfo&) const {}
  void operator()(const Config&) const {}
  void operator()(const TextPacket&) const {}
  void operator()(const GroupIdentify&) const {}
  void operator()(const CompositeWhite&) const {}
  void operator()(const CompositeRgbwMagic&) const {}
  void operator()(const CryptoPacket&) const {}
  void operator()(const FirmwareUpdate&) const {}
  void operator()(const NatOpaquePacket&) const {}

 private:
  void rgbw(std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint8_t w) const {
    d[4] = r;
    d[5] = g;
    d[6] = b;
    d[7] = w;
  }
};

constexpr std::size_t kFirstNatPacketIndex = index_of<Start>(static_cast<const NatBody*>(nullptr));

bool is_packet_body(const NatBody& body) {
  return body.index() >= kFirstNatPacketIndex;
}

// D0..D7 of a single-frame NAT body.
void write_nat_frame(const NatBody& body, std::uint8_t device_nat, std::uint8_t* d) {
  std::memset(d, 0, 8);
  d[0] = device_nat;
  std::visit(NatFrameWriter{d}, body);
}

// ---- legacy single-frame codec ----------------------------------------------------------------

template <class T>
T update_cmd(const std::uint8_t* d) {
  T t;
  t.param = d[1];
  t.val16 = u16(d + 2);
  t.version = u32(d + 4);
  return t;
}
template <class T>
T device_info(const std::uint8_t* d) {
  T t;
  t.hw_version = d[1];
  t.config_version = u16(d + 2);
  t.version = u32(d + 4);
  return t;
}
template <class T>
T analog4(const std::uint8_t* d) {
  T t;
  for (int k = 0; k < 4; ++k)
    t.raw[k] = static_cast<std::uint16_t>(d[4 + k] + (((d[1] >> (2 * k)) & 3) << 8));
  return t;
}

bool has_typed_legacy_name(std::uint8_t type, std::uint8_t cmd) {
  for (const auto& t : kLegacyTypedNames)
    if (t.type == type && t.cmd == cmd) return true;
  return false;
}

bool decode_typed_legacy(std::uint8_t type, std::uint8_t cmd, const std::uint8_t* d,
                         LegacyBody& body) {
  namespace c = legacy_cmd;
  if (type == 0x1) {
    switch (cmd) {
      case c::kAnalogInputs: body = analog4<LegacyAnalogInputs>(d); return true;
      case c::kAnalogOutputs: body = analog4<LegacyAnalogOutputs>(d); return true;
      case c::kDigitalInputs: body = LegacyDigitalInputs{u32(d + 4)}; return true;
      case c::kOutputs: body = LegacyOutputs{u32(d + 4)}; return true;
      default: break;
    }
  }
  if (type == 0xB && cmd == c::kOutputs) {
    body = LegacyOutputs{u32(d + 4)};
    return true;
  }
  if (has_typed_legacy_name(type, cmd)) {
    body = LegacyGeneric{cmd, d[1], u16(d + 2), u32(d + 4)};
    return true;
  }
  return false;
}

bool decode_legacy_body(std::uint8_t type, std::uint8_t cmd, const std::uint8_t* d,
                        LegacyBody& body) {
  namespace c = legacy_cmd;
  if (decode_typed_legacy(type, cmd, d, body)) return true;
  switch (cmd) {
    case c::kIdentify: body = LegacyIdentify{}; return true;
    case c::kUpdateInit: body = update_cmd<LegacyUpdateInit>(d); return true;
    case c::kUpdateReboot: body = update_cmd<LegacyUpdateReboot>(d); return true;
    case c::kUpdateVerify: body = update_cmd<LegacyUpdateVerify>(d); return true;
    case c::kUpdateInitModules: body = update_cmd<LegacyUpdateInitModules>(d); return true;
    case c::kConfigAck: body = LegacyConfigAck{u16(d + 2), u32(d + 4)}; return true;
    case c::kUpdateAck: body = LegacyUpdateAck{{u32(d + 4)}}; return true;
    case c::kUpdateNak: body = LegacyUpdateNak{{u32(d + 4)}}; return true;
    case c::kStart: body = device_info<LegacyStart>(d); return true;
    case c::kIdentifyLed: body = LegacyIdentifyLed{u16(d + 2), u32(d + 4)}; return true;
    case c::kAlive: body = device_info<LegacyAlive>(d); return true;
    case c::kIdentifyUnknown: body = LegacyIdentifyUnknown{}; return true;
    case c::kSetOffline: body = LegacySetOffline{}; return true;
    case c::kHeartbeat: body = LegacyHeartbeat{u32(d + 4)}; return true;
    case c::kBlinkPosition: body = LegacyBlinkPosition{u32(d + 4)}; return true;
    case c::kAliveReply: body = LegacyAliveReply{u32(d + 4)}; return true;
    case c::kDateTime:
      body = LegacyDateTime{DateTime::unpack(
          std::uint32_t{d[1]} | std::uint32_t{d[2]} << 8 | std::uint32_t{d[3]} << 16, u32(d + 4))};
      return true;
    case c::kWriteWord:
      body = LegacyWriteWord{
          std::uint32_t{d[1]} | std::uint32_t{d[2]} << 8 | std::uint32_t{d[3]} << 16, u32(d + 4)};
      return true;
    case c::kLogLevel: body = LegacyLogLevel{u32(d + 4)}; return true;
    case c::kSettings: body = LegacySettings{u16(d + 2), u32(d + 4)}; return true;
    case c::kPark: body = LegacyPark{}; return true;
    case c::kCanDiagReply: body = LegacyCanDiagReply{d[2], d[3], u32(d + 4)}; return true;
    case c::kCanDiagRequest: body = LegacyCanDiagRequest{}; return true;
    case c::kFragment:
      if (d[1] == 0)
        body = LegacyFragmentHeader{false, d[2], u16(d + 4), u16(d + 6)};
      else
        body = LegacyFragmentData{false, d[1], Bytes7{d[2], d[3], d[4], d[5], d[6], d[7], 0}};
      return true;
    case c::kFragmentLargeData: body = LegacyFragmentData{true, 0, tail7(d)}; return true;
    case c::kFragmentLargeHeader:
      body = LegacyFragmentHeader{true, d[2], u16(d + 4), u16(d + 6)};
      return true;
    case c::kTemperature: body = LegacyTemperature{d[1], d[2], d[3], u32(d + 4)}; return true;
    case c::kPageCrc: body = LegacyPageCrc{u16(d + 2), u32(d + 4)}; return true;
    case c::kMute: body = LegacyMute{}; return true;
    case c::kConfigChecksum: body = LegacyConfigChecksum{tail7(d)}; return true;
    case c::kRequestChecksum: body = LegacyRequestChecksum{}; return true;
    default: break;
  }
  for (const auto& n : kLegacyNames) {
    if (n.cmd == cmd) {
      body = LegacyGeneric{cmd, d[1], u16(d + 2), u32(d + 4)};
      return true;
    }
  }
  return false;
}

struct LegacyFrameWriter {
  std::uint8_t* d;  // D0 set (command | direction bit); D1..D7 zero
  void operator()(const LegacyUpdateCommand& b) const {
    d[1] = b.param;
    put16(d + 2, b.val16);
    put32(d + 4, b.version);
  }
  void operator()(const LegacyConfigAck& b) const {
    put16(d + 2, b.mask);
    put32(d + 4, b.version);
  }
  void operator()(const LegacyUpdateReply& b) const { put32(d + 4, b.version); }
  void operator()(const LegacyDeviceInfo& b) const {
    d[1] = b.hw_version;
    put16(d + 2, b.config_version);
    put32(d + 4, b.version);
  }
  void operator()(const LegacyIdentifyLed& b) const {
    put16(d + 2, b.val16);
    put32(d + 4, b.val32);
  }
  void operator()(const LegacyHeartbeat& b) const { put32(d + 4, b.delta_ms); }
  void operator()(const LegacyBlinkPosition& b) const { put32(d + 4, b.position); }
  void operator()(const LegacyAliveReply& b) const { put32(d + 4, b.version); }
  void operator()(const LegacyDateTime& b) const {
    const auto v = b.time.packed();
    d[1] = static_cast<std::uint8_t>(v);
    d[2] = static_cast<std::uint8_t>(v >> 8);
    d[3] = static_cast<std::uint8_t>(v >> 16);
    put32(d + 4, b.time.ms_of_day);
  }
  void operator()(const LegacyWriteWord& b) const {
    d[1] = static_cast<std::uint8_t>(b.address);
    d[2] = static_cast<std::uint8_t>(b.address >> 8);
    d[3] = static_cast<std::uint8_t>(b.address >> 16);
    put32(d + 4, b.word);
  }
  void operator()(const LegacyLogLevel& b) const { put32(d + 4, b.level); }
  void operator()(const LegacySettings& b) const {
    put16(d + 2, b.settings_version);
    put32(d + 4, b.crc);
  }
  void operator()(const LegacyCanDiagReply& b) const {
    d[2] = b.rec;
    d[3] = b.tec;
    put32(d + 4, b.error_count);
  }
  void operator()(const LegacyFragmentHeader& b) const {
    d[2] = b.type;
    put16(d + 4, b.size);
    put16(d + 6, b.sum);
  }
  void operator()(const LegacyFragmentData& b) const {
    if (b.large) {
      std::memcpy(d + 1, b.bytes.data(), 7);
    } else {
      d[1] = b.index;
      std::memcpy(d + 2, b.bytes.data(), 6);
    }
  }
  void operator()(const LegacyTemperature& b) const {
    d[1] = b.selector_d1;
    d[2] = b.selector_d2;
    d[3] = b.shutdown;
    put32(d + 4, b.value);
  }
  void operator()(const LegacyPageCrc& b) const {
    put16(d + 2, b.page);
    put32(d + 4, b.crc);
  }
  void operator()(const LegacyConfigChecksum& b) const { std::memcpy(d + 1, b.checksum.data(), 7); }
  void operator()(const LegacyAnalog4& b) const {
    d[1] = 0;
    for (int k = 0; k < 4; ++k) {
      d[4 + k] = static_cast<std::uint8_t>(b.raw[k]);
      d[1] = static_cast<std::uint8_t>(d[1] | ((b.raw[k] >> 8) & 3) << (2 * k));
    }
  }
  void operator()(const LegacyDigitalInputs& b) const { put32(d + 4, b.bitmask); }
  void operator()(const LegacyOutputs& b) const { put32(d + 4, b.bitmask); }
  void operator()(const LegacyGeneric& b) const {
    d[1] = b.b0;
    put16(d + 2, b.val16);
    put32(d + 4, b.val32);
  }
  void operator()(const LegacyFirmwareData& b) const { std::memcpy(d, b.bytes.data(), 8); }
  void operator()(const LegacyPacket&) const {}
  template <class Empty>
  requires std::is_empty_v<Empty>
  void operator()(const Empty&) const {}
};

std::uint8_t legacy_d0(const LegacyId& addr, std::uint8_t cmd) {
  return static_cast<std::uint8_t>((cmd & 0x7F) | (addr.dir == Direction::from_device ? 0x80 : 0));
}

void write_legacy_frame(const LegacyId& addr, const LegacyBody& body, std::uint8_t* d) {
  std::memset(d, 0, 8);
  d[0] = legacy_d0(addr, legacy_command(body));
  std::visit(LegacyFrameWriter{d}, body);
}

// ---- decode_frame helpers ---------------------------------------------------------------------

Message malformed(Protocol p, const char* why, const Frame& f) {
  return MalformedMessage{p, why, f};
}
Message unknown(Protocol p, const char* why, const Frame& f) {
  return UnknownMessage{p, why, f};
}

const char* shape_problem(const Frame& f, Bus bus) {
  if (f.error) return "CAN error frame";
  if (f.fd) return "CAN FD frame";
  if (f.rtr) return "remote (RTR) frame";
  if (!f.extended)
    return bus == Bus::link ? "11-bit id on the Link bus" : "11-bit id on a Tree branch";
  if (f.len != 8) return "DLC is not 8";
  return nullptr;
}

Direction nat_direction(std::uint8_t bits) {
  return bits == kNatDirServer     ? Direction::to_device
         : bits == kNatDirShortcut ? Direction::shortcut
                                   : Direction::from_device;
}

Message decode_nat(const Frame& f, Bus bus) {
  const NatId id = parse_nat_id(f.id);
  if (id.reserved_set) return malformed(Protocol::nat, "reserved NAT id bits set", f);
  if (id.dir_bits == kNatDirIllegal) return malformed(Protocol::nat, "illegal NAT direction 01", f);
  const bool frag_cmd = id.cmd == nat_cmd::kFragmentHeader || id.cmd == nat_cmd::kFragmentData;
  if (frag_cmd && !id.fragment)
    return malformed(Protocol::nat, "fragment command without fragment bit", f);
  if (!frag_cmd && id.fragment)
    return malformed(Protocol::nat, "fragment bit on a non-fragment command", f);
  NatMessage m{NatAddress{bus, nat_direction(id.dir_bits), id.nat, f.data[0]}, Ping{}, 0};
  if (!decode_nat_body(id.cmd, f.data.data(), m.body))
    return unknown(Protocol::nat, "unknown NAT command", f);
  std::uint8_t re[8];
  write_nat_frame(m.body, m.addr.device_nat, re);
  m.residue = load64(f.data.data()) ^ load64(re);
  return m;
}

Message decode_legacy(const Frame& f) {
  LegacyMessage m{parse_legacy_id(f.id), LegacyIdentify{}, 0};
  const std::uint8_t* d = f.data.data();
  if (m.addr.kind == LegacyKind::firmware_data) {
    LegacyFirmwareData fw;
    std::memcpy(fw.bytes.data(), d, 8);
    m.body = fw;
    return m;
  }
  const std::uint8_t cmd = d[0] & 0x7F;
  if (!decode_legacy_body(m.addr.type, cmd, d, m.body))
    return unknown(Protocol::legacy, "unknown legacy command", f);
  std::uint8_t re[8];
  write_legacy_frame(m.addr, m.body, re);
  m.residue = load64(d) ^ load64(re);
  return m;
}

// ---- NAT payloads -----------------------------------------------------------------------------

NatBody opaque_packet(std::uint8_t cmd, std::span<const std::uint8_t> p, const char* note) {
  return NatOpaquePacket{cmd, std::vector<std::uint8_t>(p.begin(), p.end()), note};
}

template <class T>
NatBody device_info_packet(std::uint8_t cmd, std::span<const std::uint8_t> p) {
  if (p.size() != 20) return opaque_packet(cmd, p, "device info is not 20 bytes");
  T t;
  t.version = u32(&p[0]);
  t.unknown = u32(&p[4]);
  t.config_crc = u32(&p[8]);
  t.serial = u32(&p[12]);
  t.reason = p[16];
  t.device_type = u16(&p[17]);
  t.hw_version = p[19];
  return t;
}

template <class T>
NatBody text_packet(std::uint8_t cmd, std::span<const std::uint8_t> p) {
  if (p.size() < 3 || p[0] != 0 || p[1] == 0 || p.size() != std::size_t{p[1]} + 2u || p.back() != 0)
    return opaque_packet(cmd, p, "text layout mismatch");
  T t;
  t.text.assign(reinterpret_cast<const char*>(&p[2]), p.size() - 3);
  if (t.text.find('\0') != std::string::npos) return opaque_packet(cmd, p, "text contains NUL");
  return t;
}

NatBody group_identify_packet(std::span<const std::uint8_t> p) {
  if (p.size() < 8 || (p.size() - 8) % 6 != 0)
    return opaque_packet(nat_cmd::kGroupIdentify, p, "group identify layout mismatch");
  GroupIdentify g{u16(&p[0]), u16(&p[2]), u32(&p[4]), {}};
  for (std::size_t i = 8; i < p.size(); i += 6)
    g.entries.push_back({u32(&p[i]), p[i + 4], p[i + 5]});
  return g;
}

struct WhiteOffsets {
  std::size_t values, fades, size;
};
WhiteOffsets white_offsets(CompositeWhite::Layout l) {
  switch (l) {
    case CompositeWhite::Layout::s_nat: return {3, 7, 15};
    case CompositeWhite::Layout::s_py: return {1, 5, 13};
    case CompositeWhite::Layout::ll_gl: break;
  }
  return {2, 6, 16};
}

NatBody composite_white_packet(std::span<const std::uint8_t> p) {
  CompositeWhite w;
  if (p.size() == 16)
    w.layout = CompositeWhite::Layout::ll_gl;
  else if (p.size() == 15)
    w.layout = CompositeWhite::Layout::s_nat;
  else if (p.size() >= 13)
    w.layout = CompositeWhite::Layout::s_py;
  else
    return opaque_packet(nat_cmd::kCompositeWhite, p, "composite white shorter than 13 bytes");
  const auto o = white_offsets(w.layout);
  w.padding.assign(p.begin(), p.end());
  for (std::size_t k = 0; k < 4; ++k) {
    w.value[k] = p[o.values + k];
    w.fade[k].raw = u16(&p[o.fades + 2 * k]);
    w.padding[o.values + k] = 0;
    w.padding[o.fades + 2 * k] = w.padding[o.fades + 2 * k + 1] = 0;
  }
  bool all_zero = true;
  for (auto b : w.padding) all_zero = all_zero && b == 0;
  if (all_zero && p.size() == o.size) w.padding.clear();
  return w;
}

NatBody composite_magic_packet(std::span<const std::uint8_t> p) {
  if (p.size() < 12) return opaque_packet(nat_cmd::kCompositeRgbwMagic, p, "shorter than 12 bytes");
  CompositeRgbwMagic m;
  m.head0 = p[0];
  m.head1 = p[1];
  m.rgbw = CompositeRgbw{Fade{u16(&p[2])}, p[4], p[5], p[6], p[7]};
  m.magic = u32(&p[8]);
  m.extra.assign(p.begin() + 12, p.end());
  return m;
}

NatBody firmware_packet(std::uint8_t cmd, std::span<const std::uint8_t> p) {
  if (p.size() < 12) return opaque_packet(cmd, p, "firmware update shorter than 12 bytes");
  FirmwareUpdate f;
  f.cmd = cmd;
  f.size = p[0];
  f.sub = p[1];
  f.device_type = u16(&p[2]);
  f.version = u32(&p[4]);
  f.page = u16(&p[8]);
  f.index = u16(&p[10]);
  f.data.assign(p.begin() + 12, p.end());
  return f;
}

bool is_crypto_cmd(std::uint8_t c) {
  return (c >= 0x90 && c <= 0x94) || (c >= 0x98 && c <= 0x9D);
}

// Payload writers for packet bodies.
struct PayloadWriter {
  std::vector<std::uint8_t>& out;
  void u8(std::uint8_t v) { out.push_back(v); }
  void le16(std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  void le32(std::uint32_t v) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
  }
  void raw(std::span<const std::uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }

  void operator()(const DeviceInfo& b) {
    le32(b.version);
    le32(b.unknown);
    le32(b.config_crc);
    le32(b.serial);
    u8(b.reason);
    le16(b.device_type);
    u8(b.hw_version);
  }
  void operator()(const Config& b) { raw(b.bytes); }
  void operator()(const TextPacket& b) {
    u8(0);
    u8(static_cast<std::uint8_t>(b.text.size() + 1));
    raw({reinterpret_cast<const std::uint8_t*>(b.text.data()), b.text.size()});
    u8(0);
  }
  void operator()(const GroupIdentify& b) {
    le16(b.count);
    le16(b.flags);
    le32(b.unknown);
    for (const auto& e : b.entries) {
      le32(e.serial);
      u8(e.index);
      u8(e.filler);
    }
  }
  void operator()(const CompositeWhite& b) {
    const auto o = white_offsets(b.layout);
    const std::size_t base = out.size();
    if (b.padding.empty())
      out.resize(base + o.size, 0);
    else
      raw(b.padding);
    if (out.size() < base + o.size) out.resize(base + o.size, 0);
    for (std::size_t k = 0; k < 4; ++k) {
      out[base + o.values + k] = b.value[k];
      put16(&out[base + o.fades + 2 * k], b.fade[k].raw);
    }
  }
  void operator()(const CompositeRgbwMagic& b) {
    u8(b.head0);
    u8(b.head1);
    le16(b.rgbw.fade.raw);
    u8(b.rgbw.r);
    u8(b.rgbw.g);
    u8(b.rgbw.b);
    u8(b.rgbw.w);
    le32(b.magic);
    raw(b.extra);
  }
  void operator()(const CryptoPacket& b) { raw(b.data); }
  void operator()(const FirmwareUpdate& b) {
    u8(b.size);
    u8(b.sub);
    le16(b.device_type);
    le32(b.version);
    le16(b.page);
    le16(b.index);
    raw(b.data);
  }
  void operator()(const NatOpaquePacket& b) { raw(b.data); }
  template <class Single>
  requires(!std::is_base_of_v<DeviceInfo, Single> && !std::is_base_of_v<TextPacket, Single>) void
  operator()(const Single& b) {
    std::uint8_t d[8] = {};
    NatFrameWriter{d}(b);
    raw({d + 1, 7});
  }
};

}  // namespace

// ---- public: names and helpers ------------------------------------------------------------------

const char* to_string(Bus bus) {
  return bus == Bus::tree ? "tree" : "link";
}

const char* to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::nat: return "nat";
    case Protocol::legacy: return "legacy";
    case Protocol::unknown: break;
  }
  return "unknown";
}

const char* to_string(Direction dir) {
  switch (dir) {
    case Direction::to_device: return "to_device";
    case Direction::from_device: return "from_device";
    case Direction::shortcut: break;
  }
  return "shortcut";
}

const char* nat_command_name(std::uint8_t cmd) {
  const char* n = kNatNameTable[cmd];
  return n != nullptr ? n : "unknown";
}

const char* legacy_command_name(std::uint8_t cmd, std::uint8_t type) {
  cmd &= 0x7F;
  for (const auto& t : kLegacyTypedNames)
    if (t.type == type && t.cmd == cmd) return t.name;
  for (const auto& n : kLegacyNames)
    if (n.cmd == cmd) return n.name;
  return "unknown";
}

const char* legacy_fragment_type_name(std::uint8_t type) {
  switch (type) {
    case 0x00: return "air_container";
    case 0x01: return "air_mac_container";
    case 0x02: return "rs485_package";
    case 0x04: return "update_page_crc";
    case 0x05: return "update_retry_page";
    case 0x06: return "configuration";
    case 0x07: return "dali_search_data";
    case 0x08: return "dali_last_package";
    case 0x09: return "webservice_request";
    case 0x0A: return "serial_received";
    case 0x0B: return "webservice_reply";
    case 0x0C: return "air_nat_entry";
    case 0x0D: return "dmx_actor";
    case 0x0E: return "dmx_dimming";
    case 0x0F: return "dmx_init_rdm";
    case 0x11: return "configuration_data";
    case 0x12: return "air_debug_container";
    case 0x13: return "dmx_composite_actor";
    case 0x18: return "challenge_request";
    case 0x19: return "challenge_reply";
    case 0x28: return "dali_log";
    default: return "unknown";
  }
}

bool nat_command_is_fragmented(std::uint8_t cmd) {
  switch (cmd) {
    case 0x02:
    case 0x03:
    case 0x11:
    case 0x12:
    case 0x13:
    case 0x1E:
    case 0x8A:
    case 0x8B:
    case 0xEF:
    case 0xF3: return true;
    default: return is_crypto_cmd(cmd);
  }
}

double scale_analog(std::uint32_t raw, std::uint8_t flags) {
  const double v = (flags & 0x10) ? double(static_cast<std::int32_t>(raw)) : double(raw);
  switch (flags & 0x0F) {
    case 0: return v;
    case 1: return v * 1e3;
    case 2: return v * 1e6;
    case 3: return v * 1e9;
    case 5: return v / 1e3;
    case 6: return v / 1e6;
    case 7: return v / 1e9;
    case 8: return v / 10.0;
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

std::uint32_t unscale_analog(double value, std::uint8_t flags) {
  double raw;
  switch (flags & 0x0F) {
    case 0: raw = value; break;
    case 1: raw = value / 1e3; break;
    case 2: raw = value / 1e6; break;
    case 3: raw = value / 1e9; break;
    case 5: raw = value * 1e3; break;
    case 6: raw = value * 1e6; break;
    case 7: raw = value * 1e9; break;
    case 8: raw = value * 10.0; break;
    default: return 0;
  }
  if (std::isnan(raw)) return 0;
  raw = std::round(raw);
  if (flags & 0x10) {
    if (raw < double(std::numeric_limits<std::int32_t>::min()))
      raw = std::numeric_limits<std::int32_t>::min();
    if (raw > double(std::numeric_limits<std::int32_t>::max()))
      raw = std::numeric_limits<std::int32_t>::max();
    return static_cast<std::uint32_t>(static_cast<std::int32_t>(raw));
  }
  if (raw < 0) return 0;
  if (raw > 4294967295.0) return 0xFFFFFFFFu;
  return static_cast<std::uint32_t>(raw);
}

std::uint32_t Config::offline_timeout_s() const {
  return bytes.size() >= 8 ? u32(&bytes[4]) : 0;
}

std::span<const std::uint8_t> Config::device_specific() const {
  if (bytes.size() < 12) return {};
  return std::span<const std::uint8_t>(bytes).subspan(8, bytes.size() - 12);
}

std::uint32_t Config::crc() const {
  return config_crc(bytes);
}

Config Config::make(std::uint8_t version, std::uint8_t blink_offset,
                    std::uint32_t offline_timeout_s, std::span<const std::uint8_t> specific) {
  Config c;
  c.bytes = {0, version, blink_offset, 0};
  PayloadWriter{c.bytes}.le32(offline_timeout_s);
  c.bytes.insert(c.bytes.end(), specific.begin(), specific.end());
  c.bytes.insert(c.bytes.end(), 4, 0);
  c.bytes[0] = static_cast<std::uint8_t>(c.bytes.size());
  return c;
}

double LegacyTemperature::celsius(std::optional<std::uint8_t> hw_version) const {
  const bool raw_adc = selector_d1 == 1 || selector_d2 == 1 || (hw_version && *hw_version <= 1);
  if (raw_adc) return (1475.0 - double(value) * 2245.0 / 1024.0) / 10.0;
  return double(static_cast<std::int32_t>(value)) / 10.0;
}

std::string LegacyPacket::text() const {
  if (type != 0x09 && type != 0x0B) return {};
  std::size_t i = 0;
  if (data.size() > 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 0) i = 4;
  if (i >= data.size()) return {};
  const std::size_t len = data[i++];
  std::string s;
  for (std::size_t k = 0; k < len && i + k < data.size() && data[i + k] != 0; ++k)
    s += static_cast<char>(data[i + k]);
  return s;
}

std::uint8_t nat_command(const NatBody& body) {
  return std::visit(
      [](const auto& b) -> std::uint8_t {
        using T = std::decay_t<decltype(b)>;
        if constexpr (HasNatCmd<T>)
          return NatCmdOf<T>::value;
        else
          return b.cmd;
      },
      body);
}

std::uint8_t legacy_command(const LegacyBody& body) {
  return std::visit(
      [](const auto& b) -> std::uint8_t {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, LegacyGeneric>) {
          return b.cmd;
        } else if constexpr (std::is_same_v<T, LegacyFragmentHeader>) {
          return b.large ? legacy_cmd::kFragmentLargeHeader : legacy_cmd::kFragment;
        } else if constexpr (std::is_same_v<T, LegacyFragmentData>) {
          return b.large ? legacy_cmd::kFragmentLargeData : legacy_cmd::kFragment;
        } else if constexpr (std::is_same_v<T, LegacyPacket>) {
          return b.force_large || b.data.size() > kLegacySmallMax ? legacy_cmd::kFragmentLargeHeader
                                                                  : legacy_cmd::kFragment;
        } else {
          return LegacyCmdOf<T>::value;
        }
      },
      body);
}

const char* to_string(EncodeErrc code) {
  switch (code) {
    case EncodeErrc::needs_fragments: return "message is sent fragmented; use encode()";
    case EncodeErrc::payload_too_large: return "fragmented payload larger than 65535 bytes";
  }
  return "unknown encode error";
}

// ---- public: codec ------------------------------------------------------------------------------

Message decode_frame(const Frame& frame, Bus bus) {
  if (const char* why = shape_problem(frame, bus)) {
    const Protocol p = frame.extended ? classify_id(frame.id, bus) : Protocol::unknown;
    return malformed(p, why, frame);
  }
  switch (classify_id(frame.id, bus)) {
    case Protocol::nat: return decode_nat(frame, bus);
    case Protocol::legacy: return decode_legacy(frame);
    case Protocol::unknown: break;
  }
  return unknown(
      Protocol::unknown,
      bus == Bus::tree ? "not a Tree NAT id on a Tree branch" : "legacy id with type 0 (unused)",
      frame);
}

NatBody decode_nat_payload(std::uint8_t cmd, std::span<const std::uint8_t> p) {
  namespace c = nat_cmd;
  switch (cmd) {
    case c::kStart: return device_info_packet<Start>(cmd, p);
    case c::kVersionInfo: return device_info_packet<VersionInfo>(cmd, p);
    case c::kConfig: return Config{std::vector<std::uint8_t>(p.begin(), p.end())};
    case c::kWebservice: return text_packet<Webservice>(cmd, p);
    case c::kDeviceLog: return text_packet<DeviceLog>(cmd, p);
    case c::kGroupIdentify: return group_identify_packet(p);
    case c::kCompositeWhite: return composite_white_packet(p);
    case c::kCompositeRgbwMagic: return composite_magic_packet(p);
    case c::kFirmwareUpdate:
    case c::kFirmwareUpdateNew: return firmware_packet(cmd, p);
    default: break;
  }
  if (is_crypto_cmd(cmd)) return CryptoPacket{cmd, std::vector<std::uint8_t>(p.begin(), p.end())};
  return opaque_packet(cmd, p, "");
}

std::vector<std::uint8_t> encode_nat_payload(const NatBody& body) {
  std::vector<std::uint8_t> out;
  PayloadWriter w{out};
  std::visit([&w](const auto& b) { w(b); }, body);
  return out;
}

Result<Frame, EncodeErrc> encode_frame(const NatMessage& m) {
  if (is_packet_body(m.body)) return Err{EncodeErrc::needs_fragments};
  const std::uint8_t cmd = nat_command(m.body);
  const bool frag = cmd == nat_cmd::kFragmentHeader || cmd == nat_cmd::kFragmentData;
  Frame f;
  f.id = make_nat_id(m.addr.bus, m.addr.dir, frag, m.addr.nat, cmd);
  f.len = 8;
  write_nat_frame(m.body, m.addr.device_nat, f.data.data());
  xor64(f.data.data(), m.residue);
  return f;
}

Result<Frame, EncodeErrc> encode_frame(const LegacyMessage& m) {
  if (std::holds_alternative<LegacyPacket>(m.body)) return Err{EncodeErrc::needs_fragments};
  Frame f;
  f.id = make_legacy_id(m.addr);
  f.len = 8;
  write_legacy_frame(m.addr, m.body, f.data.data());
  xor64(f.data.data(), m.residue);
  return f;
}

Result<std::vector<Frame>, EncodeErrc> encode(const NatMessage& m) {
  if (!is_packet_body(m.body)) {
    auto f = encode_frame(m);
    if (!f) return Err{f.error()};
    return std::vector<Frame>{*f};
  }
  const auto payload = encode_nat_payload(m.body);
  return split_nat(m.addr, nat_command(m.body), payload);
}

Result<std::vector<Frame>, EncodeErrc> encode(const LegacyMessage& m) {
  if (const auto* p = std::get_if<LegacyPacket>(&m.body))
    return split_legacy(m.addr, p->type, p->data, p->force_large);
  auto f = encode_frame(m);
  if (!f) return Err{f.error()};
  return std::vector<Frame>{*f};
}

Result<std::vector<Frame>, EncodeErrc> encode(const Message& message) {
  if (const auto* n = std::get_if<NatMessage>(&message)) return encode(*n);
  if (const auto* l = std::get_if<LegacyMessage>(&message)) return encode(*l);
  if (const auto* u = std::get_if<UnknownMessage>(&message)) return std::vector<Frame>{u->frame};
  return std::vector<Frame>{std::get<MalformedMessage>(message).frame};
}

}  // namespace loxcan::canproto
