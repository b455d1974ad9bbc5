// fuzz_config: any bytes as loxcan.yaml. The loader must either return a Config or throw
// ConfigError with at least one diagnostic naming the file; nothing else may escape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto registry = loxcan::devices::Registry::builtin();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    loxcan::config::parse(text, "fuzz.yaml", registry);
  } catch (const loxcan::config::ConfigError& e) {
    if (e.errors().empty()) std::abort();
    for (const auto& d : e.errors()) {
      if (d.to_string().rfind("fuzz.yaml", 0) != 0) std::abort();
    }
  }
  return 0;
}
