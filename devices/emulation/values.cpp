#include "devices/emulation/values.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "canproto/message.hpp"

namespace loxcan::emulation {
namespace {

using devices::ChannelDirection;
using devices::ChannelSpec;
using devices::ChannelValue;
using devices::Codec;
using devices::Model;
using devices::ModelChannel;
using devices::Rgbw;
using devices::ValueType;

bool bitlike(Codec c) {
  return c == Codec::nat_bit || c == Codec::nat_nonzero || c == Codec::nat_mask ||
         c == Codec::legacy_bit;
}
bool is_legacy(Codec c) {
  return c == Codec::legacy_bit || c == Codec::legacy_analog10 || c == Codec::legacy_frequency ||
         c == Codec::legacy_temperature;
}
/// Codecs the emulation builds frames for (others are declared but not emulated).
bool emulated(Codec c) {
  switch (c) {
    case Codec::nat_bit:
    case Codec::nat_nonzero:
    case Codec::nat_mask:
    case Codec::nat_analog:
    case Codec::nat_frequency:
    case Codec::nat_rgbw:
    case Codec::nat_white:
    case Codec::legacy_bit:
    case Codec::legacy_analog10: return true;
    default: return false;
  }
}

/// Channels that travel in the same frame.
bool same_frame(const ModelChannel& a, const ModelChannel& b) {
  if (a.spec.direction != b.spec.direction || a.binding.cmd != b.binding.cmd) return false;
  if (is_legacy(a.binding.codec) != is_legacy(b.binding.codec)) return false;
  if (bitlike(a.binding.codec) && bitlike(b.binding.codec))
    return is_legacy(a.binding.codec) || a.binding.index == b.binding.index;
  if (a.binding.codec == Codec::legacy_analog10 && b.binding.codec == Codec::legacy_analog10)
    return true;
  return &a == &b || (a.binding.codec == b.binding.codec && a.binding.index == b.binding.index &&
                      a.spec.name == b.spec.name);
}

std::uint32_t field_mask(const ModelChannel& c) {
  switch (c.binding.codec) {
    case Codec::nat_bit:
    case Codec::legacy_bit: return 1u << (c.binding.bit & 31);
    case Codec::nat_nonzero: return 0xFFFFFFFFu;
    default: return c.spec.bits > 0 && c.spec.bits < 32 ? (1u << c.spec.bits) - 1 : 0xFFFFFFFFu;
  }
}

double as_number(const ChannelValue& v) {
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  if (auto* m = std::get_if<std::uint32_t>(&v)) return *m;
  return 0;
}

const ChannelValue* find_value(const ValueMap& values, const std::string& name) {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

std::uint32_t contribution(const ModelChannel& c, const ChannelValue& v) {
  switch (c.binding.codec) {
    case Codec::nat_nonzero: return as_number(v) != 0 ? 1u : 0u;
    case Codec::nat_bit:
    case Codec::legacy_bit: return as_number(v) != 0 ? field_mask(c) : 0u;
    default: return static_cast<std::uint32_t>(as_number(v)) & field_mask(c);
  }
}

ChannelValue from_raw(const ModelChannel& c, std::uint32_t raw) {
  switch (c.binding.codec) {
    case Codec::nat_nonzero: return raw != 0;
    case Codec::nat_bit:
    case Codec::legacy_bit: return (raw & field_mask(c)) != 0;
    default: return raw & field_mask(c);
  }
}

std::uint32_t group_raw(const Model& m, const ModelChannel& member, const ValueMap& values) {
  std::uint32_t raw = 0;
  for (const auto& c : m.channels) {
    if (!same_frame(c, member)) continue;
    if (const auto* v = find_value(values, c.spec.name)) raw |= contribution(c, *v);
  }
  return raw;
}

std::uint32_t analog_raw(double v, std::uint16_t* flags) {
  const double scaled = std::round(v * 1000);
  *flags = v < 0 ? 0x15 : 0x05;
  return static_cast<std::uint32_t>(static_cast<std::int64_t>(scaled));
}

std::uint16_t analog10(const ModelChannel& c, const ValueMap& values) {
  const auto* v = find_value(values, c.spec.name);
  const double scale = c.binding.scale != 0 ? c.binding.scale : 1;
  const double raw = v ? std::round(as_number(*v) / scale) : 0;
  return static_cast<std::uint16_t>(std::clamp(raw, 0.0, 1023.0));
}

std::uint32_t rgbw_word(const Rgbw& c) {
  return std::uint32_t{c.r} | std::uint32_t{c.g} << 8 | std::uint32_t{c.b} << 16 |
         std::uint32_t{c.w} << 24;
}

bool set_if_changed(ValueMap& values, const std::string& name, ChannelValue v) {
  auto it = values.find(name);
  if (it != values.end() && it->second == v) return false;
  values[name] = std::move(v);
  return true;
}

std::vector<std::string> apply_raw_group(const Model& m, const ModelChannel& member,
                                         std::uint32_t raw, ValueMap& values) {
  std::vector<std::string> changed;
  for (const auto& c : m.channels)
    if (same_frame(c, member) && set_if_changed(values, c.spec.name, from_raw(c, raw)))
      changed.push_back(c.spec.name);
  return changed;
}

std::optional<Rgbw> rgbw_from(const NatPacket& p, const Rgbw& old) {
  if (p.cmd == 0x84 || p.cmd == 0x88) return Rgbw{p.d(4), p.d(5), p.d(6), p.d(7)};
  if (p.cmd == 0x8A && p.fragmented && p.payload.size() >= 6) {
    Rgbw c = old;
    std::uint8_t* dst[] = {&c.r, &c.g, &c.b, &c.w};
    for (int i = 0; i < 4; ++i)
      if (p.payload[2 + i] != 0xFF) *dst[i] = p.payload[2 + i];
    return c;
  }
  return std::nullopt;
}

}  // namespace

ChannelValue zero_value(const ChannelSpec& spec) {
  switch (spec.type) {
    case ValueType::boolean: return false;
    case ValueType::number: return 0.0;
    case ValueType::bitmask: return std::uint32_t{0};
    case ValueType::rgbw: return Rgbw{};
    case ValueType::text: return std::string{};
  }
  return 0.0;
}

std::optional<ChannelValue> coerce(const ChannelSpec& spec, const ChannelValue& v) {
  switch (spec.type) {
    case ValueType::boolean:
      if (std::holds_alternative<Rgbw>(v) || std::holds_alternative<std::string>(v))
        return std::nullopt;
      return as_number(v) != 0;
    case ValueType::number: {
      if (std::holds_alternative<Rgbw>(v) || std::holds_alternative<std::string>(v))
        return std::nullopt;
      const double d = as_number(v);
      if (!std::isfinite(d) || (spec.min < spec.max && (d < spec.min || d > spec.max)))
        return std::nullopt;
      return d;
    }
    case ValueType::bitmask: {
      if (std::holds_alternative<Rgbw>(v) || std::holds_alternative<std::string>(v))
        return std::nullopt;
      const double d = as_number(v);
      if (d < 0 || d > 4294967295.0 || d != std::floor(d)) return std::nullopt;
      const auto m = static_cast<std::uint32_t>(d);
      if (spec.bits > 0 && spec.bits < 32 && m >= (1u << spec.bits)) return std::nullopt;
      return m;
    }
    case ValueType::rgbw: {
      const auto* c = std::get_if<Rgbw>(&v);
      if (!c || c->r > 100 || c->g > 100 || c->b > 100 || c->w > 100) return std::nullopt;
      return *c;
    }
    case ValueType::text:
      if (const auto* s = std::get_if<std::string>(&v)) return *s;
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ChannelValue> parse_value(const ChannelSpec& spec, std::string_view text) {
  auto number = [](std::string_view t) -> std::optional<double> {
    double d = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
    if (ec != std::errc{} || p != t.data() + t.size()) return std::nullopt;
    return d;
  };
  switch (spec.type) {
    case ValueType::boolean:
      if (text == "1" || text == "true" || text == "on") return true;
      if (text == "0" || text == "false" || text == "off") return false;
      return std::nullopt;
    case ValueType::bitmask:
      if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        std::uint32_t m = 0;
        auto [p, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), m, 16);
        if (ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
        return coerce(spec, m);
      }
      [[fallthrough]];
    case ValueType::number: {
      auto d = number(text);
      return d ? coerce(spec, *d) : std::nullopt;
    }
    case ValueType::rgbw: {
      std::uint8_t parts[4];
      for (int i = 0; i < 4; ++i) {
        auto comma = text.find(',');
        if ((i < 3) == (comma == std::string_view::npos)) return std::nullopt;
        auto d = number(text.substr(0, comma));
        if (!d || *d < 0 || *d > 100 || *d != std::floor(*d)) return std::nullopt;
        parts[i] = static_cast<std::uint8_t>(*d);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
      }
      return Rgbw{parts[0], parts[1], parts[2], parts[3]};
    }
    case ValueType::text: return std::string(text);
  }
  return std::nullopt;
}

ValueMap initial_values(const Model& model, ChannelDirection dir) {
  ValueMap out;
  for (const auto& c : model.channels)
    if (c.spec.direction == dir && emulated(c.binding.codec)) out[c.spec.name] = zero_value(c.spec);
  return out;
}

std::vector<std::string> apply(const Model& model, const ModelChannel& channel,
                               const ChannelValue& value, ValueMap& values) {
  if (bitlike(channel.binding.codec)) {
    std::uint32_t raw = group_raw(model, channel, values);
    const std::uint32_t mask = field_mask(channel);
    raw = channel.binding.codec == Codec::nat_nonzero
              ? contribution(channel, value)
              : (raw & ~mask) | contribution(channel, value);
    return apply_raw_group(model, channel, raw, values);
  }
  if (set_if_changed(values, channel.spec.name, value)) return {channel.spec.name};
  return {};
}

std::optional<NatPacket> nat_packet_for(const Model& model, const ModelChannel& channel,
                                        const ValueMap& values) {
  const auto& b = channel.binding;
  const auto* v = find_value(values, channel.spec.name);
  if (!v || is_legacy(b.codec)) return std::nullopt;
  switch (b.codec) {
    case Codec::nat_bit:
    case Codec::nat_nonzero:
    case Codec::nat_mask:
      return short_packet(false, 0, 0, b.cmd, b.index, 0, group_raw(model, channel, values));
    case Codec::nat_analog: {
      std::uint16_t flags = 0;
      const double scale = b.scale != 0 ? b.scale : 1;
      const auto raw = analog_raw(as_number(*v) / scale, &flags);
      return short_packet(false, 0, 0, 0x81, b.index, flags, raw);
    }
    case Codec::nat_frequency:
      return short_packet(false, 0, 0, 0x85, b.index, 0, static_cast<std::uint32_t>(as_number(*v)));
    case Codec::nat_rgbw:
      if (const auto* c = std::get_if<Rgbw>(v))
        return short_packet(false, 0, 0, 0x84, 0, 0, rgbw_word(*c));
      return std::nullopt;
    case Codec::nat_white: {
      const auto w = static_cast<std::uint8_t>(std::clamp(as_number(*v), 0.0, 100.0));
      return short_packet(false, 0, 0, 0x84, 0, 0, rgbw_word(Rgbw{0, 0, 0, w}));
    }
    default: return std::nullopt;
  }
}

std::vector<NatPacket> nat_packets_for_all(const Model& model, ChannelDirection dir,
                                           const ValueMap& values) {
  std::vector<NatPacket> out;
  std::vector<const ModelChannel*> done;
  for (const auto& c : model.channels) {
    if (c.spec.direction != dir || !emulated(c.binding.codec)) continue;
    // Frequencies are sent while non-zero (and once when they drop to 0), not as a zero at start.
    if (c.binding.codec == Codec::nat_frequency) {
      const auto* v = find_value(values, c.spec.name);
      if (!v || as_number(*v) == 0) continue;
    }
    bool seen = false;
    for (const auto* d : done) seen = seen || same_frame(*d, c);
    if (seen) continue;
    done.push_back(&c);
    if (auto p = nat_packet_for(model, c, values)) out.push_back(std::move(*p));
  }
  return out;
}

std::optional<std::array<std::uint8_t, 8>> legacy_bytes_for(const Model& model,
                                                            const ModelChannel& channel,
                                                            const ValueMap& values) {
  const auto& b = channel.binding;
  if (b.codec == Codec::legacy_bit) {
    const auto raw = group_raw(model, channel, values);
    return std::array<std::uint8_t, 8>{b.cmd,
                                       0,
                                       0,
                                       0,
                                       static_cast<std::uint8_t>(raw),
                                       static_cast<std::uint8_t>(raw >> 8),
                                       static_cast<std::uint8_t>(raw >> 16),
                                       static_cast<std::uint8_t>(raw >> 24)};
  }
  if (b.codec == Codec::legacy_analog10) {
    std::array<std::uint8_t, 8> d{b.cmd};
    for (const auto& c : model.channels) {
      if (!same_frame(c, channel) || c.binding.index > 3) continue;
      const auto raw = analog10(c, values);
      const int slot = c.binding.index;
      d[4 + slot] = static_cast<std::uint8_t>(raw);
      d[1] = static_cast<std::uint8_t>(d[1] | ((raw >> 8) & 3) << (2 * slot));
    }
    return d;
  }
  return std::nullopt;
}

std::vector<std::array<std::uint8_t, 8>> legacy_bytes_for_all(const Model& model,
                                                              ChannelDirection dir,
                                                              const ValueMap& values) {
  std::vector<std::array<std::uint8_t, 8>> out;
  std::vector<std::uint8_t> cmds;
  for (const auto& c : model.channels) {
    if (c.spec.direction != dir || !emulated(c.binding.codec) || !is_legacy(c.binding.codec))
      continue;
    bool seen = false;
    for (auto cmd : cmds) seen = seen || cmd == c.binding.cmd;
    if (seen) continue;
    cmds.push_back(c.binding.cmd);
    if (auto d = legacy_bytes_for(model, c, values)) out.push_back(*d);
  }
  return out;
}

std::vector<std::string> decode_nat(const Model& model, ChannelDirection dir, const NatPacket& p,
                                    ValueMap& values) {
  std::vector<std::string> changed;
  for (const auto& c : model.channels) {
    const bool light = c.binding.codec == Codec::nat_rgbw || c.binding.codec == Codec::nat_white;
    if (c.spec.direction != dir || (c.binding.cmd != p.cmd && !light)) continue;
    const auto& b = c.binding;
    std::optional<ChannelValue> v;
    switch (b.codec) {
      case Codec::nat_bit:
      case Codec::nat_nonzero:
      case Codec::nat_mask:
        if (p.b0 == b.index && !p.fragmented) v = from_raw(c, p.val32);
        break;
      case Codec::nat_analog:
        if (p.b0 == b.index && !p.fragmented) {
          // Unused flag codes give NaN: such a command is ignored rather than applied.
          const double scaled =
              canproto::scale_analog(p.val32, static_cast<std::uint8_t>(p.val16 & 0xFF));
          if (!std::isnan(scaled)) v = scaled * (b.scale != 0 ? b.scale : 1);
        }
        break;
      case Codec::nat_frequency:
        if (p.b0 == b.index && !p.fragmented) v = static_cast<double>(p.val32);
        break;
      case Codec::nat_rgbw: {
        const auto* old = find_value(values, c.spec.name);
        const auto* old_rgbw = old ? std::get_if<Rgbw>(old) : nullptr;
        if (auto rgbw = rgbw_from(p, old_rgbw ? *old_rgbw : Rgbw{})) v = *rgbw;
        break;
      }
      case Codec::nat_white:
        if (auto rgbw = rgbw_from(p, Rgbw{})) v = static_cast<double>(rgbw->w);
        break;
      default: break;
    }
    if (v && set_if_changed(values, c.spec.name, *v)) changed.push_back(c.spec.name);
  }
  return changed;
}

std::vector<std::string> decode_legacy(const Model& model, ChannelDirection dir,
                                       const LegacyPacket& p, ValueMap& values) {
  std::vector<std::string> changed;
  if (p.fragment) return changed;
  for (const auto& c : model.channels) {
    if (c.spec.direction != dir || c.binding.cmd != p.cmd) continue;
    std::optional<ChannelValue> v;
    if (c.binding.codec == Codec::legacy_bit) v = from_raw(c, p.val32);
    if (c.binding.codec == Codec::legacy_analog10 && c.binding.index < 4) {
      const int slot = c.binding.index;
      const unsigned raw = p.raw[4 + slot] | ((p.raw[1] >> (2 * slot)) & 3u) << 8;
      v = raw * (c.binding.scale != 0 ? c.binding.scale : 1);
    }
    if (v && set_if_changed(values, c.spec.name, *v)) changed.push_back(c.spec.name);
  }
  return changed;
}

bool carries(const Model& model, ChannelDirection dir, std::uint8_t cmd) {
  for (const auto& c : model.channels)
    if (c.spec.direction == dir && emulated(c.binding.codec) &&
        (c.binding.cmd == cmd ||
         (c.binding.codec == Codec::nat_rgbw && (cmd == 0x88 || cmd == 0x8A)) ||
         (c.binding.codec == Codec::nat_white && cmd == 0x88)))
      return true;
  return false;
}

}  // namespace loxcan::emulation
