#include "devices/emulation/device.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "devices/serial.hpp"

namespace loxcan::emulation {
namespace {

using devices::ChannelDirection;
using devices::DeviceState;
using devices::serial_text;

constexpr std::uint8_t kReasonPowerOn = 0x20;
constexpr std::uint8_t kReasonPairing = 0x02;
constexpr std::uint8_t kReasonAlive = 0x05;
// A second offer of the same NAT this soon is the same offer twice (a Miniserver answering our
// request and offering on its own): one Start answers both. Later ones are new offers.
constexpr Millis kDuplicateOfferMs = 500;

void put32(std::vector<std::uint8_t>& v, std::size_t at, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) v[at + i] = static_cast<std::uint8_t>(x >> (8 * i));
}
std::uint32_t get32(const std::vector<std::uint8_t>& v, std::size_t at) {
  return std::uint32_t{v[at]} | std::uint32_t{v[at + 1]} << 8 | std::uint32_t{v[at + 2]} << 16 |
         std::uint32_t{v[at + 3]} << 24;
}
Millis uniform(std::uint32_t random, Millis lo, Millis hi) {
  return lo + static_cast<Millis>(random % static_cast<std::uint32_t>(hi - lo + 1));
}
bool is_led_light(std::uint16_t t) {
  return t == 0x8007 || t == 0x8008 || t == 0x800E || t == 0x800F || t == 0x8011 || t == 0x8016 ||
         t == 0x8017;
}

}  // namespace

Millis nat_request_delay(int attempt, bool tree_extension, std::uint32_t random) {
  if (tree_extension) return uniform(random, 1000, 1500);
  if (attempt == 0) return uniform(random, 10, 500);
  if (attempt <= 3) return uniform(random, 1000, 2500);
  if (attempt < 10) return uniform(random, 5000, 10000);
  return uniform(random, 10000, 30000);
}

ConfigLayout config_layout(const devices::Model& m) {
  if (m.protocol == devices::Protocol::legacy) return {0, 0};
  switch (m.type) {
    case 0x13: return {0, 12};
    case 0x14: return {1, 16};
    case 0x16:
    case 0x19: return {1, 52};
    case 0x17: return {1, 24};
    case 0x8001:
    case 0x8013: return {2, 13};
    case 0x8002: return {2, 18};
    case 0x8003:
    case 0x8005:
    case 0x800D: return {2, 17};
    case 0x8006: return {2, 25};
    case 0x800A: return {2, 19};
    case 0x800B: return {1, 14};
    case 0x800C: return {1, 24};
    case 0x8010: return {1, 16};
    case 0x8012: return {1, 15};
    default: return is_led_light(m.type) ? ConfigLayout{1, 20} : ConfigLayout{1, 12};
  }
}

std::vector<std::uint8_t> make_config(const devices::Model& m, std::uint32_t offline_timeout_s,
                                      std::uint8_t blink_offset) {
  const auto layout = config_layout(m);
  std::vector<std::uint8_t> c(layout.size, 0);
  if (c.size() < 12) return {};
  c[0] = layout.size;
  c[1] = layout.version;
  c[2] = blink_offset;
  put32(c, 4, offline_timeout_s);
  // Documented defaults of the device-specific part (LOXONE_CAN.md 8.3, 8.4).
  switch (m.type) {
    case 0x8001:
    case 0x8013: c[8] = 101; break;  // keep position on loss of connection
    case 0x8003:
    case 0x8005:
    case 0x800D: c[8] = 15; break;  // T/H interval 15 min
    case 0x800A:
      c[8] = 5;
      c[10] = 28;
      c[12] = 20;
      c[13] = 80;
      c[14] = 35;
      break;
    case 0x8010: c[8] = 15; break;   // interval 15 min
    case 0x8012: c[9] = 120; break;  // max sound duration 120 s
    default:
      if (is_led_light(m.type) || m.type == 0x800C)
        for (int i = 0; i < 4; ++i) c[8 + i] = 101;  // keep on loss of connection
  }
  return c;
}

std::string_view to_string(SetResult r) {
  switch (r) {
    case SetResult::ok: return "ok";
    case SetResult::unknown_channel: return "unknown channel";
    case SetResult::wrong_direction: return "not an input";
    case SetResult::bad_value: return "bad value";
  }
  return "?";
}

// ---- Emulated ---------------------------------------------------------------------------------

Emulated::Emulated(DeviceSetup setup, Hooks& hooks) : setup_(std::move(setup)), hooks_(hooks) {
  const auto& m = *setup_.model;
  info_.serial = setup_.serial;
  info_.type = m.type;
  info_.generation = m.generation;
  info_.model = m.name;
  info_.name = setup_.name.empty() ? m.name + "-" + serial_text(setup_.serial) : setup_.name;
  info_.firmware = setup_.firmware;
  inputs_ = initial_values(m, ChannelDirection::input);
  outputs_ = initial_values(m, ChannelDirection::output);
}

SetResult Emulated::set_input(std::string_view channel, const devices::ChannelValue& value,
                              Millis now) {
  const auto* ch = setup_.model->find(channel);
  if (!ch) return SetResult::unknown_channel;
  if (ch->spec.direction != ChannelDirection::input) return SetResult::wrong_direction;
  if (!inputs_.count(ch->spec.name)) return SetResult::unknown_channel;
  auto v = coerce(ch->spec, value);
  if (!v) return SetResult::bad_value;
  auto changed = apply(*setup_.model, *ch, *v, inputs_);
  for (const auto& name : changed)
    emit(devices::ChannelChanged{info_, name, inputs_[name], setup_.model->find(name)->spec.unit,
                                 now * 1000000});
  if (!changed.empty()) report_inputs(changed, now);
  return SetResult::ok;
}

std::optional<devices::ChannelValue> Emulated::value(std::string_view channel) const {
  if (auto it = inputs_.find(channel); it != inputs_.end()) return it->second;
  if (auto it = outputs_.find(channel); it != outputs_.end()) return it->second;
  return std::nullopt;
}

void Emulated::set_state(DeviceState s, Millis now) {
  if (s == state_) return;
  emit(devices::DeviceStateChanged{info_, state_, s, now * 1000000});
  log(LogLevel::info, info_.name + ": " + std::string(devices::to_string(state_)) + " -> " +
                          std::string(devices::to_string(s)));
  state_ = s;
}

void Emulated::log(LogLevel level, const std::string& text) const {
  if (hooks_.log) hooks_.log(level, text);
}

void Emulated::emit(devices::Event e) const {
  if (hooks_.event) hooks_.event(e);
}

void Emulated::outputs_changed(const std::vector<std::string>& names, Millis now) {
  for (const auto& name : names) {
    const auto& v = outputs_[name];
    log(LogLevel::info, info_.name + ": output " + name + " = " + devices::to_plain(v));
    emit(devices::Command{info_, name, v, now * 1000000});
    emit(devices::ChannelChanged{info_, name, v, setup_.model->find(name)->spec.unit,
                                 now * 1000000});
  }
}

void Emulated::auth_error(const std::string& why, Millis now) const {
  log(auth_error_said_ ? LogLevel::debug : LogLevel::error,
      info_.name + " (" + serial_text(info_.serial) +
          "): the Miniserver requests authentication but " + why);
  auth_error_said_ = true;
  emit(devices::BusEvent{"auth_failed", info_.name + ": " + why, "", now * 1000000});
}

// ---- NatDevice --------------------------------------------------------------------------------

NatDevice::NatDevice(DeviceSetup setup, Hooks& hooks, TreeExtension* parent)
    : Emulated(std::move(setup), hooks), parent_(parent) {}

std::uint8_t NatDevice::own_nat() const {
  return state_ == DeviceState::offline ? random_nat(setup_.serial) : nat_;
}

void NatDevice::start(Millis now) {
  state_ = DeviceState::offline;
  nat_ = 0;
  request_attempt_ = 0;
  started_at_ = now;
  next_request_ = now + nat_request_delay(0, model().type == 0x13, random());
}

void NatDevice::go_offline(Millis now) {
  log(LogLevel::warn, info_.name + ": no frame from the Miniserver for " +
                          std::to_string(offline_timeout_s_) + " s: offline, requesting a NAT");
  set_state(DeviceState::offline, now);
  nat_ = 0;
  authenticated_ = false;
  server_random_.reset();
  request_attempt_ = 0;
  next_request_ = now + nat_request_delay(0, model().type == 0x13, random());
}

void NatDevice::send_due_replies(Millis now) {
  // One pass: a flood of searches leaves thousands of replies waiting, and erasing them one by
  // one made tick() quadratic (fuzz_emulation_bus). Due replies leave in the order they came.
  std::vector<std::uint8_t> due;
  auto kept = delayed_.begin();
  for (const Delayed& d : delayed_) {
    if (d.due <= now)
      due.push_back(d.cmd);
    else
      *kept++ = d;
  }
  delayed_.erase(kept, delayed_.end());
  for (const std::uint8_t cmd : due) {
    if (cmd == 0xFE && state_ != DeviceState::parked) continue;
    send(short_packet(false, 0, 0, cmd, 0, model().type, setup_.serial));
  }
}

void NatDevice::tick(Millis now) {
  send_due_replies(now);
  if (state_ == DeviceState::offline) {
    if (now >= next_request_) {
      send(short_packet(false, 0, 0, 0xFE, 0, model().type, setup_.serial));
      ++nat_requests_;
      ++request_attempt_;
      next_request_ = now + nat_request_delay(request_attempt_, model().type == 0x13, random());
    }
    return;
  }
  const Millis timeout = Millis{offline_timeout_s_} * 1000;
  if (!alive_sent_ && now - last_rx_ >= timeout * 9 / 10) {
    alive_sent_ = true;
    send(short_packet(false, 0, 0, 0x08, kReasonAlive, 0, config_crc_));
  }
  if (now - last_rx_ >= timeout) go_offline(now);
}

Millis NatDevice::next_deadline() const {
  Millis d = kNever;
  for (const auto& x : delayed_) d = std::min(d, x.due);
  if (state_ == DeviceState::offline) return std::min(d, next_request_);
  const Millis timeout = Millis{offline_timeout_s_} * 1000;
  return std::min(d, last_rx_ + (alive_sent_ ? timeout : timeout * 9 / 10));
}

void NatDevice::send(NatPacket p) {
  p.from_server = false;
  p.nat = own_nat();
  if (parent_) {
    p.dev = state_ == DeviceState::offline ? 0 : nat_;
    parent_->forward_up(*this, std::move(p));
    return;
  }
  p.dev = 0;
  if (hooks_.send)
    for (const auto& f : to_frames(p)) hooks_.send(f);
}

void NatDevice::send_start(std::uint8_t cmd, std::uint8_t reason) {
  std::vector<std::uint8_t> pl(20, 0);
  put32(pl, 0, setup_.firmware);
  put32(pl, 8, config_crc_);
  put32(pl, 12, setup_.serial);
  pl[16] = reason;
  pl[17] = static_cast<std::uint8_t>(model().type);
  pl[18] = static_cast<std::uint8_t>(model().type >> 8);
  pl[19] = setup_.hardware;
  send(long_packet(false, 0, 0, cmd, std::move(pl)));
}

void NatDevice::after_start(Millis) {}
void NatDevice::on_specific(const NatPacket&, Millis) {}

void NatDevice::on_packet(const NatPacket& p, Millis now) {
  if (!p.from_server) return;
  last_rx_ = now;
  alive_sent_ = false;
  switch (p.cmd) {
    case 0xFD:
      if (p.val32 == setup_.serial) accept_offer(p, now);
      return;
    case 0x07:
      if (state_ != DeviceState::parked || nat_ != random_nat(setup_.serial)) {
        nat_ = random_nat(setup_.serial);
        authenticated_ = false;
        set_state(DeviceState::parked, now);
      }
      return;
    case 0xF4:
      if (state_ == DeviceState::parked)
        delayed_.push_back({now + uniform(random(), 0, 100), 0xFE});
      return;
    case 0xFB: delayed_.push_back({now + uniform(random(), 0, 100), 0xFC}); return;
    default: break;
  }
  if (state_ == DeviceState::offline) return;
  switch (p.cmd) {
    case 0x01:
      if (p.val32 == setup_.serial) send_start(0x03, kReasonAlive);
      return;
    case 0x05: send(short_packet(false, 0, 0, 0x06)); return;
    case 0x08:
      if (p.val32 == config_crc_)
        send(short_packet(false, 0, 0, 0x04));
      else
        send(short_packet(false, 0, 0, 0x08, kReasonAlive, 0, config_crc_));
      return;
    case 0x04:
    case 0x0C: return;
    case 0x10: {
      const bool on = p.val32 == setup_.serial;
      if (on != identifying_) {
        identifying_ = on;
        log(LogLevel::info, info_.name + (on ? ": identify (LED blinking)" : ": identify off"));
        emit(devices::BusEvent{on ? "identify" : "identify_off", info_.name, "", now * 1000000});
      }
      return;
    }
    case 0x11: on_config(p, now); return;
    case 0x9C: on_challenge(p, now); return;
    case 0x9D: on_server_reply(p, now); return;
    case 0x99: on_device_id_request(p, now); return;
    case 0x12: on_webservice(p, now); return;
    default: break;
  }
  if ((p.cmd >= 0x80 && p.cmd <= 0x8F) || p.cmd == 0xA8)
    on_value(p, now);
  else
    on_specific(p, now);
}

void NatDevice::accept_offer(const NatPacket& p, Millis now) {
  const std::uint8_t new_nat = p.b0;
  const auto flags = static_cast<std::uint8_t>(p.val16);
  const bool park = flags & kOfferPark;
  if (!park && (new_nat & 0x80)) {
    log(LogLevel::debug,
        info_.name + ": ignoring a non-park offer of parked NAT " + std::to_string(new_nat));
    return;
  }
  if (new_nat == 0 || new_nat == 0xFF) return;
  const auto same = park ? DeviceState::parked : DeviceState::online;
  if (state_ == same && nat_ == new_nat && last_offer_ && now - *last_offer_ < kDuplicateOfferMs) {
    log(LogLevel::debug,
        info_.name + ": duplicate NAT offer " + std::to_string(new_nat) + " ignored");
    return;
  }
  last_offer_ = now;
  nat_ = new_nat;
  authenticated_ = false;
  auth_error_said_ = false;
  server_random_.reset();
  delayed_.clear();
  const std::uint8_t reason = started_once_ ? kReasonPairing : kReasonPowerOn;
  started_once_ = true;
  set_state(park ? DeviceState::parked : DeviceState::online, now);
  send_start(0x02, reason);
  if (park) return;
  after_start(now);
  if (!(flags & kOfferNoValues))
    for (auto& pkt : nat_packets_for_all(model(), ChannelDirection::input, inputs_))
      send(std::move(pkt));
}

void NatDevice::on_config(const NatPacket& p, Millis now) {
  const auto layout = config_layout(model());
  const auto& c = p.payload;
  const bool ok = p.fragmented && c.size() >= 12 && c[0] == c.size() && c[0] == layout.size &&
                  c[1] == layout.version;
  if (!ok) {
    log(LogLevel::warn, info_.name + ": configuration rejected (size " +
                            std::to_string(c.empty() ? 0 : c[0]) + ", version " +
                            std::to_string(c.size() > 1 ? c[1] : 0) + "; expected size " +
                            std::to_string(layout.size) + ", version " +
                            std::to_string(layout.version) + "): back to defaults");
    config_.clear();
    config_crc_ = 0;
    offline_timeout_s_ = kDefaultOfflineTimeoutS;
    return;
  }
  config_ = c;
  config_crc_ = emulation::config_crc(c);
  const std::uint32_t t = get32(c, 4);
  offline_timeout_s_ = t == 0 ? kDefaultOfflineTimeoutS : t;
  last_rx_ = now;
  char buf[96];
  std::snprintf(buf, sizeof buf, ": configuration accepted (offline timeout %u s, CRC %08X)",
                offline_timeout_s_, config_crc_);
  log(LogLevel::info, info_.name + buf);
}

const DeviceId& NatDevice::auth_device_id() const {
  return is_tree_device() ? setup_.device_id : setup_.auth.keys->master_device_id;
}

void NatDevice::on_challenge(const NatPacket& p, Millis now) {
  if (!setup_.auth.keys) return auth_error(setup_.auth.missing, now);
  auto r = open_challenge(*setup_.auth.keys, setup_.serial, p.payload);
  if (!r) {
    authenticated_ = false;
    return auth_error(
        "its challenge does not decrypt with our keys: the key file does not match this Miniserver",
        now);
  }
  server_random_ = *r;
  const auto reply = make_challenge_reply(auth_device_id(), setup_.serial, *r, random());
  send(long_packet(false, 0, 0, 0x9D, {reply.begin(), reply.end()}));
  authenticated_ = true;
  log(LogLevel::debug, info_.name + ": answered the authentication challenge");
}

void NatDevice::on_server_reply(const NatPacket& p, Millis) {
  if (!server_random_ || !setup_.auth.keys) return;
  if (!check_challenge_reply(auth_device_id(), setup_.serial, *server_random_, p.payload)) {
    log(LogLevel::warn, info_.name + ": the Miniserver's re-validation (0x9D) does not verify");
    return;
  }
  const auto reply =
      make_challenge_reply(auth_device_id(), setup_.serial, *server_random_, random());
  send(long_packet(false, 0, 0, 0x9D, {reply.begin(), reply.end()}));
}

void NatDevice::on_device_id_request(const NatPacket& p, Millis now) {
  if (!is_tree_device()) return;
  if (!setup_.auth.keys) return auth_error(setup_.auth.missing, now);
  bool ok = false;
  const auto reply = answer_device_id_request(*setup_.auth.keys, setup_.device_id, setup_.serial,
                                              p.payload, random(), &ok);
  send(long_packet(false, 0, 0, 0x98, {reply.begin(), reply.end()}));
  if (!ok)
    auth_error("its device-ID request does not decrypt with our keys: the key file does not match",
               now);
}

void NatDevice::on_value(const NatPacket& p, Millis now) {
  auto changed = decode_nat(model(), ChannelDirection::output, p, outputs_);
  outputs_changed(changed, now);
}

void NatDevice::on_webservice(const NatPacket& p, Millis now) {
  if (!p.fragmented || p.payload.size() < 3) return;
  std::string request(p.payload.begin() + 2, p.payload.end());
  request = request.c_str();  // up to the NUL
  char text[160];
  if (request == "Version")
    std::snprintf(text, sizeof text, "App Version: %u, HW Version %u\r\n", setup_.firmware,
                  setup_.hardware);
  else if (request == "TechReport")
    std::snprintf(text, sizeof text, "UpTime:%llds;Serial:%08x;NatIdx:%u;",
                  static_cast<long long>((now - started_at_) / 1000), setup_.serial, nat_);
  else
    std::snprintf(text, sizeof text, "Unknown request '%.64s' (loxcan emulation)", request.c_str());
  const std::string s = text;
  std::vector<std::uint8_t> pl{0, static_cast<std::uint8_t>(s.size() + 1)};
  pl.insert(pl.end(), s.begin(), s.end());
  pl.push_back(0);
  send(long_packet(false, 0, 0, 0x12, std::move(pl)));
}

void NatDevice::report_inputs(const std::vector<std::string>& changed, Millis) {
  if (state_ != DeviceState::online) return;
  std::vector<std::pair<std::uint8_t, std::uint8_t>> sent;
  for (const auto& name : changed) {
    auto pkt = nat_packet_for(model(), *model().find(name), inputs_);
    if (!pkt) continue;
    const std::pair key{pkt->cmd, pkt->b0};
    if (std::find(sent.begin(), sent.end(), key) != sent.end()) continue;
    sent.push_back(key);
    send(std::move(*pkt));
  }
}

// ---- TreeExtension ----------------------------------------------------------------------------

TreeExtension::TreeExtension(DeviceSetup setup, Hooks& hooks)
    : NatDevice(std::move(setup), hooks) {}

NatDevice& TreeExtension::add_device(DeviceSetup setup) {
  devices_.push_back(std::make_unique<NatDevice>(std::move(setup), hooks_, this));
  return *devices_.back();
}

void TreeExtension::on_link_packet(const NatPacket& p, Millis now) {
  const bool broadcast = p.nat == 0xFF;
  if (state_ != DeviceState::offline) {
    last_rx_ = now;
    alive_sent_ = false;
  }
  if (broadcast || p.dev == 0) on_packet(p, now);
  if (!broadcast && p.dev == 0) return;
  NatPacket q = p;
  q.nat = p.dev != 0 ? p.dev : 0xFF;
  bool both = (q.nat & 0x80) != 0;
  bool left = (q.nat & 0x40) != 0;
  if (p.cmd == 0xFD) {
    both = false;
    left = (p.b0 & 0x40) != 0;
  }
  for (auto& d : devices_)
    if ((both || d->left_branch() == left) && d->addressed(q.nat)) d->on_packet(q, now);
}

void TreeExtension::forward_up(const NatDevice& from, NatPacket p) {
  p.from_server = false;
  p.nat = own_nat();
  if ((p.cmd == 0xFE || p.cmd == 0xFC) && from.left_branch()) p.b0 |= 0x40;
  if (hooks_.send)
    for (const auto& f : to_frames(p)) hooks_.send(f);
}

void TreeExtension::start(Millis now) {
  NatDevice::start(now);
  for (auto& d : devices_) d->start(now);
}

void TreeExtension::tick(Millis now) {
  NatDevice::tick(now);
  for (auto& d : devices_) d->tick(now);
}

Millis TreeExtension::next_deadline() const {
  Millis t = NatDevice::next_deadline();
  for (const auto& d : devices_) t = std::min(t, d->next_deadline());
  return t;
}

void TreeExtension::after_start(Millis) {
  // CAN error replies for the left (1) and right (2) branch: emulated branches have no errors.
  send(short_packet(false, 0, 0, 0x18, 1));
  send(short_packet(false, 0, 0, 0x18, 2));
}

void TreeExtension::on_specific(const NatPacket& p, Millis) {
  if (p.cmd == 0x17 || p.cmd == 0x19)
    send(short_packet(false, 0, 0, static_cast<std::uint8_t>(p.cmd - 1),
                      static_cast<std::uint8_t>(p.val16)));
}

// ---- LegacyExtension --------------------------------------------------------------------------

LegacyExtension::LegacyExtension(DeviceSetup setup, Hooks& hooks, Millis alive_interval_ms)
    : Emulated(std::move(setup), hooks),
      alive_interval_ms_(alive_interval_ms > 0 ? alive_interval_ms
                                               : (360 + Millis{setup_.serial & 0x3F}) * 1000) {}

void LegacyExtension::start(Millis now) {
  state_ = DeviceState::offline;
  next_start_ = now + uniform(random(), 50, 1000);
  next_alive_ = kNever;
  alive_deadline_ = kNever;
}

void LegacyExtension::send_cmd(std::uint8_t cmd, std::uint8_t b0, std::uint16_t v16,
                               std::uint32_t v32) {
  if (hooks_.send) hooks_.send(legacy_frame(false, legacy_type(), serial24(), cmd, b0, v16, v32));
}

void LegacyExtension::send_start() {
  send_cmd(0x07, setup_.hardware, 0, setup_.firmware);
}

void LegacyExtension::tick(Millis now) {
  if (now >= next_start_) {
    send_start();
    next_start_ = now + 1000;
  }
  if (now >= alive_deadline_) {
    log(LogLevel::warn, info_.name + ": no alive reply from the Miniserver within 3 s: offline");
    set_state(DeviceState::offline, now);
    alive_deadline_ = kNever;
    next_alive_ = kNever;
    next_start_ = now;
  }
  if (now >= next_alive_) {
    send_cmd(0x09, setup_.hardware, 0, setup_.firmware);
    alive_deadline_ = now + 3000;
    next_alive_ = now + alive_interval_ms_;
  }
}

Millis LegacyExtension::next_deadline() const {
  return std::min({next_start_, next_alive_, alive_deadline_});
}

bool LegacyExtension::addressed(const LegacyPacket& p) const {
  if (!p.from_server) return false;
  if (p.serial == 0) return p.type == 0 || p.type == legacy_type();
  return p.type == legacy_type() && p.serial == serial24();
}

void LegacyExtension::on_packet(const LegacyPacket& p, Millis now) {
  if (p.fragment) {
    if (p.fragment_type == 0x18) on_challenge(p, now);
    return;
  }
  const bool direct = p.serial != 0;
  switch (p.cmd) {
    case 0x00:
      next_start_ = kNever;
      send_start();
      return;
    case 0x0C:
    case 0x37:
      next_start_ = kNever;
      next_alive_ = alive_deadline_ = kNever;
      set_state(DeviceState::parked, now);
      return;
    case 0x0B:
      if (state_ != DeviceState::online) send_start();
      return;
    case 0x0E:
      next_start_ = kNever;
      set_state(DeviceState::online, now);
      next_alive_ = now + alive_interval_ms_;
      for (const auto& d : legacy_bytes_for_all(model(), ChannelDirection::input, inputs_))
        if (hooks_.send) hooks_.send(legacy_frame_raw(false, legacy_type(), serial24(), d));
      return;
    case 0x0F: alive_deadline_ = kNever; return;
    case 0x09: send_cmd(0x0F, setup_.hardware, 0, setup_.firmware); return;
    case 0x08: identifying_ = direct; return;
    case 0x79: send_cmd(0x78, 0, 0, 0); return;
    default: break;
  }
  if (!direct || !carries(model(), ChannelDirection::output, p.cmd)) return;
  auto changed = decode_legacy(model(), ChannelDirection::output, p, outputs_);
  outputs_changed(changed, now);
  // Echo the applied state (Relay Extension: "echoed E->S with the real state").
  for (const auto& c : model().channels) {
    if (c.spec.direction != ChannelDirection::output || c.binding.cmd != p.cmd) continue;
    if (auto d = legacy_bytes_for(model(), c, outputs_); d && hooks_.send)
      hooks_.send(legacy_frame_raw(false, legacy_type(), serial24(), *d));
    break;
  }
}

void LegacyExtension::on_challenge(const LegacyPacket& p, Millis now) {
  if (!setup_.auth.keys) return auth_error(setup_.auth.missing, now);
  auto reply = answer_challenge(*setup_.auth.keys, setup_.auth.keys->master_device_id,
                                setup_.serial, p.payload, random());
  if (!reply)
    return auth_error(
        "its challenge does not decrypt with our keys: the key file does not match this Miniserver",
        now);
  if (hooks_.send)
    for (const auto& f : legacy_fragment(false, legacy_type(), serial24(), 0x19, *reply))
      hooks_.send(f);
}

void LegacyExtension::report_inputs(const std::vector<std::string>& changed, Millis) {
  if (state_ != DeviceState::online || !hooks_.send) return;
  std::vector<std::uint8_t> sent;
  for (const auto& name : changed) {
    const auto* c = model().find(name);
    if (std::find(sent.begin(), sent.end(), c->binding.cmd) != sent.end()) continue;
    sent.push_back(c->binding.cmd);
    if (auto d = legacy_bytes_for(model(), *c, inputs_))
      hooks_.send(legacy_frame_raw(false, legacy_type(), serial24(), *d));
  }
}

// ---- EmulatedBus ------------------------------------------------------------------------------

NatDevice& EmulatedBus::add_nat_extension(DeviceSetup setup) {
  nat_.push_back(std::make_unique<NatDevice>(std::move(setup), hooks_));
  return *nat_.back();
}

TreeExtension& EmulatedBus::add_tree_extension(DeviceSetup setup) {
  auto t = std::make_unique<TreeExtension>(std::move(setup), hooks_);
  auto& ref = *t;
  nat_.push_back(std::move(t));
  return ref;
}

LegacyExtension& EmulatedBus::add_legacy_extension(DeviceSetup setup, Millis alive_interval_ms) {
  legacy_.push_back(std::make_unique<LegacyExtension>(std::move(setup), hooks_, alive_interval_ms));
  return *legacy_.back();
}

void EmulatedBus::start(Millis now) {
  for (auto& d : nat_) d->start(now);
  for (auto& d : legacy_) d->start(now);
}

void EmulatedBus::on_frame(const canproto::Frame& f, Millis now) {
  if (is_nat_frame(f)) {
    auto p = nat_rx_.push(f);
    if (!p || !p->from_server) return;
    for (auto& d : nat_) {
      if (!d->addressed(p->nat)) continue;
      if (auto* tree = dynamic_cast<TreeExtension*>(d.get()))
        tree->on_link_packet(*p, now);
      else if (p->dev == 0 || p->dev == 0xFF)
        d->on_packet(*p, now);
    }
    return;
  }
  auto p = legacy_rx_.push(f);
  if (!p) return;
  for (auto& d : legacy_)
    if (d->addressed(*p)) d->on_packet(*p, now);
}

void EmulatedBus::tick(Millis now) {
  for (auto& d : nat_) d->tick(now);
  for (auto& d : legacy_) d->tick(now);
}

Millis EmulatedBus::next_deadline() const {
  Millis t = kNever;
  for (const auto& d : nat_) t = std::min(t, d->next_deadline());
  for (const auto& d : legacy_) t = std::min(t, d->next_deadline());
  return t;
}

std::vector<Emulated*> EmulatedBus::all() const {
  std::vector<Emulated*> out;
  for (const auto& d : nat_) {
    out.push_back(d.get());
    if (auto* tree = dynamic_cast<TreeExtension*>(d.get()))
      for (const auto& c : tree->devices()) out.push_back(c.get());
  }
  for (const auto& d : legacy_) out.push_back(d.get());
  return out;
}

Emulated* EmulatedBus::find(std::string_view key) const {
  auto same_hex = [](const std::string& a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(b[i])) != a[i]) return false;
    return true;
  };
  for (auto* d : all())
    if (d->name() == key || same_hex(serial_text(d->info().serial), key)) return d;
  return nullptr;
}

}  // namespace loxcan::emulation
