#include "devices/registry.hpp"

#include <cctype>
#include <charconv>

namespace loxcan::devices {
namespace {

using In = ChannelDirection;
constexpr auto kIn = ChannelDirection::input;
constexpr auto kOut = ChannelDirection::output;

// Small builders so that each model below reads as a table.
ModelChannel boolean(std::string name, In dir, Semantic sem, Binding b) {
  return {{std::move(name), dir, ValueType::boolean, sem, "", 0, 1, 1}, b};
}
ModelChannel number(std::string name, In dir, Semantic sem, std::string unit, double min,
                    double max, Binding b) {
  return {{std::move(name), dir, ValueType::number, sem, std::move(unit), min, max, 0}, b};
}
ModelChannel mask(std::string name, In dir, Semantic sem, std::uint8_t bits, Binding b) {
  return {{std::move(name), dir, ValueType::bitmask, sem, "", 0, 0, bits}, b};
}
ModelChannel rgbw(std::string name, Binding b) {
  return {{std::move(name), kOut, ValueType::rgbw, Semantic::light, "%", 0, 100, 0}, b};
}

Binding nat_bit(std::uint8_t idx, std::uint8_t bit) {
  return {Codec::nat_bit, 0x80, idx, bit};
}
Binding nat_analog(std::uint8_t idx) {
  return {Codec::nat_analog, 0x81, idx, 0};
}
constexpr Binding kNatRgbw{Codec::nat_rgbw, 0x84, 0, 0};

Model model(std::string name, std::string title, Protocol p, std::uint16_t type,
            std::vector<ModelChannel> channels = {}) {
  Model m;
  m.name = std::move(name);
  m.title = std::move(title);
  m.protocol = p;
  m.type = type;
  m.generation = p == Protocol::legacy ? Generation::legacy
                 : (type & 0x8000)     ? Generation::tree_device
                                       : Generation::nat_extension;
  m.channels = std::move(channels);
  return m;
}
Model undocumented(std::string name, std::string title, Protocol p, std::uint16_t type) {
  Model m = model(std::move(name), std::move(title), p, type);
  m.documented = false;
  return m;
}

// `prefix1..prefixN` bool channels on consecutive bits.
void add_bits(std::vector<ModelChannel>& out, const std::string& prefix, int n, In dir,
              Semantic sem, Codec codec, std::uint8_t cmd, std::uint8_t idx = 0) {
  for (int i = 0; i < n; ++i) {
    out.push_back(boolean(prefix + std::to_string(i + 1), dir, sem,
                          {codec, cmd, idx, static_cast<std::uint8_t>(i)}));
  }
}
void add_frequencies(std::vector<ModelChannel>& out, int n) {
  for (int i = 0; i < n; ++i) {
    out.push_back(number("f" + std::to_string(i + 1), kIn, Semantic::frequency, "Hz", 0, 1000,
                         {Codec::nat_frequency, 0x85, static_cast<std::uint8_t>(i), 0}));
  }
}
ModelChannel legacy_temperature() {
  return number("temperature", kIn, Semantic::temperature, "°C", -40, 125,
                {Codec::legacy_temperature, 0x53, 0, 0});
}
ModelChannel temperature(std::uint8_t idx) {
  return number("temperature", kIn, Semantic::temperature, "°C", -40, 80, nat_analog(idx));
}
ModelChannel humidity(std::uint8_t idx) {
  return number("humidity", kIn, Semantic::humidity, "%", 0, 100, nat_analog(idx));
}
ModelChannel brightness_lx(std::uint8_t idx) {
  return number("brightness", kIn, Semantic::illuminance, "lx", 0, 188000, nat_analog(idx));
}

// ---- legacy extensions (8.2) ----------------------------------------------------------------

Model legacy_extension() {
  std::vector<ModelChannel> ch;
  add_bits(ch, "i", 12, kIn, Semantic::generic, Codec::legacy_bit, 0x50);
  add_bits(ch, "q", 8, kOut, Semantic::relay, Codec::legacy_bit, 0x60);
  for (std::uint8_t i = 0; i < 4; ++i) {
    ch.push_back(number("ai" + std::to_string(i + 1), kIn, Semantic::voltage, "V", 0, 10,
                        {Codec::legacy_analog10, 0x20, i, 0, 0.01}));
  }
  for (std::uint8_t i = 0; i < 4; ++i) {
    ch.push_back(number("aq" + std::to_string(i + 1), kOut, Semantic::voltage, "V", 0, 10,
                        {Codec::legacy_analog10, 0x30, i, 0, 0.01}));
  }
  for (std::uint8_t i = 0; i < 12; ++i) {
    ch.push_back(number("f" + std::to_string(i + 1), kIn, Semantic::frequency, "Hz", 0, 150,
                        {Codec::legacy_frequency, 0x51, 0, i}));
  }
  ch.push_back(legacy_temperature());
  return model("extension", "Extension", Protocol::legacy, 0x1, std::move(ch));
}

Model relay_extension() {
  std::vector<ModelChannel> ch;
  add_bits(ch, "q", 14, kOut, Semantic::relay, Codec::legacy_bit, 0x60);
  ch.push_back(legacy_temperature());
  return model("relay_extension", "Relay Extension", Protocol::legacy, 0xB, std::move(ch));
}

Model special(Model m, Special s) {
  m.special = s;
  return m;
}

// ---- NAT extensions (8.3) ---------------------------------------------------------------------

Model di_extension() {
  std::vector<ModelChannel> ch;
  add_bits(ch, "i", 20, kIn, Semantic::generic, Codec::nat_bit, 0x80);
  add_frequencies(ch, 20);
  return model("di_extension", "DI Extension", Protocol::nat, 0x14, std::move(ch));
}

Model ai_extension(std::string name, std::string title, std::uint16_t type) {
  std::vector<ModelChannel> ch;
  for (std::uint8_t i = 0; i < 4; ++i) {
    ch.push_back(
        number("ai" + std::to_string(i + 1), kIn, Semantic::voltage, "V", 0, 10, nat_analog(i)));
  }
  return model(std::move(name), std::move(title), Protocol::nat, type, std::move(ch));
}

Model ao_extension() {
  std::vector<ModelChannel> ch;
  for (std::uint8_t i = 0; i < 4; ++i) {
    ch.push_back(
        number("aq" + std::to_string(i + 1), kOut, Semantic::voltage, "V", 0, 10, nat_analog(i)));
  }
  return model("ao_extension", "AO Extension", Protocol::nat, 0x17, std::move(ch));
}

Model tree_extension() {
  std::vector<ModelChannel> ch;
  const char* buses[] = {"link", "left", "right"};
  const char* fields[] = {"errors", "rec", "tec"};
  for (std::uint8_t bus = 0; bus < 3; ++bus) {
    for (std::uint8_t f = 0; f < 3; ++f) {
      ch.push_back(number(std::string(buses[bus]) + "_" + fields[f], kIn, Semantic::generic, "", 0,
                          f == 0 ? 4294967295.0 : 255, {Codec::nat_can_errors, 0x18, bus, f}));
    }
  }
  return special(model("tree_extension", "Tree Extension", Protocol::nat, 0x13, std::move(ch)),
                 Special::tree_extension);
}

// ---- Tree devices (8.4) -----------------------------------------------------------------------

std::vector<ModelChannel> touch_channels() {
  std::vector<ModelChannel> ch;
  ch.push_back(mask("zones", kIn, Semantic::button, 5, {Codec::nat_mask, 0x80, 0, 0}));
  const char* zones[] = {"top_left", "top_right", "center", "bottom_left", "bottom_right"};
  for (std::uint8_t i = 0; i < 5; ++i) {
    ch.push_back(boolean(zones[i], kIn, Semantic::button, nat_bit(0, i)));
  }
  ch.push_back(temperature(0));
  ch.push_back(humidity(1));
  return ch;
}

Model touch() {
  auto ch = touch_channels();
  ch.push_back(boolean("buzzer", kOut, Semantic::buzzer, nat_bit(0, 0)));
  return model("touch", "Touch Tree", Protocol::nat, 0x8003, std::move(ch));
}

Model touch_pure(std::string name, std::string title, std::uint16_t type) {
  auto ch = touch_channels();
  ch.push_back(boolean("backlight", kOut, Semantic::light, nat_bit(0, 0)));
  ch.push_back(boolean("buzzer", kOut, Semantic::buzzer, nat_bit(0, 1)));
  return model(std::move(name), std::move(title), Protocol::nat, type, std::move(ch));
}

Model position_actuator(std::string name, std::string title, std::uint16_t type) {
  std::vector<ModelChannel> ch;
  ch.push_back(number("position", kOut, Semantic::position, "%", 0, 100, nat_analog(0)));
  return model(std::move(name), std::move(title), Protocol::nat, type, std::move(ch));
}

Model motion_sensor() {
  std::vector<ModelChannel> ch;
  ch.push_back(boolean("motion", kIn, Semantic::motion, {Codec::nat_nonzero, 0x80, 0, 0}));
  ch.push_back(brightness_lx(0));
  ch.push_back(number("led", kOut, Semantic::enumeration, "", 0, 3, nat_analog(1)));
  return model("motion_sensor", "Motion Sensor Tree", Protocol::nat, 0x8002, std::move(ch));
}

Model led_ceiling_light() {
  std::vector<ModelChannel> ch;
  ch.push_back(boolean("motion", kIn, Semantic::motion, {Codec::nat_nonzero, 0x80, 0, 0}));
  ch.push_back(brightness_lx(0));
  ch.push_back(rgbw("rgbw", kNatRgbw));
  return model("led_ceiling_light", "LED Ceiling Light RGBW Tree", Protocol::nat, 0x8006,
               std::move(ch));
}

Model rgbw_light(std::string name, std::string title, std::uint16_t type) {
  std::vector<ModelChannel> ch;
  ch.push_back(rgbw("rgbw", kNatRgbw));
  return model(std::move(name), std::move(title), Protocol::nat, type, std::move(ch));
}

Model ww_light(std::string name, std::string title, std::uint16_t type) {
  std::vector<ModelChannel> ch;
  ch.push_back(
      number("white", kOut, Semantic::brightness, "%", 0, 100, {Codec::nat_white, 0x84, 0, 0}));
  return model(std::move(name), std::move(title), Protocol::nat, type, std::move(ch));
}

Model weather_station() {
  std::vector<ModelChannel> ch;
  ch.push_back(boolean("rain", kIn, Semantic::rain, nat_bit(0, 0)));
  ch.push_back(boolean("storm", kIn, Semantic::problem, nat_bit(0, 1)));
  ch.push_back(boolean("sunshine", kIn, Semantic::generic, nat_bit(0, 2)));
  ch.push_back(brightness_lx(0));
  ch.push_back(number("wind", kIn, Semantic::wind_speed, "km/h", 0, 250, nat_analog(1)));
  ch.push_back(temperature(2));
  return model("weather_station", "Weather Station Tree", Protocol::nat, 0x800A, std::move(ch));
}

Model nano_di() {
  std::vector<ModelChannel> ch;
  add_bits(ch, "i", 6, kIn, Semantic::generic, Codec::nat_bit, 0x80);
  add_frequencies(ch, 6);
  return model("nano_di", "Nano DI Tree", Protocol::nat, 0x800B, std::move(ch));
}

Model room_comfort_sensor() {
  std::vector<ModelChannel> ch;
  ch.push_back(temperature(0));
  ch.push_back(humidity(1));
  ch.push_back(number("co2", kIn, Semantic::co2, "ppm", 0, 10000, nat_analog(2)));
  ch.push_back(number("co2_class", kIn, Semantic::enumeration, "", 0, 3, nat_analog(3)));
  ch.push_back(mask("co2_level", kIn, Semantic::enumeration, 3, {Codec::nat_mask, 0x80, 0, 0}));
  return model("room_comfort_sensor", "Room Comfort Sensor Tree", Protocol::nat, 0x8010,
               std::move(ch));
}

Model alarm_siren() {
  std::vector<ModelChannel> ch;
  ch.push_back(boolean("tamper", kIn, Semantic::tamper, nat_bit(0, 0)));
  ch.push_back(boolean("strobe", kOut, Semantic::light, nat_bit(0, 0)));
  ch.push_back(boolean("sound", kOut, Semantic::buzzer, nat_bit(0, 1)));
  ch.push_back(temperature(0));
  return model("alarm_siren", "Alarm Siren Tree", Protocol::nat, 0x8012, std::move(ch));
}

Model leaf() {
  std::vector<ModelChannel> ch;
  ch.push_back(boolean("filter_warning", kIn, Semantic::problem, nat_bit(0, 0)));
  ch.push_back(boolean("fan_fault", kIn, Semantic::problem, nat_bit(0, 1)));
  ch.push_back(boolean("flap_fault", kIn, Semantic::problem, nat_bit(0, 2)));
  ch.push_back(boolean("filter_confirm", kOut, Semantic::generic, nat_bit(0, 0)));
  ch.push_back(number("mode", kOut, Semantic::enumeration, "", 0, 3, nat_analog(0)));
  ch.push_back(number("fan_speed", kOut, Semantic::generic, "%", 0, 100, nat_analog(1)));
  return model("leaf", "Leaf Tree", Protocol::nat, 0x8014, std::move(ch));
}

Model nfc_code_touch(std::string name, std::string title, std::uint16_t type) {
  std::vector<ModelChannel> ch;
  ch.push_back(boolean("buzzer_alarm", kOut, Semantic::buzzer, nat_bit(0, 3)));
  ch.push_back(rgbw("led", kNatRgbw));
  return model(std::move(name), std::move(title), Protocol::nat, type, std::move(ch));
}

Model nano_2_relay() {
  std::vector<ModelChannel> ch;
  add_bits(ch, "q", 2, kOut, Semantic::relay, Codec::nat_bit, 0x80);
  return model("nano_2_relay", "Nano 2 Relay Tree", Protocol::nat, 0x8019, std::move(ch));
}

void add_legacy(std::vector<Model>& m) {
  constexpr auto L = Protocol::legacy;
  m.push_back(legacy_extension());
  m.push_back(undocumented("dimmer_extension", "Dimmer Extension", L, 0x2));
  m.push_back(undocumented("enocean_extension", "EnOcean Extension", L, 0x3));
  m.push_back(special(model("dmx_extension", "DMX Extension", L, 0x4), Special::dmx));
  m.push_back(special(model("onewire_extension", "1-Wire Extension", L, 0x5), Special::onewire));
  m.push_back(special(model("rs232_extension", "RS232 Extension", L, 0x6), Special::serial_port));
  m.push_back(special(model("rs485_extension", "RS485 Extension", L, 0x7), Special::serial_port));
  m.push_back(undocumented("ir_extension", "IR Extension", L, 0x8));
  m.push_back(special(model("modbus_extension", "Modbus Extension", L, 0x9), Special::modbus));
  m.push_back(undocumented("froeling_extension", "Fröling Extension", L, 0xA));
  m.push_back(relay_extension());
  m.push_back(undocumented("air_base_extension", "Air Base Extension", L, 0xC));
  m.push_back(undocumented("dali_extension", "DALI Extension", L, 0xD));
  m.push_back(undocumented("modbus232_extension", "Modbus 232 Extension", L, 0xE));
}

void add_nat_extensions(std::vector<Model>& m) {
  constexpr auto N = Protocol::nat;
  m.push_back(undocumented("internorm_extension", "Internorm Extension", N, 0x12));
  m.push_back(tree_extension());
  m.push_back(di_extension());
  m.push_back(undocumented("knx_extension", "KNX Extension", N, 0x15));
  m.push_back(ai_extension("ai_extension_v1", "AI Extension V1", 0x16));
  m.push_back(ao_extension());
  m.push_back(undocumented("schueco_extension", "Schüco Extension", N, 0x18));
  m.push_back(ai_extension("ai_extension", "AI Extension", 0x19));
  m.push_back(undocumented("mbus_extension", "M-Bus Extension", N, 0x20));
}

void add_tree_devices(std::vector<Model>& m) {
  constexpr auto N = Protocol::nat;
  m.push_back(position_actuator("valve_actuator", "Valve Actuator Tree", 0x8001));
  m.push_back(motion_sensor());
  m.push_back(touch());
  m.push_back(undocumented("universal_tree", "Universal Tree", N, 0x8004));
  m.push_back(touch_pure("touch_pure", "Touch Pure Tree", 0x8005));
  m.push_back(led_ceiling_light());
  m.push_back(rgbw_light("led_surface_spot_rgbw", "LED Surface Mount Spot RGBW Tree", 0x8007));
  m.push_back(rgbw_light("led_spot_rgbw_gen1", "LED Spot RGBW Tree Gen 1", 0x8008));
  m.push_back(nfc_code_touch("nfc_code_touch_gen1", "NFC Code Touch Tree Gen 1", 0x8009));
  m.push_back(weather_station());
  m.push_back(nano_di());
  m.push_back(rgbw_light("rgbw_dimmer", "RGBW 24V Dimmer Tree", 0x800C));
  m.push_back(touch_pure("touch_surface", "Touch Surface Tree", 0x800D));
  m.push_back(ww_light("led_surface_spot_ww", "LED Surface Mount Spot WW Tree", 0x800E));
  m.push_back(ww_light("led_spot_ww_gen1", "LED Spot WW Tree Gen 1", 0x800F));
  m.push_back(room_comfort_sensor());
  m.push_back(rgbw_light("led_pendulum_slim_rgbw", "LED Pendulum Slim RGBW Tree", 0x8011));
  m.push_back(alarm_siren());
  m.push_back(position_actuator("damper", "Damper Tree", 0x8013));
  m.push_back(leaf());
  m.push_back(
      undocumented("integrated_window_contact", "Integrated Window Contact Tree", N, 0x8015));
  m.push_back(rgbw_light("led_spot_rgbw", "LED Spot RGBW Tree", 0x8016));
  m.push_back(ww_light("led_spot_ww", "LED Spot WW Tree", 0x8017));
  m.push_back(undocumented("power_tree", "Power Tree", N, 0x8018));
  m.push_back(nano_2_relay());
  m.push_back(undocumented("ahri_tree", "Ahri Tree", N, 0x801A));
  m.push_back(undocumented("magnus_tree", "Magnus Tree", N, 0x801B));
  m.push_back(nfc_code_touch("nfc_code_touch", "NFC Code Touch Tree", 0x801C));
  m.push_back(undocumented("tree_to_air_bridge", "Tree to Air Bridge", N, 0x801D));
  m.push_back(undocumented("nano_motor_controller", "Nano Motor Controller Tree", N, 0x801E));
  m.push_back(undocumented("touch_pure_flex", "Touch Pure Flex Tree", N, 0x801F));
  m.push_back(undocumented("belimo_tree", "Belimo Tree", N, 0x8020));
  m.push_back(undocumented("power_supply_backup", "Power Supply & Backup", N, 0x8021));
  m.push_back(undocumented("touch_pure_co2", "Touch Pure CO2 Tree", N, 0x8022));
  m.push_back(undocumented("wallbox", "Wallbox 11 kW 16 A Tree", N, 0x8023));
}

}  // namespace

const ModelChannel* Model::find(std::string_view channel) const {
  for (const auto& c : channels) {
    if (c.spec.name == channel) return &c;
  }
  return nullptr;
}

std::string type_id_string(Protocol p, std::uint16_t type) {
  char buf[8];
  const char* digits = "0123456789ABCDEF";
  if (p == Protocol::legacy) return std::string("0x") + digits[type & 0xF];
  for (int i = 0; i < 4; ++i) buf[3 - i] = digits[(type >> (4 * i)) & 0xF];
  return "0x" + std::string(buf, 4);
}

Registry Registry::builtin() {
  Registry r;
  add_legacy(r.models_);
  add_nat_extensions(r.models_);
  add_tree_devices(r.models_);
  return r;
}

const Model* Registry::find(Protocol protocol, std::uint16_t type) const {
  for (const auto& m : models_) {
    if (m.protocol == protocol && m.type == type) return &m;
  }
  return nullptr;
}

const Model* Registry::find(std::string_view name) const {
  for (const auto& m : models_) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const Model* Registry::resolve(std::string_view text) const {
  if (const Model* m = find(text)) return m;
  auto id = parse_type_id(text);
  if (!id) return nullptr;
  return find(*id >= 0x1 && *id <= 0xF ? Protocol::legacy : Protocol::nat, *id);
}

std::string unknown_model_name(Protocol protocol, std::uint16_t type) {
  std::string id = type_id_string(protocol, type).substr(2);
  for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return (protocol == Protocol::legacy ? "unknown_legacy_" : "unknown_") + id;
}

std::optional<std::uint16_t> parse_type_id(std::string_view text) {
  if (text.size() < 3 || text.size() > 6 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return std::nullopt;
  }
  std::uint16_t v = 0;
  auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), v, 16);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace loxcan::devices
