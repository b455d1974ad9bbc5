// libFuzzer: LoxBerry general.json parsing (outside input read from disk) and the V1 JSON
// expansion model used to predict Virtual Input names.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mqtt/loxberry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = loxcan::mqtt::parse_general_json(text, "/cfg");
  if (r.broker) {
    loxcan::mqtt::MqttOptions o;
    loxcan::mqtt::apply_loxberry(*r.broker, o);
    (void)loxcan::mqtt::validate(o);
  }
  if (size < 4096) (void)loxcan::mqtt::loxberry_v1_values("loxcan/x/y", text);
  return 0;
}
