#pragma once
// Decoder: the stateful per-bus front end of canproto. Feed it frames in bus order with the time
// they were seen; it returns the frame-level message and, when the frame completed a fragmented
// packet, the packet and its decoded message.
//
//   Decoder dec(Bus::link);
//   const Decoded& d = dec.feed(frame, frame.ts_ns);
//   handle(d.message);                       // always present: Nat/Legacy/Unknown/Malformed
//   if (d.packet) handle_packet(*d.packet, *d.packet_message);
//   if (d.abandoned) report(*d.abandoned, d.abandon_reason);
//   if (d.fragment_problem) report(d.message, d.fragment_problem);   // e.g. orphan 0xF1
//   ...
//   dec.expire(now, [](const PacketInfo& p, const char* why) { report(p, why); });   // timeouts
//
// feed() does not allocate for frames that are not fragments (the 50 ns path); fragment frames
// allocate only when a packet completes (its payload and decoded body).
// packet_message is a NatMessage/LegacyMessage with the typed body of the payload
// (decode_nat_payload / decode_legacy_payload), or a MalformedMessage("fragment CRC mismatch" /
// "legacy fragment sum mismatch") when the checksum did not match (the payload is still in
// `packet` — never dropped).

#include <cstdint>
#include <optional>
#include <utility>

#include "canproto/fragment.hpp"
#include "canproto/message.hpp"

namespace loxcan::canproto {

struct DecoderOptions {
  ReassemblerOptions reassembly;
};

struct Decoded {
  Message message;                        ///< the frame itself
  std::optional<PacketInfo> packet;       ///< a fragmented packet this frame completed
  std::optional<Message> packet_message;  ///< set together with `packet`
  std::optional<PacketInfo> abandoned;    ///< a partial packet this frame made us give up
  const char* abandon_reason = nullptr;
  const char* fragment_problem = nullptr;  ///< this fragment frame could not be used (and why)
};

/// Typed body of a reassembled legacy packet (LegacyPacket), for symmetry with decode_nat_payload.
LegacyBody decode_legacy_payload(std::uint8_t type, std::span<const std::uint8_t> payload,
                                 bool large);

/// The message a completed packet stands for: NatMessage/LegacyMessage with the typed body, or
/// MalformedMessage when !packet.crc_ok() (`last` = the frame that completed it).
Message packet_message(const PacketInfo& packet, const Frame& last);

class Decoder {
 public:
  explicit Decoder(Bus bus, DecoderOptions options = {});

  /// Decode `frame` seen at `now_ns`. The reference stays valid until the next feed().
  const Decoded& feed(const Frame& frame, std::int64_t now_ns);

  /// Give up half-finished packets idle longer than the gap timeout (INT64_MAX flushes all).
  /// Calls sink(const PacketInfo&, const char* reason); returns how many.
  template <class Sink>
  std::size_t expire(std::int64_t now_ns, Sink&& sink) {
    return reassembler_.expire(now_ns, std::forward<Sink>(sink));
  }
  std::size_t pending_packets() const { return reassembler_.pending(); }
  Bus bus() const { return bus_; }

 private:
  void reassemble(const Frame& frame, std::int64_t now_ns);
  void take(FragmentOutcome&& outcome, const Frame& frame);

  Bus bus_;
  Reassembler reassembler_;
  Decoded out_;
};

}  // namespace loxcan::canproto
