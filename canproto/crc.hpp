#pragma once
// Checksums of the Loxone protocols (LOXONE_CAN.md section 5). Pure functions, table-driven.
//
// STM32 CRC-32 (NAT fragments, configs, firmware pages): polynomial 0x04C11DB7, init 0xFFFFFFFF, no
// reflection, no final XOR, fed per 32-bit little-endian word MSB first; a trailing partial word is
// padded with zero bytes. Check values:
//   crc32_stm32({04 10 99 00 00 00 00 00 00 00 00 00 56 34 12 14 02 14 00 01}) == 0x7AECD165
//   crc32_stm32({00 00 00 00}) == 0xC704DD7B
//   crc32_stm32("123456789") == 0xAFF19057           (zero-padded to 12 bytes; what we send)
//   crc32_stm32_truncated("123456789") == 0xFEFC54F9  (the [NET] variant: partial word dropped)
// config_crc(): section 5.5, e.g. the 16-byte DI config 10 01 00 00 84 03 00 00 03 00 ... ->
// 0x9C125BF5. CRC-8 (random NAT, RS232): polynomial 0x85, init 0, MSB first, no reflection, no
// final XOR:
//   crc8({79 17 11 14}) == 0xC7, crc8("123456789") == 0x2A; random_nat(0x14111779) == 0xC7.
// sum16(): legacy fragment checksum, the 16-bit sum of all payload bytes.

#include <cstdint>
#include <span>
#include <string_view>

namespace loxcan::canproto {

std::uint32_t crc32_stm32(std::span<const std::uint8_t> bytes);
std::uint32_t crc32_stm32_truncated(std::span<const std::uint8_t> bytes);
inline std::uint32_t crc32_stm32(std::string_view text) {
  return crc32_stm32({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

/// Configuration CRC reported in Start/Version/Alive: STM32 CRC over the first
/// ((size - 1) / 4) * 4 bytes of the config (size = config.size(); 0 for an empty config).
std::uint32_t config_crc(std::span<const std::uint8_t> config);

std::uint8_t crc8(std::span<const std::uint8_t> bytes);
inline std::uint8_t crc8(std::string_view text) {
  return crc8({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

/// NAT an unassigned device uses: CRC8(serial as 4 little-endian bytes) | 0x80 (section 3.3).
std::uint8_t random_nat(std::uint32_t serial);

/// Legacy fragment checksum (section 5.2).
std::uint16_t sum16(std::span<const std::uint8_t> bytes);

}  // namespace loxcan::canproto
