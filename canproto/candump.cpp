#include "canproto/candump.hpp"

#include <array>
#include <cstring>
#include <limits>

namespace loxcan::canproto {
namespace {

constexpr std::uint8_t kBad = 0xFF;

constexpr std::array<std::uint8_t, 256> make_nibbles() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kBad;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<std::uint8_t>(c - '0');
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<std::uint8_t>(c - 'A' + 10);
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<std::uint8_t>(c - 'a' + 10);
  return t;
}
constexpr auto kNibble = make_nibbles();
constexpr char kHex[] = "0123456789ABCDEF";

std::uint8_t nibble(char c) {
  return kNibble[static_cast<unsigned char>(c)];
}

constexpr std::array<bool, 256> make_spaces() {
  std::array<bool, 256> t{};
  t[' '] = t['\t'] = t['\r'] = t['\v'] = t['\f'] = true;
  return t;
}
constexpr auto kSpace = make_spaces();

bool is_space(char c) {
  return kSpace[static_cast<unsigned char>(c)];
}

Err<ParseError> fail(std::size_t index, CandumpErrc code) {
  return Err<ParseError>{ParseError{0, static_cast<std::uint32_t>(index + 1), code}};
}

constexpr std::uint8_t kFdLengths[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64};

std::uint8_t fd_round_up(std::uint8_t len) {
  for (auto l : kFdLengths)
    if (l >= len) return l;
  return 64;
}

// State shared by the pieces of parse_compact.
struct CompactParser {
  std::string_view s;
  const ParseOptions& opt;
  Frame& f;
  std::size_t i = 0;

  bool at(char c) const { return i < s.size() && s[i] == c; }

  Result<Ok, ParseError> id() {
    std::size_t digits;
    if (s[3] == '#') {
      digits = 3;
    } else if (s.size() > 5 && s[5] == '#') {
      return fail(0, CandumpErrc::can_xl_unsupported);
    } else if (s.size() > 8 && s[8] == '#') {
      digits = 8;
    } else {
      return fail(0, CandumpErrc::bad_id_length);
    }
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < digits; ++k) {
      const auto n = nibble(s[k]);
      if (n == kBad) return fail(k, CandumpErrc::bad_id_digit);
      v = (v << 4) | n;
    }
    i = digits + 1;
    if (digits == 3) {
      if (v > 0x7FF && !opt.lenient) return fail(0, CandumpErrc::id_out_of_range);
      f.id = v & 0x7FF;
      f.extended = false;
      return Ok{};
    }
    if ((v & 0xC0000000u) != 0 && !opt.lenient) return fail(0, CandumpErrc::id_out_of_range);
    f.error = (v & 0x20000000u) != 0;
    f.extended = !f.error;
    f.id = v & 0x1FFFFFFFu;
    return Ok{};
  }

  Result<Ok, ParseError> rtr() {
    if (f.error && !opt.lenient) return fail(i, CandumpErrc::rtr_on_error_frame);
    f.rtr = true;
    ++i;
    if (i >= s.size()) return Ok{};
    const auto n = nibble(s[i]);
    if (n > 8) {
      if (!opt.lenient) return fail(i, CandumpErrc::bad_rtr_length);
      return Ok{};
    }
    f.len = n;
    ++i;
    if (n == 8 && at('_')) return raw_dlc();
    return Ok{};
  }

  // At '_': read the raw DLC digit.
  Result<Ok, ParseError> raw_dlc() {
    const std::size_t at_underscore = i++;
    const auto n = i < s.size() ? nibble(s[i]) : kBad;
    if (n == kBad || n < 9 || f.len != 8) {
      if (!opt.lenient) return fail(at_underscore, CandumpErrc::bad_raw_dlc);
      i = s.size();
      return Ok{};
    }
    f.len8_dlc = n;
    ++i;
    return Ok{};
  }

  Result<Ok, ParseError> fd_flags() {
    if (f.error) return fail(i, CandumpErrc::fd_on_error_frame);
    ++i;
    const auto n = i < s.size() ? nibble(s[i]) : kBad;
    if (n == kBad) return fail(i, CandumpErrc::bad_fd_flags);
    f.fd = true;
    f.fd_flags = static_cast<std::uint8_t>(n | 0x04);
    ++i;
    return Ok{};
  }

  Result<Ok, ParseError> data() {
    const std::size_t max = f.fd ? kMaxFdData : kMaxClassicData;
    std::size_t count = 0;
    while (i < s.size()) {
      if (s[i] == '_' && !f.fd) break;
      if (count == max) {
        if (!opt.lenient) return fail(i, CandumpErrc::too_much_data);
        i = s.size();
        break;
      }
      if (s[i] == '.') {
        ++i;
        if (i >= s.size() || s[i] == '.' || s[i] == '_') {
          if (!opt.lenient) return fail(i - 1, CandumpErrc::bad_separator);
          if (i >= s.size()) break;
        }
      }
      const auto hi = nibble(s[i]);
      if (hi == kBad) return fail(i, CandumpErrc::bad_data_digit);
      if (i + 1 >= s.size()) return fail(i, CandumpErrc::odd_data_digits);
      const auto lo = nibble(s[i + 1]);
      if (lo == kBad) {
        // "12_" or "1.2" is an odd count, "1G" a bad digit.
        const char c = s[i + 1];
        return fail(c == '_' || c == '.' ? i : i + 1, c == '_' || c == '.'
                                                          ? CandumpErrc::odd_data_digits
                                                          : CandumpErrc::bad_data_digit);
      }
      f.data[count++] = static_cast<std::uint8_t>((hi << 4) | lo);
      i += 2;
    }
    f.len = static_cast<std::uint8_t>(count);
    if (f.fd) return fd_length();
    if (at('_')) return raw_dlc();
    return Ok{};
  }

  Result<Ok, ParseError> fd_length() {
    const auto rounded = fd_round_up(f.len);
    if (rounded == f.len) return Ok{};
    if (!opt.lenient) return fail(i, CandumpErrc::bad_fd_length);
    f.len = rounded;  // data[] is zero-initialised
    return Ok{};
  }

  Result<Ok, ParseError> run() {
    if (s.size() < 4) return fail(0, CandumpErrc::too_short);
    if (auto r = id(); !r) return Err{r.error()};
    Result<Ok, ParseError> body = Ok{};
    if (at('R') || at('r'))
      body = rtr();
    else if (at('#'))
      body = fd_flags();
    if (!body) return Err{body.error()};
    if (!f.rtr) {
      if (auto r = data(); !r) return Err{r.error()};
    }
    if (i < s.size() && !opt.lenient) return fail(i, CandumpErrc::trailing_garbage);
    return Ok{};
  }
};

char* put_hex2(char* p, std::uint8_t b) {
  *p++ = kHex[b >> 4];
  *p++ = kHex[b & 0xF];
  return p;
}

char* put_hex(char* p, std::uint32_t v, int digits) {
  for (int k = digits - 1; k >= 0; --k) *p++ = kHex[(v >> (4 * k)) & 0xF];
  return p;
}

char* put_dec(char* p, std::uint64_t v, int min_digits) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n < min_digits) tmp[n++] = '0';
  while (n > 0) *p++ = tmp[--n];
  return p;
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}
std::size_t token_end(std::string_view s, std::size_t i) {
  while (i < s.size() && !is_space(s[i])) ++i;
  return i;
}

// Parse "(secs.frac)" at the start of the line; returns the index after ')'.
Result<std::size_t, ParseError> parse_timestamp(std::string_view s, const ParseOptions& opt,
                                                std::int64_t& ts_ns) {
  if (s.empty() || s[0] != '(') return fail(0, CandumpErrc::not_a_log_line);
  std::size_t i = 1;
  std::uint64_t secs = 0;
  const std::size_t secs_begin = i;
  constexpr std::uint64_t kMaxSecs =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 1'000'000'000u;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    secs = secs * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (secs > kMaxSecs) return fail(secs_begin, CandumpErrc::timestamp_overflow);
    ++i;
  }
  if (i == secs_begin || i >= s.size() || s[i] != '.') return fail(i, CandumpErrc::bad_timestamp);
  const std::size_t frac_begin = ++i;
  std::uint64_t frac = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - frac_begin < 10) {
    frac = frac * 10 + static_cast<std::uint64_t>(s[i] - '0');
    ++i;
  }
  const std::size_t width = i - frac_begin;
  if (width == 0) return fail(i, CandumpErrc::bad_timestamp);
  if (width > 9 || (!opt.lenient && width != 6 && width != 9))
    return fail(frac_begin, CandumpErrc::bad_fraction_width);
  if (i >= s.size() || s[i] != ')') return fail(i, CandumpErrc::bad_timestamp);
  for (std::size_t w = width; w < 9; ++w) frac *= 10;
  ts_ns = static_cast<std::int64_t>(secs * 1'000'000'000u + frac);
  if (ts_ns < 0) return fail(secs_begin, CandumpErrc::timestamp_overflow);
  return i + 1;
}

}  // namespace

const char* to_string(CandumpErrc code) {
  switch (code) {
    case CandumpErrc::too_short: return "frame shorter than 4 characters";
    case CandumpErrc::bad_id_length: return "id must be 3 or 8 hex digits followed by '#'";
    case CandumpErrc::can_xl_unsupported: return "CAN XL frames are not supported";
    case CandumpErrc::bad_id_digit: return "invalid hex digit in id";
    case CandumpErrc::id_out_of_range:
      return "id out of range (11-bit > 7FF or 29-bit flag bits set)";
    case CandumpErrc::bad_data_digit: return "invalid hex digit in data";
    case CandumpErrc::odd_data_digits: return "odd number of hex digits in data";
    case CandumpErrc::too_much_data: return "too many data bytes (max 8, CAN FD 64)";
    case CandumpErrc::bad_separator: return "'.' not followed by a data byte";
    case CandumpErrc::bad_raw_dlc: return "raw DLC '_X' needs 8 data bytes and X in 9..F";
    case CandumpErrc::bad_rtr_length: return "RTR length must be 0..8";
    case CandumpErrc::rtr_on_error_frame: return "error frame cannot be RTR";
    case CandumpErrc::fd_on_error_frame: return "error frame cannot be CAN FD";
    case CandumpErrc::bad_fd_flags: return "'##' must be followed by one hex flags digit";
    case CandumpErrc::bad_fd_length: return "CAN FD length not one of 0..8,12,16,20,24,32,48,64";
    case CandumpErrc::trailing_garbage: return "unexpected characters after the frame";
    case CandumpErrc::not_a_log_line: return "log line must start with '('";
    case CandumpErrc::bad_timestamp: return "timestamp must be (seconds.fraction)";
    case CandumpErrc::bad_fraction_width: return "timestamp fraction must have 6 or 9 digits";
    case CandumpErrc::timestamp_overflow: return "timestamp too large";
    case CandumpErrc::missing_iface: return "missing interface name";
    case CandumpErrc::iface_too_long: return "interface name longer than 15 characters";
    case CandumpErrc::missing_frame: return "missing frame after interface name";
    case CandumpErrc::bad_direction: return "expected 'R' or 'T' after the frame";
    case CandumpErrc::line_too_long: return "line too long";
    case CandumpErrc::io_error: return "read error";
  }
  return "unknown error";
}

std::string format_error(const ParseError& error, std::string_view source) {
  std::string out(source);
  if (error.line != 0) out += ':' + std::to_string(error.line);
  out += ':' + std::to_string(error.column) + ": " + error.reason();
  return out;
}

namespace {

// Both parsers write straight into the caller's frame (no Frame copies on the LogReader path).
Result<Ok, ParseError> parse_log_line_into(std::string_view line, const ParseOptions& options,
                                           Frame& frame) {
  std::int64_t ts = 0;
  auto after_ts = parse_timestamp(line, options, ts);
  if (!after_ts) return Err{after_ts.error()};
  std::size_t i = *after_ts;
  // At least one blank after ')'.
  if (i < line.size() && !is_space(line[i])) return fail(i, CandumpErrc::bad_timestamp);
  i = skip_space(line, i);
  if (i >= line.size()) return fail(i, CandumpErrc::missing_iface);
  const std::size_t iface_begin = i;
  i = token_end(line, i);
  if (i - iface_begin > kMaxIfaceName) return fail(iface_begin, CandumpErrc::iface_too_long);
  const std::string_view iface = line.substr(iface_begin, i - iface_begin);
  i = skip_space(line, i);
  if (i >= line.size()) return fail(i, CandumpErrc::missing_frame);
  const std::size_t frame_begin = i;
  i = token_end(line, i);
  if (auto r = CompactParser{line.substr(frame_begin, i - frame_begin), options, frame}.run(); !r) {
    auto e = r.error();
    e.column += static_cast<std::uint32_t>(frame_begin);
    return Err{e};
  }
  i = skip_space(line, i);
  if (i < line.size() && !options.lenient) {
    const std::size_t dir_end = token_end(line, i);
    const bool dir_ok = dir_end == i + 1 && (line[i] == 'R' || line[i] == 'T');
    if (!dir_ok) return fail(i, CandumpErrc::bad_direction);
    if (skip_space(line, dir_end) < line.size())
      return fail(skip_space(line, dir_end), CandumpErrc::trailing_garbage);
  }
  frame.ts_ns = ts;
  frame.iface = IfaceName(iface);
  return Ok{};
}

}  // namespace

Result<Frame, ParseError> parse_compact(std::string_view text, const ParseOptions& options) {
  Frame f;
  if (auto r = CompactParser{text, options, f}.run(); !r) return Err{r.error()};
  return f;
}

Result<Frame, ParseError> parse_log_line(std::string_view line, const ParseOptions& options) {
  Frame f;
  if (auto r = parse_log_line_into(line, options, f); !r) return Err{r.error()};
  return f;
}

std::size_t format_compact(const Frame& f, char* out) {
  char* p = out;
  if (f.error) {
    p = put_hex(p, (f.id & err::kMask) | 0x20000000u, 8);
  } else if (f.extended) {
    p = put_hex(p, f.id & 0x1FFFFFFFu, 8);
  } else {
    p = put_hex(p, f.id & 0x7FFu, 3);
  }
  *p++ = '#';
  if (f.fd) {
    *p++ = '#';
    *p++ = kHex[f.fd_flags & 0xF];
    const std::size_t n = f.len > kMaxFdData ? kMaxFdData : f.len;
    for (std::size_t k = 0; k < n; ++k) p = put_hex2(p, f.data[k]);
    return static_cast<std::size_t>(p - out);
  }
  const std::uint8_t len = f.len > kMaxClassicData ? kMaxClassicData : f.len;
  if (f.rtr) {
    *p++ = 'R';
    if (len > 0) *p++ = kHex[len];
  } else {
    for (std::size_t k = 0; k < len; ++k) p = put_hex2(p, f.data[k]);
  }
  if (len == 8 && f.len8_dlc >= 9 && f.len8_dlc <= 15) {
    *p++ = '_';
    *p++ = kHex[f.len8_dlc];
  }
  return static_cast<std::size_t>(p - out);
}

std::string format_compact(const Frame& frame) {
  char buf[kMaxCompactText];
  return std::string(buf, format_compact(frame, buf));
}

std::size_t format_log_line(const Frame& f, char* out, const LogWriteOptions& options) {
  char* p = out;
  const std::uint64_t ts = f.ts_ns < 0 ? 0 : static_cast<std::uint64_t>(f.ts_ns);
  *p++ = '(';
  p = put_dec(p, ts / 1'000'000'000u, 10);
  *p++ = '.';
  if (options.nanoseconds)
    p = put_dec(p, ts % 1'000'000'000u, 9);
  else
    p = put_dec(p, (ts % 1'000'000'000u) / 1000u, 6);
  *p++ = ')';
  *p++ = ' ';
  const auto name = f.iface.view();
  for (std::size_t k = name.size(); k < options.iface_width; ++k) *p++ = ' ';
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ' ';
  p += format_compact(f, p);
  if (options.direction == 'R' || options.direction == 'T') {
    *p++ = ' ';
    *p++ = options.direction;
  }
  return static_cast<std::size_t>(p - out);
}

std::string format_log_line(const Frame& frame, const LogWriteOptions& options) {
  char buf[kMaxLogLineText];
  return std::string(buf, format_log_line(frame, buf, options));
}

LineKind classify_line(std::string_view line, const ParseOptions& options) {
  if (!line.empty() && line[0] == '(') return LineKind::log;
  if (!options.compact_lines || line.empty() || nibble(line[0]) == kBad) return LineKind::comment;
  const std::size_t end = token_end(line, 0);
  return line.substr(0, end).find('#') != std::string_view::npos ? LineKind::compact
                                                                 : LineKind::comment;
}

LogReader::LogReader(std::istream& in, ParseOptions options)
    : in_(in), options_(options), buf_(64 * 1024) {}

bool LogReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) return false;
  in_.read(buf_.data() + end_, static_cast<std::streamsize>(buf_.size() - end_));
  const auto got = in_.gcount();
  end_ += static_cast<std::size_t>(got);
  if (in_.bad()) failed_ = true;
  if (!in_) eof_ = true;
  return got > 0;
}

bool LogReader::next_line() {
  for (;;) {
    const char* start = buf_.data() + begin_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    if (nl != nullptr) {
      line_ = std::string_view(start, static_cast<std::size_t>(nl - start));
      begin_ += line_.size() + 1;
      overlong_ = line_.size() > kMaxLine;
      return true;
    }
    if (end_ - begin_ >= kMaxLine) {
      overlong_ = true;
      line_ = {};
      skip_rest_of_line();
      return true;
    }
    if (!fill()) {
      if (begin_ == end_) return false;
      line_ = std::string_view(buf_.data() + begin_, end_ - begin_);
      begin_ = end_;
      overlong_ = line_.size() > kMaxLine;
      return true;
    }
  }
}

void LogReader::skip_rest_of_line() {
  for (;;) {
    const char* start = buf_.data() + begin_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    if (nl != nullptr) {
      begin_ += static_cast<std::size_t>(nl - start) + 1;
      return;
    }
    begin_ = end_;
    if (!fill()) return;
  }
}

LogReader::Status LogReader::next(Frame& frame, ParseError& error) {
  for (;;) {
    if (failed_) {
      failed_ = false;
      eof_ = true;
      begin_ = end_ = 0;
      error = ParseError{static_cast<std::uint32_t>(line_number_ + 1), 1, CandumpErrc::io_error};
      return Status::error;
    }
    if (!next_line()) return Status::end;
    ++line_number_;
    if (overlong_) {
      line_ = {};
      error = ParseError{static_cast<std::uint32_t>(line_number_),
                         static_cast<std::uint32_t>(kMaxLine + 1), CandumpErrc::line_too_long};
      return Status::error;
    }
    std::string_view text = line_;
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    const LineKind kind = classify_line(text, options_);
    if (kind == LineKind::comment) {
      ++comment_lines_;
      continue;
    }
    if (kind == LineKind::compact && options_.lenient) text = text.substr(0, token_end(text, 0));
    frame = Frame{};
    auto r = kind == LineKind::log ? parse_log_line_into(text, options_, frame)
                                   : CompactParser{text, options_, frame}.run();
    if (r) return Status::frame;
    error = r.error();
    error.line = static_cast<std::uint32_t>(line_number_);
    return Status::error;
  }
}

}  // namespace loxcan::canproto
