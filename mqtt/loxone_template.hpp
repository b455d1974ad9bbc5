#pragma once
// Loxone Config templates for the LoxBerry MQTT Gateway route (`loxcan loxone-template`).
//
// Same element and attribute names, attribute order and CRLF line ends as LoxBerry's own
// LoxBerry::LoxoneTemplateBuilder, so Loxone Config imports them like any LoxBerry plugin template:
//   udp-in  <VirtualInUdp Title Comment Address Port> with one <VirtualInUdpCmd> per published
//           value. The gateway sends `MQTT: <topic>=<value> <topic>=<value> …` (every pair after a
//           space, the topic with its slashes), so the recognition is `\i <topic>=\i\v`.
//   out     <VirtualOut Title Comment Address CmdInit CloseAfterSend CmdSep> with Address
//           `/dev/udp/<loxberry>/<port>` (the gateway's UDP input, 11884) and one <VirtualOutCmd>
//           per writable channel: `publish <topic>/set 1` / `… 0` (digital) or `… <v>` (analog).
//   http-in the Virtual Input names the gateway's HTTP route sets (`/dev/sps/io/<name>/<value>`),
//           one per line with type, unit and topic: Loxone Config imports no plain Virtual Inputs.
// Values: booleans and availability/bridge state (online/offline, made 1/0 by the conversions)
// are digital; numbers and bitmasks analog; an RGBW channel gives the fields gateway V1 expands
// (state, brightness, color_r … color_w); text channels are left out (a Virtual Input takes
// numbers only). Titles are "<device> <channel>" plus " [unit]"; names are XML-escaped
// (& " < > and control characters), other UTF-8 (umlauts) is kept as is (the file is UTF-8).
#include <string>
#include <string_view>
#include <vector>

#include "mqtt/model.hpp"
#include "mqtt/topics.hpp"

namespace loxcan::mqtt {

enum class TemplateKind : std::uint8_t { udp_in, http_in, out };

struct TemplateOptions {
  TemplateKind kind = TemplateKind::udp_in;
  std::string loxberry;  ///< udp-in: sender address filter ("" = any); out: target host
  int port = 0;          ///< 0: 11883 (udp-in, the gateway's Main.udpport), 11884 (out, Udpinport)
  std::string title = "loxcan";
};

/// One value the Miniserver can receive from the gateway.
struct TemplateInput {
  std::string title;    ///< "<device> <channel> [unit]"
  std::string topic;    ///< the MQTT topic (for JSON fields: `<topic>/<field>`, gateway V1 style)
  std::string vi_name;  ///< HTTP route Virtual Input name
  std::string unit;
  bool analog = true;
};

/// One command the Miniserver can send back.
struct TemplateOutput {
  std::string title;
  std::string topic;  ///< the `/set` topic
  bool analog = true;
};

std::vector<TemplateInput> template_inputs(const TopicScheme& topics,
                                           const std::vector<BridgeDevice>& devices,
                                           const std::vector<std::string>& metrics);
std::vector<TemplateOutput> template_outputs(const TopicScheme& topics,
                                             const std::vector<BridgeDevice>& devices);

/// The whole file for `o.kind`.
std::string loxone_template(const TemplateOptions& o, const TopicScheme& topics,
                            const std::vector<BridgeDevice>& devices,
                            const std::vector<std::string>& metrics);

/// XML attribute text: & " < > as entities; tab, LF, CR as &#N; (attribute values would
/// normalise them to spaces); other control characters (not allowed in XML 1.0) become a space;
/// everything else, UTF-8 included, unchanged.
std::string xml_escape(std::string_view s);

}  // namespace loxcan::mqtt
