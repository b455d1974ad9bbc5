#include "gateway/cli/options.hpp"

#include <sysexits.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>

#include "mqtt/loxberry.hpp"

namespace loxcan::cli {

int print_usage(std::FILE* out, const char* text) {
  std::fputs(text, out);
  return out == stdout ? 0 : EX_USAGE;
}

int usage_error(const char* verb, const char* fmt, const char* arg) {
  std::fprintf(stderr, "%s: ", verb);
  std::fprintf(stderr, fmt, arg);  // NOLINT: fmt is always a literal of the caller
  std::fprintf(stderr, "\n(see %s --help)\n", verb);
  return EX_USAGE;
}

bool parse_seconds(std::string_view text, double& out) {
  if (text.empty()) return false;
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return errno == 0 && end && *end == '\0' && out >= 0 && s.find_first_of("xXpPnN") == s.npos;
}

bool parse_count(std::string_view text, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && !text.empty();
}

std::optional<std::chrono::milliseconds> parse_timeout_seconds(const char* text) {
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  const double s = std::strtod(text, &end);
  if (*end != '\0' || !(s > 0.0) || s > 600.0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long>(s * 1000.0 + 0.5));
}

bool take_timeout_option(const char* verb, const char* text, std::chrono::milliseconds& out) {
  if (auto t = parse_timeout_seconds(text)) {
    out = *t;
    return true;
  }
  std::fprintf(stderr, "%s: --timeout expects seconds in (0, 600], got '%s'\n", verb, text);
  return false;
}

int write_text_output(const std::string& output, const std::string& text) {
  if (output.empty()) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  std::string error;
  if (mqtt::write_file_atomically(output, text, error)) return 0;
  std::fprintf(stderr, "loxcan: cannot write %s\n", error.c_str());
  return EX_IOERR;
}

}  // namespace loxcan::cli
