// The web server's request parser (gateway/web/http_request.cpp) on arbitrary bytes, fed as one
// piece, byte by byte, and in chunks whose sizes come from the first input byte. Input: byte 0
// seeds the chunk sizes, the rest is what a client sends (possibly several pipelined requests).
// Must never crash; must never complete a request whose body is above the limit or whose head is
// above the limit; every way of splitting the bytes must give the same requests and the same
// error; feed() never takes more than it was given.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/web/http_request.hpp"

namespace {

using loxcan::web::HttpRequest;
using loxcan::web::HttpRequestParser;

constexpr HttpRequestParser::Limits kLimits{512, 1024};

// Everything a parse produced, for comparing one split with another.
std::string outcome(const std::string_view in, std::uint8_t seed, int mode) {
  HttpRequestParser p(kLimits);
  std::string out;
  std::size_t pos = 0;
  std::uint32_t rng = seed * 2654435761u + 1;
  std::string pending;  // bytes given to the parser but not taken yet (a pipelined rest)
  while (pos < in.size() || !pending.empty()) {
    std::size_t n = in.size() - pos;
    if (mode == 1) n = std::min<std::size_t>(n, 1);
    if (mode == 2) {
      rng = rng * 1103515245u + 12345u;
      n = std::min<std::size_t>(n, 1 + (rng >> 16) % 64);
    }
    pending.append(in.substr(pos, n));
    pos += n;
    for (;;) {
      const std::size_t used = p.feed(pending);
      if (used > pending.size()) __builtin_trap();
      pending.erase(0, used);
      if (p.state() == HttpRequestParser::State::error) {
        if (p.error_status() < 400 || p.error_status() > 599) __builtin_trap();
        return out + "E" + std::to_string(p.error_status()) + p.error_message();
      }
      if (p.state() != HttpRequestParser::State::complete) break;
      const HttpRequest& r = p.request();
      if (r.body.size() > kLimits.max_body) __builtin_trap();
      if (r.path.empty() || r.target.empty() || r.target[0] != '/') __builtin_trap();
      out += r.method + ' ' + r.target + ' ' + r.path + ' ' + std::to_string(r.minor_version) +
             (r.keep_alive ? "k" : "c") + '\n';
      for (const auto& [k, v] : r.query) out += "q " + k + '=' + v + '\n';
      for (const auto& [k, v] : r.headers) {
        for (char c : k) {
          if (c >= 'A' && c <= 'Z') __builtin_trap();  // names are stored lower case
        }
        out += "h " + k + ':' + v + '\n';
      }
      out += "b " + r.body + '\n';
      p.reset();
      if (pending.empty()) break;
    }
    if (pos >= in.size()) break;  // the rest is an incomplete request: nothing more to give
  }
  return out + (p.state() == HttpRequestParser::State::incomplete ? "I" : "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string whole = outcome(in, data[0], 0);
  if (outcome(in, data[0], 1) != whole) __builtin_trap();
  if (outcome(in, data[0], 2) != whole) __builtin_trap();
  return 0;
}
