#pragma once
// The frame <-> packet layer the emulation state machines talk through (LOXONE_CAN.md 2, 3, 5).
//
// A NatPacket is one logical NAT message: short (one frame: D1, val16, val32) or fragmented
// (payload reassembled from 0xF0/0xF1 frames, CRC checked). A LegacyPacket is one legacy frame,
// or one reassembled small legacy fragment (0x44, type + payload, SUM16 checked).
// Both directions are built and parsed here and nowhere else in devices/emulation, so the state
// machines never touch identifier bits or fragment bookkeeping. The bits, CRCs, splitting and
// reassembly themselves are canproto's (can_id.hpp, crc.hpp, fragment.hpp); this is an adapter.
//
// Contract:
//   to_frames(NatPacket)  -> 1 frame (short) or 1 + ceil(n/7) frames (fragmented, zero padded,
//                            STM32 CRC zero-padded per 5.3); always extended, DLC 8.
//   NatReceiver::push     -> a packet when a short frame arrives or the last fragment completes
//                            with a good CRC; nullopt otherwise (non-NAT frames, F1 without header,
//                            CRC mismatch: all dropped silently, counted in `dropped()`).
//   Legacy: the same for 0x44 small fragments (header D1 = 0, data D1 = 1..255).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "canproto/crc.hpp"
#include "canproto/fragment.hpp"
#include "canproto/frame.hpp"

namespace loxcan::emulation {

inline constexpr std::uint8_t kBusLink = 0x10;
inline constexpr std::uint8_t kBusTree = 0x11;

struct NatPacket {
  bool from_server = false;  ///< direction 11 (or 10) vs 00
  std::uint8_t nat = 0;      ///< ID NAT field
  std::uint8_t dev = 0;      ///< D0: device NAT
  std::uint8_t cmd = 0;      ///< the real command (the wrapped one for fragments)
  std::uint8_t b0 = 0;       ///< D1 (short packets)
  std::uint16_t val16 = 0;   ///< D2..D3 (short packets)
  std::uint32_t val32 = 0;   ///< D4..D7 (short packets)
  bool fragmented = false;
  std::vector<std::uint8_t> payload;  ///< fragmented packets only

  /// D4..D7 as bytes (RGBW commands).
  std::uint8_t d(int i) const { return static_cast<std::uint8_t>(val32 >> (8 * (i - 4))); }
};

NatPacket short_packet(bool from_server, std::uint8_t nat, std::uint8_t dev, std::uint8_t cmd,
                       std::uint8_t b0 = 0, std::uint16_t val16 = 0, std::uint32_t val32 = 0);
NatPacket long_packet(bool from_server, std::uint8_t nat, std::uint8_t dev, std::uint8_t cmd,
                      std::vector<std::uint8_t> payload);

std::vector<canproto::Frame> to_frames(const NatPacket& p, std::uint8_t bus = kBusLink);

/// Reassembles NAT frames of one bus (Link by default) into packets.
class NatReceiver {
 public:
  explicit NatReceiver(std::uint8_t bus = kBusLink) : bus_(bus) {}
  std::optional<NatPacket> push(const canproto::Frame& f);
  std::uint64_t dropped() const { return dropped_; }

 private:
  std::uint8_t bus_;
  canproto::Reassembler reassembler_;
  std::uint64_t dropped_ = 0;
};

// ---- legacy
// ---------------------------------------------------------------------------------------

struct LegacyPacket {
  bool from_server = false;
  std::uint8_t type = 0;     ///< 4-bit extension type
  std::uint32_t serial = 0;  ///< 24-bit serial (0 with type 0: broadcast)
  std::uint8_t cmd = 0;      ///< command without bit 7
  std::uint8_t b0 = 0;       ///< D1
  std::uint16_t val16 = 0;
  std::uint32_t val32 = 0;
  std::array<std::uint8_t, 8> raw{};  ///< the frame bytes (packed commands like 0x20/0x30)
  bool fragment = false;              ///< reassembled 0x44 fragment
  std::uint8_t fragment_type = 0;     ///< 0x18 challenge request, 0x19 reply, ...
  std::vector<std::uint8_t> payload;
};

/// A plain legacy frame (`cmd` gets bit 7 when !from_server).
canproto::Frame legacy_frame(bool from_server, std::uint8_t type, std::uint32_t serial,
                             std::uint8_t cmd, std::uint8_t b0, std::uint16_t val16,
                             std::uint32_t val32);
canproto::Frame legacy_frame_raw(bool from_server, std::uint8_t type, std::uint32_t serial,
                                 const std::array<std::uint8_t, 8>& bytes);
/// A small (0x44) legacy fragment: header + ceil(n/6) data frames. n <= 1530.
std::vector<canproto::Frame> legacy_fragment(bool from_server, std::uint8_t type,
                                             std::uint32_t serial, std::uint8_t fragment_type,
                                             std::span<const std::uint8_t> payload);

class LegacyReceiver {
 public:
  /// Legacy frames (not NAT, not firmware data) -> packets; 0x44 fragments once complete.
  std::optional<LegacyPacket> push(const canproto::Frame& f);

 private:
  canproto::Reassembler reassembler_;
};

/// True for frames of the NAT range on the Link bus (top 5 bits 0x10).
bool is_nat_frame(const canproto::Frame& f);

// Checksums (section 5), from canproto.
inline std::uint32_t stm32_crc(std::span<const std::uint8_t> bytes) {
  return canproto::crc32_stm32(bytes);
}
inline std::uint8_t crc8(std::span<const std::uint8_t> bytes) {
  return canproto::crc8(bytes);
}
/// NAT of a device without one: CRC8(serial LE) | 0x80.
inline std::uint8_t random_nat(std::uint32_t serial) {
  return canproto::random_nat(serial);
}
/// Config CRC of section 5.5 (0 for an empty config).
inline std::uint32_t config_crc(std::span<const std::uint8_t> config) {
  return config.empty() ? 0 : canproto::config_crc(config);
}

}  // namespace loxcan::emulation
