#pragma once
// Small helpers shared by the `discover` and `dns` verbs.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace loxcan::lan {

/// "3", "0.5", "10" -> milliseconds; nullopt unless 0 < value <= 600 s and fully numeric.
inline std::optional<std::chrono::milliseconds> parse_timeout_seconds(const char* text) {
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  const double s = std::strtod(text, &end);
  if (*end != '\0' || !(s > 0.0) || s > 600.0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long>(s * 1000.0 + 0.5));
}

/// The --timeout option: stores the value, or prints why not (naming the verb) and returns false.
inline bool take_timeout_option(const char* verb, const char* text,
                                std::chrono::milliseconds& out) {
  if (auto t = parse_timeout_seconds(text)) {
    out = *t;
    return true;
  }
  std::fprintf(stderr, "%s: --timeout expects seconds in (0, 600], got '%s'\n", verb, text);
  return false;
}

}  // namespace loxcan::lan
