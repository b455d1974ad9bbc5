#pragma once
// The option and usage helpers every verb of `loxcan` shares (commands.hpp states the contract:
// getopt_long, --help on stdout with exit 0, a usage error on stderr with EX_USAGE).
//
//   case 'h': return print_usage(stdout, kUsage);       // 0
//   default:  return print_usage(stderr, kUsage);       // EX_USAGE (getopt named the option)
//   if (!parse_seconds(optarg, d)) return usage_error("loxcan record", "bad --duration '%s'",
//   optarg); if (!take_timeout_option(argv[0], optarg, timeout)) return EX_USAGE;

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace loxcan::cli {

/// Prints a verb's usage text; returns 0 for stdout (--help) and EX_USAGE otherwise.
int print_usage(std::FILE* out, const char* text);

/// Prints "<verb>: <fmt with arg>" and a pointer to --help to stderr; returns EX_USAGE.
int usage_error(const char* verb, const char* fmt, const char* arg);

/// Writes `text` to stdout when `output` is empty, else to the file `output` (atomically: a
/// reader never sees half a file). Returns 0, or EX_IOERR after a message on stderr.
int write_text_output(const std::string& output, const std::string& text);

/// Parses a non-negative decimal (with an optional fraction for seconds); false on junk.
bool parse_seconds(std::string_view text, double& out);
bool parse_count(std::string_view text, std::uint64_t& out);

/// "3", "0.5", "10" -> milliseconds; nullopt unless 0 < value <= 600 s and fully numeric.
std::optional<std::chrono::milliseconds> parse_timeout_seconds(const char* text);

/// The --timeout option: stores the value, or prints why not (naming the verb) and returns false.
bool take_timeout_option(const char* verb, const char* text, std::chrono::milliseconds& out);

}  // namespace loxcan::cli
