// SSDP datagram parser, plus what discovery does next with a parse (SERVER name, LOCATION URL).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/lan/http.hpp"
#include "gateway/lan/ssdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace loxcan::lan;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = parse_ssdp(in);
  if (!r) {
    if (r.error().message.empty() || r.error().offset > in.size()) std::abort();
    return 0;
  }
  (void)r->is_loxone_miniserver();
  (void)ssdp_server_name(r->server);
  if (auto url = parse_http_url(r->location); url && (url->host.empty() || url->port == 0))
    std::abort();
  return 0;
}
