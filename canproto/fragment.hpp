#pragma once
// Fragmented packets (LOXONE_CAN.md sections 5.1 and 5.2): reassembly per sender and the reverse.
//
// NAT: header 0xF0 {D1 cmd, val16 size, val32 STM32 CRC} then ceil(size/7) data frames 0xF1 with 7
// bytes each (last one padded). Key: (bus, direction, id NAT, device NAT). A new header restarts
// the sender's packet (the partial one is handed back as `abandoned`); data without a header is
// dropped with a reason. On completion the CRC is checked: zero-padded first (what the spec and we
// use), then the truncated variant ([NET]) — PacketInfo::match says which matched.
// Legacy: small 0x44 {D1 index 0, D2 type, D4..D5 size, D6..D7 sum16} + 0x44 frames with index
// 1..255 and 6 bytes each (an index out of sequence abandons the packet); large 0x46 header +
// 0x45 frames with 7 bytes each. Key: (direction, type, serial). Checked with the 16-bit sum.
//
// Time is passed in (ns, any monotonic origin). A packet whose last fragment is older than
// ReassemblerOptions::gap_timeout_ns is given up by expire(). Memory: at most `max_pending`
// packets are in progress; when full, the least recently fed one is abandoned for a new header.
// Buffers are reused between packets, so steady-state reassembly does not allocate except for the
// PacketInfo::payload handed out on completion.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "canproto/message.hpp"
#include "canproto/result.hpp"

namespace loxcan::canproto {

/// Which checksum variant matched a completed packet.
enum class CrcMatch : std::uint8_t {
  none,       ///< no variant matched (crc_ok() == false)
  padded,     ///< NAT: STM32 CRC over the zero-padded payload (section 5.3) / legacy: sum16
  truncated,  ///< NAT: STM32 CRC over the payload truncated to whole words ([NET] variant)
};
const char* to_string(CrcMatch match);  ///< "none" / "padded" / "truncated"

/// A reassembled (or abandoned) packet with its sender.
struct PacketInfo {
  Protocol protocol = Protocol::nat;
  NatAddress nat;           ///< protocol == nat
  LegacyId legacy;          ///< protocol == legacy
  std::uint8_t cmd = 0;     ///< NAT: wrapped command (header D1); legacy: fragment type (header D2)
  bool large = false;       ///< legacy: 0x46/0x45 form
  std::uint16_t size = 0;   ///< announced payload size
  std::uint32_t check = 0;  ///< checksum from the header (NAT CRC32, legacy sum16)
  std::uint32_t computed = 0;  ///< zero-padded CRC32 / sum16 of the received payload
  CrcMatch match = CrcMatch::none;
  std::int64_t first_ns = 0;          ///< time of the header
  std::int64_t last_ns = 0;           ///< time of the last fragment
  std::vector<std::uint8_t> payload;  ///< complete: `size` bytes; abandoned: the bytes received

  bool crc_ok() const { return match != CrcMatch::none; }
};

struct ReassemblerOptions {
  std::int64_t gap_timeout_ns = 1'000'000'000;  ///< max time between two fragments of a packet
  std::size_t max_pending = 32;                 ///< packets in progress at once
  bool accept_truncated_crc = true;             ///< also accept the [NET] CRC variant
};

/// What one fragment frame did.
struct FragmentOutcome {
  enum class Status : std::uint8_t {
    in_progress,  ///< stored; more fragments expected
    complete,     ///< `packet` is complete (check crc_ok())
    dropped,      ///< the frame could not be used; `problem` says why
  };
  Status status = Status::in_progress;
  const char* problem = nullptr;  ///< dropped: e.g. "fragment data without header"
  PacketInfo packet;              ///< complete only
  /// A partial packet of the same sender (or an evicted one) that this frame made us give up,
  /// with `abandon_reason`.
  std::optional<PacketInfo> abandoned;
  const char* abandon_reason = nullptr;
};

class Reassembler {
 public:
  explicit Reassembler(ReassemblerOptions options = {});

  FragmentOutcome add(const NatAddress& from, const FragmentHeader& header, std::int64_t now_ns);
  FragmentOutcome add(const NatAddress& from, const FragmentData& data, std::int64_t now_ns);
  FragmentOutcome add(const LegacyId& from, const LegacyFragmentHeader& header,
                      std::int64_t now_ns);
  FragmentOutcome add(const LegacyId& from, const LegacyFragmentData& data, std::int64_t now_ns);

  /// Give up every packet whose last fragment is older than the gap timeout at `now_ns` (pass
  /// INT64_MAX at end of input to flush all). Calls sink(const PacketInfo&, const char* reason).
  template <class Sink>
  std::size_t expire(std::int64_t now_ns, Sink&& sink) {
    std::size_t n = 0;
    for (auto& s : slots_) {
      if (!s.used || now_ns - s.info.last_ns <= options_.gap_timeout_ns) continue;
      sink(static_cast<const PacketInfo&>(s.info), "fragmented packet timed out");
      s.used = false;
      ++n;
    }
    return n;
  }

  std::size_t pending() const;

 private:
  struct Slot {
    bool used = false;
    std::uint64_t key = 0;
    std::uint8_t next_index = 1;  // legacy small form
    PacketInfo info;
  };
  Slot* find(std::uint64_t key);
  Slot& claim(std::uint64_t key, FragmentOutcome& out);
  FragmentOutcome begin(std::uint64_t key, const PacketInfo& head, std::int64_t now_ns);
  FragmentOutcome append(Slot& slot, std::span<const std::uint8_t> bytes, std::int64_t now_ns);
  void finish(Slot& slot, FragmentOutcome& out);

  ReassemblerOptions options_;
  std::vector<Slot> slots_;
};

/// NAT frames for `payload` sent as command `cmd` from/to `addr`: the 0xF0 header (zero-padded
/// STM32 CRC) and ceil(n/7) 0xF1 frames, pad bytes 0. Error if payload > 65535 bytes.
Result<std::vector<Frame>, EncodeErrc> split_nat(const NatAddress& addr, std::uint8_t cmd,
                                                 std::span<const std::uint8_t> payload);

/// Legacy frames for `payload` of fragment type `type`: small form (0x44) up to 1530 bytes unless
/// `large`, else large form (0x46 header, 0x45 data). Error if payload > 65535 bytes.
Result<std::vector<Frame>, EncodeErrc> split_legacy(const LegacyId& addr, std::uint8_t type,
                                                    std::span<const std::uint8_t> payload,
                                                    bool large = false);

inline constexpr std::size_t kLegacySmallMax = 255 * 6;  ///< 1530 bytes

}  // namespace loxcan::canproto
