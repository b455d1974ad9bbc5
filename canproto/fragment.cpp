#include "canproto/fragment.hpp"

#include <algorithm>

#include "canproto/crc.hpp"

namespace loxcan::canproto {
namespace {

std::uint64_t nat_key(const NatAddress& a) {
  return 1ull << 40 | std::uint64_t{static_cast<std::uint8_t>(a.bus)} << 24 |
         std::uint64_t{static_cast<std::uint8_t>(a.dir)} << 16 | std::uint64_t{a.nat} << 8 |
         a.device_nat;
}

std::uint64_t legacy_key(const LegacyId& a) {
  return 2ull << 40 | std::uint64_t{static_cast<std::uint8_t>(a.dir)} << 32 |
         std::uint64_t{a.type} << 24 | a.serial24;
}

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}

Frame frame_with(std::uint32_t id) {
  Frame f;
  f.id = id;
  f.len = 8;
  return f;
}

}  // namespace

const char* to_string(CrcMatch match) {
  switch (match) {
    case CrcMatch::none: return "none";
    case CrcMatch::padded: return "padded";
    case CrcMatch::truncated: return "truncated";
  }
  return "none";
}

Reassembler::Reassembler(ReassemblerOptions options)
    : options_(options), slots_(std::max<std::size_t>(options.max_pending, 1)) {}

std::size_t Reassembler::pending() const {
  return static_cast<std::size_t>(
      std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.used; }));
}

Reassembler::Slot* Reassembler::find(std::uint64_t key) {
  for (auto& s : slots_)
    if (s.used && s.key == key) return &s;
  return nullptr;
}

Reassembler::Slot& Reassembler::claim(std::uint64_t key, FragmentOutcome& out) {
  Slot* slot = find(key);
  if (slot != nullptr) {
    out.abandoned = std::move(slot->info);
    out.abandon_reason = "fragmented packet restarted by a new header";
  } else {
    for (auto& s : slots_) {
      if (!s.used) {
        slot = &s;
        break;
      }
    }
    if (slot == nullptr) {
      slot = &*std::min_element(slots_.begin(), slots_.end(), [](const Slot& a, const Slot& b) {
        return a.info.last_ns < b.info.last_ns;
      });
      out.abandoned = std::move(slot->info);
      out.abandon_reason = "too many fragmented packets in progress";
    }
  }
  slot->used = true;
  slot->key = key;
  slot->next_index = 1;
  slot->info.payload.clear();  // keeps the buffer's capacity for the next packet
  return *slot;
}

void Reassembler::finish(Slot& slot, FragmentOutcome& out) {
  auto& info = slot.info;
  if (info.protocol == Protocol::nat) {
    info.computed = crc32_stm32(info.payload);
    if (info.computed == info.check)
      info.match = CrcMatch::padded;
    else if (options_.accept_truncated_crc && info.payload.size() % 4 != 0 &&
             crc32_stm32_truncated(info.payload) == info.check)
      info.match = CrcMatch::truncated;
  } else {
    info.computed = sum16(info.payload);
    if (info.computed == info.check) info.match = CrcMatch::padded;
  }
  out.status = FragmentOutcome::Status::complete;
  out.packet = std::move(info);
  slot.used = false;
}

FragmentOutcome Reassembler::append(Slot& slot, std::span<const std::uint8_t> bytes,
                                    std::int64_t now_ns) {
  FragmentOutcome out;
  auto& info = slot.info;
  if (now_ns - info.last_ns > options_.gap_timeout_ns) {
    out.abandoned = std::move(info);
    out.abandon_reason = "fragmented packet timed out";
    slot.used = false;
    out.status = FragmentOutcome::Status::dropped;
    out.problem = "fragment data after its packet timed out";
    return out;
  }
  const std::size_t want = info.size - info.payload.size();
  const std::size_t n = std::min(want, bytes.size());
  info.payload.insert(info.payload.end(), bytes.begin(),
                      bytes.begin() + static_cast<std::ptrdiff_t>(n));
  info.last_ns = now_ns;
  if (info.payload.size() == info.size) finish(slot, out);
  return out;
}

FragmentOutcome Reassembler::begin(std::uint64_t key, const PacketInfo& head, std::int64_t now_ns) {
  FragmentOutcome out;
  Slot& slot = claim(key, out);
  auto buffer = std::move(slot.info.payload);
  slot.info = head;
  slot.info.payload = std::move(buffer);
  slot.info.first_ns = slot.info.last_ns = now_ns;
  slot.info.payload.reserve(head.size);
  if (head.size == 0) finish(slot, out);
  return out;
}

FragmentOutcome Reassembler::add(const NatAddress& from, const FragmentHeader& header,
                                 std::int64_t now_ns) {
  PacketInfo head;
  head.protocol = Protocol::nat;
  head.nat = from;
  head.cmd = header.cmd;
  head.size = header.size;
  head.check = header.crc;
  return begin(nat_key(from), head, now_ns);
}

FragmentOutcome Reassembler::add(const NatAddress& from, const FragmentData& data,
                                 std::int64_t now_ns) {
  Slot* slot = find(nat_key(from));
  if (slot == nullptr) {
    FragmentOutcome out;
    out.status = FragmentOutcome::Status::dropped;
    out.problem = "fragment data without header";
    return out;
  }
  return append(*slot, data.bytes, now_ns);
}

FragmentOutcome Reassembler::add(const LegacyId& from, const LegacyFragmentHeader& header,
                                 std::int64_t now_ns) {
  PacketInfo head;
  head.protocol = Protocol::legacy;
  head.legacy = from;
  head.cmd = header.type;
  head.large = header.large;
  head.size = header.size;
  head.check = header.sum;
  return begin(legacy_key(from), head, now_ns);
}

FragmentOutcome Reassembler::add(const LegacyId& from, const LegacyFragmentData& data,
                                 std::int64_t now_ns) {
  FragmentOutcome out;
  Slot* slot = find(legacy_key(from));
  if (slot == nullptr) {
    out.status = FragmentOutcome::Status::dropped;
    out.problem = "legacy fragment data without header";
    return out;
  }
  if (slot->info.large != data.large) {
    out.status = FragmentOutcome::Status::dropped;
    out.problem = "legacy fragment form does not match its header";
    return out;
  }
  if (!data.large) {
    if (data.index != slot->next_index) {
      out.abandoned = std::move(slot->info);
      out.abandon_reason = "legacy fragment index out of sequence";
      slot->used = false;
      out.status = FragmentOutcome::Status::dropped;
      out.problem = "legacy fragment index out of sequence";
      return out;
    }
    ++slot->next_index;
  }
  return append(*slot, data.chunk(), now_ns);
}

Result<std::vector<Frame>, EncodeErrc> split_nat(const NatAddress& addr, std::uint8_t cmd,
                                                 std::span<const std::uint8_t> payload) {
  if (payload.size() > 0xFFFF) return Err{EncodeErrc::payload_too_large};
  std::vector<Frame> frames;
  frames.reserve(1 + (payload.size() + 6) / 7);
  Frame h = frame_with(make_nat_id(addr.bus, addr.dir, true, addr.nat, nat_cmd::kFragmentHeader));
  h.data[0] = addr.device_nat;
  h.data[1] = cmd;
  put16(&h.data[2], static_cast<std::uint16_t>(payload.size()));
  const std::uint32_t crc = crc32_stm32(payload);
  for (int k = 0; k < 4; ++k) h.data[4 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
  frames.push_back(h);
  const std::uint32_t data_id =
      make_nat_id(addr.bus, addr.dir, true, addr.nat, nat_cmd::kFragmentData);
  for (std::size_t off = 0; off < payload.size(); off += 7) {
    Frame f = frame_with(data_id);
    f.data[0] = addr.device_nat;
    const std::size_t n = std::min<std::size_t>(7, payload.size() - off);
    std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(off), n, f.data.begin() + 1);
    frames.push_back(f);
  }
  return frames;
}

Result<std::vector<Frame>, EncodeErrc> split_legacy(const LegacyId& addr, std::uint8_t type,
                                                    std::span<const std::uint8_t> payload,
                                                    bool large) {
  if (payload.size() > 0xFFFF) return Err{EncodeErrc::payload_too_large};
  large = large || payload.size() > kLegacySmallMax;
  const std::uint8_t flag = addr.dir == Direction::from_device ? 0x80 : 0x00;
  const std::uint32_t id = make_legacy_id(addr);
  std::vector<Frame> frames;
  Frame h = frame_with(id);
  h.data[0] = static_cast<std::uint8_t>(
      (large ? legacy_cmd::kFragmentLargeHeader : legacy_cmd::kFragment) | flag);
  h.data[2] = type;
  put16(&h.data[4], static_cast<std::uint16_t>(payload.size()));
  put16(&h.data[6], sum16(payload));
  frames.push_back(h);
  const std::size_t step = large ? 7 : 6;
  std::uint8_t index = 1;
  for (std::size_t off = 0; off < payload.size(); off += step, ++index) {
    Frame f = frame_with(id);
    const std::size_t n = std::min(step, payload.size() - off);
    if (large) {
      f.data[0] = static_cast<std::uint8_t>(legacy_cmd::kFragmentLargeData | flag);
      std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(off), n, f.data.begin() + 1);
    } else {
      f.data[0] = static_cast<std::uint8_t>(legacy_cmd::kFragment | flag);
      f.data[1] = index;
      std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(off), n, f.data.begin() + 2);
    }
    frames.push_back(f);
  }
  return frames;
}

}  // namespace loxcan::canproto
