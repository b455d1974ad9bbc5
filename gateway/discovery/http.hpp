#pragma once
// One blocking HTTP GET through libcurl, shaped for discovery: no redirects followed, bounded
// time and size, only http/https. Used for upnp.xml and the Cloud DNS lookup.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/discovery/expected.hpp"

namespace loxcan::discovery {

struct HttpRequest {
  std::string url;
  std::chrono::milliseconds timeout{3000};  ///< whole transfer, connect included
  std::size_t max_body = 64 * 1024;         ///< a longer body is an error (kTooLarge)
  bool use_proxy = false;  ///< false: ignore http_proxy & co. (LAN targets); true: honour them
  std::function<bool()> cancelled;  ///< polled during the transfer; true aborts it
};

struct HttpResponse {
  long status = 0;       ///< e.g. 200, 302
  std::string location;  ///< the Location header as sent, not resolved ("" if none)
  std::string body;
};

enum class HttpErrorKind { kTimeout, kUnreachable, kTooLarge, kCancelled, kOther };

struct HttpError {
  HttpErrorKind kind;
  std::string message;  ///< curl's explanation, e.g. "Connection refused"
};

/// The parts of an absolute http(s) URL that discovery needs, parsed by libcurl's URL API.
struct HttpUrl {
  bool https = false;
  std::string host;        ///< IPv4 literal, name, or "[v6]"
  std::uint16_t port = 0;  ///< explicit, else 80/443
};

/// Parses an absolute http:// or https:// URL with a host; nullopt on anything else (including
/// whitespace inside, other schemes, relative references, a port outside 1..65535).
std::optional<HttpUrl> parse_http_url(std::string_view url);

/// Performs the GET; any HTTP status is a response (the caller judges it), transport failures
/// are HttpError. Thread-safe (curl_global_init is done once, before the first request).
Expected<HttpResponse, HttpError> http_get(const HttpRequest& req);

}  // namespace loxcan::discovery
