// fetch_upnp_description(): its own translation unit, so that only programs that use it (the
// `loxcan discover` verb) link the HTTP client and the XML parser.
#include "gateway/lan/discover.hpp"
#include "gateway/lan/http.hpp"

namespace loxcan::lan {

Expected<UpnpDevice, std::string> fetch_upnp_description(const std::string& url,
                                                         std::chrono::milliseconds timeout,
                                                         std::stop_token stop) {
  HttpRequest req;
  req.url = url;
  req.timeout = timeout;
  req.stop = std::move(stop);
  auto r = http_get(req);
  if (!r) return unexpected(std::string("cannot read " + url + ": " + r.error().message));
  if (r->status != 200)
    return unexpected(std::string("cannot read " + url + ": HTTP " + std::to_string(r->status)));
  auto dev = parse_upnp_xml(r->body);
  if (!dev) return unexpected(std::string(url + ": " + dev.error()));
  return *dev;
}

}  // namespace loxcan::lan
