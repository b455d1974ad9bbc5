#pragma once
// The one text form of a device serial: 8 hex digits, as Loxone prints it ("0BFF0A01", upper case:
// logs, JSON, MQTT, the YAML map, the state file). Lower case only where names are generated
// ("di_extension-14111775" style names of the inventory). Parsing is in the YAML reader.

#include <cstdint>
#include <string>

namespace loxcan::devices {

enum class HexCase { upper, lower };

/// Any 32-bit value as 8 hex digits (CRCs, keys); serial_text() is this for serials.
inline std::string hex8_text(std::uint32_t v, HexCase hex_case = HexCase::upper) {
  const char* digits = hex_case == HexCase::upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 0xF];
  return s;
}

inline std::string serial_text(std::uint32_t serial, HexCase hex_case = HexCase::upper) {
  return hex8_text(serial, hex_case);
}

}  // namespace loxcan::devices
