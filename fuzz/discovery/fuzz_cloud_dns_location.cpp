// Cloud DNS reply interpreter: the first two bytes pick the HTTP status (100..599), the rest is
// the Location header.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/discovery/cloud_dns.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace loxcan::discovery;
  if (size < 2) return 0;
  const long status = 100 + (data[0] << 8 | data[1]) % 500;
  const std::string_view location(reinterpret_cast<const char*>(data + 2), size - 2);
  auto r = parse_cloud_dns_reply("504F11223344", status, location);
  if (!r) {
    if (r.error().message.empty()) std::abort();
    return 0;
  }
  if (r->host.empty() || r->port == 0 || status < 300 || status > 399) std::abort();
  (void)cloud_dns_json(*r);
  return 0;
}
