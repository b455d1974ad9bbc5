#pragma once
// can-utils text formats: the compact frame `ID#DATA` (cansend, the frame token of log files) and
// the `candump -l` log line `(secs.frac) iface frame [R|T]`. Read and write, allocation-free.
//
// Grammar (see can-utils lib.h; docs: CANDUMP_FORMAT.md):
//   frame    = id "#" data [ "_" rawdlc ]      id: 3 hex digits (11-bit) or 8 hex digits (29-bit;
//            | id "#" ("R"|"r") [len ["_" rawdlc]]   value with bit 0x20000000 = error frame)
//            | id "##" flags fd-data
//   data     = up to 8 (FD: 64) bytes, each 2 hex digits, optionally preceded by one "."
//   log-line = "(" secs "." frac ")" ws iface ws frame [ws ("R"|"T")] [ws]
//
// Reading is case-insensitive, accepts "." separators, runs of spaces/tabs between log fields and a
// trailing "\r" (CRLF files). What is STRICTER than can-utils by default (each is an error; with
// ParseOptions::lenient it is accepted the way can-utils does, shown in brackets):
//   - more than 8 Classical / 64 FD data bytes              [extra bytes ignored]
//   - a 3-digit id above 0x7FF                               [masked to 11 bits]
//   - an 8-digit id with bit 0x40000000 or 0x80000000 set    [masked to 29 bits]
//   - "_X" raw DLC outside 9..F or without exactly 8 bytes   [ignored]
//   - an RTR length digit above 8, or RTR on an error frame  [ignored]
//   - an FD byte count that is not a valid FD length (0..8,12,16,20,24,32,48,64)
//                                                            [rounded up, zero bytes appended]
//   - a "." not followed by a data byte                      [ignored]
//   - anything after the frame (log: after the optional R/T) [ignored]
//   - a timestamp fraction that is not 6 or 9 digits         [1..9 digits, read as a decimal
//   fraction]
// Always rejected (both modes): CAN XL frames (`5`-character id field), ids of other lengths,
// non-hex digits, odd digit counts, an empty FD flags nibble ("123##"), interface names longer than
// 15 characters, timestamps beyond the int64 nanosecond range.
//
// Parsing FD frames follows can-utils: the FDF bit (0x04) is always added to the stored flags, so
// `123##1` reads as flags 0x5 and writes back as `123##5` (as a current candump would log it).
//
// Writing is canonical can-utils output: uppercase hex, no separators, 3-digit ids for 11-bit
// frames (masked to 0x7FF), 8 digits for 29-bit ones, error frames with the 0x20000000 bit, "R"
// plus a length digit 1..8 for RTR, "_X" when an 8-byte Classical frame has a raw DLC 9..15, and
// log lines as "(%010llu.%06llu) iface frame" (or 9-digit nanoseconds).
//
// Examples:
//   parse_compact("10606005#0000000000000000")      -> extended id 0x10606005, 8 zero bytes
//   parse_compact("5A1#11.2233.44556677.88")        -> 11-bit 0x5A1, 8 bytes
//   parse_compact("123#1")                          -> error {col 5, odd_data_digits}
//   parse_log_line("(1718000000.123456) can0 10606005#0000000000000000")
//                                                   -> ts_ns 1718000000123456000, iface "can0"
//   parse_log_line("(1718000000.12345) can0 123#00") -> error {col 13, bad_fraction_width}
//   format_log_line(frame)                          -> "(1718000000.123456) can0 10606005#00..."

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "canproto/frame.hpp"
#include "canproto/result.hpp"

namespace loxcan::canproto {

enum class CandumpErrc : std::uint8_t {
  too_short,           ///< frame token shorter than 4 characters
  bad_id_length,       ///< id is not 3 or 8 hex digits followed by '#'
  can_xl_unsupported,  ///< CAN XL frame (5-character VCID/priority field)
  bad_id_digit,        ///< non-hex character in the id
  id_out_of_range,     ///< 3-digit id > 0x7FF, or 8-digit id with bits 30/31 set (strict)
  bad_data_digit,      ///< non-hex character in the data
  odd_data_digits,     ///< a data byte with only one hex digit
  too_much_data,       ///< more than 8 (Classical) or 64 (FD) bytes (strict)
  bad_separator,       ///< '.' not followed by a data byte (strict)
  bad_raw_dlc,         ///< "_X" with X outside 9..F, or not after exactly 8 bytes (strict)
  bad_rtr_length,      ///< RTR length digit above 8 (strict)
  rtr_on_error_frame,  ///< "R" after an error-frame id (strict)
  fd_on_error_frame,   ///< "##" after an error-frame id
  bad_fd_flags,        ///< "##" not followed by one hex flags digit
  bad_fd_length,       ///< FD byte count is not a valid FD length (strict)
  trailing_garbage,    ///< characters after the frame (strict)
  not_a_log_line,      ///< log line does not start with '('
  bad_timestamp,       ///< seconds or fraction not decimal digits, or '.'/')' missing
  bad_fraction_width,  ///< fraction not 6 or 9 digits (strict), or more than 9 (always)
  timestamp_overflow,  ///< seconds too large for int64 nanoseconds
  missing_iface,       ///< nothing after the timestamp
  iface_too_long,      ///< interface name longer than 15 characters
  missing_frame,       ///< nothing after the interface name
  bad_direction,       ///< token after the frame is not "R" or "T" (strict)
  line_too_long,       ///< LogReader: line longer than LogReader::kMaxLine
  io_error,            ///< LogReader: the stream failed (badbit)
};

/// Short English reason, e.g. "odd number of hex digits in data". Never null.
const char* to_string(CandumpErrc code);

/// Where and why text could not be read. `column` is 1-based within the line (or the string given
/// to parse_compact); `line` is 1-based and 0 when the caller parsed a lone string.
struct ParseError {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  CandumpErrc code = CandumpErrc::too_short;

  const char* reason() const { return to_string(code); }
  friend bool operator==(const ParseError&, const ParseError&) = default;
};

/// "<source>:<line>:<column>: <reason>" (without the line part when line == 0).
std::string format_error(const ParseError& error, std::string_view source);

struct ParseOptions {
  /// Accept what can-utils accepts silently (see the list at the top of this header).
  bool lenient = false;
  /// LogReader only: also read lines holding just a compact frame (first character a hex digit and
  /// a '#' in the first token); such frames get ts_ns = 0 and an empty interface name.
  bool compact_lines = true;
};

/// Parse one compact frame token (no surrounding whitespace). ts_ns and iface stay default.
Result<Frame, ParseError> parse_compact(std::string_view text, const ParseOptions& options = {});

/// Parse one log line (without the newline; a trailing "\r" is allowed).
Result<Frame, ParseError> parse_log_line(std::string_view line, const ParseOptions& options = {});

/// Longest text the writers produce: an error-frame id, "##f", 64 bytes; a log line with a 20-digit
/// second count, 9-digit fraction, padded 15-character iface and a direction.
inline constexpr std::size_t kMaxCompactText = 8 + 3 + 2 * kMaxFdData;
inline constexpr std::size_t kMaxLogLineText = 1 + 20 + 1 + 9 + 2 + 255 + 1 + kMaxCompactText + 2;

/// Write the canonical compact form into `out` (at least kMaxCompactText chars); returns the
/// length. No terminating NUL.
std::size_t format_compact(const Frame& frame, char* out);
std::string format_compact(const Frame& frame);

struct LogWriteOptions {
  bool nanoseconds = false;      ///< 9-digit fraction (candump -N) instead of 6-digit microseconds
  std::uint8_t iface_width = 0;  ///< right-align the interface name to this width (candump's %*s)
  char direction = 0;            ///< 'R' or 'T' appends " R"/" T" (candump -x); 0 = none
};

/// Write "(secs.frac) iface frame[ dir]" without a newline into `out` (at least kMaxLogLineText
/// chars); returns the length. A negative ts_ns is written as 0.
std::size_t format_log_line(const Frame& frame, char* out, const LogWriteOptions& options = {});
std::string format_log_line(const Frame& frame, const LogWriteOptions& options = {});

/// How a text line is treated by LogReader.
enum class LineKind : std::uint8_t {
  log,      ///< starts with '(' : a candump log line
  compact,  ///< a bare compact frame (see ParseOptions::compact_lines)
  comment,  ///< anything else (blank, "# ...", DROPCOUNT lines): skipped, like canplayer does
};
LineKind classify_line(std::string_view line, const ParseOptions& options = {});

/// Reads a candump log (or compact lines) from a stream, line by line, with its own 64 KiB buffer
/// (no per-line allocation). Comment lines are skipped and counted. After an error the reader is
/// positioned at the next line, so callers may report and continue.
///
///   LogReader reader(std::cin);
///   Frame f; ParseError e;
///   while (true) {
///     auto s = reader.next(f, e);
///     if (s == LogReader::Status::end) break;
///     if (s == LogReader::Status::error) { report(format_error(e, "stdin")); continue; }
///     use(f);
///   }
class LogReader {
 public:
  enum class Status : std::uint8_t { frame, error, end };
  static constexpr std::size_t kMaxLine = 8192;

  explicit LogReader(std::istream& in, ParseOptions options = {});

  /// Next frame. On Status::error, `error` names the line and column (io_error ends the stream:
  /// the next call returns Status::end).
  Status next(Frame& frame, ParseError& error);

  /// 1-based number of the line last returned (frame or error).
  std::uint64_t line_number() const { return line_number_; }
  /// Text of the line last returned, without the newline (valid until the next call).
  std::string_view line_text() const { return line_; }
  std::uint64_t comment_lines() const { return comment_lines_; }

 private:
  bool next_line();  // sets line_; false at end of input
  bool fill();
  void skip_rest_of_line();

  std::istream& in_;
  ParseOptions options_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool failed_ = false;
  bool overlong_ = false;
  std::string_view line_;
  std::uint64_t line_number_ = 0;
  std::uint64_t comment_lines_ = 0;
};

}  // namespace loxcan::canproto
