#include "gateway/web/http_request.hpp"

#include <algorithm>
#include <charconv>

namespace loxcan::web {
namespace {

// RFC 9110 tchar: the characters of a method or header name.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// Field values: visible characters, space, tab and obs-text; no controls (CR, LF, NUL, ...).
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || c >= 0x20 ? c != 0x7f : false;
  });
}

// Request targets: visible ASCII only (no spaces, controls or raw bytes above 0x7e).
bool is_target(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c > 0x20 && c < 0x7f;
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Index just past the blank line that ends the head ("\n\n" or "\n\r\n"), searching from `from`;
// npos when not there yet.
std::size_t head_end(std::string_view s, std::size_t from) {
  for (std::size_t i = s.find('\n', from); i != std::string_view::npos; i = s.find('\n', i + 1)) {
    if (i + 1 < s.size() && s[i + 1] == '\n') return i + 2;
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

// Does the comma-separated list `value` contain `token` (case-insensitive)?
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (lower(trim(value.substr(0, comma))) == token) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += plus_is_space && c == '+' ? ' ' : c;
    }
  }
  return true;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

void HttpRequestParser::reset() {
  phase_ = Phase::head;
  state_ = State::incomplete;
  head_.clear();
  body_length_ = 0;
  request_ = HttpRequest{};
  path_hint_.clear();
  error_status_ = 0;
  error_message_.clear();
}

void HttpRequestParser::fail(int status, std::string message) {
  state_ = State::error;
  error_status_ = status;
  error_message_ = std::move(message);
}

std::size_t HttpRequestParser::feed(std::string_view bytes) {
  std::size_t used = 0;
  while (state_ == State::incomplete && used < bytes.size()) {
    const std::string_view rest = bytes.substr(used);
    used += phase_ == Phase::head ? feed_head(rest) : feed_body(rest);
  }
  return used;
}

std::size_t HttpRequestParser::feed_head(std::string_view bytes) {
  std::size_t skipped = 0;
  if (head_.empty()) {  // RFC 9112 2.2: empty lines before the request line are ignored
    while (skipped < bytes.size() && (bytes[skipped] == '\r' || bytes[skipped] == '\n')) ++skipped;
    bytes.remove_prefix(skipped);
    if (bytes.empty()) return skipped;
  }
  const std::size_t old = head_.size();
  // One byte over the limit is enough to know a head does not fit.
  const std::size_t room = limits_.max_head + 1 - old;
  head_.append(bytes.substr(0, room));
  const std::size_t end = head_end(head_, old >= 2 ? old - 2 : 0);
  if (end == std::string::npos || end > limits_.max_head) {
    if (head_.size() > limits_.max_head) {
      const auto nl = head_.find('\n');
      if (nl != std::string::npos) parse_request_line(std::string_view(head_).substr(0, nl));
      fail(431, "request line and header fields larger than " + std::to_string(limits_.max_head) +
                    " bytes");
    }
    return skipped + (head_.size() - old);
  }
  const std::size_t taken = end - old;
  head_.resize(end);
  parse_head();
  return skipped + taken;
}

std::size_t HttpRequestParser::feed_body(std::string_view bytes) {
  const std::size_t n = std::min(bytes.size(), body_length_ - request_.body.size());
  request_.body.append(bytes.substr(0, n));
  if (request_.body.size() == body_length_) state_ = State::complete;
  return n;
}

void HttpRequestParser::parse_head() {
  std::string_view head = head_;
  bool first = true;
  while (!head.empty()) {
    const auto nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the blank line: end of the head
    if (first ? !parse_request_line(line) : !parse_header_line(line)) return;
    first = false;
  }
  if (!finish_headers()) return;
  head_.clear();
  head_.shrink_to_fit();
  if (body_length_ == 0) {
    state_ = State::complete;
  } else {
    request_.body.reserve(body_length_);
    phase_ = Phase::body;
  }
}

bool HttpRequestParser::parse_request_line(std::string_view line) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    fail(400, "malformed request line (expected METHOD /path HTTP/1.1)");
    return false;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) {
    fail(400, "malformed method");
    return false;
  }
  request_.method = std::string(method);
  if (is_target(target)) path_hint_ = std::string(target.substr(0, target.find('?')));
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      hex_digit(version[5]) < 0 || hex_digit(version[5]) > 9 || hex_digit(version[7]) < 0 ||
      hex_digit(version[7]) > 9) {
    fail(400, "malformed HTTP version");
    return false;
  }
  if (version[5] != '1') {
    fail(505, "HTTP version " + std::string(version.substr(5)) + " not supported (use 1.1)");
    return false;
  }
  request_.minor_version = version[7] - '0';
  request_.keep_alive = request_.minor_version >= 1;
  request_.head_only = method == "HEAD";
  if (target.empty() || target.front() != '/' || !is_target(target)) {
    fail(400, "malformed request target (expected an absolute path)");
    return false;
  }
  request_.target = std::string(target);
  const auto q = target.find('?');
  if (!percent_decode(target.substr(0, q), request_.path, false)) {
    fail(400, "malformed percent escape in the path");
    return false;
  }
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string key, value;
    if (!percent_decode(pair.substr(0, eq), key, true) ||
        (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value, true))) {
      fail(400, "malformed percent escape in the query");
      return false;
    }
    if (request_.query.size() < kMaxQueryParams) request_.query.emplace(key, value);
  }
  return true;
}

bool HttpRequestParser::parse_header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    fail(400, "folded header line (obsolete line folding is not accepted)");
    return false;
  }
  const auto colon = line.find(':');
  const std::string_view name = line.substr(0, colon);
  if (colon == std::string_view::npos || !is_token(name)) {
    fail(400, "malformed header line");
    return false;
  }
  const std::string_view value = trim(line.substr(colon + 1));
  if (!is_field_value(value)) {
    fail(400, "control character in header " + std::string(name));
    return false;
  }
  if (request_.headers.size() >= kMaxHeaders) {
    fail(431, "more than " + std::to_string(kMaxHeaders) + " header fields");
    return false;
  }
  request_.headers.emplace_back(lower(name), std::string(value));
  return true;
}

bool HttpRequestParser::finish_headers() {
  const std::string* length = nullptr;
  for (const auto& [name, value] : request_.headers) {
    if (name == "transfer-encoding") {
      if (has_token(value, "chunked")) {
        fail(411, "chunked request bodies are not accepted: send Content-Length");
      } else {
        fail(501, "Transfer-Encoding " + value + " not implemented");
      }
      return false;
    }
    if (name == "content-length") {
      if (length != nullptr && *length != value) {
        fail(400, "conflicting Content-Length headers");
        return false;
      }
      length = &value;
    }
    if (name == "connection") {
      if (has_token(value, "close")) request_.keep_alive = false;
      if (has_token(value, "keep-alive")) request_.keep_alive = true;
    }
  }
  if (length != nullptr) {
    std::size_t n = 0;
    const char* b = length->data();
    const char* e = b + length->size();
    auto [p, ec] = std::from_chars(b, e, n);
    if (length->empty() || p != e || ec == std::errc::invalid_argument) {
      fail(400, "malformed Content-Length");
      return false;
    }
    if (ec == std::errc::result_out_of_range || n > limits_.max_body) {
      fail(413, "request body larger than " + std::to_string(limits_.max_body) + " bytes");
      return false;
    }
    body_length_ = n;
  }
  return true;
}

}  // namespace loxcan::web
