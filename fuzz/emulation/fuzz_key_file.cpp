// The key-file parser never crashes and either returns keys or throws KeyFileError.
#include <string_view>

#include "devices/emulation/keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto keys = loxcan::emulation::parse_key_file(text, "fuzz");
    // What parses formats back to text that parses to the same keys.
    if (loxcan::emulation::parse_key_file(loxcan::emulation::format_key_file(keys), "again") !=
        keys)
      __builtin_trap();
  } catch (const loxcan::emulation::KeyFileError&) {
  }
  return 0;
}
