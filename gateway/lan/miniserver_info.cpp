#include "gateway/lan/miniserver_info.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace loxcan::lan {
namespace {

using Json = nlohmann::ordered_json;  // keys in the documented order

void fill(std::string& dst, const std::string& src, bool prefer_src) {
  if (!src.empty() && (dst.empty() || prefer_src)) dst = src;
}

Json str_or_null(const std::string& s) {
  return s.empty() ? Json() : Json(s);
}

Json to_object(const Miniserver& ms) {
  Json found_by = Json::array();
  if (ms.via_udp) found_by.push_back("udp");
  if (ms.via_ssdp) found_by.push_back("ssdp");
  return {
      {"serial", str_or_null(ms.serial)},
      {"name", str_or_null(ms.name)},
      {"address", str_or_null(ms.address)},
      {"port", ms.port ? Json(ms.port) : Json()},
      {"firmware", str_or_null(ms.firmware)},
      {"config_date", str_or_null(ms.config_date)},
      {"type", ms.type ? Json(*ms.type) : Json()},
      {"hw_id", str_or_null(ms.hw_id)},
      {"ipv6", str_or_null(ms.ipv6_raw)},
      {"friendly_name", str_or_null(ms.friendly_name)},
      {"model_number", str_or_null(ms.model_number)},
      {"udn", str_or_null(ms.udn)},
      {"presentation_url", str_or_null(ms.presentation_url)},
      {"location", str_or_null(ms.location)},
      {"source", str_or_null(ms.source)},
      {"found_by", found_by},
  };
}

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

bool is_serial(std::string_view s) {
  return s.size() == 12 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string canonical_serial(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

void merge_into(std::vector<Miniserver>& list, const Miniserver& found) {
  auto same = [&](const Miniserver& m) {
    if (!m.serial.empty() && !found.serial.empty()) return m.serial == found.serial;
    return !m.address.empty() && m.address == found.address;
  };
  auto it = std::find_if(list.begin(), list.end(), same);
  if (it == list.end()) {
    list.push_back(found);
    return;
  }
  Miniserver& m = *it;
  const bool udp_wins = found.via_udp && !m.via_udp;
  fill(m.serial, found.serial, false);
  fill(m.name, found.name, udp_wins);
  fill(m.address, found.address, udp_wins);
  if (found.port && (!m.port || udp_wins)) m.port = found.port;
  fill(m.firmware, found.firmware, udp_wins);
  fill(m.config_date, found.config_date, udp_wins);
  if (found.type && (!m.type || udp_wins)) m.type = found.type;
  fill(m.hw_id, found.hw_id, udp_wins);
  fill(m.ipv6_raw, found.ipv6_raw, udp_wins);
  fill(m.friendly_name, found.friendly_name, false);
  fill(m.model_number, found.model_number, false);
  fill(m.udn, found.udn, false);
  fill(m.presentation_url, found.presentation_url, false);
  fill(m.location, found.location, false);
  fill(m.source, found.source, false);
  m.via_udp = m.via_udp || found.via_udp;
  m.via_ssdp = m.via_ssdp || found.via_ssdp;
}

void sort_miniservers(std::vector<Miniserver>& list) {
  std::sort(list.begin(), list.end(), [](const Miniserver& a, const Miniserver& b) {
    if (a.serial.empty() != b.serial.empty()) return b.serial.empty();
    if (a.serial != b.serial) return a.serial < b.serial;
    return a.address < b.address;
  });
}

std::string miniserver_json(const Miniserver& ms) {
  return dump(to_object(ms));
}

std::string miniservers_json(const std::vector<Miniserver>& list) {
  Json arr = Json::array();
  for (const auto& ms : list) arr.push_back(to_object(ms));
  return dump(arr);
}

}  // namespace loxcan::lan
