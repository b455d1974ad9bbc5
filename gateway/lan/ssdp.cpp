#include "gateway/lan/ssdp.hpp"

#include <algorithm>
#include <cctype>

#include "gateway/version.hpp"

namespace loxcan::lan {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

Unexpected<SsdpParseError> fail(std::size_t offset, const std::string& msg) {
  return unexpected(SsdpParseError{offset, msg + " at offset " + std::to_string(offset)});
}

// Start line -> kind/status; false if it is none of the three SSDP forms.
bool parse_start_line(std::string_view line, SsdpMessage& m) {
  if (line == "NOTIFY * HTTP/1.1") {
    m.kind = SsdpKind::kNotify;
    return true;
  }
  if (line == "M-SEARCH * HTTP/1.1") {
    m.kind = SsdpKind::kSearch;
    return true;
  }
  if (!line.starts_with("HTTP/1.") || line.size() < 12 || line[8] != ' ') return false;
  const std::string_view code = line.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  if (line.size() > 12 && line[12] != ' ') return false;
  m.kind = SsdpKind::kResponse;
  m.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  return true;
}

void store_header(std::string_view name, std::string_view value, SsdpMessage& m) {
  std::string* dst = nullptr;
  if (iequals(name, "LOCATION"))
    dst = &m.location;
  else if (iequals(name, "SERVER"))
    dst = &m.server;
  else if (iequals(name, "USN"))
    dst = &m.usn;
  else if (iequals(name, "ST") || iequals(name, "NT"))
    dst = &m.target;
  else if (iequals(name, "NTS"))
    dst = &m.nts;
  if (dst && dst->empty()) *dst = std::string(value);
}

}  // namespace

bool SsdpMessage::is_loxone_miniserver() const {
  const bool live = (kind == SsdpKind::kResponse && status == 200) ||
                    (kind == SsdpKind::kNotify && nts == "ssdp:alive");
  return live && !location.empty() && server.find("Loxone Miniserver") != std::string::npos;
}

Expected<SsdpMessage, SsdpParseError> parse_ssdp(std::string_view d) {
  if (d.empty()) return fail(0, "empty datagram");
  if (d.size() > kMaxSsdpMessage)
    return fail(kMaxSsdpMessage, "datagram of " + std::to_string(d.size()) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(kMaxSsdpMessage));
  SsdpMessage m;
  std::size_t pos = 0;
  bool first = true;
  while (pos < d.size()) {
    std::size_t eol = d.find('\n', pos);
    if (eol == std::string_view::npos) eol = d.size();
    std::string_view raw = d.substr(pos, eol - pos);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const auto c = static_cast<unsigned char>(raw[i]);
      if ((c < 0x20 && c != '\t') || c == 0x7F) return fail(pos + i, "control byte in header");
    }
    if (first) {
      if (!parse_start_line(raw, m))
        return fail(pos, "not an SSDP start line: '" + std::string(raw.substr(0, 40)) + "'");
      first = false;
    } else if (raw.empty()) {
      break;  // end of headers; SSDP has no body
    } else {
      const auto colon = raw.find(':');
      const std::string_view name = colon == std::string_view::npos ? "" : raw.substr(0, colon);
      if (name.empty() || name.find_first_of(" \t") != std::string_view::npos)
        return fail(pos, "header line without 'NAME:'");
      store_header(name, trim(raw.substr(colon + 1)), m);
    }
    pos = eol + 1;
  }
  return m;
}

std::string ssdp_server_name(std::string_view server) {
  constexpr std::string_view kPrefix = "Loxone Miniserver ";
  if (!server.starts_with(kPrefix)) return {};
  server.remove_prefix(kPrefix.size());
  const auto upnp = server.rfind(" UPnP/");
  if (upnp != std::string_view::npos) server = server.substr(0, upnp);
  return std::string(trim(server));
}

std::string ssdp_msearch(int mx) {
  mx = std::clamp(mx, 1, 5);
  return std::string("M-SEARCH * HTTP/1.1\r\n") + "HOST: " + kSsdpGroup + ":" +
         std::to_string(kSsdpPort) + "\r\n" + "MAN: \"ssdp:discover\"\r\n" +
         "MX: " + std::to_string(mx) + "\r\n" + "ST: upnp:rootdevice\r\n" +
         "USER-AGENT: Linux UPnP/1.1 loxcan/" + version() + "\r\n\r\n";
}

}  // namespace loxcan::lan
