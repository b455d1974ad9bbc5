// `loxcan decode [--json] [--bus link|tree] [--lenient] [FILE|-]`: decode a candump log (or bare
// compact frames) into Loxone messages, one line per message; see the usage text below.
//
// Structure: a FrameSource (a small callable that yields frames; the file/stdin reader is one,
// a live SocketCAN source can be another) feeds run_decode_loop(), which owns the Decoder, the
// printers and the counters. Output is written through one large buffer, never flushed per line.
#include <getopt.h>
#include <sysexits.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "canproto/candump.hpp"
#include "canproto/decoder.hpp"
#include "gateway/cli/commands.hpp"
#include "gateway/cli/device_events.hpp"
#include "gateway/cli/live_source.hpp"

namespace loxcan::cli {
namespace {

namespace cp = loxcan::canproto;

constexpr const char* kUsage =
    "usage: loxcan decode [--json] [--bus link|tree] [--lenient] [FILE|-]\n"
    "       loxcan decode [--json] [--bus link|tree] --iface IF[:ROLE] [--iface IF2 ...] "
    "[--stats]\n"
    "\n"
    "Decode a candump log (candump -l / -L) or bare compact frames (ID#DATA) into Loxone Link /\n"
    "Tree messages, one line per frame; a completed fragmented packet adds one 'packet' line.\n"
    "Reads FILE, or standard input when FILE is '-' or missing.\n"
    "\n"
    "  --json        JSON lines instead of text (summary then goes to stderr)\n"
    "  --bus BUS     link (default; Loxone Link, NAT + legacy) or tree (a Tree branch)\n"
    "  --lenient     accept what can-utils accepts silently (see canproto/candump.hpp)\n"
    "  --events      typed device events instead of messages (as loxcan devices --events)\n"
    "  -i, --iface IF[:ROLE]  decode live frames from a CAN interface instead (repeatable;\n"
    "                ROLE link|tree-left|tree-right); ends on SIGINT/SIGTERM, SIGUSR1 prints\n"
    "                per-interface statistics to stderr\n"
    "  --stats       with --iface: print the statistics lines to stderr at the end\n"
    "  -h, --help    this text\n"
    "\n"
    "Unreadable lines are reported on stderr as FILE:LINE:COLUMN: reason and skipped; the exit\n"
    "status is then 65 (EX_DATAERR). The summary (counts per protocol and command, unknown and\n"
    "malformed frames) ends standard output in text mode and goes to stderr with --json.\n";

// ---- output buffer ------------------------------------------------------------------------------

class Out {
 public:
  explicit Out(int fd) : fd_(fd) {}
  ~Out() { flush(); }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  [[gnu::always_inline]] void put(char c) {
    reserve(1);
    buf_[n_++] = c;
  }
  // Inlined so that the many short literal pieces become fixed-size moves.
  [[gnu::always_inline]] void put(std::string_view s) {
    if (s.size() > kSize / 2) return put_large(s);
    reserve(s.size());
    std::memcpy(buf_.data() + n_, s.data(), s.size());
    n_ += s.size();
  }
  template <class Int>
  void dec(Int v) {
    reserve(24);
    n_ = static_cast<std::size_t>(std::to_chars(buf_.data() + n_, buf_.data() + n_ + 24, v).ptr -
                                  buf_.data());
  }
  void real(double v) {
    if (!std::isfinite(v)) return put("null");
    reserve(32);
    n_ = static_cast<std::size_t>(std::to_chars(buf_.data() + n_, buf_.data() + n_ + 32, v).ptr -
                                  buf_.data());
  }
  void hex(std::uint32_t v, int digits) {
    reserve(8);
    for (int k = digits - 1; k >= 0; --k) buf_[n_++] = kHexDigits[(v >> (4 * k)) & 0xF];
  }
  void hex_bytes(std::span<const std::uint8_t> b) {
    while (!b.empty()) {
      const std::size_t chunk = std::min<std::size_t>(b.size(), 4096);
      reserve(2 * chunk);
      for (std::size_t k = 0; k < chunk; ++k) {
        buf_[n_++] = kHexDigits[b[k] >> 4];
        buf_[n_++] = kHexDigits[b[k] & 0xF];
      }
      b = b.subspan(chunk);
    }
  }
  /// `"s"` for strings known to need no escaping (our own identifiers and reasons).
  [[gnu::always_inline]] void quoted(std::string_view s) {
    reserve(s.size() + 2);
    buf_[n_++] = '"';
    std::memcpy(buf_.data() + n_, s.data(), s.size());
    n_ += s.size();
    buf_[n_++] = '"';
  }
  /// `"s"` with JSON escapes; one copy when nothing needs escaping (the usual case).
  void json_string(std::string_view s) {
    bool plain = s.size() < kSize / 4;
    for (std::size_t k = 0; plain && k < s.size(); ++k) {
      const auto u = static_cast<unsigned char>(s[k]);
      plain = u >= 0x20 && u != '"' && u != '\\';
    }
    if (plain) {
      reserve(s.size() + 2);
      buf_[n_++] = '"';
      std::memcpy(buf_.data() + n_, s.data(), s.size());
      n_ += s.size();
      buf_[n_++] = '"';
      return;
    }
    put('"');
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        put('\\');
        put(c);
      } else if (u < 0x20) {
        put("\\u00");
        hex(u, 2);
      } else {
        put(c);
      }
    }
    put('"');
  }
  void flush() {
    write_all(buf_.data(), n_);
    n_ = 0;
  }
  bool failed() const { return failed_; }

 private:
  static constexpr std::size_t kSize = 1 << 18;
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  [[gnu::always_inline]] void reserve(std::size_t more) {
    if (n_ + more > kSize) [[unlikely]]
      flush();
  }
  void put_large(std::string_view s) {
    flush();
    write_all(s.data(), s.size());
  }
  void write_all(const char* p, std::size_t len) {
    while (len > 0 && !failed_) {
      const ssize_t w = ::write(fd_, p, len);
      if (w < 0) {
        if (errno == EINTR) continue;
        failed_ = true;
        return;
      }
      p += w;
      len -= static_cast<std::size_t>(w);
    }
  }
  int fd_;
  std::array<char, kSize> buf_{};
  std::size_t n_ = 0;
  bool failed_ = false;
};

// ---- field printers (the `V` of the bodies' visit())
// ---------------------------------------------

void json_string(Out& o, std::string_view s) {
  o.json_string(s);
}

struct JsonFields {
  Out& o;
  [[gnu::always_inline]] void key(std::string_view name) {
    o.put(",\"");
    o.put(name);
    o.put("\":");
  }
  void num(std::string_view n, std::uint64_t v) { key(n), o.dec(v); }
  void sint(std::string_view n, std::int64_t v) { key(n), o.dec(v); }
  void real(std::string_view n, double v) { key(n), o.real(v); }
  void flag(std::string_view n, bool v) { key(n), o.put(v ? "true" : "false"); }
  void hex(std::string_view n, std::uint32_t v, int digits) {
    key(n);
    o.put('"');
    o.hex(v, digits);
    o.put('"');
  }
  void text(std::string_view n, std::string_view v) { key(n), json_string(o, v); }
  void bytes(std::string_view n, std::span<const std::uint8_t> b) {
    key(n);
    o.put('"');
    o.hex_bytes(b);
    o.put('"');
  }
};

struct TextFields {
  Out& o;
  void key(std::string_view name) {
    o.put(' ');
    o.put(name);
    o.put('=');
  }
  void num(std::string_view n, std::uint64_t v) { key(n), o.dec(v); }
  void sint(std::string_view n, std::int64_t v) { key(n), o.dec(v); }
  void real(std::string_view n, double v) { key(n), o.real(v); }
  void flag(std::string_view n, bool v) { key(n), o.put(v ? "yes" : "no"); }
  void hex(std::string_view n, std::uint32_t v, int digits) { key(n), o.hex(v, digits); }
  void text(std::string_view n, std::string_view v) { key(n), json_string(o, v); }
  void bytes(std::string_view n, std::span<const std::uint8_t> b) { key(n), o.hex_bytes(b); }
};

// ---- counters -----------------------------------------------------------------------------------

struct Stats {
  std::uint64_t frames = 0, unknown = 0, malformed = 0, packets = 0, bad_packets = 0, abandoned = 0,
                fragment_problems = 0, parse_errors = 0, comments = 0;
  std::array<std::uint64_t, 3> per_protocol{};
  std::array<std::uint64_t, 256> nat{};
  std::array<std::array<std::uint64_t, 128>, 16> legacy{};
  std::uint64_t firmware_data = 0;
};

void print_summary(Out& o, const Stats& s) {
  o.put("summary: ");
  o.dec(s.frames);
  o.put(" frames (nat ");
  o.dec(s.per_protocol[0]);
  o.put(", legacy ");
  o.dec(s.per_protocol[1]);
  o.put(", unknown protocol ");
  o.dec(s.per_protocol[2]);
  o.put("), ");
  o.dec(s.unknown);
  o.put(" unknown, ");
  o.dec(s.malformed);
  o.put(" malformed, ");
  o.dec(s.packets);
  o.put(" packets (");
  o.dec(s.bad_packets);
  o.put(" bad checksum), ");
  o.dec(s.abandoned);
  o.put(" abandoned, ");
  o.dec(s.fragment_problems);
  o.put(" unusable fragments, ");
  o.dec(s.parse_errors);
  o.put(" unreadable lines\n");
  for (int c = 0; c < 256; ++c) {
    if (s.nat[c] == 0) continue;
    o.put("  nat ");
    o.put(cp::nat_command_name(static_cast<std::uint8_t>(c)));
    o.put(' ');
    o.dec(s.nat[c]);
    o.put('\n');
  }
  for (int t = 0; t < 16; ++t) {
    for (int c = 0; c < 128; ++c) {
      if (s.legacy[t][c] == 0) continue;
      o.put("  legacy ");
      o.put(cp::legacy_command_name(static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(t)));
      o.put(" (type ");
      o.hex(static_cast<std::uint32_t>(t), 1);
      o.put(") ");
      o.dec(s.legacy[t][c]);
      o.put('\n');
    }
  }
  if (s.firmware_data != 0) {
    o.put("  legacy firmware_data ");
    o.dec(s.firmware_data);
    o.put('\n');
  }
}

// ---- message printers ---------------------------------------------------------------------------

struct Printer {
  Printer(Out& out, bool as_json, Stats& counters) : o(out), json(as_json), stats(counters) {}
  Out& o;
  bool json;
  Stats& stats;

  std::int64_t last_secs = -1;
  char secs_text[24] = {};
  std::size_t secs_len = 0;

  void timestamp(const cp::Frame& f) {
    const std::int64_t ns = f.ts_ns < 0 ? 0 : f.ts_ns;
    const std::int64_t secs = ns / 1'000'000'000;
    if (secs != last_secs) {  // the seconds change once per second of capture: format them once
      last_secs = secs;
      secs_len = static_cast<std::size_t>(
          std::to_chars(secs_text, secs_text + sizeof secs_text, secs).ptr - secs_text);
    }
    o.put(std::string_view(secs_text, secs_len));
    o.put('.');
    const auto frac = static_cast<std::uint32_t>(ns % 1'000'000'000);
    char digits[9];
    std::uint32_t v = frac % 1000 == 0 ? frac / 1000 : frac;
    const int width = frac % 1000 == 0 ? 6 : 9;
    for (int k = width - 1; k >= 0; --k, v /= 10) digits[k] = static_cast<char>('0' + v % 10);
    o.put(std::string_view(digits, static_cast<std::size_t>(width)));
  }

  cp::IfaceName last_iface;
  std::string iface_json = "\"\"";

  void iface(const cp::IfaceName& name) {  // escaped once per interface change
    if (!(name == last_iface)) {
      last_iface = name;
      iface_json.clear();
      for (const char c : name.view()) {
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04X", static_cast<unsigned char>(c));
          iface_json += esc;
        } else {
          iface_json += c;
        }
      }
      iface_json = '"' + iface_json + '"';
    }
    o.put(iface_json);
  }

  // Common head of every record: ts, iface, kind, and the raw frame.
  void head(const cp::Frame& f, const char* kind, bool with_frame) {
    if (json) {
      o.put("{\"ts\":");
      timestamp(f);
      o.put(",\"iface\":");
      iface(f.iface);
      o.put(",\"kind\":\"");
      o.put(kind);
      o.put('"');
      if (with_frame) {
        o.put(",\"id\":\"");
        o.hex(f.id, f.extended || f.error ? 8 : 3);
        o.put("\",\"data\":\"");
        o.hex_bytes(f.payload());
        o.put('"');
      }
      return;
    }
    timestamp(f);
    o.put(' ');
    o.put(f.iface.empty() ? std::string_view("-") : f.iface.view());
    o.put(' ');
    if (with_frame) {
      char buf[cp::kMaxCompactText];
      o.put(std::string_view(buf, cp::format_compact(f, buf)));
    } else {
      o.put(kind);
    }
  }

  // `v` is one of canproto's static names or reasons: no escaping needed.
  void str_field(std::string_view k, std::string_view v) {
    if (json) {
      o.put(",\"");
      o.put(k);
      o.put("\":");
      o.quoted(v);
    } else {
      o.put(' ');
      const std::string_view key(k);
      if (key != "protocol" && key != "dir" && key != "cmd_name") {
        o.put(key);
        o.put('=');
        if (key == "reason" || key == "problem") return json_string(o, v);
      }
      o.put(v);
    }
  }
  void int_field(const char* k, std::int64_t v) {
    if (json) {
      o.put(",\"");
      o.put(k);
      o.put("\":");
    } else {
      o.put(' ');
      o.put(k);
      o.put('=');
    }
    o.dec(v);
  }
  void hex_field(const char* k, std::uint32_t v, int digits) {
    if (json) {
      o.put(",\"");
      o.put(k);
      o.put("\":\"");
      o.hex(v, digits);
      o.put('"');
    } else {
      o.put(' ');
      o.put(k);
      o.put('=');
      o.hex(v, digits);
    }
  }
  void end() { o.put(json ? "}\n" : "\n"); }

  template <class Body>
  void fields(const Body& b) {
    if (json) {
      JsonFields v{o};
      std::visit([&](const auto& x) { x.visit(v); }, b);
    } else {
      TextFields v{o};
      std::visit([&](const auto& x) { x.visit(v); }, b);
    }
  }

  // `,"protocol":"nat","dir":"…","cmd":N,"cmd_name":"…"` per (direction, command), built once.
  std::array<std::string, 3 * 256> nat_prefix;

  void nat_address(const cp::NatAddress& a, std::uint8_t cmd) {
    if (json) {
      std::string& p = nat_prefix[static_cast<std::size_t>(a.dir) * 256 + cmd];
      if (p.empty()) {
        p = std::string(",\"protocol\":\"nat\",\"dir\":\"") + cp::to_string(a.dir) +
            "\",\"cmd\":" + std::to_string(cmd) + ",\"cmd_name\":\"" + cp::nat_command_name(cmd) +
            '"';
      }
      o.put(p);
    } else {
      str_field("protocol", "nat");
      str_field("dir", cp::to_string(a.dir));
      int_field("cmd", cmd);
      str_field("cmd_name", cp::nat_command_name(cmd));
    }
    int_field("nat", a.nat);
    int_field("device_nat", a.device_nat);
  }

  void legacy_address(const cp::LegacyId& a, int cmd, const char* name) {
    str_field("protocol", "legacy");
    str_field("dir", cp::to_string(a.dir));
    int_field("cmd", cmd);
    str_field("cmd_name", name);
    int_field("type", a.type);
    hex_field("serial", a.serial(), 8);
    if (a.kind == cp::LegacyKind::firmware_data) int_field("package", a.package);
  }

  void residue(std::uint64_t r) {
    if (r == 0) return;
    std::uint8_t b[8];
    std::memcpy(b, &r, 8);
    if (json) {
      JsonFields{o}.bytes("residue", b);
    } else {
      TextFields{o}.bytes("residue", b);
    }
  }

  void nat(const cp::Frame& f, const cp::NatMessage& m) {
    const std::uint8_t cmd = cp::nat_command(m.body);
    ++stats.per_protocol[0];
    ++stats.nat[cmd];
    head(f, "frame", true);
    nat_address(m.addr, cmd);
    fields(m.body);
    residue(m.residue);
  }

  void legacy(const cp::Frame& f, const cp::LegacyMessage& m) {
    ++stats.per_protocol[1];
    head(f, "frame", true);
    if (m.addr.kind == cp::LegacyKind::firmware_data) {
      ++stats.firmware_data;
      legacy_address(m.addr, cp::legacy_cmd::kFirmwareDataPseudo, "firmware_data");
    } else {
      const std::uint8_t cmd = cp::legacy_command(m.body);
      ++stats.legacy[m.addr.type & 0xF][cmd & 0x7F];
      legacy_address(m.addr, cmd, cp::legacy_command_name(cmd, m.addr.type));
    }
    fields(m.body);
    residue(m.residue);
  }

  // Unknown and malformed frames: everything the id still tells, plus the reason.
  void problem(const cp::Frame& f, cp::Protocol p, const char* kind, const char* reason) {
    ++stats.per_protocol[static_cast<int>(p)];
    head(f, kind, true);
    str_field("protocol", cp::to_string(p));
    if (p == cp::Protocol::nat && f.extended) {
      const auto id = cp::parse_nat_id(f.id);
      const char* dir = id.dir_bits == cp::kNatDirServer     ? "to_device"
                        : id.dir_bits == cp::kNatDirShortcut ? "shortcut"
                        : id.dir_bits == cp::kNatDirDevice   ? "from_device"
                                                             : "illegal";
      str_field("dir", dir);
      int_field("cmd", id.cmd);
      str_field("cmd_name", cp::nat_command_name(id.cmd));
      int_field("nat", id.nat);
      if (f.len > 0) int_field("device_nat", f.data[0]);
    } else if (p == cp::Protocol::legacy && f.extended) {
      const auto id = cp::parse_legacy_id(f.id);
      str_field("dir", cp::to_string(id.dir));
      const int cmd = f.len > 0 ? (f.data[0] & 0x7F) : -1;
      int_field("cmd", cmd);
      str_field("cmd_name", cmd < 0
                                ? "unknown"
                                : cp::legacy_command_name(static_cast<std::uint8_t>(cmd), id.type));
      int_field("type", id.type);
      hex_field("serial", id.serial(), 8);
    } else if (json) {
      o.put(",\"dir\":null,\"cmd\":-1,\"cmd_name\":\"unknown\"");
    }
    str_field("reason", reason);
  }

  void message(const cp::Frame& f, const cp::Message& m) {
    ++stats.frames;
    if (const auto* n = std::get_if<cp::NatMessage>(&m)) {
      nat(f, *n);
    } else if (const auto* l = std::get_if<cp::LegacyMessage>(&m)) {
      legacy(f, *l);
    } else if (const auto* u = std::get_if<cp::UnknownMessage>(&m)) {
      ++stats.unknown;
      problem(f, u->protocol, "unknown", u->reason);
    } else {
      const auto& bad = std::get<cp::MalformedMessage>(m);
      ++stats.malformed;
      problem(f, bad.protocol, "malformed", bad.reason);
    }
  }

  void packet_head(const cp::Frame& f, const cp::PacketInfo& p, const char* kind) {
    head(f, kind, false);
    if (p.protocol == cp::Protocol::nat) {
      nat_address(p.nat, p.cmd);
    } else {
      legacy_address(p.legacy, p.cmd, cp::legacy_fragment_type_name(p.cmd));
    }
    int_field("size", p.size);
    hex_field("crc", p.check, p.protocol == cp::Protocol::nat ? 8 : 4);
  }

  void packet(const cp::Frame& f, const cp::PacketInfo& p, const cp::Message& m) {
    ++stats.packets;
    packet_head(f, p, "packet");
    if (json) {
      o.put(",\"crc_ok\":");
      o.put(p.crc_ok() ? "true" : "false");
      str_field("crc_match", cp::to_string(p.match));
      JsonFields{o}.bytes("payload", p.payload);
    } else {
      o.put(p.crc_ok() ? (p.match == cp::CrcMatch::truncated ? " crc_ok(truncated)" : " crc_ok")
                       : " CRC-MISMATCH");
    }
    if (const auto* n = std::get_if<cp::NatMessage>(&m)) {
      fields(n->body);
    } else if (const auto* l = std::get_if<cp::LegacyMessage>(&m)) {
      fields(l->body);
    } else {
      ++stats.bad_packets;
      hex_field("computed", p.computed, p.protocol == cp::Protocol::nat ? 8 : 4);
      str_field("reason", std::get<cp::MalformedMessage>(m).reason);
      if (!json) TextFields{o}.bytes("payload", p.payload);
    }
    end();
  }

  void abandoned(const cp::Frame& f, const cp::PacketInfo& p, const char* reason) {
    ++stats.abandoned;
    packet_head(f, p, "abandoned");
    int_field("received", static_cast<std::int64_t>(p.payload.size()));
    str_field("reason", reason);
    if (json) {
      JsonFields{o}.bytes("payload", p.payload);
    } else {
      TextFields{o}.bytes("payload", p.payload);
    }
    end();
  }
};

// ---- the loop -----------------------------------------------------------------------------------

enum class SourceStatus { frame, error, end };

/// Yields the next frame (or a parse error, or the end). A live CAN source fits the same shape.
using FrameSource = std::function<SourceStatus(cp::Frame&, std::string& error)>;

struct Options {
  bool json = false;
  bool events = false;  // typed device events (gateway/cli/cmd_devices.cpp)
  bool lenient = false;
  cp::Bus bus = cp::Bus::link;
  std::string input = "-";
  std::vector<IfaceSpec> ifaces;  // live source when not empty (gateway/canio)
  bool stats = false;
};

int run_decode_loop(const FrameSource& next, const Options& opt, Out& out) {
  Stats stats;
  Printer printer(out, opt.json, stats);
  cp::Decoder decoder(opt.bus);
  cp::Frame frame;
  cp::Frame last;  // time and interface for packets given up by expire()
  std::string error;
  auto on_expired = [&](const cp::PacketInfo& p, const char* why) {
    printer.abandoned(last, p, why);
  };
  for (std::uint64_t n = 0;; ++n) {
    const SourceStatus s = next(frame, error);
    if (s == SourceStatus::end) break;
    if (s == SourceStatus::error) {
      ++stats.parse_errors;
      out.flush();  // keep stdout and stderr in order for a reader of both
      std::fprintf(stderr, "loxcan decode: %s\n", error.c_str());
      continue;
    }
    last.ts_ns = frame.ts_ns;
    last.iface = frame.iface;
    if ((n & 1023) == 0 && decoder.pending_packets() != 0) decoder.expire(frame.ts_ns, on_expired);
    const cp::Decoded& d = decoder.feed(frame, frame.ts_ns);
    printer.message(frame, d.message);
    if (d.fragment_problem != nullptr) {
      ++stats.fragment_problems;
      printer.str_field("problem", d.fragment_problem);
    }
    printer.end();
    if (d.abandoned) printer.abandoned(frame, *d.abandoned, d.abandon_reason);
    if (d.packet) printer.packet(frame, *d.packet, *d.packet_message);
  }
  decoder.expire(std::numeric_limits<std::int64_t>::max(), on_expired);
  if (opt.json) {
    out.flush();
    Out err(STDERR_FILENO);
    print_summary(err, stats);
  } else {
    print_summary(out, stats);
  }
  out.flush();
  if (out.failed()) {
    std::fprintf(stderr, "loxcan decode: write error on standard output\n");
    return EX_IOERR;
  }
  return stats.parse_errors == 0 ? 0 : EX_DATAERR;
}

/// The file / stdin source: a LogReader over the stream.
FrameSource log_source(std::istream& in, const Options& opt, std::string name) {
  auto reader = std::make_shared<cp::LogReader>(in, cp::ParseOptions{opt.lenient, true});
  return [reader, name = std::move(name)](cp::Frame& f, std::string& error) {
    cp::ParseError e;
    switch (reader->next(f, e)) {
      case cp::LogReader::Status::frame: return SourceStatus::frame;
      case cp::LogReader::Status::end: return SourceStatus::end;
      case cp::LogReader::Status::error: break;
    }
    error = cp::format_error(e, name);
    return SourceStatus::error;
  };
}

/// The live source (gateway/cli/live_source.hpp): frames from CAN interfaces until a signal.
int run_live(const Options& opt, Out& out) {
  LiveOptions live_opt;
  live_opt.stats = opt.stats;
  LiveSource live(opt.ifaces, live_opt);
  if (const int rc = live.start("loxcan decode"); rc != 0) return rc;
  live.set_idle_hook([&out] { out.flush(); });  // show what was decoded before waiting
  const int rc = run_decode_loop(
      [&live](cp::Frame& f, std::string&) {
        return live.next(f) ? SourceStatus::frame : SourceStatus::end;
      },
      opt, out);
  live.finish();
  return rc;
}

int parse_options(int argc, char** argv, Options& opt) {
  static const option kLong[] = {
      {"json", no_argument, nullptr, 'j'},        {"bus", required_argument, nullptr, 'b'},
      {"lenient", no_argument, nullptr, 'l'},     {"help", no_argument, nullptr, 'h'},
      {"iface", required_argument, nullptr, 'i'}, {"stats", no_argument, nullptr, 's'},
      {"events", no_argument, nullptr, 'e'},      {nullptr, 0, nullptr, 0}};
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "jb:lhi:", kLong, nullptr)) != -1;) {
    switch (c) {
      case 'i':
        if (auto spec = parse_iface_spec(optarg)) {
          opt.ifaces.push_back(*spec);
        } else {
          std::fprintf(stderr,
                       "loxcan decode: bad --iface '%s' (NAME[:link|tree-left|tree-right])\n",
                       optarg);
          return EX_USAGE;
        }
        break;
      case 's': opt.stats = true; break;
      case 'e': opt.events = true; break;
      case 'j': opt.json = true; break;
      case 'l': opt.lenient = true; break;
      case 'b':
        if (std::string_view(optarg) == "link") {
          opt.bus = cp::Bus::link;
        } else if (std::string_view(optarg) == "tree") {
          opt.bus = cp::Bus::tree;
        } else {
          std::fprintf(stderr, "loxcan decode: --bus must be 'link' or 'tree', not '%s'\n", optarg);
          return EX_USAGE;
        }
        break;
      case 'h': std::fputs(kUsage, stdout); return -1;
      default: std::fputs(kUsage, stderr); return EX_USAGE;
    }
  }
  if (argc - optind > 1) {
    std::fprintf(stderr, "loxcan decode: at most one input file\n");
    return EX_USAGE;
  }
  if (optind < argc && !opt.ifaces.empty()) {
    std::fprintf(stderr, "loxcan decode: --iface and an input file exclude each other\n");
    return EX_USAGE;
  }
  if (optind < argc) opt.input = argv[optind];
  return 0;
}

}  // namespace

int run_decode(int argc, char** argv) {
  Options opt;
  if (const int rc = parse_options(argc, argv, opt); rc != 0) return rc < 0 ? 0 : rc;
  std::ios::sync_with_stdio(false);
  if (opt.events) {  // device events of a capture; the live equivalent is loxcan-gateway
    if (!opt.ifaces.empty()) {
      std::fprintf(stderr, "loxcan decode: --events needs a file or stdin\n");
      return EX_USAGE;
    }
    return print_device_events(
        {opt.input, opt.json, opt.lenient, opt.bus == cp::Bus::tree, "", "loxcan decode"});
  }
  auto out = std::make_unique<Out>(STDOUT_FILENO);
  if (!opt.ifaces.empty()) return run_live(opt, *out);
  if (opt.input == "-") return run_decode_loop(log_source(std::cin, opt, "<stdin>"), opt, *out);
  std::ifstream file(opt.input, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "loxcan decode: cannot open %s: %s\n", opt.input.c_str(),
                 std::strerror(errno));
    return EX_NOINPUT;
  }
  return run_decode_loop(log_source(file, opt, opt.input), opt, *out);
}

}  // namespace loxcan::cli
