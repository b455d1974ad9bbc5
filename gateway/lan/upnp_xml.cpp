#include "gateway/lan/upnp_xml.hpp"

#include <tinyxml2.h>

#include <cctype>
#include <cstring>

namespace loxcan::lan {
namespace {

// Local name without a namespace prefix ("u:root" -> "root").
std::string_view local_name(const char* name) {
  std::string_view n = name ? name : "";
  const auto colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

const tinyxml2::XMLElement* child(const tinyxml2::XMLElement* parent, std::string_view name) {
  for (auto* e = parent->FirstChildElement(); e; e = e->NextSiblingElement())
    if (local_name(e->Name()) == name) return e;
  return nullptr;
}

std::string text_of(const tinyxml2::XMLElement* device, std::string_view name) {
  const auto* e = child(device, name);
  const char* t = e ? e->GetText() : nullptr;
  std::string_view s = t ? t : "";
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string decode_hidden_name(std::string_view desc) {
  const auto star = desc.find('*');
  if (star == std::string_view::npos) return {};
  std::size_t end = star + 1;
  while (end < desc.size() && hex_value(desc[end]) >= 0) ++end;
  const std::string_view hex = desc.substr(star + 1, end - star - 1);
  if (hex.empty() || hex.size() % 2 != 0) return {};
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int byte = hex_value(hex[i]) * 16 + hex_value(hex[i + 1]);
    if (byte < 0x20 || byte == 0x7F) return {};
    out.push_back(static_cast<char>(byte));
  }
  return out;
}

Expected<UpnpDevice, std::string> parse_upnp_xml(std::string_view xml) {
  if (xml.size() > kMaxUpnpXml)
    return unexpected("upnp.xml of " + std::to_string(xml.size()) + " bytes exceeds the limit of " +
                      std::to_string(kMaxUpnpXml));
  if (xml.empty()) return unexpected(std::string("upnp.xml is empty"));
  tinyxml2::XMLDocument doc(true, tinyxml2::PRESERVE_WHITESPACE);
  if (doc.Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS)
    return unexpected("upnp.xml is not well-formed XML: " + std::string(doc.ErrorStr()));
  const auto* root = doc.RootElement();
  if (!root || local_name(root->Name()) != "root")
    return unexpected(std::string("upnp.xml has no <root> element"));
  const auto* device = child(root, "device");
  if (!device) return unexpected(std::string("upnp.xml has no <root><device> element"));
  UpnpDevice d;
  d.friendly_name = text_of(device, "friendlyName");
  d.serial_number = text_of(device, "serialNumber");
  d.model_number = text_of(device, "modelNumber");
  d.model_description = text_of(device, "modelDescription");
  d.udn = text_of(device, "UDN");
  d.presentation_url = text_of(device, "presentationURL");
  d.hidden_name = decode_hidden_name(d.model_description);
  return d;
}

}  // namespace loxcan::lan
