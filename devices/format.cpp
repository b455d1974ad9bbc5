#include "devices/format.hpp"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace loxcan::devices {
namespace {

using nlohmann::ordered_json;

std::string hex8(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", v);
  return buf;
}

std::string type_text(const DeviceInfo& d) {
  return type_id_string(d.generation == Generation::legacy ? Protocol::legacy : Protocol::nat,
                        d.type);
}

ordered_json value_json(const ChannelValue& v) {
  struct Visitor {
    ordered_json operator()(bool b) const { return b; }
    ordered_json operator()(double d) const { return d; }
    ordered_json operator()(std::uint32_t m) const { return m; }
    ordered_json operator()(const Rgbw& c) const {
      return ordered_json{{"r", c.r}, {"g", c.g}, {"b", c.b}, {"w", c.w}};
    }
    ordered_json operator()(const std::string& s) const { return s; }
  };
  return std::visit(Visitor{}, v);
}

ordered_json device_json(const DeviceInfo& d) {
  return ordered_json{
      {"serial", hex8(d.serial)}, {"type", type_text(d)}, {"model", d.model}, {"name", d.name}};
}

std::string with_unit(const ChannelValue& v, const std::string& unit) {
  std::string s = to_plain(v);
  if (!unit.empty() && std::holds_alternative<double>(v)) s += " " + unit;
  return s;
}

struct TextVisitor {
  std::string operator()(const DeviceSeen& e) const {
    std::string s = "device_seen " + e.device.name + " serial " + hex8(e.device.serial) + " type " +
                    type_text(e.device) + " " + std::string(to_string(e.device.generation));
    if (e.device.firmware) s += " fw " + format_version(e.device.firmware);
    return s;
  }
  std::string operator()(const DeviceStateChanged& e) const {
    return "state " + e.device.name + " " + std::string(to_string(e.from)) + " -> " +
           std::string(to_string(e.to));
  }
  std::string operator()(const ChannelChanged& e) const {
    return "channel " + e.device.name + " " + e.channel + " = " + with_unit(e.value, e.unit);
  }
  std::string operator()(const Command& e) const {
    return "command " + e.device.name + " " + e.channel + " = " + to_plain(e.value);
  }
  std::string operator()(const BusEvent& e) const {
    std::string s = "bus " + e.kind + ": " + e.detail;
    if (!e.raw.empty()) s += " [" + e.raw + "]";
    return s;
  }
};

struct JsonVisitor {
  ordered_json operator()(const DeviceSeen& e) const {
    ordered_json j{
        {"event", "device_seen"}, {"ts", format_ts(e.ts_ns)}, {"device", device_json(e.device)}};
    j["generation"] = to_string(e.device.generation);
    j["firmware"] = format_version(e.device.firmware);
    return j;
  }
  ordered_json operator()(const DeviceStateChanged& e) const {
    return ordered_json{{"event", "device_state_changed"},
                        {"ts", format_ts(e.ts_ns)},
                        {"device", device_json(e.device)},
                        {"from", to_string(e.from)},
                        {"to", to_string(e.to)}};
  }
  ordered_json operator()(const ChannelChanged& e) const {
    return ordered_json{{"event", "channel_changed"},      {"ts", format_ts(e.ts_ns)},
                        {"device", device_json(e.device)}, {"channel", e.channel},
                        {"value", value_json(e.value)},    {"unit", e.unit}};
  }
  ordered_json operator()(const Command& e) const {
    return ordered_json{{"event", "command"},
                        {"ts", format_ts(e.ts_ns)},
                        {"device", device_json(e.device)},
                        {"channel", e.channel},
                        {"value", value_json(e.value)}};
  }
  ordered_json operator()(const BusEvent& e) const {
    return ordered_json{{"event", "bus_event"},
                        {"ts", format_ts(e.ts_ns)},
                        {"kind", e.kind},
                        {"detail", e.detail},
                        {"raw", e.raw}};
  }
};

std::string pad(std::string s, std::size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

}  // namespace

std::string format_ts(std::int64_t ts_ns) {
  char buf[32];
  const bool neg = ts_ns < 0;
  std::uint64_t a = neg ? 0 - static_cast<std::uint64_t>(ts_ns) : static_cast<std::uint64_t>(ts_ns);
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%06" PRIu64, neg ? "-" : "", a / 1000000000u,
                (a % 1000000000u) / 1000u);
  return buf;
}

std::string format_version(std::uint32_t v) {
  if (v == 0) return "";
  return std::to_string(v / 1000000) + "." + std::to_string(v / 10000 % 100) + "." +
         std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

std::string format_event(const Event& e) {
  std::int64_t ts = std::visit([](const auto& x) { return x.ts_ns; }, e);
  return "(" + format_ts(ts) + ") " + std::visit(TextVisitor{}, e);
}

std::string event_json(const Event& e) {
  return std::visit(JsonVisitor{}, e).dump();
}

std::string inventory_json(const Inventory& inventory, int indent) {
  ordered_json devices = ordered_json::array();
  for (const auto& r : inventory.devices()) {
    ordered_json d = device_json(r.info);
    d["generation"] = to_string(r.info.generation);
    d["state"] = to_string(r.state);
    d["nat"] = r.nat;
    if (r.info.generation == Generation::tree_device) {
      d["parent"] = r.parent ? hex8(r.parent) : "";
      d["branch"] = to_string(r.branch);
    }
    d["firmware"] = format_version(r.info.firmware);
    d["config_crc"] = hex8(r.config_crc);
    d["first_seen"] = format_ts(r.first_seen_ns);
    d["last_seen"] = format_ts(r.last_seen_ns);
    ordered_json ch = ordered_json::object();
    for (const auto& c : r.channels) {
      ch[c.name] = ordered_json{
          {"value", value_json(c.value)}, {"unit", c.unit}, {"ts", format_ts(c.ts_ns)}};
    }
    d["channels"] = std::move(ch);
    devices.push_back(std::move(d));
  }
  return ordered_json{{"devices", std::move(devices)}}.dump(indent);
}

std::string inventory_table(const Inventory& inventory) {
  std::string s = pad("SERIAL", 10) + pad("TYPE", 8) + pad("GEN", 7) + pad("NAME", 34) +
                  pad("STATE", 9) + pad("NAT", 6) + pad("PARENT", 10) + pad("BRANCH", 8) +
                  pad("FIRMWARE", 13) + pad("CONFIG", 10) + "LAST SEEN\n";
  char nat[8];
  for (const auto& r : inventory.devices()) {
    std::snprintf(nat, sizeof nat, r.nat ? "0x%02X" : "-", r.nat);
    const bool tree = r.info.generation == Generation::tree_device;
    s += pad(hex8(r.info.serial), 10) + pad(type_text(r.info), 8) +
         pad(std::string(to_string(r.info.generation)), 7) + pad(r.info.name, 34) +
         pad(std::string(to_string(r.state)), 9) + pad(nat, 6) +
         pad(tree && r.parent ? hex8(r.parent) : "-", 10) +
         pad(tree ? std::string(to_string(r.branch)) : "-", 8) +
         pad(r.info.firmware ? format_version(r.info.firmware) : "-", 13) +
         pad(r.config_crc ? hex8(r.config_crc) : "-", 10) + format_ts(r.last_seen_ns) + "\n";
    for (const auto& c : r.channels) {
      s += "    " + pad(c.name, 16) + with_unit(c.value, c.unit) + "\n";
    }
  }
  return s;
}

std::string models_table(const Registry& registry) {
  std::string s;
  for (const auto& m : registry.models()) {
    s += pad(m.name, 28) + pad(type_id_string(m.protocol, m.type), 8) +
         pad(std::string(to_string(m.generation)), 7) + m.title + "\n";
    if (!m.documented) s += "    (messages not documented: tracked, values reported raw)\n";
    if (m.special == Special::dmx) s += "    dmx<channel> (commands: number % or rgbw)\n";
    if (m.special == Special::onewire) s += "    t<sensor> °C, ibutton (ROM id)\n";
    if (m.special == Special::serial_port) s += "    rx, tx (hex bytes), config (baud/format)\n";
    if (m.special == Special::modbus) s += "    a<address>_r<register>, error\n";
    for (const auto& c : m.channels) {
      std::string type(to_string(c.spec.type));
      if (!c.spec.unit.empty() && c.spec.type == ValueType::number) type += " " + c.spec.unit;
      s += "    " + pad(c.spec.name, 16) + pad(std::string(to_string(c.spec.direction)), 8) + type +
           "\n";
    }
  }
  return s;
}

}  // namespace loxcan::devices
