#include "gateway/lan/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace loxcan::lan {
namespace {

Unexpected<std::string> fail(std::string why) {
  return unexpected(std::move(why));
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// inet_pton: dotted quad only (no "1.2.3", no octal "010.0.0.1", no hex "0x7f.1").
bool is_ip_literal(int family, std::string_view s) {
  unsigned char buf[16];
  return inet_pton(family, std::string(s).c_str(), buf) == 1;
}

bool all_digits_and_dots(std::string_view s) {
  return s.find_first_not_of("0123456789.") == std::string_view::npos;
}

Expected<bool, std::string> check_name(std::string_view host) {
  if (host.size() > 253) return fail("host name longer than 253 bytes");
  if (host.back() == '.') host.remove_suffix(1);
  std::string_view last;
  for (std::size_t pos = 0; pos <= host.size();) {
    const std::size_t dot = std::min(host.find('.', pos), host.size());
    last = host.substr(pos, dot - pos);
    if (last.empty() || last.size() > 63) return fail("empty or over-long label in host name");
    for (char c : last)
      if (!is_alnum(c) && c != '-' && c != '_')
        return fail(std::string("character '") + c + "' in host name");
    pos = dot + 1;
  }
  // A resolver reads "10.1" or "0x7f.1" as an address; a real name never ends that way.
  if (last[0] >= '0' && last[0] <= '9') return fail("host ends in a number but is no IPv4 address");
  return true;
}

// Host and optional port from the authority ("host", "host:port", "[v6]:port").
Expected<bool, std::string> parse_authority(std::string_view auth, HttpUrl& u) {
  if (auth.find('@') != std::string_view::npos)
    return fail("user name or password before the host");
  std::string_view rest;
  if (!auth.empty() && auth[0] == '[') {
    const std::size_t close = auth.find(']');
    if (close == std::string_view::npos) return fail("'[' without ']' around an IPv6 address");
    if (!is_ip_literal(AF_INET6, auth.substr(1, close - 1))) return fail("invalid IPv6 address");
    u.host = std::string(auth.substr(0, close + 1));
    rest = auth.substr(close + 1);
  } else {
    const std::size_t colon = std::min(auth.find(':'), auth.size());
    const std::string_view host = auth.substr(0, colon);
    rest = auth.substr(colon);
    if (host.empty()) return fail("no host");
    if (all_digits_and_dots(host)) {
      if (!is_ip_literal(AF_INET, host)) return fail("host is no valid IPv4 address");
    } else if (auto ok = check_name(host); !ok) {
      return fail(ok.error());
    }
    u.host = std::string(host);
  }
  if (rest.empty()) return true;
  if (rest[0] != ':') return fail("unexpected text after the host");
  rest.remove_prefix(1);
  unsigned port = 0;
  if (rest.empty() || rest.size() > 5 || rest.find_first_not_of("0123456789") != rest.npos)
    return fail("port is not a number of at most 5 digits");
  for (char c : rest) port = port * 10 + static_cast<unsigned>(c - '0');
  if (port == 0 || port > 65535)
    return fail("port " + std::to_string(port) + " is out of range 1..65535");
  u.port = static_cast<std::uint16_t>(port);
  u.explicit_port = true;
  return true;
}

// Path, query and fragment: RFC 3986 characters, '%' only as an escape.
Expected<bool, std::string> check_tail(std::string_view tail) {
  static constexpr const char* kAllowed = "-._~!$&'()*+,;=:@/?#";
  for (std::size_t i = 0; i < tail.size(); ++i) {
    const char c = tail[i];
    if (c == '%') {
      if (i + 2 >= tail.size() || !is_hex(tail[i + 1]) || !is_hex(tail[i + 2]))
        return fail("'%' not followed by two hex digits");
      i += 2;
    } else if (!is_alnum(c) && std::strchr(kAllowed, c) == nullptr) {
      return fail(std::string("character '") + c + "' not allowed in a URL");
    }
  }
  return true;
}

}  // namespace

Expected<HttpUrl, std::string> parse_http_url(std::string_view s) {
  if (s.empty()) return fail("empty");
  if (s.size() > kMaxUrlLength)
    return fail("longer than " + std::to_string(kMaxUrlLength) + " bytes");
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7F) return fail("space, control character or non-ASCII byte");
  const std::size_t sep = s.find("://");
  if (sep == std::string_view::npos)
    return fail("not an absolute URL: http:// or https:// missing");
  HttpUrl u;
  const std::string scheme = lower(s.substr(0, sep));
  if (scheme != "http" && scheme != "https") return fail("scheme is neither http nor https");
  u.https = scheme == "https";
  u.port = u.https ? 443 : 80;
  const std::string_view rest = s.substr(sep + 3);
  const std::size_t auth_end = std::min(rest.find_first_of("/?#"), rest.size());
  if (auto ok = parse_authority(rest.substr(0, auth_end), u); !ok) return fail(ok.error());
  const std::string_view tail = rest.substr(auth_end);
  if (auto ok = check_tail(tail); !ok) return fail(ok.error());
  const std::string_view target = tail.substr(0, std::min(tail.find('#'), tail.size()));
  u.target = (target.empty() || target[0] != '/') ? "/" + std::string(target) : std::string(target);
  return u;
}

std::string bare_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::string(host);
}

}  // namespace loxcan::lan
