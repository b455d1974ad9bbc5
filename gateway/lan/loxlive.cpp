#include "gateway/lan/loxlive.hpp"

#include <cctype>
#include <cstdio>

namespace loxcan::lan {
namespace {

constexpr std::string_view kPrefix = "LoxLIVE:";

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!std::isdigit(c)) return false;
  return true;
}

// Decimal number of 1..max_digits digits, no sign; false on anything else.
bool parse_uint(std::string_view s, std::size_t max_digits, unsigned& out) {
  if (s.empty() || s.size() > max_digits || !all_digits(s)) return false;
  out = 0;
  for (char c : s) out = out * 10 + static_cast<unsigned>(c - '0');
  return true;
}

bool is_version(std::string_view s) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  for (unsigned char c : s)
    if (!std::isdigit(c) && c != '.') return false;
  return true;
}

// "YYYY-MM-DD HH:MM:SS"
bool is_datetime(std::string_view s) {
  static constexpr std::string_view kShape = "dddd-dd-dd dd:dd:dd";
  if (s.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(s[i])) != 0;
    if ((kShape[i] == 'd') != digit || (kShape[i] != 'd' && s[i] != kShape[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Token [pos, end) of `s` with end = next space or s.size().
std::size_t token_end(std::string_view s, std::size_t pos) {
  const auto sp = s.find(' ', pos);
  return sp == std::string_view::npos ? s.size() : sp;
}

Unexpected<LoxLiveParseError> fail(LoxLiveError code, std::size_t offset, std::string msg) {
  return unexpected(LoxLiveParseError{code, offset, msg + " at offset " + std::to_string(offset)});
}

// Everything after the serial. `base` is the offset of `rest` within the datagram.
Expected<bool, LoxLiveParseError> parse_tail(std::string_view rest, std::size_t base,
                                             Miniserver& ms) {
  std::size_t pos = 0;
  bool first = true;
  while (pos < rest.size()) {
    if (rest[pos] == ' ') {
      ++pos;
      continue;
    }
    std::size_t end = token_end(rest, pos);
    std::string_view tok = rest.substr(pos, end - pos);
    const std::size_t at = base + pos;
    if (tok.starts_with("IPv6:")) {
      ms.ipv6_raw = std::string(trim(rest.substr(pos + 5)));
      return true;
    }
    if (tok.starts_with("Prog:")) {
      // The date and the time are separated by a space: take two tokens.
      const std::size_t end2 = end < rest.size() ? token_end(rest, end + 1) : end;
      const std::string_view value = rest.substr(pos + 5, end2 - pos - 5);
      if (!is_datetime(value))
        return fail(LoxLiveError::kBadProg, at,
                    "Prog: expects YYYY-MM-DD HH:MM:SS, got '" + std::string(value) + "'");
      ms.config_date = std::string(value);
      end = end2;
    } else if (tok.starts_with("Type:")) {
      unsigned v = 0;
      if (!parse_uint(tok.substr(5), 3, v) || v > 255)
        return fail(LoxLiveError::kBadType, at,
                    "Type: expects 0..255, got '" + std::string(tok.substr(5)) + "'");
      ms.type = static_cast<int>(v);
    } else if (tok.starts_with("HwId:")) {
      const std::string_view id = tok.substr(5);
      bool ok = !id.empty() && id.size() <= 16;
      for (unsigned char c : id) ok = ok && std::isalnum(c);
      if (!ok)
        return fail(LoxLiveError::kBadHwId, at,
                    "HwId: expects 1..16 letters or digits, got '" + std::string(id) + "'");
      ms.hw_id = std::string(id);
    } else if (first && is_version(tok)) {
      ms.firmware = std::string(tok);
    }
    first = false;
    pos = end;
  }
  return true;
}

}  // namespace

bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t pos = 0;
  while (parts < 4) {
    const std::size_t dot = parts < 3 ? s.find('.', pos) : s.size();
    if (dot == std::string_view::npos) return false;
    unsigned v = 0;
    if (!parse_uint(s.substr(pos, dot - pos), 3, v) || v > 255) return false;
    ++parts;
    pos = dot + 1;
  }
  return true;
}

bool parse_ipv4_port(std::string_view token, std::string& address, std::uint16_t& port) {
  const auto colon = token.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned p = 0;
  if (!is_ipv4(token.substr(0, colon)) || !parse_uint(token.substr(colon + 1), 5, p) || p == 0 ||
      p > 65535)
    return false;
  address = std::string(token.substr(0, colon));
  port = static_cast<std::uint16_t>(p);
  return true;
}

Expected<Miniserver, LoxLiveParseError> parse_loxlive(std::string_view d) {
  if (d.size() > kMaxLoxLiveReply)
    return fail(LoxLiveError::kTooLong, kMaxLoxLiveReply,
                "reply of " + std::to_string(d.size()) + " bytes exceeds the limit of " +
                    std::to_string(kMaxLoxLiveReply));
  while (!d.empty() &&
         (d.back() == '\0' || d.back() == '\r' || d.back() == '\n' || d.back() == ' '))
    d.remove_suffix(1);
  if (d.empty()) return fail(LoxLiveError::kEmpty, 0, "empty reply");
  if (!d.starts_with(kPrefix)) return fail(LoxLiveError::kNotLoxLive, 0, "no 'LoxLIVE:' prefix");
  for (std::size_t i = 0; i < d.size(); ++i) {
    const auto c = static_cast<unsigned char>(d[i]);
    if (c < 0x20 || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      return fail(LoxLiveError::kControlByte, i, std::string("control byte ") + hex);
    }
  }
  Miniserver ms;
  ms.via_udp = true;
  // Scan token starts after the prefix for "IPv4:port serial".
  for (std::size_t pos = kPrefix.size(); pos < d.size(); pos = token_end(d, pos) + 1) {
    if (d[pos] == ' ') continue;
    const std::size_t end = token_end(d, pos);
    if (!parse_ipv4_port(d.substr(pos, end - pos), ms.address, ms.port)) continue;
    if (end >= d.size()) break;
    const std::size_t send = token_end(d, end + 1);
    const std::string_view serial = d.substr(end + 1, send - end - 1);
    if (!is_serial(serial)) continue;
    ms.name = std::string(trim(d.substr(kPrefix.size(), pos - kPrefix.size())));
    ms.serial = canonical_serial(serial);
    auto tail = parse_tail(d.substr(send), send, ms);
    if (!tail) return unexpected(tail.error());
    return ms;
  }
  return fail(LoxLiveError::kNoAddress, kPrefix.size(),
              "no 'IPv4:port serial' (e.g. '192.168.1.7:80 504F11223344') after the name");
}

}  // namespace loxcan::lan
