#include "gateway/lan/cloud_dns.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "gateway/lan/http.hpp"
#include "gateway/lan/loxlive.hpp"
#include "gateway/lan/miniserver_info.hpp"

namespace loxcan::lan {
namespace {

using Json = nlohmann::ordered_json;  // keys in the documented order

Unexpected<CloudDnsError> fail(CloudDnsErrorKind kind, std::string msg) {
  return unexpected(CloudDnsError{kind, std::move(msg)});
}

// "203-0-113-7.504f11223344.dyndns..." -> "203.0.113.7"; "" if the first label is no dashed IPv4.
std::string dashed_ipv4(std::string_view host) {
  std::string label(host.substr(0, host.find('.')));
  std::replace(label.begin(), label.end(), '-', '.');
  return is_ipv4(label) ? label : std::string();
}

std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 120)) out += (c >= 0x20 && c != 0x7F) ? c : '?';
  return out + (s.size() > 120 ? "...'" : "'");
}

}  // namespace

Expected<CloudDnsAnswer, CloudDnsError> parse_cloud_dns_reply(std::string_view serial, long status,
                                                              std::string_view location) {
  const std::string s = canonical_serial(serial);
  if (status == 404 || status == 410)
    return fail(CloudDnsErrorKind::kUnknownSerial, "the Cloud DNS does not know Miniserver " + s +
                                                       " (HTTP " + std::to_string(status) + ")");
  if (status < 300 || status > 399)
    return fail(CloudDnsErrorKind::kBadReply,
                "expected a redirect for " + s + ", got HTTP " + std::to_string(status));
  if (location.empty())
    return fail(
        CloudDnsErrorKind::kBadReply,
        "redirect for " + s + " without a Location header (HTTP " + std::to_string(status) + ")");
  const auto url = parse_http_url(location);
  if (!url)
    return fail(CloudDnsErrorKind::kBadReply, "redirect for " + s + " to an unusable Location " +
                                                  quoted(location) + " (" + url.error() + ")");
  CloudDnsAnswer a;
  a.serial = s;
  a.location = std::string(location);
  a.https = url->https;
  a.host = url->host;
  a.port = url->port;
  a.address = is_ipv4(a.host) ? a.host : dashed_ipv4(a.host);
  return a;
}

Expected<CloudDnsAnswer, CloudDnsError> cloud_dns_resolve(std::string_view serial,
                                                          std::string_view base_url,
                                                          std::chrono::milliseconds timeout) {
  if (!is_serial(serial))
    return fail(CloudDnsErrorKind::kInvalidSerial,
                "invalid serial " + quoted(serial) + ": expected 12 hex digits, e.g. 504F11223344");
  std::string base(base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpRequest req;
  req.url = base + "/" + canonical_serial(serial);
  req.timeout = timeout;
  req.use_proxy = true;
  auto r = http_get(req);
  if (!r) {
    const auto kind = r.error().kind == HttpErrorKind::kTimeout ? CloudDnsErrorKind::kTimeout
                      : r.error().kind == HttpErrorKind::kUnreachable
                          ? CloudDnsErrorKind::kUnreachable
                          : CloudDnsErrorKind::kBadReply;
    const std::string what =
        kind == CloudDnsErrorKind::kTimeout ? "no answer from " : "cannot query ";
    return fail(kind, what + req.url + ": " + r.error().message);
  }
  return parse_cloud_dns_reply(serial, r->status, r->location);
}

std::string cloud_dns_json(const CloudDnsAnswer& a) {
  const Json j = {{"serial", a.serial},
                  {"host", a.host},
                  {"address", a.address.empty() ? Json() : Json(a.address)},
                  {"port", a.port},
                  {"https", a.https},
                  {"url", a.location}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace loxcan::lan
