// The scenario parser never crashes and either returns steps or throws ScenarioError.
#include <string_view>

#include "gateway/sim/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)loxcan::sim::parse_scenario(std::string_view(reinterpret_cast<const char*>(data), size),
                                      "fuzz");
  } catch (const loxcan::sim::ScenarioError&) {
  }
  return 0;
}
