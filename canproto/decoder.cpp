#include "canproto/decoder.hpp"

namespace loxcan::canproto {

LegacyBody decode_legacy_payload(std::uint8_t type, std::span<const std::uint8_t> payload,
                                 bool large) {
  LegacyPacket p;
  p.type = type;
  p.data.assign(payload.begin(), payload.end());
  // Remember the large form only when the size alone would not select it, so encode() repeats it.
  p.force_large = large && payload.size() <= kLegacySmallMax;
  return p;
}

Message packet_message(const PacketInfo& packet, const Frame& last) {
  if (!packet.crc_ok()) {
    return MalformedMessage{
        packet.protocol,
        packet.protocol == Protocol::nat ? "fragment CRC mismatch" : "legacy fragment sum mismatch",
        last};
  }
  if (packet.protocol == Protocol::nat)
    return NatMessage{packet.nat, decode_nat_payload(packet.cmd, packet.payload), 0};
  return LegacyMessage{packet.legacy,
                       decode_legacy_payload(packet.cmd, packet.payload, packet.large), 0};
}

Decoder::Decoder(Bus bus, DecoderOptions options) : bus_(bus), reassembler_(options.reassembly) {}

const Decoded& Decoder::feed(const Frame& frame, std::int64_t now_ns) {
  if (out_.packet) out_.packet.reset();
  if (out_.packet_message) out_.packet_message.reset();
  if (out_.abandoned) out_.abandoned.reset();
  out_.abandon_reason = nullptr;
  out_.fragment_problem = nullptr;
  out_.message = decode_frame(frame, bus_);
  reassemble(frame, now_ns);
  return out_;
}

void Decoder::reassemble(const Frame& frame, std::int64_t now_ns) {
  if (const auto* n = std::get_if<NatMessage>(&out_.message)) {
    if (const auto* h = std::get_if<FragmentHeader>(&n->body))
      take(reassembler_.add(n->addr, *h, now_ns), frame);
    else if (const auto* d = std::get_if<FragmentData>(&n->body))
      take(reassembler_.add(n->addr, *d, now_ns), frame);
  } else if (const auto* l = std::get_if<LegacyMessage>(&out_.message)) {
    if (const auto* h = std::get_if<LegacyFragmentHeader>(&l->body))
      take(reassembler_.add(l->addr, *h, now_ns), frame);
    else if (const auto* d = std::get_if<LegacyFragmentData>(&l->body))
      take(reassembler_.add(l->addr, *d, now_ns), frame);
  }
}

void Decoder::take(FragmentOutcome&& outcome, const Frame& frame) {
  if (outcome.abandoned) {
    out_.abandoned = std::move(outcome.abandoned);
    out_.abandon_reason = outcome.abandon_reason;
  }
  switch (outcome.status) {
    case FragmentOutcome::Status::complete:
      out_.packet_message = packet_message(outcome.packet, frame);
      out_.packet = std::move(outcome.packet);
      break;
    case FragmentOutcome::Status::dropped: out_.fragment_problem = outcome.problem; break;
    case FragmentOutcome::Status::in_progress: break;
  }
}

}  // namespace loxcan::canproto
