#include "devices/emulation/link.hpp"

#include <algorithm>

#include "canproto/can_id.hpp"

namespace loxcan::emulation {
namespace {

namespace cp = canproto;

constexpr std::uint8_t kCmdFragHeader = 0xF0;
constexpr std::uint8_t kCmdFragData = 0xF1;
constexpr std::uint8_t kLegacyFragSmall = 0x44;

std::array<std::uint8_t, 8> bytes8(std::uint8_t d0, std::uint8_t b0, std::uint16_t v16,
                                   std::uint32_t v32) {
  return {d0,
          b0,
          static_cast<std::uint8_t>(v16),
          static_cast<std::uint8_t>(v16 >> 8),
          static_cast<std::uint8_t>(v32),
          static_cast<std::uint8_t>(v32 >> 8),
          static_cast<std::uint8_t>(v32 >> 16),
          static_cast<std::uint8_t>(v32 >> 24)};
}

std::uint16_t le16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}
std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

cp::Direction dir_of(bool from_server) {
  return from_server ? cp::Direction::to_device : cp::Direction::from_device;
}

}  // namespace

NatPacket short_packet(bool from_server, std::uint8_t nat, std::uint8_t dev, std::uint8_t cmd,
                       std::uint8_t b0, std::uint16_t val16, std::uint32_t val32) {
  NatPacket p;
  p.from_server = from_server;
  p.nat = nat;
  p.dev = dev;
  p.cmd = cmd;
  p.b0 = b0;
  p.val16 = val16;
  p.val32 = val32;
  return p;
}

NatPacket long_packet(bool from_server, std::uint8_t nat, std::uint8_t dev, std::uint8_t cmd,
                      std::vector<std::uint8_t> payload) {
  NatPacket p = short_packet(from_server, nat, dev, cmd);
  p.fragmented = true;
  p.payload = std::move(payload);
  return p;
}

std::vector<canproto::Frame> to_frames(const NatPacket& p, std::uint8_t bus) {
  const auto b = bus == kBusTree ? cp::Bus::tree : cp::Bus::link;
  if (!p.fragmented)
    return {cp::Frame::make(cp::make_nat_id(b, dir_of(p.from_server), false, p.nat, p.cmd),
                            bytes8(p.dev, p.b0, p.val16, p.val32))};
  auto frames = cp::split_nat({b, dir_of(p.from_server), p.nat, p.dev}, p.cmd, p.payload);
  return frames ? std::move(*frames)
                : std::vector<canproto::Frame>{};  // > 65535 bytes: never built here
}

bool is_nat_frame(const canproto::Frame& f) {
  return f.is_loxone_shaped() && ((f.id >> 24) & 0x1F) == kBusLink;
}

std::optional<NatPacket> NatReceiver::push(const canproto::Frame& f) {
  if (!f.is_loxone_shaped() || ((f.id >> 24) & 0x1F) != bus_) return std::nullopt;
  const auto id = cp::parse_nat_id(f.id);
  const bool from_server = (id.dir_bits & 0b10) != 0;  // devices only test bit 22
  const std::uint8_t* d = f.data.data();
  const cp::NatAddress from{bus_ == kBusTree ? cp::Bus::tree : cp::Bus::link, dir_of(from_server),
                            id.nat, d[0]};
  if (id.fragment && (id.cmd == kCmdFragHeader || id.cmd == kCmdFragData)) {
    cp::FragmentOutcome out;
    if (id.cmd == kCmdFragHeader) {
      out = reassembler_.add(from, cp::FragmentHeader{d[1], le16(d + 2), le32(d + 4)}, 0);
    } else {
      cp::FragmentData data;
      std::copy(d + 1, d + 8, data.bytes.begin());
      out = reassembler_.add(from, data, 0);
    }
    if (out.status == cp::FragmentOutcome::Status::dropped) ++dropped_;
    if (out.status != cp::FragmentOutcome::Status::complete) return std::nullopt;
    if (!out.packet.crc_ok()) {
      ++dropped_;
      return std::nullopt;
    }
    return long_packet(from_server, id.nat, d[0], out.packet.cmd, std::move(out.packet.payload));
  }
  return short_packet(from_server, id.nat, d[0], id.cmd, d[1], le16(d + 2), le32(d + 4));
}

canproto::Frame legacy_frame_raw(bool from_server, std::uint8_t type, std::uint32_t serial,
                                 const std::array<std::uint8_t, 8>& bytes) {
  cp::LegacyId l;
  l.dir = dir_of(from_server);
  l.type = type & 0xF;
  l.serial24 = serial & 0xFFFFFF;
  l.kind = !from_server || l.serial24 != 0 ? cp::LegacyKind::direct
           : l.type == 0                   ? cp::LegacyKind::broadcast
                                           : cp::LegacyKind::type_multicast;
  auto b = bytes;
  b[0] = static_cast<std::uint8_t>((b[0] & 0x7F) | (from_server ? 0 : 0x80));
  return cp::Frame::make(cp::make_legacy_id(l), b);
}

canproto::Frame legacy_frame(bool from_server, std::uint8_t type, std::uint32_t serial,
                             std::uint8_t cmd, std::uint8_t b0, std::uint16_t val16,
                             std::uint32_t val32) {
  return legacy_frame_raw(from_server, type, serial, bytes8(cmd, b0, val16, val32));
}

std::vector<canproto::Frame> legacy_fragment(bool from_server, std::uint8_t type,
                                             std::uint32_t serial, std::uint8_t fragment_type,
                                             std::span<const std::uint8_t> payload) {
  cp::LegacyId l;
  l.dir = dir_of(from_server);
  l.type = type & 0xF;
  l.serial24 = serial & 0xFFFFFF;
  auto frames = cp::split_legacy(l, fragment_type, payload);
  return frames ? std::move(*frames) : std::vector<canproto::Frame>{};
}

std::optional<LegacyPacket> LegacyReceiver::push(const canproto::Frame& f) {
  if (!f.is_loxone_shaped()) return std::nullopt;
  const std::uint32_t top5 = (f.id >> 24) & 0x1F;
  if (top5 == 0x10 || top5 == 0x1F) return std::nullopt;  // NAT range, firmware data
  const auto id = cp::parse_legacy_id(f.id);
  LegacyPacket p;
  p.from_server = id.dir == cp::Direction::to_device;
  p.type = id.type;
  p.serial = id.serial24;
  const std::uint8_t* d = f.data.data();
  std::copy(d, d + 8, p.raw.begin());
  p.cmd = d[0] & 0x7F;
  p.b0 = d[1];
  p.val16 = le16(d + 2);
  p.val32 = le32(d + 4);
  if (p.cmd != kLegacyFragSmall) return p;
  cp::FragmentOutcome out;
  if (d[1] == 0) {
    out = reassembler_.add(id, cp::LegacyFragmentHeader{false, d[2], le16(d + 4), le16(d + 6)}, 0);
  } else {
    cp::LegacyFragmentData data;
    data.index = d[1];
    std::copy(d + 2, d + 8, data.bytes.begin());
    out = reassembler_.add(id, data, 0);
  }
  if (out.status != cp::FragmentOutcome::Status::complete || !out.packet.crc_ok())
    return std::nullopt;
  p.fragment = true;
  p.fragment_type = out.packet.cmd;
  p.payload = std::move(out.packet.payload);
  return p;
}

}  // namespace loxcan::emulation
