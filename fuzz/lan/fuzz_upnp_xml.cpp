// upnp.xml (UPnP device description) parser through tinyxml2.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/lan/upnp_xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace loxcan::lan;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = parse_upnp_xml(in);
  if (!r) {
    if (r.error().empty()) std::abort();
    return 0;
  }
  if (r->hidden_name != decode_hidden_name(r->model_description)) std::abort();
  return 0;
}
