#include "devices/codec.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace loxcan::devices {
namespace {

namespace cp = loxcan::canproto;
using cp::nat_cmd::kAnalogValue;
using cp::nat_cmd::kDigitalValue;

bool is_input(const ModelChannel& c) {
  return c.spec.direction == ChannelDirection::input;
}

// Device frames fill an output channel only if no input shares its command/index.
bool shadowed_by_input(const Model& m, const ModelChannel& out) {
  return std::any_of(m.channels.begin(), m.channels.end(), [&](const ModelChannel& c) {
    return is_input(c) && c.binding.cmd == out.binding.cmd &&
           c.binding.index == out.binding.index && c.binding.codec != Codec::none;
  });
}

bool applies(const Model& m, const ModelChannel& c, bool from_device) {
  if (!from_device) return !is_input(c);
  return is_input(c) || !shadowed_by_input(m, c);
}

void emit(std::vector<DecodedValue>& out, const ModelChannel& c, ChannelValue v) {
  out.push_back({c.spec.name, std::move(v), c.spec.unit});
}

Rgbw current_rgbw(const ChannelStates& current, const std::string& name) {
  const ChannelValue* v = find_value(current, name);
  if (v && std::holds_alternative<Rgbw>(*v)) return std::get<Rgbw>(*v);
  return {};
}

// The RGBW a light body sets, if it is one (0x84, 0x88, 0x8A, 0x8B).
std::optional<Rgbw> light_of(const cp::NatBody& body, Rgbw before) {
  if (auto* b = std::get_if<cp::RgbwValue>(&body)) return Rgbw{b->r, b->g, b->b, b->w};
  if (auto* b = std::get_if<cp::CompositeRgbw>(&body)) return Rgbw{b->r, b->g, b->b, b->w};
  if (auto* b = std::get_if<cp::CompositeRgbwMagic>(&body)) {
    return Rgbw{b->rgbw.r, b->rgbw.g, b->rgbw.b, b->rgbw.w};
  }
  if (auto* b = std::get_if<cp::CompositeWhite>(&body)) {
    std::uint8_t* parts[] = {&before.r, &before.g, &before.b, &before.w};
    for (int k = 0; k < 4; ++k) {
      if (b->value[k] != 0xFF) *parts[k] = b->value[k];
    }
    return before;
  }
  return std::nullopt;
}

// Returns take(v) (take returns true) with the typed value (the ChannelValue alternative: bool,
// double, std::uint32_t or Rgbw) channel `c` takes from `body`; false, without calling take, when
// the body does not carry it.
// One switch serves both decoding (make a ChannelValue) and the hot path's comparison with the
// stored value (no ChannelValue built for a channel that did not change).
template <class Take>
bool visit_nat_channel(const ModelChannel& c, const cp::NatBody& body, const ChannelStates& current,
                       Take&& take) {
  const Binding& b = c.binding;
  switch (b.codec) {
    case Codec::nat_bit:
    case Codec::nat_nonzero:
    case Codec::nat_mask: {
      auto* d = std::get_if<cp::DigitalValue>(&body);
      if (!d || d->index != b.index || b.cmd != kDigitalValue) return false;
      if (b.codec == Codec::nat_bit) return take(((d->bitmask >> b.bit) & 1u) != 0);
      if (b.codec == Codec::nat_nonzero) return take(d->bitmask != 0);
      std::uint32_t mask = c.spec.bits >= 32 ? 0xFFFFFFFFu : (1u << c.spec.bits) - 1;
      return take(static_cast<std::uint32_t>(d->bitmask & mask));
    }
    case Codec::nat_analog: {
      auto* a = std::get_if<cp::AnalogValue>(&body);
      if (!a || a->index != b.index) return false;
      double v = a->value();
      if (std::isnan(v)) return false;
      return take(v * b.scale);
    }
    case Codec::nat_frequency: {
      auto* f = std::get_if<cp::FrequencyValue>(&body);
      if (!f || f->index != b.index) return false;
      return take(static_cast<double>(f->hz));
    }
    case Codec::nat_rgbw:
    case Codec::nat_white: {
      Rgbw before = current_rgbw(current, c.spec.name);
      if (b.codec == Codec::nat_white) {
        const ChannelValue* w = find_value(current, c.spec.name);
        if (w && std::holds_alternative<double>(*w))
          before.w = static_cast<std::uint8_t>(std::get<double>(*w));
      }
      auto light = light_of(body, before);
      if (!light) return false;
      if (b.codec == Codec::nat_white) return take(static_cast<double>(light->w));
      return take(*light);
    }
    case Codec::nat_can_errors: {
      const cp::CanStats* s = nullptr;
      if (auto* e = std::get_if<cp::CanErrorReply>(&body)) s = e;
      if (auto* e = std::get_if<cp::CanDiagReply>(&body)) s = e;
      if (!s || s->bus != b.index) return false;
      double v = b.bit == 0 ? s->error_count : b.bit == 1 ? s->rec : s->tec;
      return take(v);
    }
    default: return false;
  }
}

template <class Visit>
std::optional<ChannelValue> decoded(Visit&& visit) {
  std::optional<ChannelValue> out;
  visit([&](auto v) {
    out.emplace(v);
    return true;
  });
  return out;
}

template <class Visit>
DecodePlan::Match matched(Visit&& visit, const ChannelValue& current) {
  bool same = false;
  if (!visit([&](auto v) {
        auto* p = std::get_if<decltype(v)>(&current);
        same = p != nullptr && *p == v;
        return true;
      })) {
    return DecodePlan::Match::absent;
  }
  return same ? DecodePlan::Match::same : DecodePlan::Match::different;
}

std::optional<ChannelValue> decode_nat_channel(const ModelChannel& c, const cp::NatBody& body,
                                               const ChannelStates& current) {
  return decoded([&](auto&& take) { return visit_nat_channel(c, body, current, take); });
}

// The D1 index (CAN bus number for the error replies) a body carries, which visit_nat_channel()
// compares with Binding::index; -1 for kinds without one (the lights).
int body_index(const cp::NatBody& body) {
  if (auto* d = std::get_if<cp::DigitalValue>(&body)) return d->index;
  if (auto* a = std::get_if<cp::AnalogValue>(&body)) return a->index;
  if (auto* f = std::get_if<cp::FrequencyValue>(&body)) return f->index;
  if (auto* e = std::get_if<cp::CanErrorReply>(&body)) return e->bus;
  if (auto* e = std::get_if<cp::CanDiagReply>(&body)) return e->bus;
  return -1;
}

// The NAT body alternatives (NatBody::index()) visit_nat_channel() reads for a binding; it returns
// false for every other kind, and for bodies whose body_index() (where there is one) differs from
// the binding's index. Keep the two in step (codec_test checks DecodePlan against decode_nat()
// for every model and body kind).
std::vector<std::size_t> nat_kinds(const Binding& b) {
  auto k = [](cp::NatBody body) { return body.index(); };
  switch (b.codec) {
    case Codec::nat_bit:
    case Codec::nat_nonzero:
    case Codec::nat_mask:
      if (b.cmd != kDigitalValue) return {};
      return {k(cp::DigitalValue{})};
    case Codec::nat_analog: return {k(cp::AnalogValue{})};
    case Codec::nat_frequency: return {k(cp::FrequencyValue{})};
    case Codec::nat_rgbw:
    case Codec::nat_white:
      return {k(cp::RgbwValue{}), k(cp::CompositeRgbw{}), k(cp::CompositeRgbwMagic{}),
              k(cp::CompositeWhite{})};
    case Codec::nat_can_errors: return {k(cp::CanErrorReply{}), k(cp::CanDiagReply{})};
    default: return {};
  }
}

// ---- legacy
// --------------------------------------------------------------------------------------

// As nat_kinds(), for decode_legacy_channel().
std::vector<std::size_t> legacy_kinds(Codec codec) {
  auto k = [](cp::LegacyBody b) { return b.index(); };
  switch (codec) {
    case Codec::legacy_bit: return {k(cp::LegacyDigitalInputs{}), k(cp::LegacyOutputs{})};
    case Codec::legacy_analog10: return {k(cp::LegacyAnalogInputs{}), k(cp::LegacyAnalogOutputs{})};
    case Codec::legacy_frequency: return {k(cp::LegacyGeneric{})};
    case Codec::legacy_temperature: return {k(cp::LegacyTemperature{})};
    default: return {};
  }
}

template <class Take>
bool visit_legacy_channel(const ModelChannel& c, const cp::LegacyBody& body,
                          std::optional<std::uint8_t> hw, Take&& take) {
  const Binding& b = c.binding;
  switch (b.codec) {
    case Codec::legacy_bit: {
      std::optional<std::uint32_t> mask;
      if (auto* d = std::get_if<cp::LegacyDigitalInputs>(&body); d && b.cmd == 0x50)
        mask = d->bitmask;
      if (auto* o = std::get_if<cp::LegacyOutputs>(&body); o && b.cmd == 0x60) mask = o->bitmask;
      if (!mask) return false;
      return take(((*mask >> b.bit) & 1u) != 0);
    }
    case Codec::legacy_analog10: {
      const cp::LegacyAnalog4* a = nullptr;
      if (auto* i = std::get_if<cp::LegacyAnalogInputs>(&body); i && b.cmd == 0x20) a = i;
      if (auto* o = std::get_if<cp::LegacyAnalogOutputs>(&body); o && b.cmd == 0x30) a = o;
      if (!a) return false;
      return take(static_cast<double>(a->raw[b.index] * b.scale));
    }
    case Codec::legacy_frequency: {
      auto* g = std::get_if<cp::LegacyGeneric>(&body);
      if (!g || g->cmd != 0x51) return false;
      const std::uint8_t hz[4] = {g->b0, static_cast<std::uint8_t>(g->val16),
                                  static_cast<std::uint8_t>(g->val16 >> 8),
                                  static_cast<std::uint8_t>(g->val32)};
      const std::uint16_t inputs = static_cast<std::uint16_t>(g->val32 >> 8);  // D5, D6
      for (int k = 0; k < 4; ++k) {
        if (((inputs >> (4 * k)) & 0xF) == b.bit) return take(static_cast<double>(hz[k]));
      }
      return false;
    }
    case Codec::legacy_temperature: {
      auto* t = std::get_if<cp::LegacyTemperature>(&body);
      if (!t) return false;
      return take(static_cast<double>(std::round(t->celsius(hw) * 100) / 100));
    }
    default: return false;
  }
}

std::optional<ChannelValue> decode_legacy_channel(const ModelChannel& c, const cp::LegacyBody& body,
                                                  std::optional<std::uint8_t> hw) {
  return decoded([&](auto&& take) { return visit_legacy_channel(c, body, hw, take); });
}

std::string hex_bytes(std::span<const std::uint8_t> bytes) {
  static const char* d = "0123456789ABCDEF";
  std::string s;
  for (auto b : bytes) {
    s += d[b >> 4];
    s += d[b & 0xF];
  }
  return s;
}

void decode_dmx(const cp::LegacyBody& body, bool from_device, std::vector<DecodedValue>& out) {
  auto* p = std::get_if<cp::LegacyPacket>(&body);
  if (from_device || !p || (p->type != 0x0D && p->type != 0x0E && p->type != 0x13) ||
      p->data.size() < 8) {
    return;
  }
  const auto& d = p->data;
  const unsigned channel = (d[2] | d[3] << 8) + 1u;
  const std::uint8_t actor = d[0] & 0x07;  // 0 white, 1 RGB, 2 RGBW, 3 Lumitech (+8 = smart)
  ChannelValue v;
  if (actor == 0) {
    v = static_cast<double>(d[4]);
  } else if (actor == 1 || actor == 2) {
    v = Rgbw{d[4], d[5], d[6], static_cast<std::uint8_t>(actor == 2 ? d[7] : 0)};
  } else {
    v = hex_bytes({d.data() + 4, 4});
  }
  out.push_back({"dmx" + std::to_string(channel), std::move(v), actor == 0 ? "%" : ""});
}

void decode_onewire(const cp::LegacyBody& body, bool from_device, std::vector<DecodedValue>& out) {
  auto* g = std::get_if<cp::LegacyGeneric>(&body);
  if (!from_device || !g) return;
  if (g->cmd == 0x66) {
    // DS18B20 layout (the sensor family is only known from the configuration).
    const auto d2 = static_cast<std::int8_t>(g->val16 & 0xFF);
    const double c = d2 + (g->val16 >> 8) / 16.0;
    out.push_back({"t" + std::to_string(g->b0 + 1), c, "°C"});
  } else if (g->cmd == 0x7A || g->cmd == 0x7B) {
    std::uint8_t rom[7] = {g->b0,
                           static_cast<std::uint8_t>(g->val16),
                           static_cast<std::uint8_t>(g->val16 >> 8),
                           static_cast<std::uint8_t>(g->val32),
                           static_cast<std::uint8_t>(g->val32 >> 8),
                           static_cast<std::uint8_t>(g->val32 >> 16),
                           static_cast<std::uint8_t>(g->val32 >> 24)};
    out.push_back({"ibutton", g->cmd == 0x7A ? hex_bytes(rom) : std::string(), ""});
  }
}

std::string serial_config_text(const cp::LegacyGeneric& g) {
  static const char kParity[] = {'N', 'E', 'O', 'S', 'M'};
  const unsigned bits = 5 + (g.b0 & 0x3);
  const unsigned parity = (g.b0 >> 2) & 0xF;
  const char p = parity < 5 ? kParity[parity] : '?';
  std::string s =
      std::to_string(g.val32) + " " + std::to_string(bits) + p + ((g.b0 & 0x40) ? "2" : "1");
  if (g.b0 & 0x80) {
    char end[8];
    std::snprintf(end, sizeof end, " end=%02X", static_cast<unsigned>(g.val16 & 0xFF));
    s += end;
  }
  return s;
}

void decode_serial_port(const cp::LegacyBody& body, bool from_device, DecodeScratch& scratch,
                        std::vector<DecodedValue>& out) {
  if (auto* p = std::get_if<cp::LegacyPacket>(&body)) {
    if (from_device && p->type == 0x0A) out.push_back({"rx", hex_bytes(p->data), ""});
    return;
  }
  auto* g = std::get_if<cp::LegacyGeneric>(&body);
  if (!g || from_device) return;
  if (g->cmd == 0x69) {
    out.push_back({"config", serial_config_text(*g), ""});
    return;
  }
  if (g->cmd != 0x71) return;
  const std::uint8_t d[8] = {0,
                             g->b0,
                             static_cast<std::uint8_t>(g->val16),
                             static_cast<std::uint8_t>(g->val16 >> 8),
                             static_cast<std::uint8_t>(g->val32),
                             static_cast<std::uint8_t>(g->val32 >> 8),
                             static_cast<std::uint8_t>(g->val32 >> 16),
                             static_cast<std::uint8_t>(g->val32 >> 24)};
  if (g->b0 == 0) {  // first frame: D2 length, D3 CRC-8, D4..D7 first bytes
    scratch.tx.assign(d + 4, d + 4 + std::min<std::size_t>(4, d[2]));
    scratch.tx_expected = d[2];
  } else {
    const std::size_t offset = 6u * g->b0 - 2u;
    if (scratch.tx.size() != offset) {  // lost a frame: start over with the next first frame
      scratch.tx.clear();
      scratch.tx_expected = 0;
      return;
    }
    for (int k = 2; k < 8 && scratch.tx.size() < scratch.tx_expected; ++k)
      scratch.tx.push_back(d[k]);
  }
  if (scratch.tx_expected > 0 && scratch.tx.size() == scratch.tx_expected) {
    out.push_back({"tx", hex_bytes(scratch.tx), ""});
    scratch.tx.clear();
    scratch.tx_expected = 0;
  }
}

std::uint32_t big_endian(std::uint32_t le) {
  return (le >> 24) | ((le >> 8) & 0xFF00u) | ((le << 8) & 0xFF0000u) | (le << 24);
}

void decode_modbus(const cp::LegacyBody& body, bool from_device, std::vector<DecodedValue>& out) {
  auto* g = std::get_if<cp::LegacyGeneric>(&body);
  if (!g) return;
  const std::string name = "a" + std::to_string(g->b0) + "_r" + std::to_string(g->val16);
  if (from_device && g->cmd == 0x5C) {
    out.push_back({name, static_cast<double>(big_endian(g->val32)), ""});
  } else if (!from_device && g->cmd >= 0x5D && g->cmd <= 0x63) {
    out.push_back({name, static_cast<double>(big_endian(g->val32)), ""});
  } else if (from_device && g->cmd == 0x1C) {
    static const char* kErr[] = {"write confirmed", "timeout", "CRC error", "invalid response",
                                 "length error",    "other",   "TX overrun"};
    const unsigned code = g->val16 & 0xFF;
    out.push_back(
        {"error", "a" + std::to_string(g->b0) + " " + (code < 7 ? kErr[code] : "unknown"), ""});
  }
}

// ---- encode ------------------------------------------------------------------------------------

bool value_matches(const ChannelSpec& s, const ChannelValue& v) {
  return type_of(v) == s.type;
}

std::uint32_t compose_mask(const Model& m, const ModelChannel& target, bool value,
                           const ChannelStates& current, Codec codec) {
  std::uint32_t mask = 0;
  for (const auto& c : m.channels) {
    if (is_input(c) || c.binding.codec != codec || c.binding.cmd != target.binding.cmd ||
        c.binding.index != target.binding.index) {
      continue;
    }
    bool on = false;
    if (&c == &target) {
      on = value;
    } else if (const ChannelValue* v = find_value(current, c.spec.name);
               v && std::holds_alternative<bool>(*v)) {
      on = std::get<bool>(*v);
    }
    if (on) mask |= 1u << c.binding.bit;
  }
  return mask;
}

cp::AnalogValue analog_for(std::uint8_t index, double v) {
  cp::AnalogValue a;
  a.index = index;
  if (v >= 0 && v == std::floor(v) && v <= 4294967295.0) {
    a.flags = 0;
  } else {
    a.flags = v < 0 ? 0x15 : 0x05;
  }
  a.raw = cp::unscale_analog(v, a.flags);
  return a;
}

canproto::Result<OutputBody, CommandError> encode_legacy_analog(const Model& m,
                                                                const ModelChannel& target,
                                                                double value,
                                                                const ChannelStates& current) {
  cp::LegacyAnalogOutputs out;
  for (const auto& c : m.channels) {
    if (c.binding.codec != Codec::legacy_analog10 || c.binding.cmd != 0x30) continue;
    double v = 0;
    if (&c == &target) {
      v = value;
    } else if (const ChannelValue* cv = find_value(current, c.spec.name);
               cv && std::holds_alternative<double>(*cv)) {
      v = std::get<double>(*cv);
    }
    out.raw[c.binding.index] =
        static_cast<std::uint16_t>(std::clamp(std::lround(v / c.binding.scale), 0L, 1023L));
  }
  return OutputBody{cp::LegacyBody{out}};
}

}  // namespace

const ChannelValue* find_value(const ChannelStates& states, std::string_view channel) {
  for (const auto& s : states) {
    if (s.name == channel) return &s.value;
  }
  return nullptr;
}

void decode_nat(const Model& model, const canproto::NatBody& body, bool from_device,
                const ChannelStates& current, std::vector<DecodedValue>& out) {
  for (const auto& c : model.channels) {
    if (c.binding.codec == Codec::none || !applies(model, c, from_device)) continue;
    if (auto v = decode_nat_channel(c, body, current)) emit(out, c, std::move(*v));
  }
}

void decode_legacy(const Model& model, const canproto::LegacyBody& body, bool from_device,
                   std::optional<std::uint8_t> hw_version, DecodeScratch& scratch,
                   std::vector<DecodedValue>& out) {
  switch (model.special) {
    case Special::dmx: return decode_dmx(body, from_device, out);
    case Special::onewire: return decode_onewire(body, from_device, out);
    case Special::serial_port: return decode_serial_port(body, from_device, scratch, out);
    case Special::modbus: return decode_modbus(body, from_device, out);
    default: break;
  }
  for (const auto& c : model.channels) {
    if (c.binding.codec == Codec::none || !applies(model, c, from_device)) continue;
    if (auto v = decode_legacy_channel(c, body, hw_version)) emit(out, c, std::move(*v));
  }
}

namespace {

// The DigitalValue bits a channel's value depends on (see visit_nat_channel()).
std::uint32_t digital_bits_of(const ModelChannel& c) {
  if (c.binding.cmd != kDigitalValue) return 0;
  switch (c.binding.codec) {
    case Codec::nat_bit: return c.binding.bit < 32 ? 1u << c.binding.bit : 0u;
    case Codec::nat_nonzero: return 0xFFFFFFFFu;
    case Codec::nat_mask: return c.spec.bits >= 32 ? 0xFFFFFFFFu : (1u << c.spec.bits) - 1;
    default: return 0;
  }
}

}  // namespace

DecodePlan::DecodePlan(const Model& model) : model_(model), digital_bits_(model.channels.size()) {
  for (std::size_t i = 0; i < model.channels.size(); ++i) {
    const ModelChannel& c = model.channels[i];
    digital_bits_[i] = digital_bits_of(c);
    if (c.binding.codec == Codec::none) continue;
    for (const bool from_device : {false, true}) {
      if (!applies(model, c, from_device)) continue;
      for (auto k : nat_kinds(c.binding)) {
        NatLists& l = nat_[2 * k + from_device];
        l.all.push_back(static_cast<std::uint16_t>(i));
        if (l.by_index.size() <= c.binding.index) l.by_index.resize(c.binding.index + 1u);
        l.by_index[c.binding.index].push_back(static_cast<std::uint16_t>(i));
      }
      for (auto k : legacy_kinds(c.binding.codec)) {
        legacy_[2 * k + from_device].push_back(static_cast<std::uint16_t>(i));
      }
    }
  }
}

bool DecodePlan::dynamic() const {
  return model_.special == Special::dmx || model_.special == Special::onewire ||
         model_.special == Special::serial_port || model_.special == Special::modbus;
}

std::span<const std::uint16_t> DecodePlan::candidates(const canproto::NatBody& body,
                                                      bool from_device) const {
  const NatLists& l = nat_[2 * body.index() + from_device];
  if (l.all.empty()) return {};
  const int index = body_index(body);
  if (index < 0) return l.all;
  if (static_cast<std::size_t>(index) >= l.by_index.size()) return {};
  return l.by_index[static_cast<std::size_t>(index)];
}

std::span<const std::uint16_t> DecodePlan::candidates(const canproto::LegacyBody& body,
                                                      bool from_device) const {
  if (dynamic()) return {};
  return legacy_[2 * body.index() + from_device];
}

std::optional<ChannelValue> DecodePlan::decode(std::uint16_t index, const canproto::NatBody& body,
                                               const ChannelStates& current) const {
  return decode_nat_channel(model_.channels[index], body, current);
}

std::optional<ChannelValue> DecodePlan::decode(std::uint16_t index,
                                               const canproto::LegacyBody& body,
                                               std::optional<std::uint8_t> hw_version) const {
  return decode_legacy_channel(model_.channels[index], body, hw_version);
}

DecodePlan::Match DecodePlan::match(std::uint16_t index, const canproto::NatBody& body,
                                    const ChannelStates& states,
                                    const ChannelValue& current) const {
  const ModelChannel& c = model_.channels[index];
  return matched([&](auto&& take) { return visit_nat_channel(c, body, states, take); }, current);
}

DecodePlan::Match DecodePlan::match(std::uint16_t index, const canproto::LegacyBody& body,
                                    std::optional<std::uint8_t> hw_version,
                                    const ChannelValue& current) const {
  const ModelChannel& c = model_.channels[index];
  return matched([&](auto&& take) { return visit_legacy_channel(c, body, hw_version, take); },
                 current);
}

const char* to_string(CommandError e) {
  switch (e) {
    case CommandError::unknown_channel: return "unknown channel";
    case CommandError::not_an_output: return "not an output";
    case CommandError::wrong_type: return "wrong value type";
    case CommandError::out_of_range: return "value out of range";
    case CommandError::not_encodable: return "no documented frame sets this channel";
  }
  return "?";
}

canproto::Result<OutputBody, CommandError> encode_output(const Model& model,
                                                         std::string_view channel,
                                                         const ChannelValue& value,
                                                         const ChannelStates& current) {
  const ModelChannel* c = model.find(channel);
  if (!c) return canproto::Err{CommandError::unknown_channel};
  if (is_input(*c)) return canproto::Err{CommandError::not_an_output};
  if (!value_matches(c->spec, value)) return canproto::Err{CommandError::wrong_type};
  if (auto* d = std::get_if<double>(&value);
      d && (*d < c->spec.min || *d > c->spec.max || std::isnan(*d))) {
    return canproto::Err{CommandError::out_of_range};
  }
  if (auto* l = std::get_if<Rgbw>(&value); l && std::max({l->r, l->g, l->b, l->w}) > 100) {
    return canproto::Err{CommandError::out_of_range};
  }
  const Binding& b = c->binding;
  switch (b.codec) {
    case Codec::nat_bit: {
      cp::DigitalValue d{b.index, compose_mask(model, *c, std::get<bool>(value), current, b.codec)};
      return OutputBody{cp::NatBody{d}};
    }
    case Codec::nat_analog:
      return OutputBody{cp::NatBody{analog_for(b.index, std::get<double>(value))}};
    case Codec::nat_rgbw: {
      const Rgbw& l = std::get<Rgbw>(value);
      return OutputBody{cp::NatBody{cp::RgbwValue{0, l.r, l.g, l.b, l.w}}};
    }
    case Codec::nat_white: {
      auto w = static_cast<std::uint8_t>(std::lround(std::get<double>(value)));
      return OutputBody{cp::NatBody{cp::RgbwValue{0, 0, 0, 0, w}}};
    }
    case Codec::legacy_bit: {
      cp::LegacyOutputs o{compose_mask(model, *c, std::get<bool>(value), current, b.codec)};
      return OutputBody{cp::LegacyBody{o}};
    }
    case Codec::legacy_analog10:
      return encode_legacy_analog(model, *c, std::get<double>(value), current);
    default: return canproto::Err{CommandError::not_encodable};
  }
}

std::optional<ChannelValue> parse_plain(ValueType type, std::string_view text) {
  auto number = [](std::string_view t) -> std::optional<double> {
    double v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc{} || end != t.data() + t.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  };
  switch (type) {
    case ValueType::boolean:
      if (text == "1" || text == "true" || text == "on" || text == "ON") return ChannelValue{true};
      if (text == "0" || text == "false" || text == "off" || text == "OFF")
        return ChannelValue{false};
      return std::nullopt;
    case ValueType::number:
      if (auto v = number(text)) return ChannelValue{*v};
      return std::nullopt;
    case ValueType::bitmask: {
      std::uint32_t m = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), m);
      if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
      return ChannelValue{m};
    }
    case ValueType::rgbw: {
      unsigned parts[4];
      const char* p = text.data();
      const char* e = text.data() + text.size();
      for (int k = 0; k < 4; ++k) {
        auto [end, ec] = std::from_chars(p, e, parts[k]);
        if (ec != std::errc{} || parts[k] > 255) return std::nullopt;
        p = end;
        if (k < 3) {
          if (p == e || *p != ',') return std::nullopt;
          ++p;
        }
      }
      if (p != e) return std::nullopt;
      return ChannelValue{
          Rgbw{static_cast<std::uint8_t>(parts[0]), static_cast<std::uint8_t>(parts[1]),
               static_cast<std::uint8_t>(parts[2]), static_cast<std::uint8_t>(parts[3])}};
    }
    case ValueType::text: return ChannelValue{std::string(text)};
  }
  return std::nullopt;
}

}  // namespace loxcan::devices
