#pragma once
// SSDP (UPnP 1.0 discovery over UDP multicast 239.255.255.250:1900): the M-SEARCH we send and a
// parser for what comes back (unicast responses) or is announced (NOTIFY). Pure.
//
// Accepted input: one datagram of at most kMaxSsdpMessage bytes, a start line and header lines
// separated by CRLF (a bare LF is tolerated), ending at an empty line or the end of the datagram:
//   HTTP/1.1 200 OK                                  -> SsdpKind::kResponse (status 200)
//   NOTIFY * HTTP/1.1                                -> SsdpKind::kNotify
//   M-SEARCH * HTTP/1.1                              -> SsdpKind::kSearch (someone else searching)
// Header names are case-insensitive; "NAME:value" and "NAME: value" both work; the first
// occurrence of a header wins; unknown headers are ignored. Errors: empty, too long, another start
// line, a header line without 'NAME:' (a name
// without spaces), a NUL or control byte in the header part.
// A Miniserver answers e.g.
//   HTTP/1.1 200 OK / CACHE-CONTROL:max-age=3600 / ST:upnp:rootdevice /
//   USN:uuid:aabbccdd-eeff-0011-2233-445566778899::upnp:rootdevice / EXT: /
//   SERVER:Loxone Miniserver Loxone Miniserver UPnP/1.0 /
//   LOCATION:http://192.168.178.32:80/upnp.xml

#include <cstddef>
#include <string>
#include <string_view>

#include "gateway/lan/expected.hpp"

namespace loxcan::lan {

inline constexpr std::size_t kMaxSsdpMessage = 8192;
inline constexpr const char* kSsdpGroup = "239.255.255.250";
inline constexpr unsigned short kSsdpPort = 1900;

enum class SsdpKind { kResponse, kNotify, kSearch };

struct SsdpMessage {
  SsdpKind kind = SsdpKind::kResponse;
  int status = 0;        ///< HTTP status of a response (0 for NOTIFY/M-SEARCH)
  std::string location;  ///< LOCATION
  std::string server;    ///< SERVER
  std::string usn;       ///< USN
  std::string target;    ///< ST of a response/search, NT of a NOTIFY
  std::string nts;       ///< NTS of a NOTIFY ("ssdp:alive", "ssdp:byebye")

  /// A live Miniserver announcement/answer: SERVER contains "Loxone Miniserver", a 200 response
  /// or an "ssdp:alive" NOTIFY, and a LOCATION.
  bool is_loxone_miniserver() const;
};

struct SsdpParseError {
  std::size_t offset;
  std::string message;  ///< e.g. "header line without ':' at offset 17"
};

Expected<SsdpMessage, SsdpParseError> parse_ssdp(std::string_view datagram);

/// The Miniserver name in its SERVER header: "Loxone Miniserver Haus UPnP/1.0" -> "Haus";
/// "" if the header has no such shape.
std::string ssdp_server_name(std::string_view server);

/// The M-SEARCH for upnp:rootdevice; mx (1..5) is how long responders may wait before answering.
std::string ssdp_msearch(int mx);

}  // namespace loxcan::lan
