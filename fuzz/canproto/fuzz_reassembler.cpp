// The Decoder's reassembly on arbitrary frame sequences. Each 10-byte record is one frame:
// byte 0 picks the id (mostly fragment ids of a few senders, so that packets actually complete),
// byte 1 the time step, bytes 2..9 the data. Invariants: never crashes; a packet with a good
// checksum re-encodes (split) and reassembles to the same payload; expire() empties the
// reassembler.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "canproto/decoder.hpp"

using namespace loxcan::canproto;

namespace {

constexpr std::uint32_t kIds[] = {
    0x1018B0F0, 0x1018B0F1, 0x107020F0, 0x107020F1, 0x101010F0, 0x101010F1, 0x106FF0F0, 0x106FF0F1,
    0x01FF0A00, 0x11FF0A00, 0x0BFF0A01, 0x1BFF0A01, 0x10606005, 0x1000B0F0, 0x10606030, 0x00000000,
};

void check_packet(const PacketInfo& p) {
  if (!p.crc_ok() || p.match != CrcMatch::padded) return;
  auto frames = p.protocol == Protocol::nat ? split_nat(p.nat, p.cmd, p.payload)
                                            : split_legacy(p.legacy, p.cmd, p.payload, p.large);
  if (!frames.ok()) std::abort();
  Decoder again(Bus::link);
  bool done = false;
  for (const auto& f : *frames) {
    const Decoded& d = again.feed(f, 0);
    if (d.packet) {
      if (d.packet->payload != p.payload || !d.packet->crc_ok()) std::abort();
      done = true;
    }
  }
  if (!done) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Decoder dec(Bus::link,
              DecoderOptions{ReassemblerOptions{.gap_timeout_ns = 50, .max_pending = 4}});
  std::int64_t now = 0;
  for (std::size_t off = 0; off + 10 <= size; off += 10) {
    const std::uint8_t* r = data + off;
    Frame f;
    f.id = kIds[r[0] & 0x0F];
    if (r[0] & 0x80) f.id ^= static_cast<std::uint32_t>(r[0] & 0x70) << 8;  // vary the NAT a little
    f.len = 8;
    std::memcpy(f.data.data(), r + 2, 8);
    now += r[1];
    const Decoded& d = dec.feed(f, now);
    if (d.packet) check_packet(*d.packet);
    if ((r[1] & 0x0F) == 0) dec.expire(now, [](const PacketInfo&, const char*) {});
  }
  dec.expire(std::numeric_limits<std::int64_t>::max(), [](const PacketInfo&, const char*) {});
  if (dec.pending_packets() != 0) std::abort();
  return 0;
}
