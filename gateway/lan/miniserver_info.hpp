#pragma once
// What discovery knows about one Miniserver, how findings are merged, and the JSON form used by
// `loxcan discover --json` and the daemon's retained `<base>/bridge/miniservers` topic.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loxcan::lan {

/// True for exactly 12 hex digits (either case), the form of a Miniserver serial (its MAC).
bool is_serial(std::string_view s);
/// The serial in its canonical form (upper case). Precondition: is_serial(s).
std::string canonical_serial(std::string_view s);

/// One Miniserver. Empty strings / nullopt mean "not reported by any method".
struct Miniserver {
  std::string serial;         ///< 12 upper-case hex digits; empty only if upnp.xml was unreadable
  std::string name;           ///< LoxLIVE name, else the name hidden in modelDescription
  std::string address;        ///< IPv4 the Miniserver announces (LoxLIVE, else LOCATION host)
  std::uint16_t port = 0;     ///< its HTTP port (0 = unknown)
  std::string firmware;       ///< e.g. "10.2.3.26"
  std::string config_date;    ///< "YYYY-MM-DD HH:MM:SS" of the loaded Loxone Config program
  std::optional<int> type;    ///< LoxLIVE "Type:" (0..255), meaning not documented by Loxone
  std::string hw_id;          ///< LoxLIVE "HwId:", e.g. "A0000"
  std::string ipv6_raw;       ///< LoxLIVE "IPv6:" field, verbatim (often not an address at all)
  std::string friendly_name;  ///< upnp.xml friendlyName
  std::string model_number;   ///< upnp.xml modelNumber
  std::string udn;            ///< upnp.xml UDN, e.g. "uuid:aabbccdd-..."
  std::string presentation_url;  ///< upnp.xml presentationURL
  std::string location;          ///< SSDP LOCATION the upnp.xml was read from
  std::string source;     ///< IPv4 the first reply came from (differs from address behind NAT)
  bool via_udp = false;   ///< found by the UDP 7070/7071 probe
  bool via_ssdp = false;  ///< found by SSDP (+ upnp.xml)
};

/// Adds `found` to `list`: merged into the entry with the same serial (or, when either serial is
/// empty, the same address), else appended. Non-empty fields of `found` fill empty ones; for
/// conflicting values the UDP (LoxLIVE) value wins because it is what the Miniserver says now.
void merge_into(std::vector<Miniserver>& list, const Miniserver& found);

/// Sorted by serial (entries without a serial last, by address).
void sort_miniservers(std::vector<Miniserver>& list);

/// One Miniserver as a JSON object with every key present (null when unknown):
///   {"serial":"504F11223344","name":"Loxone Miniserver","address":"192.168.178.32","port":80,
///    "firmware":"10.2.3.26","config_date":"2019-04-24 21:08:03","type":0,"hw_id":"A0000",
///    "ipv6":",0c112233:10020217/O","friendly_name":null,"model_number":null,"udn":null,
///    "presentation_url":null,"location":null,"source":"192.168.178.32","found_by":["udp"]}
/// Invalid UTF-8 in names is replaced by U+FFFD, never an exception.
std::string miniserver_json(const Miniserver& ms);

/// The list as a compact JSON array of miniserver_json() objects, in the given order: the payload
/// of the retained `<base>/bridge/miniservers` topic and of `loxcan discover --json`. "[]" if
/// empty.
std::string miniservers_json(const std::vector<Miniserver>& list);

}  // namespace loxcan::lan
