// Cloud DNS reply interpreter and the URL parser under it (url.hpp): the first two bytes pick
// the HTTP status (100..599), the rest is the Location header. Checks beyond "no crash": a parsed
// URL has a host, a port and a target starting with '/', and rebuilding it from its parts parses
// to the same parts; a reply is accepted only for a 3xx status and agrees with the URL parser.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/lan/cloud_dns.hpp"
#include "gateway/lan/url.hpp"

namespace {

using namespace loxcan::lan;

void check_url(std::string_view text) {
  auto u = parse_http_url(text);
  if (!u) {
    if (u.error().empty()) std::abort();
    return;
  }
  if (text.size() > kMaxUrlLength || u->host.empty() || u->port == 0 || u->target.empty() ||
      u->target[0] != '/' || u->target.find('#') != std::string::npos)
    std::abort();
  const std::string rebuilt = std::string(u->https ? "https://" : "http://") + u->host + ":" +
                              std::to_string(u->port) + u->target;
  if (rebuilt.size() > kMaxUrlLength) return;  // the explicit port can push it over
  auto again = parse_http_url(rebuilt);
  if (!again || again->https != u->https || again->host != u->host || again->port != u->port ||
      again->target != u->target)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const long status = 100 + (data[0] << 8 | data[1]) % 500;
  const std::string_view location(reinterpret_cast<const char*>(data + 2), size - 2);
  check_url(location);
  auto r = parse_cloud_dns_reply("504F11223344", status, location);
  if (!r) {
    if (r.error().message.empty()) std::abort();
    return 0;
  }
  if (r->host.empty() || r->port == 0 || status < 300 || status > 399) std::abort();
  auto u = parse_http_url(location);
  if (!u || u->host != r->host || u->port != r->port || u->https != r->https) std::abort();
  (void)cloud_dns_json(*r);
  return 0;
}
