#pragma once
// Loxone Cloud DNS lookup: GET http://dns.loxonecloud.com/<serial> answers with a redirect whose
// Location is the Miniserver's current external address. We read that Location and never fetch
// the target (it is the user's Miniserver, possibly behind a router's port forward).
//
// Redirect forms understood (any 3xx status with a Location):
//   http://203.0.113.7:8080/                 -> address 203.0.113.7, port 8080, https false
//   https://203.0.113.7/                     -> port 443 (scheme default), https true
//   https://203-0-113-7.504f11223344.dyndns.loxonecloud.com:4443/
//                                            -> host as given, address 203.0.113.7 taken from
//                                               the dashed first label, port 4443, https true
//   anything else with an http(s) URL and a host -> host reported, address empty
// Errors (CloudDnsError), each with a message naming the serial and what came back:
//   kInvalidSerial  SERIAL is not 12 hex digits (checked before any network access)
//   kUnknownSerial  404 or 410: the Cloud DNS does not know this Miniserver (Loxone does not
//                   document its answer for unknown serials; 404/410 is the HTTP meaning)
//   kTimeout        no complete answer within the timeout
//   kUnreachable    connection refused / cannot resolve the Cloud DNS host
//   kBadReply       anything else: no redirect, no Location, a Location that parse_http_url
//                   (url.hpp) refuses (relative, not http(s), user:password@, spaces, ...; the
//                   message gives the reason), a reply that is not HTTP, a TLS failure

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/lan/expected.hpp"

namespace loxcan::lan {

inline constexpr const char* kCloudDnsBaseUrl = "http://dns.loxonecloud.com";

enum class CloudDnsErrorKind { kInvalidSerial, kUnknownSerial, kTimeout, kUnreachable, kBadReply };

struct CloudDnsError {
  CloudDnsErrorKind kind;
  std::string message;
};

struct CloudDnsAnswer {
  std::string serial;    ///< canonical (upper case)
  std::string location;  ///< the redirect target as received (%XX decoded, see http.hpp)
  std::string host;      ///< host of the target: an IPv4 literal or a name
  std::string address;   ///< IPv4 of the Miniserver if known (literal host or dashed label)
  std::uint16_t port = 0;
  bool https = false;
};

/// Interprets a Cloud DNS reply (pure; fuzzed). `status` is the HTTP status, `location` the
/// Location header (absolute URL). Precondition: is_serial(serial).
Expected<CloudDnsAnswer, CloudDnsError> parse_cloud_dns_reply(std::string_view serial, long status,
                                                              std::string_view location);

/// Validates `serial`, then GETs `<base_url>/<SERIAL>` (base_url without trailing '/', e.g.
/// kCloudDnsBaseUrl; proxy variables are honoured as HttpRequest::use_proxy describes, https is
/// verified against the system CA store) and interprets the reply. Never follows the redirect.
Expected<CloudDnsAnswer, CloudDnsError> cloud_dns_resolve(std::string_view serial,
                                                          std::string_view base_url,
                                                          std::chrono::milliseconds timeout);

/// The answer as one JSON object:
///   {"serial":"504F11223344","host":"203.0.113.7","address":"203.0.113.7","port":8080,
///    "https":false,"url":"http://203.0.113.7:8080/"}   (address null when unknown)
std::string cloud_dns_json(const CloudDnsAnswer& a);

}  // namespace loxcan::lan
