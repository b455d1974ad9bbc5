#pragma once
// HttpRequestParser: an incremental HTTP/1.x request parser for the web view's own server
// (http_server.hpp). Pure: bytes in, a request or an error out, no I/O and no clock, so the
// fuzz target (fuzz/web/fuzz_http_request.cpp) runs it on arbitrary bytes split anyhow.
//
// Contract:
//   - feed(bytes) consumes a prefix of `bytes` and returns how many it took; it never takes bytes
//     beyond the end of the current request (pipelined requests stay with the caller). Feed the
//     rest again after reset(). A request split into any chunks parses exactly as when fed whole.
//   - state() is incomplete (feed more), complete (request() is valid) or error (error_status(),
//     error_message(); the connection must answer and close: the stream is out of sync).
//   - Accepted: request line `METHOD SP origin-form SP HTTP/1.0|HTTP/1.1`, header fields
//     `name: value` (names matched case-insensitively, stored lower case), CRLF or bare LF line
//     ends, empty lines before the request line ignored, a body of exactly Content-Length bytes.
//   - Refused: request line + header fields larger than Limits::max_head -> 431; Content-Length
//     above Limits::max_body -> 413 (at once, before a byte of the body is read); any
//     Transfer-Encoding on a request -> 411 for chunked (send Content-Length), 501 for others;
//     HTTP/2+ or HTTP/0.x -> 505; everything malformed (bad tokens, bad percent escapes, folded
//     or duplicate-conflicting headers, a target not starting with '/') -> 400.
//   - The path is percent-decoded ('+' stays '+'); query parameters are split at '&' and '=' and
//     decoded with '+' as space (a repeated key keeps its first value, at most kMaxQueryParams).

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loxcan::web {

struct HttpRequest {
  std::string method;  ///< as sent ("GET", "POST", ...), case-sensitive per RFC 9110
  std::string target;  ///< the raw request target ("/api/frames?n=10")
  std::string path;    ///< percent-decoded, without the query
  std::map<std::string, std::string> query;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower case, in order
  std::string body;
  int minor_version = 1;   ///< HTTP/1.<minor>
  bool keep_alive = true;  ///< HTTP/1.1 unless "Connection: close"; 1.0 only with keep-alive
  bool head_only = false;  ///< HEAD: the answer carries no body

  /// The value of header `lower_name` (first occurrence) or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

class HttpRequestParser {
 public:
  struct Limits {
    std::size_t max_head = 16 * 1024;   ///< request line + header fields, terminator included
    std::size_t max_body = 256 * 1024;  ///< Content-Length
  };
  enum class State { incomplete, complete, error };
  static constexpr std::size_t kMaxHeaders = 64;
  static constexpr std::size_t kMaxQueryParams = 32;

  HttpRequestParser() = default;
  explicit HttpRequestParser(Limits limits) : limits_(limits) {}

  /// Consumes a prefix of `bytes` (see the contract above). Nothing is consumed in state
  /// complete or error.
  std::size_t feed(std::string_view bytes);
  State state() const { return state_; }
  /// The request (state complete). take_request() moves it out.
  const HttpRequest& request() const { return request_; }
  HttpRequest take_request() { return std::move(request_); }
  /// state error: the status to answer (400, 411, 413, 431, 501, 505) and why.
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }
  /// For an error answer: the method and target as far as they were read ("" when unknown).
  const std::string& method() const { return request_.method; }
  const std::string& path_hint() const { return path_hint_; }
  /// Ready for the next request on the same connection (keeps the limits).
  void reset();
  const Limits& limits() const { return limits_; }

 private:
  enum class Phase { head, body };
  std::size_t feed_head(std::string_view bytes);
  std::size_t feed_body(std::string_view bytes);
  void parse_head();
  bool parse_request_line(std::string_view line);
  bool parse_header_line(std::string_view line);
  bool finish_headers();
  void fail(int status, std::string message);

  Limits limits_;
  Phase phase_ = Phase::head;
  State state_ = State::incomplete;
  std::string head_;
  std::size_t body_length_ = 0;
  HttpRequest request_;
  std::string path_hint_;
  int error_status_ = 0;
  std::string error_message_;
};

/// "%41b+c" -> "Ab+c" (plus_is_space: "Ab c"); false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);
/// The reason phrase of a status ("Not Found"); "Unknown" for others.
std::string_view reason_phrase(int status);

}  // namespace loxcan::web
