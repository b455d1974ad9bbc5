#pragma once
// Small helpers shared by the `discover` and `dns` verbs.

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

namespace loxcan::discovery {

/// "3", "0.5", "10" -> milliseconds; nullopt unless 0 < value <= 600 s and fully numeric.
inline std::optional<std::chrono::milliseconds> parse_timeout_seconds(const char* text) {
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  const double s = std::strtod(text, &end);
  if (*end != '\0' || !(s > 0.0) || s > 600.0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long>(s * 1000.0 + 0.5));
}

}  // namespace loxcan::discovery
