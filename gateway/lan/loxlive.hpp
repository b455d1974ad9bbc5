#pragma once
// Parser for the Miniserver's answer to the UDP discovery probe (a single 0x00 byte broadcast to
// UDP 7070; the answer arrives on UDP 7071). Pure: bytes in, fields or an error out.
//
// Accepted input (one datagram; trailing NUL, CR, LF and spaces are ignored; the space after
// "LoxLIVE:" is optional):
//   LoxLIVE: <name> <IPv4>:<port> <serial> [<firmware>] [Prog:<YYYY-MM-DD HH:MM:SS>] [Type:<n>]
//            [HwId:<id>] [IPv6:<raw until the end>]
// e.g.
//   LoxLIVE: Loxone Miniserver 192.168.178.32:80 504F11223344 10.2.3.26 Prog:2019-04-24 21:08:03
//   Type:0 HwId:A0000 IPv6:,0c112233:10020217/O                                     (one line)
//
// The name is free text of unknown length (it may contain spaces, digits, dots and even
// something that looks like an address). Its end is the first space-delimited token that is a
// valid IPv4:port (four decimal octets 0..255, port 1..65535) directly followed by a 12-hex-digit
// serial; a token that is a valid IPv4:port but not followed by a serial is taken as part of the
// name. Leading/trailing spaces of the name are dropped; the name may be empty.
// After the serial, the firmware is the next token if it is a dotted version (digits and dots);
// Prog/Type/HwId may come in any order; IPv6 takes everything to the end verbatim. Unknown
// tokens between them are ignored (newer firmware may add fields). Missing optional fields stay
// empty. The serial is returned upper case.

#include <cstddef>
#include <string>
#include <string_view>

#include "gateway/lan/expected.hpp"
#include "gateway/lan/miniserver_info.hpp"

namespace loxcan::lan {

/// Longest datagram accepted (real answers are ~150 bytes; the IPv6 list grows with Air devices).
inline constexpr std::size_t kMaxLoxLiveReply = 2048;

enum class LoxLiveError {
  kEmpty,        ///< nothing but padding
  kTooLong,      ///< more than kMaxLoxLiveReply bytes
  kNotLoxLive,   ///< does not start with "LoxLIVE:"
  kControlByte,  ///< a byte < 0x20 or 0x7F inside the text (binary garbage)
  kNoAddress,    ///< no valid IPv4:port token followed by a serial
  kBadProg,      ///< "Prog:" not followed by YYYY-MM-DD HH:MM:SS
  kBadType,      ///< "Type:" not followed by 1..3 digits <= 255
  kBadHwId,      ///< "HwId:" empty or not 1..16 letters/digits
};

struct LoxLiveParseError {
  LoxLiveError code;
  std::size_t offset;   ///< byte offset in the datagram where the problem is
  std::string message;  ///< e.g. "Type: expects 0..255 at offset 87, got 'x1'"
};

/// The fields of one answer, as a Miniserver record with via_udp set (source left empty).
/// Never throws; every malformed input gives a LoxLiveParseError.
Expected<Miniserver, LoxLiveParseError> parse_loxlive(std::string_view datagram);

/// Parses "A.B.C.D:port" exactly (no spaces, decimal, octets 0..255, port 1..65535).
bool parse_ipv4_port(std::string_view token, std::string& address, std::uint16_t& port);
/// Parses "A.B.C.D" exactly (decimal octets 0..255, at most 3 digits each).
bool is_ipv4(std::string_view s);

}  // namespace loxcan::lan
