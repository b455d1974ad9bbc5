// The state-file parser never crashes; what it accepts survives a format/parse round trip.
#include <string_view>

#include "gateway/emulation/state_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto st = loxcan::emulation::parse_state(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    if (loxcan::emulation::parse_state(loxcan::emulation::format_state(st), "again")
            .tree_device_ids != st.tree_device_ids)
      __builtin_trap();
  } catch (const loxcan::emulation::StateFileError&) {
  }
  return 0;
}
