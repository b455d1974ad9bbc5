#include "mqtt/payload.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace loxcan::mqtt {

using devices::ChannelSpec;
using devices::ChannelValue;
using devices::Rgbw;
using devices::Semantic;
using devices::ValueType;
using nlohmann::json;

std::string plain_number(double d) {
  if (d == 0 || !std::isfinite(d)) return "0";
  char buf[512];  // fixed notation of a double needs at most ~330 characters
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  if (ec != std::errc{}) return "0";
  return std::string(buf, end);
}

std::string encode_state(const ChannelValue& v) {
  if (const auto* c = std::get_if<Rgbw>(&v)) return rgbw_to_light(*c).dump();
  if (const auto* d = std::get_if<double>(&v)) return plain_number(*d);
  return devices::to_plain(v);
}

json to_json(const ChannelValue& v) {
  struct Visitor {
    json operator()(bool b) const { return b ? 1 : 0; }
    json operator()(double d) const {
      // Integral values print without ".0", like the flat topics.
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.0e15)
        return static_cast<std::int64_t>(d);
      return d;
    }
    json operator()(std::uint32_t m) const { return m; }
    json operator()(const Rgbw& c) const { return rgbw_to_light(c); }
    json operator()(const std::string& s) const { return s; }
  };
  return std::visit(Visitor{}, v);
}

std::string encode_device_json(const std::map<std::string, ChannelValue>& values) {
  json obj = json::object();
  for (const auto& [name, value] : values) obj[name] = to_json(value);
  return obj.dump(-1, ' ', false, json::error_handler_t::replace);
}

json rgbw_to_light(const Rgbw& c) {
  const int max = std::max({c.r, c.g, c.b, c.w});
  auto scaled = [max](int v) {
    return max == 0 ? 0 : static_cast<int>(std::lround(v * 255.0 / max));
  };
  return json{
      {"state", max > 0 ? "ON" : "OFF"},
      {"brightness", max},
      {"color", {{"r", scaled(c.r)}, {"g", scaled(c.g)}, {"b", scaled(c.b)}, {"w", scaled(c.w)}}}};
}

std::string_view to_string(CommandError e) {
  switch (e) {
    case CommandError::none: return "ok";
    case CommandError::empty: return "empty";
    case CommandError::too_long: return "too_long";
    case CommandError::not_utf8: return "not_utf8";
    case CommandError::bad_json: return "bad_json";
    case CommandError::unknown_key: return "unknown_key";
    case CommandError::wrong_type: return "wrong_type";
    case CommandError::out_of_range: return "out_of_range";
    case CommandError::unsupported: return "unsupported";
    case CommandError::unknown_device: return "unknown_device";
    case CommandError::unknown_channel: return "unknown_channel";
    case CommandError::not_writable: return "not_writable";
    case CommandError::retained: return "retained";
  }
  return "?";
}

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 if invalid (RFC 3629 table).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c == 0xe0) {
    n = 3;
    lo = 0xa0;
  } else if (c >= 0xe1 && c <= 0xec)
    n = 3;
  else if (c == 0xed) {
    n = 3;
    hi = 0x9f;
  } else if (c >= 0xee && c <= 0xef)
    n = 3;
  else if (c == 0xf0) {
    n = 4;
    lo = 0x90;
  } else if (c >= 0xf1 && c <= 0xf3)
    n = 4;
  else if (c == 0xf4) {
    n = 4;
    hi = 0x8f;
  } else
    return 0;
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xbf) return 0;
  }
  return n;
}

std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string fmt_number(double d) {
  return plain_number(d);
}

CommandResult fail(CommandError e, std::string detail) {
  return {std::nullopt, e, std::move(detail)};
}
CommandResult done(ChannelValue v) {
  return {std::move(v), CommandError::none, {}};
}

// A decimal number, optional sign, optional exponent; nothing else (no hex, no ',', no inf/nan).
std::optional<double> parse_decimal(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return std::nullopt;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == 'e' || c == 'E' || c == '+'))
      return std::nullopt;
  }
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::string describe(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 40) + "...";
  return s;
}

// ---- per type -------------------------------------------------------------------------------

CommandResult to_bool(const json& v, const ChannelValue* current) {
  if (v.is_boolean()) return done(v.get<bool>());
  if (v.is_number()) {
    const double d = v.get<double>();
    if (d == 0 || d == 1) return done(d == 1);
    return fail(CommandError::wrong_type,
                describe(v) + " is not a boolean (1/0, true/false, on/off)");
  }
  if (!v.is_string()) return fail(CommandError::wrong_type, describe(v) + " is not a boolean");
  const std::string w = lower(trim(v.get<std::string>()));
  if (w == "1" || w == "true" || w == "on") return done(true);
  if (w == "0" || w == "false" || w == "off") return done(false);
  if (w == "toggle") {
    const bool* b = current ? std::get_if<bool>(current) : nullptr;
    return done(b ? !*b : true);
  }
  return fail(CommandError::wrong_type,
              describe(v) + " is not a boolean (1/0, true/false, on/off, toggle)");
}

std::string range_text(const ChannelSpec& spec) {
  return fmt_number(spec.min) + ".." + fmt_number(spec.max);
}

CommandResult number_word(const ChannelSpec& spec, const std::string& w) {
  if (spec.semantic == Semantic::position) {
    if (w == "open") return done(spec.max > spec.min ? spec.max : 100.0);
    if (w == "close") return done(spec.min);
    if (w == "stop")
      return fail(CommandError::unsupported, "STOP is not supported by this channel");
  }
  if (spec.semantic == Semantic::brightness) {
    if (w == "on") return done(spec.max > spec.min ? spec.max : 100.0);
    if (w == "off") return done(spec.min);
  }
  return fail(CommandError::wrong_type, "\"" + w + "\" is not a number");
}

CommandResult to_number(const ChannelSpec& spec, const json& v) {
  double d = 0;
  if (v.is_number()) {
    d = v.get<double>();
  } else if (v.is_string()) {
    const std::string s(trim(v.get<std::string>()));
    const auto parsed = parse_decimal(s);
    if (!parsed) {
      if (s.size() <= 16) return number_word(spec, lower(s));
      return fail(CommandError::wrong_type, describe(v) + " is not a number");
    }
    d = *parsed;
  } else {
    return fail(CommandError::wrong_type, describe(v) + " is not a number");
  }
  if (!std::isfinite(d)) return fail(CommandError::wrong_type, "not a finite number");
  if (spec.max > spec.min && (d < spec.min || d > spec.max)) {
    return fail(CommandError::out_of_range, fmt_number(d) + " is outside " + range_text(spec));
  }
  return done(d);
}

CommandResult to_bitmask(const ChannelSpec& spec, const json& v) {
  const std::uint64_t limit =
      spec.bits == 0 || spec.bits >= 32 ? 0xffffffffULL : (1ULL << spec.bits) - 1;
  std::uint64_t m = 0;
  if (v.is_number_unsigned()) {
    m = v.get<std::uint64_t>();
  } else if (v.is_number_integer()) {
    return fail(CommandError::out_of_range, describe(v) + " is negative");
  } else if (v.is_string()) {
    const std::string s(trim(v.get<std::string>()));
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), m);
    if (s.empty() || ec == std::errc::result_out_of_range)
      return fail(CommandError::out_of_range, "\"" + s + "\" is too large");
    if (ec != std::errc{} || end != s.data() + s.size())
      return fail(CommandError::wrong_type, describe(v) + " is not an unsigned integer");
  } else {
    return fail(CommandError::wrong_type, describe(v) + " is not an unsigned integer");
  }
  if (m > limit)
    return fail(CommandError::out_of_range,
                std::to_string(m) + " is above " + std::to_string(limit));
  return done(static_cast<std::uint32_t>(m));
}

CommandResult to_text(const json& v) {
  if (!v.is_string()) return fail(CommandError::wrong_type, describe(v) + " is not text");
  std::string s = v.get<std::string>();
  if (s.size() > kMaxTextValue)
    return fail(CommandError::too_long,
                "text longer than " + std::to_string(kMaxTextValue) + " bytes");
  if (!is_valid_utf8(s)) return fail(CommandError::not_utf8, "text is not valid UTF-8");
  return done(std::move(s));
}

// ---- RGBW ----------------------------------------------------------------------------------

struct Color4 {
  double c[4] = {0, 0, 0, 0};
};

std::optional<int> small_int(const json& v, int max) {
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0 || d > max) return std::nullopt;
  return static_cast<int>(std::lround(d));
}

CommandResult parse_color(const json& color, Color4& out) {
  if (!color.is_object()) return fail(CommandError::wrong_type, "color is not an object");
  static constexpr const char* kKeys[4] = {"r", "g", "b", "w"};
  for (const auto& item : color.items()) {
    const std::string& key = item.key();
    const json& value = item.value();
    const auto* it = std::find_if(std::begin(kKeys), std::end(kKeys),
                                  [&key](const char* k) { return key == k; });
    if (it == std::end(kKeys))
      return fail(CommandError::unknown_key, "unknown color key \"" + key + "\"");
    const auto n = small_int(value, 255);
    if (!n)
      return fail(value.is_number() ? CommandError::out_of_range : CommandError::wrong_type,
                  "color." + key + " must be 0..255");
    out.c[it - std::begin(kKeys)] = *n;
  }
  return done(false);
}

Rgbw compose(const Color4& base, double brightness) {
  const double cmax = std::max({base.c[0], base.c[1], base.c[2], base.c[3]});
  if (cmax <= 0 || brightness <= 0) return {};
  auto pct = [&](double v) {
    return static_cast<std::uint8_t>(std::lround(v / cmax * brightness));
  };
  return Rgbw{pct(base.c[0]), pct(base.c[1]), pct(base.c[2]), pct(base.c[3])};
}

CommandResult light_command(const json& obj, const ChannelValue* current) {
  std::optional<bool> on;
  std::optional<int> brightness;
  std::optional<Color4> color;
  if (obj.empty()) return fail(CommandError::wrong_type, "empty light command");
  for (const auto& [key, value] : obj.items()) {
    if (key == "state") {
      const std::string w = value.is_string() ? lower(value.get<std::string>()) : "";
      if (w != "on" && w != "off")
        return fail(CommandError::wrong_type, "state must be \"ON\" or \"OFF\"");
      on = w == "on";
    } else if (key == "brightness") {
      brightness = small_int(value, 100);
      if (!brightness)
        return fail(value.is_number() ? CommandError::out_of_range : CommandError::wrong_type,
                    "brightness must be 0..100");
    } else if (key == "color") {
      Color4 c;
      if (auto r = parse_color(value, c); !r.ok()) return r;
      color = c;
    } else if (key != "transition") {
      return fail(CommandError::unknown_key,
                  "unknown key \"" + key + "\" (state, brightness, color, transition)");
    }
  }
  if (on == false || brightness == 0) return done(Rgbw{});
  const Rgbw* cur = current ? std::get_if<Rgbw>(current) : nullptr;
  const json cur_light = rgbw_to_light(cur ? *cur : Rgbw{});
  Color4 base;
  if (color) {
    base = *color;
  } else if (cur && cur_light["brightness"].get<int>() > 0) {
    const auto& cc = cur_light["color"];
    base = Color4{{cc["r"].get<double>(), cc["g"].get<double>(), cc["b"].get<double>(),
                   cc["w"].get<double>()}};
  } else {
    base = Color4{{0, 0, 0, 255}};  // nothing known: plain white
  }
  int bri = brightness.value_or(cur_light["brightness"].get<int>());
  if (bri == 0) bri = 100;
  return done(compose(base, bri));
}

CommandResult rgbw_plain(std::string_view s) {
  Rgbw out;
  std::uint8_t* parts[4] = {&out.r, &out.g, &out.b, &out.w};
  for (int i = 0; i < 4; ++i) {
    const auto comma = s.find(',');
    if ((i < 3) != (comma != std::string_view::npos))
      return fail(CommandError::wrong_type,
                  "expected \"r,g,b,w\" in percent or a JSON light command");
    const std::string_view part = trim(s.substr(0, comma));
    unsigned v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc{} || end != part.data() + part.size())
      return fail(CommandError::wrong_type, "expected \"r,g,b,w\" in percent");
    if (v > 100) return fail(CommandError::out_of_range, "RGBW channels are 0..100 %");
    *parts[i] = static_cast<std::uint8_t>(v);
    if (comma != std::string_view::npos) s.remove_prefix(comma + 1);
  }
  return done(out);
}

// The scalar inside a JSON object command: exactly one key, "value" or "state".
CommandResult unwrap_object(const json& obj, json& out) {
  if (obj.size() != 1)
    return fail(CommandError::unknown_key, "expected exactly one key, \"value\" or \"state\"");
  const auto it = obj.begin();
  if (it.key() != "value" && it.key() != "state")
    return fail(CommandError::unknown_key,
                "unknown key \"" + it.key() + "\" (expected \"value\" or \"state\")");
  out = it.value();
  return done(false);
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '\0') return false;
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable_payload(std::string_view payload, std::size_t max) {
  std::string out;
  const std::string_view p = payload.substr(0, std::min(max, payload.size()));
  char hex[8];
  for (std::size_t i = 0; i < p.size();) {
    const auto c = static_cast<unsigned char>(p[i]);
    const std::size_t n = utf8_sequence(p, i);
    if (n == 0 || c < 0x20 || c == 0x7f || c == '\\') {
      if (c == '\\') {
        out += "\\\\";
      } else {
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        out += hex;
      }
      ++i;
    } else {
      out.append(p.substr(i, n));
      i += n;
    }
  }
  if (payload.size() > max) out += "...(" + std::to_string(payload.size()) + " bytes)";
  return out;
}

CommandResult parse_command(const ChannelSpec& spec, std::string_view payload,
                            const ChannelValue* current) {
  if (payload.empty()) return fail(CommandError::empty, "empty payload");
  if (payload.size() > kMaxCommandPayload) {
    return fail(CommandError::too_long, std::to_string(payload.size()) + " bytes (limit " +
                                            std::to_string(kMaxCommandPayload) + ")");
  }
  if (!is_valid_utf8(payload))
    return fail(CommandError::not_utf8, "payload is not valid UTF-8 text");
  const std::string_view t = trim(payload);
  if (t.empty()) return fail(CommandError::empty, "blank payload");

  json v;
  if (t.front() == '{' || t.front() == '[' || t.front() == '"') {
    v = json::parse(t, nullptr, false);
    if (v.is_discarded()) return fail(CommandError::bad_json, "payload is not valid JSON");
    if (v.is_array()) return fail(CommandError::wrong_type, "a JSON array is not a command");
    if (v.is_object()) {
      if (spec.type == ValueType::rgbw) return light_command(v, current);
      json inner;
      if (auto r = unwrap_object(v, inner); !r.ok()) return r;
      v = std::move(inner);
    }
  } else if (spec.type == ValueType::rgbw) {
    return rgbw_plain(t);
  } else {
    v = std::string(spec.type == ValueType::text ? payload : t);
  }

  switch (spec.type) {
    case ValueType::boolean: return to_bool(v, current);
    case ValueType::number: return to_number(spec, v);
    case ValueType::bitmask: return to_bitmask(spec, v);
    case ValueType::text: return to_text(v);
    case ValueType::rgbw:
      return fail(CommandError::wrong_type, describe(v) + " is not a light command");
  }
  return fail(CommandError::wrong_type, "unknown channel type");
}

}  // namespace loxcan::mqtt
