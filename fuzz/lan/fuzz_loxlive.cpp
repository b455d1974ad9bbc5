// LoxLIVE (UDP 7071) reply parser: any datagram parses or errors; a parse is self-consistent.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/lan/loxlive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace loxcan::lan;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = parse_loxlive(in);
  if (!r) {
    if (r.error().message.empty()) std::abort();
    return 0;
  }
  if (!is_serial(r->serial) || !is_ipv4(r->address) || r->port == 0) std::abort();
  if (r->type && (*r->type < 0 || *r->type > 255)) std::abort();
  (void)miniservers_json({*r});  // names with any bytes must serialize
  return 0;
}
