#pragma once
// A strict parser for the absolute http(s) URLs discovery meets: an SSDP LOCATION, a Cloud DNS
// redirect's Location, the --base-url option, a proxy from the environment. All of these are
// outside input, so it accepts one well-defined shape and says what is wrong with anything else
// (fuzzed by fuzz_cloud_dns_location).
//
// Accepted:  scheme "://" host [":" port] [path] ["?" query] ["#" fragment]
//   scheme   http or https, any case
//   host     a dotted-quad IPv4 literal without leading zeros  203.0.113.7
//            a bracketed IPv6 literal (no zone)                [2001:db8::7]
//            a DNS name: labels of letters, digits, '-', '_' (1..63 bytes, 253 in all, one
//            trailing dot allowed) whose last label does not start with a digit
//   port     1..65535 in decimal; without one, 80 for http and 443 for https
//   path...  RFC 3986 characters only: letters, digits, "-._~!$&'()*+,;=:@/?" and %XX escapes
// Rejected, each with a reason: more than kMaxUrlLength bytes, any byte that is a space, a
// control character or not ASCII, a missing or other scheme, user:password@ before the host,
// an empty host, "1.2.3" or "010.0.0.1" (numbers that are no dotted quad), a bad port (0, 65536,
// "8a", ":" alone), any other character.
//   parse_http_url("http://10.0.0.2:8080/upnp.xml") -> {https false, host "10.0.0.2", port 8080,
//                                                       explicit_port true, target "/upnp.xml"}
//   parse_http_url("HTTPS://[::1]")                 -> {https true, host "[::1]", port 443,
//                                                       explicit_port false, target "/"}
//   parse_http_url("http://u:p@10.0.0.2/")          -> error "user name or password before the
//   host"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/lan/expected.hpp"

namespace loxcan::lan {

inline constexpr std::size_t kMaxUrlLength = 2048;

struct HttpUrl {
  bool https = false;
  std::string host;        ///< as written: "10.0.0.2", "home.example.net" or "[2001:db8::7]"
  std::uint16_t port = 0;  ///< explicit, else 80/443
  bool explicit_port = false;
  std::string target;  ///< path and query to request, "/" when the URL has no path; no fragment
};

/// Parses `url` as described above; the error is a short reason ("no host", "port 0 is out of
/// range 1..65535", ...) without the URL itself.
Expected<HttpUrl, std::string> parse_http_url(std::string_view url);

/// The host without IPv6 brackets ("[::1]" -> "::1"), as the resolver and a socket want it.
std::string bare_host(std::string_view host);

}  // namespace loxcan::lan
