#include "canproto/crc.hpp"

#include <algorithm>
#include <array>

namespace loxcan::canproto {
namespace {

// MSB-first CRC-32 table for polynomial 0x04C11DB7 (CRC-32/MPEG-2 style).
constexpr std::array<std::uint32_t, 256> make_crc32_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i << 24;
    for (int k = 0; k < 8; ++k) c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : c << 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrc32 = make_crc32_table();

constexpr std::array<std::uint8_t, 256> make_crc8_table() {
  std::array<std::uint8_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    unsigned c = i;
    for (int k = 0; k < 8; ++k) c = (c & 0x80) ? ((c << 1) ^ 0x85) : (c << 1);
    t[i] = static_cast<std::uint8_t>(c);
  }
  return t;
}
constexpr auto kCrc8 = make_crc8_table();

std::uint32_t step(std::uint32_t crc, std::uint8_t byte) {
  return (crc << 8) ^ kCrc32[((crc >> 24) ^ byte) & 0xFF];
}

// The STM32 peripheral takes little-endian words MSB first: feed each 4-byte group reversed.
std::uint32_t words(std::uint32_t crc, const std::uint8_t* p, std::size_t groups) {
  for (std::size_t g = 0; g < groups; ++g, p += 4) {
    crc = step(crc, p[3]);
    crc = step(crc, p[2]);
    crc = step(crc, p[1]);
    crc = step(crc, p[0]);
  }
  return crc;
}

}  // namespace

std::uint32_t crc32_stm32(std::span<const std::uint8_t> bytes) {
  const std::size_t whole = bytes.size() / 4;
  std::uint32_t crc = words(0xFFFFFFFFu, bytes.data(), whole);
  const std::size_t rest = bytes.size() % 4;
  if (rest != 0) {
    std::uint8_t last[4] = {0, 0, 0, 0};
    for (std::size_t k = 0; k < rest; ++k) last[k] = bytes[whole * 4 + k];
    crc = words(crc, last, 1);
  }
  return crc;
}

std::uint32_t crc32_stm32_truncated(std::span<const std::uint8_t> bytes) {
  return words(0xFFFFFFFFu, bytes.data(), bytes.size() / 4);
}

std::uint32_t config_crc(std::span<const std::uint8_t> config) {
  if (config.empty()) return crc32_stm32(config);
  const std::size_t len = ((config.size() - 1) / 4) * 4;
  // The 4-byte filler at the end counts as zero even if a sender left garbage there.
  const std::size_t keep = config.size() >= 4 ? std::min(len, config.size() - 4) : 0;
  std::uint32_t crc = words(0xFFFFFFFFu, config.data(), keep / 4);
  std::uint8_t group[4];
  for (std::size_t g = (keep / 4) * 4; g < len; g += 4) {
    for (std::size_t k = 0; k < 4; ++k) group[k] = g + k < keep ? config[g + k] : 0;
    crc = words(crc, group, 1);
  }
  return crc;
}

std::uint8_t crc8(std::span<const std::uint8_t> bytes) {
  std::uint8_t c = 0;
  for (auto b : bytes) c = kCrc8[c ^ b];
  return c;
}

std::uint8_t random_nat(std::uint32_t serial) {
  const std::uint8_t le[4] = {
      static_cast<std::uint8_t>(serial), static_cast<std::uint8_t>(serial >> 8),
      static_cast<std::uint8_t>(serial >> 16), static_cast<std::uint8_t>(serial >> 24)};
  return static_cast<std::uint8_t>(crc8(le) | 0x80);
}

std::uint16_t sum16(std::span<const std::uint8_t> bytes) {
  std::uint32_t s = 0;
  for (auto b : bytes) s += b;
  return static_cast<std::uint16_t>(s);
}

}  // namespace loxcan::canproto
