#pragma once
// Parser for a UPnP device description (the Miniserver's /upnp.xml, fetched from SSDP LOCATION),
// using tinyxml2 (no DTD or entity expansion beyond the XML built-ins, depth-limited). Pure.
//
// Accepted input: at most kMaxUpnpXml bytes of XML whose root element is `root` (any namespace
// prefix) with a `device` child. From the device it takes friendlyName, serialNumber, modelNumber,
// modelDescription, UDN and presentationURL (text trimmed; a missing element stays empty). The
// Miniserver hides its name hex-encoded after a '*' in modelDescription, e.g.
//   Loxone Electronics home control (Loxone Miniserver: *4C6F786F6E65204D696E69736572766572
//   192.168.178.32:80 504F11223344 10.2.3.26 IPv6:,0c112233:10020217/O)
// -> hidden_name "Loxone Miniserver". hidden_name is empty when there is no '*' or the hex run is
// empty, odd-length or decodes to control bytes.
// Errors: too long, not well-formed XML (tinyxml2's message and line), no root/device element.

#include <cstddef>
#include <string>
#include <string_view>

#include "gateway/lan/expected.hpp"

namespace loxcan::lan {

inline constexpr std::size_t kMaxUpnpXml = 64 * 1024;

struct UpnpDevice {
  std::string friendly_name;
  std::string serial_number;  ///< as written; callers check is_serial()
  std::string model_number;
  std::string model_description;
  std::string udn;
  std::string presentation_url;
  std::string hidden_name;  ///< decoded from modelDescription, see above
};

Expected<UpnpDevice, std::string> parse_upnp_xml(std::string_view xml);

/// The name hex-encoded after the first '*' in a modelDescription ("" if none or invalid).
std::string decode_hidden_name(std::string_view model_description);

}  // namespace loxcan::lan
