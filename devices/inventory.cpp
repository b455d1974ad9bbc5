#include "devices/inventory.hpp"

#include <algorithm>
#include <cstdio>
#include <type_traits>

#include "canproto/candump.hpp"

namespace loxcan::devices {
namespace {

namespace cp = loxcan::canproto;

std::string hex8_lower(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string hex2(std::uint8_t v) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "0x%02X", v);
  return buf;
}

// The frames of a message in candump compact form, space separated.
std::string raw_of(const cp::Message& m) {
  if (auto* u = std::get_if<cp::UnknownMessage>(&m)) return cp::format_compact(u->frame);
  if (auto* x = std::get_if<cp::MalformedMessage>(&m)) return cp::format_compact(x->frame);
  auto frames = cp::encode(m);
  if (!frames) return "";
  std::string s;
  for (const auto& f : *frames) s += (s.empty() ? "" : " ") + cp::format_compact(f);
  return s;
}

// Commands that carry channel values (reported raw when no model maps them).
bool is_nat_value(std::uint8_t cmd) {
  return (cmd >= 0x80 && cmd <= 0x8F) || cmd == 0xA8 || cmd == 0x16 || cmd == 0x18 ||
         (cmd >= 0x90 && cmd <= 0x94);
}

// Authorization challenge request/reply fragments (types 0x18/0x19, LOXONE_CAN.md 6 and 7): like
// NAT 0x9C/0x9D they carry no channel values, so they are not an unmapped message either.
bool is_legacy_auth(const cp::LegacyBody& body) {
  const auto* p = std::get_if<cp::LegacyPacket>(&body);
  return p != nullptr && (p->type == 0x18 || p->type == 0x19);
}

bool is_legacy_value(const cp::LegacyBody& b) {
  return std::holds_alternative<cp::LegacyDigitalInputs>(b) ||
         std::holds_alternative<cp::LegacyOutputs>(b) ||
         std::holds_alternative<cp::LegacyAnalogInputs>(b) ||
         std::holds_alternative<cp::LegacyAnalogOutputs>(b) ||
         std::holds_alternative<cp::LegacyTemperature>(b) ||
         std::holds_alternative<cp::LegacyGeneric>(b) ||
         (std::holds_alternative<cp::LegacyPacket>(b) &&
          std::get<cp::LegacyPacket>(b).type != 0x09 && std::get<cp::LegacyPacket>(b).type != 0x0B);
}

// "analog_value from NAT 0x01/0x43 before its NAT offer or Start"
std::string unmapped(const cp::NatMessage& m, const char* from_or_to) {
  return std::string(cp::nat_command_name(cp::nat_command(m.body))) + " " + from_or_to + " NAT " +
         hex2(m.addr.nat) + (m.addr.device_nat ? "/" + hex2(m.addr.device_nat) : "") +
         " before its NAT offer or Start";
}

DeviceState state_of_nat(std::uint8_t nat) {
  if (cp::is_active_nat(nat)) return DeviceState::online;
  if (cp::is_parked_nat(nat)) return DeviceState::parked;
  return DeviceState::offline;
}

}  // namespace

std::string_view to_string(BranchSide b) {
  switch (b) {
    case BranchSide::none: return "";
    case BranchSide::left: return "left";
    case BranchSide::right: return "right";
  }
  return "?";
}

Inventory::Inventory(const Registry& registry, InventoryOptions options)
    : registry_(registry), options_(options) {}

void Inventory::set_name(std::uint32_t serial, std::string name) {
  names_[serial] = name;
  if (DeviceRecord* r = by_serial(serial)) r->info.name = std::move(name);
}

const DeviceRecord* Inventory::find(std::uint32_t serial) const {
  auto it = index_.find(serial);
  return it == index_.end() ? nullptr : &records_[it->second];
}

const DeviceRecord* Inventory::find_by_name(std::string_view name) const {
  for (const auto& r : records_) {
    if (r.info.name == name) return &r;
  }
  return nullptr;
}

DeviceRecord* Inventory::by_serial(std::uint32_t serial) {
  auto it = index_.find(serial);
  return it == index_.end() ? nullptr : &records_[it->second];
}

DeviceRecord& Inventory::ensure(std::uint32_t serial, Protocol protocol, std::int64_t ts,
                                std::vector<Event>& out) {
  if (DeviceRecord* r = by_serial(serial)) return *r;
  (void)out;
  index_[serial] = records_.size();
  channel_index_.emplace_back();
  DeviceRecord& r = records_.emplace_back();
  r.info.serial = serial;
  r.protocol = protocol;
  r.first_seen_ns = ts;
  r.last_seen_ns = ts;
  return r;
}

void Inventory::set_type(DeviceRecord& r, std::uint16_t type) {
  if (r.type_known && r.info.type == type) return;
  r.type_known = true;
  r.info.type = type;
  r.model = registry_.find(r.protocol, type);
  r.info.model = r.model ? r.model->name : unknown_model_name(r.protocol, type);
  r.info.generation = r.protocol == Protocol::legacy ? Generation::legacy
                      : (type & 0x8000)              ? Generation::tree_device
                                                     : Generation::nat_extension;
  auto it = names_.find(r.info.serial);
  r.info.name = it != names_.end() ? it->second : r.info.model + "-" + hex8_lower(r.info.serial);
}

void Inventory::set_state(DeviceRecord& r, DeviceState s, std::int64_t ts,
                          std::vector<Event>& out) {
  if (r.state == s) return;
  out.push_back(DeviceStateChanged{r.info, r.state, s, ts});
  r.state = s;
}

void Inventory::touch(DeviceRecord& r, std::int64_t ts, std::vector<Event>& out) {
  r.last_seen_ns = std::max(r.last_seen_ns, ts);
  set_state(r, r.protocol_state, ts, out);
}

void Inventory::map_extension(std::uint8_t nat, std::uint32_t serial) {
  if (ext_by_nat_[nat] != serial) {
    // Another extension had this NAT: what was mapped behind it is stale.
    std::erase_if(tree_by_nat_, [&](const auto& kv) { return (kv.first >> 8) == nat; });
  }
  for (std::size_t n = 0; n < ext_by_nat_.size(); ++n) {
    if (ext_by_nat_[n] != serial || n == nat) continue;
    // The extension moved: its Tree devices keep their device NATs, so they move with it.
    ext_by_nat_[n].reset();
    std::map<std::uint16_t, std::uint32_t> moved;
    for (auto it = tree_by_nat_.begin(); it != tree_by_nat_.end();) {
      if ((it->first >> 8) == n) {
        moved[static_cast<std::uint16_t>(nat << 8 | (it->first & 0xFF))] = it->second;
        it = tree_by_nat_.erase(it);
      } else {
        ++it;
      }
    }
    tree_by_nat_.merge(moved);
  }
  ext_by_nat_[nat] = serial;
}

void Inventory::map_tree(std::uint8_t ext_nat, std::uint8_t dev_nat, std::uint32_t serial) {
  // Extension NAT 0 keys what a Tree branch interface sees; the Link view is kept separately.
  std::erase_if(tree_by_nat_, [&](const auto& kv) {
    return kv.second == serial && ((kv.first >> 8) == 0) == (ext_nat == 0);
  });
  tree_by_nat_[static_cast<std::uint16_t>(ext_nat << 8 | dev_nat)] = serial;
}

std::optional<std::uint32_t> Inventory::resolve(std::uint8_t nat, std::uint8_t device_nat) const {
  if (device_nat == 0) return ext_by_nat_[nat];
  auto it = tree_by_nat_.find(static_cast<std::uint16_t>(nat << 8 | device_nat));
  if (it == tree_by_nat_.end()) return std::nullopt;
  return it->second;
}

void Inventory::feed(const canproto::Decoded& decoded, std::int64_t ts_ns,
                     std::vector<Event>& out) {
  feed(decoded.message, ts_ns, out);
  if (decoded.packet_message) feed(*decoded.packet_message, ts_ns, out);
}

void Inventory::feed(const canproto::Message& message, std::int64_t ts, std::vector<Event>& out) {
  if (auto* n = std::get_if<cp::NatMessage>(&message)) return feed_nat(*n, ts, out);
  if (auto* l = std::get_if<cp::LegacyMessage>(&message)) return feed_legacy(*l, ts, out);
  if (auto* u = std::get_if<cp::UnknownMessage>(&message)) {
    return unknown(message, "unknown_message", u->reason, ts, out);
  }
  if (auto* x = std::get_if<cp::MalformedMessage>(&message)) {
    return unknown(message, "malformed", x->reason, ts, out);
  }
}

void Inventory::unknown(const canproto::Message& m, std::string kind, std::string detail,
                        std::int64_t ts, std::vector<Event>& out) {
  out.push_back(BusEvent{std::move(kind), std::move(detail), raw_of(m), ts});
}

// The Miniserver sends its "extensions offline" broadcasts twice (legacy and NAT flavour) when
// it starts: one event per burst.
void Inventory::miniserver_start(const canproto::Message& m, const char* detail, std::int64_t ts,
                                 std::vector<Event>& out) {
  if (!last_start_event_ns_ || ts - *last_start_event_ns_ > 1'000'000'000) {
    out.push_back(BusEvent{"miniserver_start", detail, raw_of(m), ts});
  }
  last_start_event_ns_ = ts;
}

// ---- NAT
// -----------------------------------------------------------------------------------------

void Inventory::feed_nat(const canproto::NatMessage& m, std::int64_t ts, std::vector<Event>& out) {
  if (m.addr.bus != cp::Bus::tree) return route_nat(m, m, ts, out);
  // A Tree branch has no extension NAT: key its devices under the reserved extension NAT 0.
  cp::NatMessage view = m;
  view.addr.nat = 0;
  if (view.addr.device_nat == 0 && m.addr.dir != cp::Direction::from_device) {
    view.addr.device_nat = m.addr.nat;
  }
  route_nat(view, m, ts, out);
}

void Inventory::route_nat(const canproto::NatMessage& view, const canproto::NatMessage& m,
                          std::int64_t ts, std::vector<Event>& out) {
  if (auto* s = std::get_if<cp::TreeShortcut>(&view.body)) {
    auto ext = resolve(view.addr.nat, 0);
    const DeviceRecord* r = ext ? find(*ext) : nullptr;
    out.push_back(BusEvent{
        "tree_shortcut",
        std::string("Tree Extension ") + (r ? r->info.name : "at NAT " + hex2(view.addr.nat)) +
            " reports a shortcut on the " + ((s->branch & 0x40) ? "left" : "right") + " branch",
        raw_of(m), ts});
    return;
  }
  if (view.addr.dir == cp::Direction::from_device) return feed_nat_from_device(view, ts, out);
  if (view.addr.dir == cp::Direction::to_device) return feed_nat_to_device(view, ts, out);
}

void Inventory::feed_nat_from_device(const canproto::NatMessage& m, std::int64_t ts,
                                     std::vector<Event>& out) {
  if (auto* s = std::get_if<cp::Start>(&m.body)) return on_device_info(m, *s, ts, out);
  if (auto* v = std::get_if<cp::VersionInfo>(&m.body)) return on_device_info(m, *v, ts, out);
  if (auto* a = std::get_if<cp::NatIndexRequest>(&m.body)) return on_announce(m, *a, true, ts, out);
  if (auto* a = std::get_if<cp::SearchReply>(&m.body)) return on_announce(m, *a, false, ts, out);
  const std::uint8_t cmd = cp::nat_command(m.body);
  auto serial = resolve(m.addr.nat, m.addr.device_nat);
  DeviceRecord* r = serial ? by_serial(*serial) : nullptr;
  if (!r) {
    if (is_nat_value(cmd)) {
      unknown(m, "unknown_device", unmapped(m, "from"), ts, out);
    }
    return;
  }
  touch(*r, ts, out);
  if (auto* a = std::get_if<cp::Alive>(&m.body)) r->config_crc = a->config_crc;
  if (auto* log = std::get_if<cp::DeviceLog>(&m.body)) {
    out.push_back(BusEvent{"device_log", r->info.name + ": " + log->text, raw_of(m), ts});
  }
  if (is_nat_value(cmd)) nat_values(*r, m, true, ts, out);
}

void Inventory::feed_nat_to_device(const canproto::NatMessage& m, std::int64_t ts,
                                   std::vector<Event>& out) {
  if (auto* o = std::get_if<cp::NatOffer>(&m.body)) return on_offer(m, *o, ts, out);
  if (std::holds_alternative<cp::Park>(m.body) && m.addr.nat == cp::kNatBroadcast) {
    return on_park_all(ts, out);
  }
  if (std::holds_alternative<cp::ExtensionsOffline>(m.body)) {
    miniserver_start(m, "extensions offline (NAT 0x0A)", ts, out);
    return;
  }
  const std::uint8_t cmd = cp::nat_command(m.body);
  if (!is_nat_value(cmd) || m.addr.nat == cp::kNatBroadcast) return;
  auto serial = resolve(m.addr.nat, m.addr.device_nat);
  DeviceRecord* r = serial ? by_serial(*serial) : nullptr;
  if (!r) {
    unknown(m, "unknown_device", unmapped(m, "to"), ts, out);
    return;
  }
  nat_values(*r, m, false, ts, out);
}

void Inventory::nat_values(DeviceRecord& r, const canproto::NatMessage& m, bool from_device,
                           std::int64_t ts, std::vector<Event>& out) {
  if (r.model && plan_values(r, m.body, r.channels, from_device, ts, out) > 0) return;
  unknown(m, "unknown_message",
          r.info.name + ": " + cp::nat_command_name(cp::nat_command(m.body)) +
              " not mapped by model " + r.info.model,
          ts, out);
}

void Inventory::on_device_info(const canproto::NatMessage& m, const canproto::DeviceInfo& info,
                               std::int64_t ts, std::vector<Event>& out) {
  const bool known = by_serial(info.serial) != nullptr;
  DeviceRecord& r = ensure(info.serial, Protocol::nat, ts, out);
  set_type(r, info.device_type);
  r.info.firmware = info.version;
  r.config_crc = info.config_crc;
  r.hw_version = info.hw_version;
  if (m.addr.device_nat == 0) {
    map_extension(m.addr.nat, info.serial);
    r.nat = m.addr.nat;
    r.protocol_state = state_of_nat(m.addr.nat);
  } else {
    map_tree(m.addr.nat, m.addr.device_nat, info.serial);
    r.nat = m.addr.device_nat;
    if (auto ext = resolve(m.addr.nat, 0)) r.parent = *ext;
    r.branch = cp::is_left_branch(m.addr.device_nat) ? BranchSide::left : BranchSide::right;
    r.protocol_state = (m.addr.device_nat & 0x80) ? DeviceState::parked : DeviceState::online;
  }
  if (!known) out.push_back(DeviceSeen{r.info, ts});
  touch(r, ts, out);
}

void Inventory::on_announce(const canproto::NatMessage& m, const canproto::DeviceAnnounce& a,
                            bool request, std::int64_t ts, std::vector<Event>& out) {
  const bool known = by_serial(a.serial) != nullptr;
  DeviceRecord& r = ensure(a.serial, Protocol::nat, ts, out);
  set_type(r, a.device_type);
  if ((a.device_type & 0x8000) && m.addr.device_nat == 0 && m.addr.bus == cp::Bus::link) {
    if (auto ext = resolve(m.addr.nat, 0)) r.parent = *ext;
    r.branch = (a.branch_flags & 0x40) ? BranchSide::left : BranchSide::right;
  }
  if (request) {  // a NAT index request: the device has no NAT
    if (a.device_type & 0x8000) {
      std::erase_if(tree_by_nat_, [&](const auto& kv) { return kv.second == a.serial; });
    } else {
      for (auto& e : ext_by_nat_) {
        if (e == a.serial) e.reset();
      }
    }
    r.nat = 0;
    r.protocol_state = DeviceState::offline;
  }
  if (!known) out.push_back(DeviceSeen{r.info, ts});
  touch(r, ts, out);
}

void Inventory::on_offer(const canproto::NatMessage& m, const canproto::NatOffer& o,
                         std::int64_t ts, std::vector<Event>& out) {
  (void)ts;
  (void)out;
  DeviceRecord* r = by_serial(o.serial);
  if (m.addr.nat == cp::kNatBroadcast) {
    map_extension(o.new_nat, o.serial);
    if (r) r->nat = o.new_nat;
    return;
  }
  map_tree(m.addr.nat, o.new_nat, o.serial);
  if (!r) return;
  r->nat = o.new_nat;
  if (auto ext = resolve(m.addr.nat, 0)) r->parent = *ext;
  r->branch = cp::is_left_branch(o.new_nat) ? BranchSide::left : BranchSide::right;
}

void Inventory::on_park_all(std::int64_t ts, std::vector<Event>& out) {
  ext_by_nat_.fill(std::nullopt);
  tree_by_nat_.clear();
  for (auto& r : records_) {
    if (r.protocol == Protocol::legacy || r.protocol_state == DeviceState::offline) continue;
    r.protocol_state = DeviceState::parked;
    r.nat = 0;
    if (r.state != DeviceState::offline) set_state(r, DeviceState::parked, ts, out);
  }
}

Inventory::ChannelIndex& Inventory::channel_index(DeviceRecord& r) {
  ChannelIndex& ix = channel_index_[static_cast<std::size_t>(&r - records_.data())];
  if (ix.model == r.model) return ix;
  // First value of the device, or its type (so its model) changed: map the new model's channels
  // to the states already there by name.
  ix.model = r.model;
  ix.plan = &plans_.try_emplace(r.model, *r.model).first->second;
  ix.slots.assign(r.model->channels.size(), -1);
  ix.digital.clear();
  for (std::size_t c = 0; c < ix.slots.size(); ++c) {
    for (std::size_t s = 0; s < r.channels.size(); ++s) {
      if (r.channels[s].name == r.model->channels[c].spec.name) {
        ix.slots[c] = static_cast<std::int32_t>(s);
      }
    }
  }
  return ix;
}

// The device's last 0x80 mask with this body's index, if the body is one from the device and the
// mask is known (see ChannelIndex::digital); a command forgets every mask.
std::uint32_t* Inventory::last_mask(ChannelIndex& ix, const cp::DigitalValue* digital,
                                    bool from_device) {
  if (digital == nullptr) return nullptr;
  if (!from_device) {
    ix.digital.clear();  // it may set bits the device has not confirmed
    return nullptr;
  }
  for (auto& [index, mask] : ix.digital) {
    if (index == digital->index) return &mask;
  }
  return nullptr;
}

// The rules of on_values(), by channel index.
template <class Body, class Context>
std::size_t Inventory::plan_values(DeviceRecord& r, const Body& body, const Context& context,
                                   bool from_device, std::int64_t ts, std::vector<Event>& out) {
  ChannelIndex& ix = channel_index(r);
  const std::size_t decoded = stage_values(r, ix, body, context, from_device);
  commit_values(r, ix, decoded, from_device, ts, out);
  return decoded;
}

// Fills staged_ with the values of `body` that may change a state, before any is applied
// (partial light updates read the states as they were before this message). Returns how many
// channels the body carries.
template <class Body, class Context>
std::size_t Inventory::stage_values(DeviceRecord& r, ChannelIndex& ix, const Body& body,
                                    const Context& context, bool from_device) {
  const DecodePlan& plan = *ix.plan;
  const cp::DigitalValue* digital = nullptr;
  if constexpr (std::is_same_v<Body, cp::NatBody>) digital = std::get_if<cp::DigitalValue>(&body);
  std::uint32_t* last = last_mask(ix, digital, from_device);
  const std::uint32_t changed = last ? *last ^ digital->bitmask : 0;
  staged_.clear();
  // The same mask again: every channel it carries keeps its value.
  if (last != nullptr && changed == 0) return plan.candidates(body, from_device).size();
  std::size_t repeated = 0;
  for (const std::uint16_t c : plan.candidates(body, from_device)) {
    const std::int32_t slot = ix.slots[c];
    // A mask whose bits for this channel are as in the last one, which its state holds.
    if (last != nullptr && slot >= 0 && (plan.digital_bits(c) & changed) == 0) {
      ++repeated;
      continue;
    }
    const ChannelState* state = slot < 0 ? nullptr : &r.channels[static_cast<std::size_t>(slot)];
    // A device repeating its last (confirmed) value, the common case: compared in place, without
    // building a ChannelValue.
    if (from_device && state != nullptr && !state->commanded) {
      const auto m = plan.match(c, body, context, state->value);
      if (m == DecodePlan::Match::absent) continue;
      if (m == DecodePlan::Match::same) {
        ++repeated;
        continue;
      }
    }
    if (auto v = plan.decode(c, body, context)) staged_.push_back({c, std::move(*v)});
  }
  if (last != nullptr) {
    *last = digital->bitmask;
  } else if (digital != nullptr && from_device) {
    ix.digital.emplace_back(digital->index, digital->bitmask);
  }
  return repeated + staged_.size();
}

// Applies staged_ to the states and emits the events. `decoded`: how many channels the message
// carried (a mask command names only the outputs it changes, unless it has only one).
void Inventory::commit_values(DeviceRecord& r, ChannelIndex& ix, std::size_t decoded,
                              bool from_device, std::int64_t ts, std::vector<Event>& out) {
  for (auto& [c, value] : staged_) {
    const ChannelSpec& spec = r.model->channels[c].spec;
    std::int32_t& slot = ix.slots[c];
    if (slot < 0) {
      slot = static_cast<std::int32_t>(r.channels.size());
      r.channels.push_back({spec.name, value, spec.unit, ts, !from_device});
    } else {
      ChannelState& s = r.channels[static_cast<std::size_t>(slot)];
      // One bit of a mask command that did not change: not a command for this channel.
      if (!from_device && decoded > 1 && s.value == value) continue;
      // A device report after a command confirms it: reported even when equal.
      s.value = value;
      s.ts_ns = ts;
    }
    r.channels[static_cast<std::size_t>(slot)].commanded = !from_device;
    emit_value(r, spec, std::move(value), from_device, ts, out);
  }
}

// Built in place: a temporary event moved into the vector costs as much again.
void Inventory::emit_value(const DeviceRecord& r, const ChannelSpec& spec, ChannelValue&& value,
                           bool from_device, std::int64_t ts, std::vector<Event>& out) {
  if (!from_device) {
    auto& e = std::get<Command>(out.emplace_back(std::in_place_type<Command>));
    e.device = r.info;
    e.channel = spec.name;
    e.value = std::move(value);
    e.ts_ns = ts;
    return;
  }
  auto& e = std::get<ChannelChanged>(out.emplace_back(std::in_place_type<ChannelChanged>));
  e.device = r.info;
  e.channel = spec.name;
  e.value = std::move(value);
  e.unit = spec.unit;
  e.ts_ns = ts;
}

void Inventory::on_values(DeviceRecord& r, const std::vector<DecodedValue>& values,
                          bool from_device, std::int64_t ts, std::vector<Event>& out) {
  for (const auto& v : values) {
    auto it = std::find_if(r.channels.begin(), r.channels.end(),
                           [&](const ChannelState& c) { return c.name == v.channel; });
    if (it == r.channels.end()) {
      r.channels.push_back({v.channel, v.value, v.unit, ts, !from_device});
      it = r.channels.end() - 1;
    } else if (!from_device && values.size() > 1 && it->value == v.value) {
      continue;  // one bit of a mask command that did not change: not a command for this channel
    } else if (!from_device || it->commanded || !(it->value == v.value)) {
      // A device report after a command confirms it: reported even when equal.
      it->value = v.value;
      it->ts_ns = ts;
    } else {
      continue;  // a device repeating its last value
    }
    if (!from_device) {
      it->commanded = true;
      out.push_back(Command{r.info, v.channel, v.value, ts});
    } else {
      it->commanded = false;
      out.push_back(ChannelChanged{r.info, v.channel, v.value, v.unit, ts});
    }
  }
}

// ---- legacy
// --------------------------------------------------------------------------------------

void Inventory::feed_legacy(const canproto::LegacyMessage& m, std::int64_t ts,
                            std::vector<Event>& out) {
  const bool offline_cmd = std::holds_alternative<cp::LegacySetOffline>(m.body) ||
                           std::holds_alternative<cp::LegacyPark>(m.body);
  if (m.addr.kind == cp::LegacyKind::broadcast) {
    if (!offline_cmd) return;
    if (std::holds_alternative<cp::LegacySetOffline>(m.body)) {
      miniserver_start(m, "extensions offline (legacy 0x0C)", ts, out);
    }
    for (auto& r : records_) {
      if (r.protocol != Protocol::legacy || r.protocol_state == DeviceState::offline) continue;
      r.protocol_state = DeviceState::parked;
      if (r.state != DeviceState::offline) set_state(r, DeviceState::parked, ts, out);
    }
    return;
  }
  if (m.addr.kind != cp::LegacyKind::direct) return;
  const std::uint32_t serial = m.addr.serial();
  const bool from_device = m.addr.dir == cp::Direction::from_device;
  DeviceRecord* r = by_serial(serial);
  if (!r && !from_device && !is_legacy_value(m.body)) return;
  const bool seen = r != nullptr;
  if (!r) {
    r = &ensure(serial, Protocol::legacy, ts, out);
    set_type(*r, m.addr.type);
  }
  if (from_device) {
    if (auto* s = std::get_if<cp::LegacyStart>(&m.body)) {
      r->info.firmware = s->version;
      r->hw_version = s->hw_version;
      r->protocol_state = DeviceState::online;
    } else if (auto* a = std::get_if<cp::LegacyAlive>(&m.body)) {
      r->info.firmware = a->version;
      r->hw_version = a->hw_version;
    }
    if (r->protocol_state == DeviceState::offline) r->protocol_state = DeviceState::online;
    if (!seen) out.push_back(DeviceSeen{r->info, ts});
    touch(*r, ts, out);
  } else if (!seen) {
    out.push_back(DeviceSeen{r->info, ts});
  }
  if (!from_device && offline_cmd) {
    r->protocol_state = DeviceState::parked;
    if (r->state != DeviceState::offline) set_state(*r, DeviceState::parked, ts, out);
    return;
  }
  if (!is_legacy_value(m.body) || is_legacy_auth(m.body)) return;
  legacy_values(*r, m, from_device, ts, out);
}

void Inventory::legacy_values(DeviceRecord& r, const canproto::LegacyMessage& m, bool from_device,
                              std::int64_t ts, std::vector<Event>& out) {
  if (r.model && !channel_index(r).plan->dynamic()) {
    if (plan_values(r, m.body, r.hw_version, from_device, ts, out) > 0) return;
  } else {
    scratch_values_.clear();
    if (r.model)
      decode_legacy(*r.model, m.body, from_device, r.hw_version, r.scratch, scratch_values_);
    if (!scratch_values_.empty()) return on_values(r, scratch_values_, from_device, ts, out);
    // Multi-frame sends complete later; anything else is a message the model does not map.
    auto* g = std::get_if<cp::LegacyGeneric>(&m.body);
    if (r.model && r.model->special == Special::serial_port && g && g->cmd == 0x71) return;
  }
  unknown(m, "unknown_message",
          r.info.name + ": legacy " +
              cp::legacy_command_name(cp::legacy_command(m.body), m.addr.type) +
              " not mapped by model " + r.info.model,
          ts, out);
}

// ---- silence and commands -------------------------------------------------------------------

void Inventory::tick(std::int64_t now_ns, std::vector<Event>& out) {
  for (auto& r : records_) {
    if (r.state != DeviceState::offline && now_ns - r.last_seen_ns > options_.silence_timeout_ns) {
      set_state(r, DeviceState::offline, now_ns, out);
    }
  }
}

canproto::Result<CommandFrames, CommandError> Inventory::command(std::uint32_t serial,
                                                                 std::string_view channel,
                                                                 const ChannelValue& value) const {
  const DeviceRecord* r = find(serial);
  if (!r || !r->model) return canproto::Err{CommandError::unknown_channel};
  auto body = encode_output(*r->model, channel, value, r->channels);
  if (!body) return canproto::Err{body.error()};
  CommandFrames f;
  if (auto* legacy = std::get_if<cp::LegacyBody>(&*body)) {
    cp::LegacyId id;
    id.kind = cp::LegacyKind::direct;
    id.dir = cp::Direction::to_device;
    id.type = static_cast<std::uint8_t>(r->info.type);
    id.serial24 = serial & 0xFFFFFF;
    f.messages.push_back(cp::LegacyMessage{id, *legacy, 0});
    return f;
  }
  cp::NatAddress addr{cp::Bus::link, cp::Direction::to_device, r->nat, 0};
  if (r->info.generation == Generation::tree_device) {
    const DeviceRecord* parent = find(r->parent);
    if (!parent || parent->nat == 0) return canproto::Err{CommandError::not_encodable};
    addr.nat = parent->nat;
    addr.device_nat = r->nat;
  }
  if (addr.nat == 0 || (addr.device_nat == 0 && r->info.generation == Generation::tree_device)) {
    return canproto::Err{CommandError::not_encodable};
  }
  f.messages.push_back(cp::nat_message(addr, std::get<cp::NatBody>(*body)));
  return f;
}

}  // namespace loxcan::devices
