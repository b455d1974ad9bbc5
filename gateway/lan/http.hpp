#pragma once
// One blocking HTTP GET through cpp-httplib, shaped for discovery: never follows a redirect
// (the Location is returned), bounded in time and size, only http and https (verified against
// the system CA store; OpenSSL's SSL_CERT_FILE/SSL_CERT_DIR override it). Used for upnp.xml and
// the Cloud DNS lookup.
//
//   HttpRequest req;
//   req.url = "http://10.0.0.2:80/upnp.xml";
//   req.timeout = std::chrono::seconds(2);
//   req.stop = stop_token;                      // optional: abort from another thread
//   auto r = http_get(req);
//   if (r && r->status == 200) use(r->body); else if (!r) log(r.error().message);
//
// Guarantees: the whole request (name lookup, connect, TLS, headers, body) ends by `timeout`;
// a stop request aborts it at once, or when a connection attempt in progress ends (at most the
// timeout); no compression is asked for; a body over max_body is an error, not truncated.
// Limitation of cpp-httplib 0.11: header values are percent-decoded by the library, so a
// Location "http://h/%41" is returned as "http://h/A".

#include <chrono>
#include <cstddef>
#include <stop_token>
#include <string>

#include "gateway/lan/expected.hpp"
#include "gateway/lan/url.hpp"

namespace loxcan::lan {

struct HttpRequest {
  std::string url;                          ///< absolute http(s) URL as parse_http_url accepts it
  std::chrono::milliseconds timeout{3000};  ///< the whole request
  std::size_t max_body = 64 * 1024;         ///< a longer body is an error (kTooLarge)
  /// false: ignore proxy variables (LAN targets). true: like curl, use http_proxy for http,
  /// https_proxy/HTTPS_PROXY for https, else all_proxy/ALL_PROXY, unless no_proxy/NO_PROXY
  /// lists the host ("*", "name", ".suffix", exact address); only http:// proxies.
  bool use_proxy = false;
  std::stop_token stop;  ///< stop requested: the request ends with kCancelled
};

struct HttpResponse {
  int status = 0;        ///< e.g. 200, 302
  std::string location;  ///< the Location header (see the limitation above), "" if none
  std::string body;
};

enum class HttpErrorKind {
  kBadUrl,       ///< the URL (or a proxy variable) is not usable
  kTimeout,      ///< not done within the timeout
  kUnreachable,  ///< name not resolved, connection refused or unreachable
  kTooLarge,     ///< body over max_body
  kCancelled,    ///< stop requested
  kTls,          ///< handshake or certificate verification failed
  kOther         ///< connection closed early, reply is not HTTP, ...
};

struct HttpError {
  HttpErrorKind kind;
  std::string message;  ///< e.g. "connection to 127.0.0.1:1 refused or unreachable"
};

/// Performs the GET; any HTTP status is a response (the caller judges it), everything else is
/// an HttpError. Thread-safe; SIGPIPE is never raised (blocked in the calling thread meanwhile).
Expected<HttpResponse, HttpError> http_get(const HttpRequest& req);

}  // namespace loxcan::lan
