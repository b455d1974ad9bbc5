#include "devices/emulation/link.hpp"

#include <algorithm>

namespace loxcan::emulation {
namespace {

constexpr std::uint8_t kCmdFragHeader = 0xF0;
constexpr std::uint8_t kCmdFragData = 0xF1;
constexpr std::uint8_t kLegacyFragSmall = 0x44;

std::uint32_t nat_id(std::uint8_t bus, bool from_server, bool frag, std::uint8_t nat, std::uint8_t cmd) {
  return std::uint32_t{bus} << 24 | (from_server ? 3u : 0u) << 21 | (frag ? 1u : 0u) << 20 |
         std::uint32_t{nat} << 12 | cmd;
}

canproto::Frame nat_frame(std::uint8_t bus, const NatPacket& p, bool frag, std::uint8_t cmd,
                          std::uint8_t b0, std::uint16_t v16, std::uint32_t v32) {
  return canproto::Frame::make(
      nat_id(bus, p.from_server, frag, p.nat, cmd),
      {p.dev, b0, static_cast<std::uint8_t>(v16), static_cast<std::uint8_t>(v16 >> 8),
       static_cast<std::uint8_t>(v32), static_cast<std::uint8_t>(v32 >> 8),
       static_cast<std::uint8_t>(v32 >> 16), static_cast<std::uint8_t>(v32 >> 24)});
}

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

std::uint32_t stm32_crc_words(std::span<const std::uint8_t> bytes, std::size_t n) {
  std::uint32_t crc = 0xFFFFFFFF;
  for (std::size_t i = 0; i < n; i += 4) {
    std::uint32_t w = 0;
    for (std::size_t k = 0; k < 4; ++k)
      if (i + k < bytes.size() && i + k < n) w |= std::uint32_t{bytes[i + k]} << (8 * k);
    crc ^= w;
    for (int b = 0; b < 32; ++b) crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
  }
  return crc;
}

std::uint16_t sum16(std::span<const std::uint8_t> bytes) {
  std::uint16_t s = 0;
  for (auto b : bytes) s = static_cast<std::uint16_t>(s + b);
  return s;
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
  if (!p.fragmented) return {nat_frame(bus, p, false, p.cmd, p.b0, p.val16, p.val32)};
  std::vector<canproto::Frame> out;
  out.push_back(nat_frame(bus, p, true, kCmdFragHeader, p.cmd, static_cast<std::uint16_t>(p.payload.size()),
                          stm32_crc(p.payload)));
  for (std::size_t i = 0; i < p.payload.size(); i += 7) {
    std::array<std::uint8_t, 8> d{p.dev};
    for (std::size_t k = 0; k < 7 && i + k < p.payload.size(); ++k) d[1 + k] = p.payload[i + k];
    out.push_back(canproto::Frame::make(nat_id(bus, p.from_server, true, p.nat, kCmdFragData), d));
  }
  return out;
}

bool is_nat_frame(const canproto::Frame& f) {
  return f.is_loxone_shaped() && ((f.id >> 24) & 0x1F) == kBusLink;
}

std::optional<NatPacket> NatReceiver::push(const canproto::Frame& f) {
  if (!f.is_loxone_shaped() || ((f.id >> 24) & 0x1F) != bus_) return std::nullopt;
  const bool from_server = (f.id >> 22) & 1;
  const bool frag = (f.id >> 20) & 1;
  const auto nat = static_cast<std::uint8_t>(f.id >> 12);
  const auto cmd = static_cast<std::uint8_t>(f.id);
  const std::uint8_t* d = f.data.data();
  if (frag && cmd == kCmdFragHeader) {
    Pending& pend = pending_[{from_server, nat, d[0]}];
    pend.packet = long_packet(from_server, nat, d[0], d[1], {});
    pend.expected = le16(d + 2);
    pend.crc = le32(d + 4);
    if (pend.expected == 0) {
      auto done = std::move(pend.packet);
      pending_.erase({from_server, nat, d[0]});
      return done;
    }
    return std::nullopt;
  }
  if (frag && cmd == kCmdFragData) {
    auto it = pending_.find({from_server, nat, d[0]});
    if (it == pending_.end()) {
      ++dropped_;
      return std::nullopt;
    }
    auto& buf = it->second.packet.payload;
    for (int k = 1; k < 8 && buf.size() < it->second.expected; ++k) buf.push_back(d[k]);
    if (buf.size() < it->second.expected) return std::nullopt;
    auto done = std::move(it->second);
    pending_.erase(it);
    const auto& pl = done.packet.payload;
    // Zero-padded CRC (section 5.3); the truncated variant of [NET] is accepted as a fallback.
    if (stm32_crc(pl) != done.crc && stm32_crc_words(pl, pl.size() / 4 * 4) != done.crc) {
      ++dropped_;
      return std::nullopt;
    }
    return std::move(done.packet);
  }
  return short_packet(from_server, nat, d[0], cmd, d[1], le16(d + 2), le32(d + 4));
}

canproto::Frame legacy_frame_raw(bool from_server, std::uint8_t type, std::uint32_t serial,
                                 const std::array<std::uint8_t, 8>& bytes) {
  std::uint32_t id = std::uint32_t{type & 0xFu} << 24 | (serial & 0xFFFFFF);
  if (from_server && (serial & 0xFFFFFF) != 0) id |= 0x10000000;
  auto b = bytes;
  b[0] = static_cast<std::uint8_t>((b[0] & 0x7F) | (from_server ? 0 : 0x80));
  return canproto::Frame::make(id, b);
}

canproto::Frame legacy_frame(bool from_server, std::uint8_t type, std::uint32_t serial, std::uint8_t cmd,
                             std::uint8_t b0, std::uint16_t val16, std::uint32_t val32) {
  return legacy_frame_raw(from_server, type, serial,
                          {cmd, b0, static_cast<std::uint8_t>(val16), static_cast<std::uint8_t>(val16 >> 8),
                           static_cast<std::uint8_t>(val32), static_cast<std::uint8_t>(val32 >> 8),
                           static_cast<std::uint8_t>(val32 >> 16), static_cast<std::uint8_t>(val32 >> 24)});
}

std::vector<canproto::Frame> legacy_fragment(bool from_server, std::uint8_t type, std::uint32_t serial,
                                             std::uint8_t fragment_type,
                                             std::span<const std::uint8_t> payload) {
  std::vector<canproto::Frame> out;
  const auto n = static_cast<std::uint16_t>(payload.size());
  const auto s = sum16(payload);
  out.push_back(legacy_frame_raw(from_server, type, serial,
                                 {kLegacyFragSmall, 0, fragment_type, 0, static_cast<std::uint8_t>(n),
                                  static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(s),
                                  static_cast<std::uint8_t>(s >> 8)}));
  std::uint8_t index = 1;
  for (std::size_t i = 0; i < payload.size(); i += 6, ++index) {
    std::array<std::uint8_t, 8> d{kLegacyFragSmall, index};
    for (std::size_t k = 0; k < 6 && i + k < payload.size(); ++k) d[2 + k] = payload[i + k];
    out.push_back(legacy_frame_raw(from_server, type, serial, d));
  }
  return out;
}

std::optional<LegacyPacket> LegacyReceiver::push(const canproto::Frame& f) {
  if (!f.is_loxone_shaped()) return std::nullopt;
  const std::uint32_t top5 = (f.id >> 24) & 0x1F;
  if (top5 == 0x10 || top5 == 0x1F) return std::nullopt;  // NAT range, firmware data
  LegacyPacket p;
  const bool multicast = (f.id & 0xFFFFFF) == 0;
  p.from_server = multicast || ((f.id >> 28) & 1);
  p.type = static_cast<std::uint8_t>((f.id >> 24) & 0xF);
  p.serial = f.id & 0xFFFFFF;
  const std::uint8_t* d = f.data.data();
  std::copy(d, d + 8, p.raw.begin());
  p.cmd = d[0] & 0x7F;
  p.b0 = d[1];
  p.val16 = le16(d + 2);
  p.val32 = le32(d + 4);
  if (p.cmd != kLegacyFragSmall) return p;
  const std::tuple key{p.from_server, p.type, p.serial};
  if (d[1] == 0) {
    Pending& pend = pending_[key];
    pend.packet = p;
    pend.packet.fragment = true;
    pend.packet.fragment_type = d[2];
    pend.expected = le16(d + 4);
    pend.sum = le16(d + 6);
    pend.next_index = 1;
    return std::nullopt;
  }
  auto it = pending_.find(key);
  if (it == pending_.end() || d[1] != it->second.next_index) return std::nullopt;
  auto& buf = it->second.packet.payload;
  for (int k = 2; k < 8 && buf.size() < it->second.expected; ++k) buf.push_back(d[k]);
  ++it->second.next_index;
  if (buf.size() < it->second.expected) return std::nullopt;
  auto done = std::move(it->second);
  pending_.erase(it);
  if (sum16(done.packet.payload) != done.sum) return std::nullopt;
  return std::move(done.packet);
}

std::uint32_t stm32_crc(std::span<const std::uint8_t> bytes) {
  return stm32_crc_words(bytes, (bytes.size() + 3) / 4 * 4);
}

std::uint8_t crc8(std::span<const std::uint8_t> bytes) {
  std::uint8_t crc = 0;
  for (auto b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc & 0x80) ? static_cast<std::uint8_t>((crc << 1) ^ 0x85) : crc << 1;
  }
  return crc;
}

std::uint8_t random_nat(std::uint32_t serial) {
  const std::uint8_t b[4] = {static_cast<std::uint8_t>(serial), static_cast<std::uint8_t>(serial >> 8),
                             static_cast<std::uint8_t>(serial >> 16), static_cast<std::uint8_t>(serial >> 24)};
  return crc8(b) | 0x80;
}

std::uint32_t config_crc(std::span<const std::uint8_t> config) {
  if (config.empty() || config[0] == 0) return 0;
  const std::size_t size = config[0];
  std::vector<std::uint8_t> copy(config.begin(), config.begin() + std::min(config.size(), size));
  copy.resize(size, 0);
  for (std::size_t i = size >= 4 ? size - 4 : 0; i < size; ++i) copy[i] = 0;  // the zero filler
  copy.resize(((size - 1) / 4) * 4);
  return stm32_crc(copy);
}

}  // namespace loxcan::emulation
