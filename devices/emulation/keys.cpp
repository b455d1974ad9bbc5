#include "devices/emulation/keys.hpp"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace loxcan::emulation {
namespace {

constexpr std::array<std::string_view, 5> kNames = {"algo_key", "algo_iv", "legacy_key",
                                                    "legacy_iv", "master_device_id"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool parse_word(std::string_view tok, std::uint32_t& out) {
  if (tok.size() > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) tok.remove_prefix(2);
  if (tok.empty() || tok.size() > 8) return false;
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), out, 16);
  return ec == std::errc{} && p == tok.data() + tok.size();
}

bool parse_words(std::string_view value, Words4& out) {
  auto toks = split_ws(value);
  if (toks.size() != 4) return false;
  for (std::size_t i = 0; i < 4; ++i)
    if (!parse_word(toks[i], out[i])) return false;
  return true;
}

bool parse_id(std::string_view value, DeviceId& out) {
  std::string hex;
  for (auto t : split_ws(value)) hex += t;
  if (hex.size() != 24) return false;
  for (std::size_t i = 0; i < 12; ++i) {
    auto [p, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, out[i], 16);
    if (ec != std::errc{} || p != hex.data() + 2 * i + 2) return false;
  }
  return true;
}

[[noreturn]] void fail(std::string_view origin, std::size_t line, const std::string& what) {
  throw KeyFileError(std::string(origin) + ":" + std::to_string(line) + ": " + what);
}

}  // namespace

KeySet parse_key_file(std::string_view text, std::string_view origin) {
  KeySet keys;
  std::array<bool, 5> seen{};
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    auto eq = line.find_first_of("=:");
    if (eq == std::string_view::npos)
      fail(origin, line_no, "expected 'name: value' (or 'name = value')");
    const auto name = trim(line.substr(0, eq));
    const auto value = trim(line.substr(eq + 1));
    std::size_t k = 0;
    while (k < kNames.size() && kNames[k] != name) ++k;
    if (k == kNames.size())
      fail(origin, line_no,
           "unknown key '" + std::string(name) +
               "' (expected algo_key, algo_iv, legacy_key, legacy_iv, master_device_id)");
    if (seen[k]) fail(origin, line_no, "duplicate key '" + std::string(name) + "'");
    seen[k] = true;
    bool ok = false;
    switch (k) {
      case 0: ok = parse_words(value, keys.algo_key); break;
      case 1: ok = parse_words(value, keys.algo_iv); break;
      case 2: ok = parse_words(value, keys.legacy_key); break;
      case 3: ok = parse_words(value, keys.legacy_iv); break;
      default: ok = parse_id(value, keys.master_device_id); break;
    }
    if (!ok)
      fail(origin, line_no,
           std::string(name) + (k < 4 ? ": expected 4 hex words of up to 8 digits"
                                      : ": expected 24 hex digits (12 bytes)"));
  }
  for (std::size_t k = 0; k < kNames.size(); ++k)
    if (!seen[k]) fail(origin, line_no, "missing key '" + std::string(kNames[k]) + "'");
  return keys;
}

KeySet load_key_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw KeyFileError(path + ": cannot read key file: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw KeyFileError(path + ": key file is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw KeyFileError(path + ": key file has mode " + mode +
                       ", must not be readable by group or others (chmod 600 " + path + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw KeyFileError(path + ": cannot read key file: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_key_file(text.str(), path);
}

std::string format_key_file(const KeySet& keys) {
  std::string out = "# loxcan key file: secret, keep mode 0600\n";
  auto words = [&](std::string_view name, const Words4& w) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%-17s %08x %08x %08x %08x\n", (std::string(name) + ":").c_str(),
                  w[0], w[1], w[2], w[3]);
    out += buf;
  };
  words("algo_key", keys.algo_key);
  words("algo_iv", keys.algo_iv);
  words("legacy_key", keys.legacy_key);
  words("legacy_iv", keys.legacy_iv);
  out += "master_device_id: ";
  for (auto b : keys.master_device_id) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  out += '\n';
  return out;
}

}  // namespace loxcan::emulation
