#pragma once
// A CAN frame as loxcan sees it: value type, no allocation, copyable.
//
// Loxone Link and Tree only use Classical CAN data frames with 29-bit ids and 8 data bytes, but a
// capture may hold anything (11-bit ids, RTR, error frames, CAN FD), so the type can represent all
// of what can-utils' text formats can represent (CAN XL excepted). Decoders decide what to accept.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace loxcan::canproto {

/// Longest interface name Linux allows (IFNAMSIZ - 1).
inline constexpr std::size_t kMaxIfaceName = 15;
inline constexpr std::size_t kMaxClassicData = 8;
inline constexpr std::size_t kMaxFdData = 64;

/// Error-frame class bits as in <linux/can/error.h> (CAN_ERR_*), duplicated here so that canproto
/// stays free of kernel headers. Only meaningful when Frame::error is set.
namespace err {
inline constexpr std::uint32_t kTxTimeout = 0x001;
inline constexpr std::uint32_t kLostArbitration = 0x002;
inline constexpr std::uint32_t kController = 0x004;
inline constexpr std::uint32_t kProtocol = 0x008;
inline constexpr std::uint32_t kTransceiver = 0x010;
inline constexpr std::uint32_t kNoAck = 0x020;
inline constexpr std::uint32_t kBusOff = 0x040;
inline constexpr std::uint32_t kBusError = 0x080;
inline constexpr std::uint32_t kRestarted = 0x100;
inline constexpr std::uint32_t kCounters = 0x200;
inline constexpr std::uint32_t kMask = 0x1FFFFFFF;
}  // namespace err

/// Interface name stored inline (at most 15 characters), so frames never allocate.
class IfaceName {
 public:
  constexpr IfaceName() = default;
  /// Truncates names longer than kMaxIfaceName; callers that must reject them check first.
  IfaceName(std::string_view name);  // NOLINT(google-explicit-constructor): names read naturally
  std::string_view view() const { return {chars_.data(), size_}; }
  bool empty() const { return size_ == 0; }
  friend bool operator==(const IfaceName& a, const IfaceName& b) { return a.view() == b.view(); }

 private:
  std::array<char, kMaxIfaceName> chars_{};
  std::uint8_t size_ = 0;
};

struct Frame {
  /// 29-bit id when `extended`, 11-bit otherwise; never carries the EFF/RTR/ERR flag bits.
  /// For error frames it holds the CAN_ERR_* class bits (see err::).
  std::uint32_t id = 0;
  bool extended = true;
  bool rtr = false;
  bool error = false;
  bool fd = false;
  std::uint8_t fd_flags = 0;  ///< CAN FD flags nibble (0x1 BRS, 0x2 ESI, 0x4 FDF) as stored.
  std::uint8_t len = 0;       ///< payload bytes (0..8 Classical, 0..64 FD); RTR: requested length.
  std::uint8_t len8_dlc = 0;  ///< Classical CAN raw DLC 9..15 for 8-byte payloads, else 0.
  std::array<std::uint8_t, kMaxFdData> data{};
  std::int64_t ts_ns = 0;  ///< receive time, ns since the Unix epoch (or since the first frame).
  IfaceName iface;

  std::span<const std::uint8_t> payload() const { return {data.data(), len}; }

  /// Shape every Loxone frame has: extended, data (no RTR/error/FD), exactly 8 bytes.
  bool is_loxone_shaped() const { return extended && !rtr && !error && !fd && len == 8; }

  /// An extended, 8-byte Classical data frame: how every Loxone frame is built.
  static Frame make(std::uint32_t id, const std::array<std::uint8_t, 8>& bytes) {
    Frame f;
    f.id = id & 0x1FFFFFFF;
    f.len = 8;
    for (std::size_t i = 0; i < 8; ++i) f.data[i] = bytes[i];
    return f;
  }
};

/// Bytes, flags and id equal; timestamp and interface are ignored.
bool same_content(const Frame& a, const Frame& b);

}  // namespace loxcan::canproto
