// can-utils text parsing: compact frames, log lines and the LogReader, strict and lenient.
// Invariant: whatever parses writes back in canonical form, and that form parses (in the same mode)
// to the same frame (and timestamp/interface for log lines).
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string_view>

#include "canproto/candump.hpp"

using namespace loxcan::canproto;

namespace {

void check_roundtrip(const Frame& f, const ParseOptions& opt) {
  const auto text = format_compact(f);
  auto again = parse_compact(text, opt);
  if (!again.ok() || !same_content(*again, f)) std::abort();
}

void check_log_roundtrip(const Frame& f, const ParseOptions& opt) {
  const auto text = format_log_line(f, {.nanoseconds = true});
  auto again = parse_log_line(text, opt);
  if (!again.ok() || !same_content(*again, f) || again->ts_ns != f.ts_ns ||
      !(again->iface == f.iface))
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool lenient : {false, true}) {
    const ParseOptions opt{.lenient = lenient};
    if (auto f = parse_compact(text, opt)) check_roundtrip(*f, opt);
    if (auto f = parse_log_line(text, opt)) check_log_roundtrip(*f, opt);
    std::istringstream in{std::string(text)};
    LogReader reader(in, opt);
    Frame f;
    ParseError e;
    for (int n = 0; n < 100000; ++n) {
      const auto s = reader.next(f, e);
      if (s == LogReader::Status::end) break;
      if (s == LogReader::Status::frame) check_roundtrip(f, opt);
      if (s == LogReader::Status::error && (e.line == 0 || e.column == 0)) std::abort();
    }
  }
  return 0;
}
