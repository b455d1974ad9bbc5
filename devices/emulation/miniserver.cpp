#include "devices/emulation/miniserver.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

#include "devices/serial.hpp"

namespace loxcan::emulation {
namespace {

using devices::hex8_text;
using devices::serial_text;

using devices::ChannelDirection;
using devices::DeviceState;

constexpr Millis kStartupGap = 50;
constexpr Millis kAuthTimeout = 1000;
constexpr Millis kAnswerTimeout = 3000;
constexpr int kConfigTries = 3;
// An offer is not repeated for a NAT request that crossed it on the bus: devices retry after 1 s at
// the earliest (LOXONE_CAN.md 9.1), a request within this time was sent before ours arrived.
constexpr Millis kOfferHold = 250;

std::string hex4(std::uint32_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04X", v & 0xFFFF);
  return buf;
}
std::uint32_t le32(const std::vector<std::uint8_t>& v, std::size_t at) {
  return std::uint32_t{v[at]} | std::uint32_t{v[at + 1]} << 8 | std::uint32_t{v[at + 2]} << 16 |
         std::uint32_t{v[at + 3]} << 24;
}
bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

struct MiniserverSim::Peer {
  SimDevice cfg;
  bool configured = true;
  bool legacy = false;
  bool tree_ext = false;
  bool tree_device = false;
  Peer* tree = nullptr;
  std::uint8_t nat = 0;
  std::uint16_t type = 0;
  Phase phase = Phase::waiting;
  std::uint32_t firmware = 0;
  std::uint32_t reported_crc = 0;
  std::vector<std::uint8_t> config;
  std::uint32_t config_crc = 0;
  std::optional<DeviceId> device_id;
  std::uint32_t challenge = 0;
  int auth_tries = 0;
  int config_tries = 0;
  std::uint64_t session = 0;
  Millis alive_deadline = kNever;
  std::optional<std::uint8_t> hw_version;  ///< legacy: from its Start / Alive (0x53 formula)
  ValueMap inputs;
  ValueMap outputs;
  std::set<std::string, std::less<>> reported;  ///< inputs the device reported (value() knows them)
  // Authentication gate (only with keys): values count once the device answered our challenge.
  bool authorized = false;
  ValueMap held;  ///< inputs received while authenticating, applied when authorized
  std::set<std::string> held_names;
  std::uint64_t held_frames = 0;
  std::uint64_t ignored_frames = 0;  ///< value frames dropped: never authenticated
  bool ignoring_said = false;        ///< logged once per session
  // NAT offers: one per request.
  bool offer_pending = false;  ///< an offer is scheduled
  std::optional<Millis> last_offer;

  devices::DeviceInfo info() const {
    devices::DeviceInfo i;
    i.serial = cfg.serial;
    i.type = type;
    i.generation = legacy        ? devices::Generation::legacy
                   : tree_device ? devices::Generation::tree_device
                                 : devices::Generation::nat_extension;
    i.model = cfg.model ? cfg.model->name : "unknown";
    i.name = cfg.name;
    i.firmware = firmware;
    return i;
  }
  std::uint8_t type4() const { return static_cast<std::uint8_t>(type & 0xF); }
  std::uint32_t serial24() const { return cfg.serial & 0xFFFFFF; }
};

std::uint32_t pack_date(int year, int month, int day) {
  return static_cast<std::uint32_t>(year & 0x7FFF) | static_cast<std::uint32_t>(month & 0xF) << 15 |
         static_cast<std::uint32_t>(day & 0x1F) << 19;
}

std::string_view to_string(MiniserverSim::Phase p) {
  using P = MiniserverSim::Phase;
  switch (p) {
    case P::waiting: return "waiting";
    case P::parked: return "parked";
    case P::authenticating: return "authenticating";
    case P::configuring: return "configuring";
    case P::ready: return "online";
    case P::auth_failed: return "authorization failed";
    case P::offline: return "offline";
  }
  return "?";
}

MiniserverSim::MiniserverSim(std::vector<SimDevice> devices, SimOptions options, Hooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)) {
  std::uint8_t next_ext = 1;
  for (auto& d : devices) {
    auto p = std::make_unique<Peer>();
    p->type = d.model ? d.model->type : 0;
    p->legacy = d.model && d.model->protocol == devices::Protocol::legacy;
    p->tree_ext = d.model && d.model->special == devices::Special::tree_extension;
    p->tree_device = !d.parent.empty();
    if (d.name.empty()) d.name = (d.model ? d.model->name : "device") + "-" + serial_text(d.serial);
    p->cfg = std::move(d);
    if (p->cfg.model) {
      p->inputs = initial_values(*p->cfg.model, ChannelDirection::input);
      p->outputs = initial_values(*p->cfg.model, ChannelDirection::output);
    }
    if (!p->legacy && !p->tree_device) p->nat = next_ext++;
    peers_.push_back(std::move(p));
  }
  std::map<Peer*, std::pair<std::uint8_t, std::uint8_t>> next_dev;  // tree -> (right, left)
  for (auto& p : peers_) {
    if (!p->tree_device) continue;
    p->tree = by_name(p->cfg.parent);
    if (!p->tree) continue;
    auto& n = next_dev.try_emplace(p->tree, std::uint8_t{0x01}, std::uint8_t{0x41}).first->second;
    p->nat = p->cfg.left ? n.second++ : n.first++;
  }
}

MiniserverSim::~MiniserverSim() = default;

MiniserverSim::Peer* MiniserverSim::by_serial(std::uint32_t serial) {
  for (auto& p : peers_)
    if (p->cfg.serial == serial) return p.get();
  return nullptr;
}

MiniserverSim::Peer* MiniserverSim::by_name(std::string_view name) {
  for (auto& p : peers_)
    if (p->cfg.name == name || iequal(serial_text(p->cfg.serial), name)) return p.get();
  return nullptr;
}

const MiniserverSim::Peer* MiniserverSim::by_name(std::string_view name) const {
  return const_cast<MiniserverSim*>(this)->by_name(name);
}

MiniserverSim::Peer* MiniserverSim::tree_by_nat(std::uint8_t nat) {
  for (auto& p : peers_)
    if (p->tree_ext && p->configured && p->nat == nat && p->phase == Phase::ready) return p.get();
  return nullptr;
}

MiniserverSim::Peer* MiniserverSim::by_address(std::uint8_t nat, std::uint8_t dev) {
  for (auto& p : peers_) {
    if (p->legacy) continue;
    if (dev == 0 && !p->tree_device && p->nat == nat) return p.get();
    if (dev != 0 && p->tree_device && p->nat == dev && p->tree && p->tree->nat == nat)
      return p.get();
  }
  return nullptr;
}

const SimDevice* MiniserverSim::find(std::string_view device) const {
  const Peer* p = by_name(device);
  return p && p->configured ? &p->cfg : nullptr;
}

void MiniserverSim::log(LogLevel level, const std::string& text) const {
  if (hooks_.log) hooks_.log(level, text);
}

void MiniserverSim::at(Millis due, std::function<void(Millis)> fn) {
  actions_.push_back({due, seq_++, std::move(fn)});
  std::push_heap(actions_.begin(), actions_.end(), runs_later);
}

void MiniserverSim::send(const NatPacket& p) {
  if (hooks_.send)
    for (const auto& f : to_frames(p)) hooks_.send(f);
}

void MiniserverSim::send_to(const Peer& peer, NatPacket p) {
  p.from_server = true;
  if (peer.tree_device) {
    if (!peer.tree) return;
    p.nat = peer.tree->nat;
    p.dev = peer.nat;
  } else {
    p.nat = peer.nat;
    p.dev = 0;
  }
  send(p);
}

void MiniserverSim::send_legacy(bool broadcast, const Peer* peer, std::uint8_t cmd, std::uint8_t b0,
                                std::uint16_t v16, std::uint32_t v32) {
  if (!hooks_.send) return;
  if (broadcast || !peer)
    hooks_.send(legacy_frame(true, 0, 0, cmd, b0, v16, v32));
  else
    hooks_.send(legacy_frame(true, peer->type4(), peer->serial24(), cmd, b0, v16, v32));
}

// ---- start-up and periodic traffic ------------------------------------------------------------

void MiniserverSim::start(Millis now) {
  actions_.clear();
  for (auto& p : peers_) {
    p->phase = p->configured ? Phase::waiting : Phase::parked;
    p->session++;
    p->alive_deadline = kNever;
    p->auth_tries = p->config_tries = 0;
    p->authorized = false;
    p->offer_pending = false;
    p->last_offer.reset();
  }
  log(LogLevel::info, "Miniserver start: extensions offline");
  for (int i = 0; i < 2; ++i) {
    at(now + i * kStartupGap, [this](Millis) {
      send_legacy(true, nullptr, 0x0C);
      send(short_packet(true, 0xFF, 0xFF, 0x07));
    });
  }
  Millis t = now + 2 * kStartupGap;
  startup_offers_at_ = t;
  for (auto& p : peers_) {
    if (!p->configured || p->tree_device) continue;
    Peer* peer = p.get();
    if (p->legacy)
      at(t, [this, peer](Millis) { send_legacy(false, peer, 0x00); });
    else
      schedule_offer(*peer, t);
    t += 10;
  }
  at(t + 500, [this](Millis) {
    log(LogLevel::info, "identify unknown extensions");
    send(short_packet(true, 0xFF, 0x00, 0xF4));
    send_legacy(true, nullptr, 0x0B);
  });
  at(now + 200, [this](Millis n) { periodic_time_sync(n); });
  at(now + options_.alive_ms, [this](Millis n) { periodic_alive(n); });
  at(now + 60000, [this](Millis n) { periodic_heartbeat(n); });
  if (options_.ping_ms > 0) at(now + options_.ping_ms, [this](Millis n) { periodic_ping(n); });
}

void MiniserverSim::periodic_heartbeat(Millis now) {
  send_legacy(true, nullptr, 0x0D, 0, 0, 60000);
  at(now + 60000, [this](Millis n) { periodic_heartbeat(n); });
}

void MiniserverSim::periodic_ping(Millis now) {
  for (auto& p : peers_) {
    if (p->phase != Phase::ready || p->legacy) continue;
    send_to(*p, short_packet(true, 0, 0, 0x05));
    if (p->alive_deadline == kNever) p->alive_deadline = now + kAnswerTimeout;
  }
  at(now + options_.ping_ms, [this](Millis n) { periodic_ping(n); });
}

void MiniserverSim::periodic_time_sync(Millis now) {
  std::uint32_t date = pack_date(2024, 6, 15), ms = 43200000;
  if (options_.local_time) std::tie(date, ms) = options_.local_time();
  send(short_packet(true, 0xFF, 0xFF, 0x0C, static_cast<std::uint8_t>(date),
                    static_cast<std::uint16_t>(date >> 8), ms));
  at(now + options_.time_sync_ms, [this](Millis n) { periodic_time_sync(n); });
}

void MiniserverSim::periodic_alive(Millis now) {
  for (auto& p : peers_) {
    if (p->phase != Phase::ready || p->legacy) continue;
    send_to(*p, short_packet(true, 0, 0, 0x08, 0x03, 0, p->config_crc));
    if (p->alive_deadline == kNever) p->alive_deadline = now + kAnswerTimeout;
  }
  at(now + options_.alive_ms, [this](Millis n) { periodic_alive(n); });
}

void MiniserverSim::tick(Millis now) {
  while (!actions_.empty() && actions_.front().due <= now) {
    std::pop_heap(actions_.begin(), actions_.end(), runs_later);
    auto fn = std::move(actions_.back().run);
    actions_.pop_back();
    fn(now);  // may schedule more: at() pushes onto the heap
  }
  for (auto& p : peers_) {
    if (p->alive_deadline > now) continue;
    p->alive_deadline = kNever;
    if (p->phase != Phase::ready) continue;
    log(LogLevel::warn, p->cfg.name + ": no answer to Alive within 3 s: offline");
    set_phase(*p, Phase::offline, now);
  }
}

Millis MiniserverSim::next_deadline() const {
  Millis t = actions_.empty() ? kNever : actions_.front().due;
  for (const auto& p : peers_) t = std::min(t, p->alive_deadline);
  return t;
}

// ---- NAT assignment ---------------------------------------------------------------------------

void MiniserverSim::schedule_offer(Peer& peer, Millis due) {
  if (peer.offer_pending) return;
  peer.offer_pending = true;
  Peer* pp = &peer;
  at(due, [this, pp](Millis n) {
    if (!pp->offer_pending) return;  // start() began anew
    pp->offer_pending = false;
    offer(*pp, n);
  });
}

void MiniserverSim::offer(Peer& peer, Millis now) {
  const std::uint8_t flags = peer.configured ? 0 : kOfferPark;
  if (peer.tree_device) {
    if (!peer.tree || peer.tree->phase != Phase::ready) return;
    send(short_packet(true, peer.tree->nat, 0xFF, 0xFD, peer.nat, flags, peer.cfg.serial));
  } else {
    send(short_packet(true, 0xFF, 0x00, 0xFD, peer.nat, flags, peer.cfg.serial));
  }
  peer.last_offer = now;
  ++offers_sent_;
  log(LogLevel::info,
      "send NAT offer to " + std::string(peer.tree_device ? "Tree device " : "Extension ") +
          serial_text(peer.cfg.serial) + ", new NAT index: " + std::to_string(peer.nat) +
          (peer.configured ? "" : ", park extension"));
}

void MiniserverSim::offer_tree_devices(Peer& tree, Millis now) {
  Millis t = now + kStartupGap;
  for (auto& p : peers_) {
    if (!p->tree_device || p->tree != &tree || !p->configured) continue;
    schedule_offer(*p, t);
    t += 10;
  }
  Peer* tp = &tree;
  at(t + 300, [this, tp](Millis) {
    if (tp->phase == Phase::ready) send(short_packet(true, tp->nat, 0xFF, 0xF4));
  });
}

void MiniserverSim::on_nat_request(const NatPacket& p, Millis now) {
  const std::uint32_t serial = p.val32;
  Peer* tree = p.dev == 0 ? tree_by_nat(p.nat) : nullptr;
  const bool left = (p.b0 & 0x40) != 0;
  log(LogLevel::info, "NAT index request from " +
                          std::string(tree ? "Tree device " : "extension ") + serial_text(serial) +
                          " (device type: " + hex4(p.val16) + ")");
  Peer* peer = by_serial(serial);
  if (peer && peer->configured) {
    if (peer->tree_device != (tree != nullptr) || (tree && peer->tree != tree))
      return;  // wrong place
    answer_nat_request(*peer, now);
    return;
  }
  if (!peer) {
    auto np = std::make_unique<Peer>();
    np->configured = false;
    np->cfg.serial = serial;
    np->cfg.name = "parked-" + serial_text(serial);
    np->type = p.val16;
    np->tree_device = tree != nullptr;
    np->tree = tree;
    np->cfg.left = left;
    np->nat = tree ? (left ? next_park_left_++ : next_park_right_++) : next_park_nat_++;
    np->phase = Phase::parked;
    peer = np.get();
    peers_.push_back(std::move(np));
  }
  answer_nat_request(*peer, now);
}

// One offer per request: none while one is scheduled (the start-up offers, the offers to a Tree
// Extension's devices), none for a request that crossed our offer, and none before the start-up
// "extensions offline" broadcasts are out (they would park the device again).
void MiniserverSim::answer_nat_request(Peer& peer, Millis now) {
  if (peer.offer_pending) {
    log(LogLevel::debug, serial_text(peer.cfg.serial) + ": NAT offer already scheduled");
    return;
  }
  if (peer.last_offer && now - *peer.last_offer < kOfferHold) {
    log(LogLevel::debug, serial_text(peer.cfg.serial) + ": NAT offer sent " +
                             std::to_string(now - *peer.last_offer) + " ms ago, not repeated");
    return;
  }
  if (now < startup_offers_at_) return schedule_offer(peer, startup_offers_at_);
  offer(peer, now);
}

void MiniserverSim::on_start(const NatPacket& p, Millis now) {
  if (!p.fragmented || p.payload.size() < 20) return;
  const std::uint32_t serial = le32(p.payload, 12);
  Peer* peer = by_serial(serial);
  if (!peer) return;
  peer->firmware = le32(p.payload, 0);
  peer->reported_crc = le32(p.payload, 8);
  peer->type = static_cast<std::uint16_t>(p.payload[17] | p.payload[18] << 8);
  const std::uint8_t nat = p.dev != 0 ? p.dev : p.nat;
  if (!peer->configured || (nat & 0x80)) {
    log(LogLevel::info, "got version packet from parked extension " + serial_text(serial));
    peer->phase = Phase::parked;
    return;
  }
  log(LogLevel::info, "got start packet from " + peer->cfg.name + " (" + serial_text(serial) +
                          ", firmware " + std::to_string(peer->firmware) + ", config CRC " +
                          hex8_text(peer->reported_crc) + ")");
  peer->session++;
  peer->auth_tries = peer->config_tries = 0;
  peer->alive_deadline = kNever;
  new_session(*peer);
  if (options_.keys)
    begin_auth(*peer, now);
  else
    send_config(*peer, now);
}

void MiniserverSim::new_session(Peer& peer) {
  peer.authorized = options_.keys == nullptr;
  peer.ignored_frames += peer.held_frames;
  peer.held = peer.inputs;
  peer.held_names.clear();
  peer.held_frames = 0;
  peer.ignoring_said = false;
}

void MiniserverSim::authorize(Peer& peer, Millis now) {
  log(LogLevel::info, peer.cfg.name + ": authorized");
  peer.authorized = true;
  for (const auto& name : peer.held_names) {
    const auto& v = peer.held[name];
    peer.reported.insert(name);
    auto it = peer.inputs.find(name);
    if (it != peer.inputs.end() && it->second == v) continue;
    peer.inputs[name] = v;
    input_changed(peer, name, now);
  }
  peer.held_names.clear();
  peer.held_frames = 0;
  send_config(peer, now);
}

// ---- authentication and configuration ---------------------------------------------------------

void MiniserverSim::begin_auth(Peer& peer, Millis now) {
  if (++peer.auth_tries > options_.auth_retries) {
    log(LogLevel::error, "Authorization failed: " + peer.cfg.name + " (" +
                             serial_text(peer.cfg.serial) + ") after " +
                             std::to_string(options_.auth_retries) +
                             " attempts; its values are ignored");
    if (peer.held_frames > 0 && !std::exchange(peer.ignoring_said, true))
      log(LogLevel::warn, peer.cfg.name + " (" + serial_text(peer.cfg.serial) +
                              "): ignoring its values: authentication failed");
    peer.ignored_frames += peer.held_frames;
    peer.held_frames = 0;
    peer.held_names.clear();
    if (hooks_.event)
      hooks_.event(devices::BusEvent{"auth_failed", peer.cfg.name, "", now * 1000000});
    set_phase(peer, Phase::auth_failed, now);
    return;
  }
  peer.phase = Phase::authenticating;
  const std::uint32_t r = random();
  if (peer.legacy) {
    peer.challenge = r;
    const auto c = make_challenge(*options_.keys, peer.cfg.serial, r);
    if (hooks_.send)
      for (const auto& f : legacy_fragment(true, peer.type4(), peer.serial24(), 0x18, c))
        hooks_.send(f);
  } else if (peer.tree_device && !peer.device_id) {
    const auto req = make_device_id_request(*options_.keys, peer.cfg.serial, r);
    send_to(peer, long_packet(true, 0, 0, 0x99, {req.begin(), req.end()}));
  } else {
    peer.challenge = r;
    const auto c = make_challenge(*options_.keys, peer.cfg.serial, r);
    send_to(peer, long_packet(true, 0, 0, 0x9C, {c.begin(), c.end()}));
  }
  Peer* pp = &peer;
  const auto session = peer.session;
  const int tries = peer.auth_tries;
  at(now + kAuthTimeout, [this, pp, session, tries](Millis n) {
    if (pp->session == session && pp->auth_tries == tries && pp->phase == Phase::authenticating) {
      log(LogLevel::warn, pp->cfg.name + ": no valid authentication reply, retrying");
      begin_auth(*pp, n);
    }
  });
}

void MiniserverSim::send_config(Peer& peer, Millis now) {
  if (peer.legacy) {
    send_legacy(false, &peer, 0x0E, 0, 0, 0);
    make_ready(peer, now);
    return;
  }
  peer.phase = Phase::configuring;
  if (peer.config.empty() && peer.cfg.model) {
    peer.config = make_config(*peer.cfg.model, options_.offline_timeout_s);
    peer.config_crc = config_crc(peer.config);
  }
  if (peer.reported_crc != peer.config_crc && !peer.config.empty()) {
    log(LogLevel::info, peer.cfg.name + ": sending configuration (CRC " +
                            hex8_text(peer.config_crc) + ", offline timeout " +
                            std::to_string(options_.offline_timeout_s) + " s)");
    send_to(peer, long_packet(true, 0, 0, 0x11, peer.config));
  }
  send_to(peer, short_packet(true, 0, 0, 0x08, 0x03, 0, peer.config_crc));
  Peer* pp = &peer;
  const auto session = peer.session;
  const int tries = ++peer.config_tries;
  at(now + kAnswerTimeout, [this, pp, session, tries](Millis n) {
    if (pp->session != session || pp->config_tries != tries || pp->phase != Phase::configuring)
      return;
    if (tries >= kConfigTries) {
      log(LogLevel::error,
          pp->cfg.name + ": configuration not confirmed after " + std::to_string(tries) + " tries");
      return;
    }
    send_config(*pp, n);
  });
}

void MiniserverSim::set_phase(Peer& peer, Phase phase, Millis now) {
  if (peer.phase == phase) return;
  const bool was_ready = peer.phase == Phase::ready;
  peer.phase = phase;
  if ((phase == Phase::ready || was_ready) && hooks_.event)
    hooks_.event(devices::DeviceStateChanged{
        peer.info(), was_ready ? DeviceState::online : DeviceState::offline,
        phase == Phase::ready ? DeviceState::online : DeviceState::offline, now * 1000000});
}

void MiniserverSim::make_ready(Peer& peer, Millis now) {
  if (peer.phase == Phase::ready) return;
  set_phase(peer, Phase::ready, now);
  log(LogLevel::info, peer.cfg.name + " (" + serial_text(peer.cfg.serial) + ") online" +
                          (peer.legacy ? "" : ", NAT " + std::to_string(peer.nat)));
  send_outputs(peer);
  if (peer.tree_ext) offer_tree_devices(peer, now);
}

void MiniserverSim::send_outputs(Peer& peer) {
  if (!peer.cfg.model) return;
  const auto& m = *peer.cfg.model;
  if (peer.legacy) {
    for (const auto& d : legacy_bytes_for_all(m, ChannelDirection::output, peer.outputs))
      if (hooks_.send) hooks_.send(legacy_frame_raw(true, peer.type4(), peer.serial24(), d));
    return;
  }
  for (auto& pkt : nat_packets_for_all(m, ChannelDirection::output, peer.outputs))
    send_to(peer, std::move(pkt));
}

// ---- received traffic -------------------------------------------------------------------------

void MiniserverSim::on_frame(const canproto::Frame& f, Millis now) {
  if (is_nat_frame(f)) {
    if (auto p = nat_rx_.push(f); p && !p->from_server) on_nat(*p, now);
    return;
  }
  if (auto p = legacy_rx_.push(f); p && !p->from_server) on_legacy(*p, now);
}

void MiniserverSim::on_nat(const NatPacket& p, Millis now) {
  switch (p.cmd) {
    case 0xFE: on_nat_request(p, now); return;
    case 0xFC:
      log(LogLevel::info,
          "search reply from " + serial_text(p.val32) + " (device type: " + hex4(p.val16) + ")");
      return;
    case 0x02: on_start(p, now); return;
    default: break;
  }
  Peer* peer = by_address(p.nat, p.dev);
  if (!peer || !peer->configured) return;
  switch (p.cmd) {
    case 0x03: log(LogLevel::info, peer->cfg.name + ": version info"); return;
    case 0x06: peer->alive_deadline = kNever; return;
    case 0x04:
      peer->alive_deadline = kNever;
      if (peer->phase == Phase::configuring) make_ready(*peer, now);
      return;
    case 0x08:
      peer->alive_deadline = kNever;
      peer->reported_crc = p.val32;
      if (p.val32 == peer->config_crc) {
        if (peer->phase == Phase::configuring) make_ready(*peer, now);
      } else if (peer->phase == Phase::ready) {
        peer->config_tries = 0;
        send_config(*peer, now);
      }
      return;
    case 0x98: {
      if (peer->phase != Phase::authenticating || !options_.keys) return;
      auto id = parse_device_id_reply(*options_.keys, peer->cfg.serial, p.payload);
      if (!id) {
        log(LogLevel::warn, peer->cfg.name + ": device-ID reply does not decrypt");
        return;
      }
      peer->device_id = *id;
      const std::uint32_t r = random();
      peer->challenge = r;
      const auto c = make_challenge(*options_.keys, peer->cfg.serial, r);
      send_to(*peer, long_packet(true, 0, 0, 0x9C, {c.begin(), c.end()}));
      return;
    }
    case 0x9D: {
      if (peer->phase != Phase::authenticating || !options_.keys) return;
      const DeviceId& id = peer->tree_device ? *peer->device_id : options_.keys->master_device_id;
      if (peer->tree_device && !peer->device_id) return;
      if (!check_challenge_reply(id, peer->cfg.serial, peer->challenge, p.payload)) {
        log(LogLevel::warn, peer->cfg.name + ": challenge reply does not verify");
        return;
      }
      authorize(*peer, now);
      return;
    }
    case 0x16:
    case 0x18: return;
    case 0x12:
    case 0x13:
      if (p.fragmented && p.payload.size() > 2)
        log(LogLevel::info,
            peer->cfg.name + ": " + std::string(p.payload.begin() + 2, p.payload.end()).c_str());
      return;
    default: break;
  }
  if (p.cmd < 0x80 || p.cmd > 0x8F || !peer->cfg.model) return;
  const auto& m = *peer->cfg.model;
  if (!carries(m, ChannelDirection::input, p.cmd)) return;
  ValueMap scratch;
  on_values(*peer, decode_nat(m, ChannelDirection::input, p, scratch), now,
            [&](ValueMap& into) { return decode_nat(m, ChannelDirection::input, p, into); });
}

// The authentication gate for input values (only with keys): accepted from an authorized device;
// held while it is being authenticated (applied once it is, dropped if it fails); otherwise
// ignored and counted, like a Miniserver ignores an extension that did not authenticate.
void MiniserverSim::on_values(Peer& peer, const std::vector<std::string>& carried, Millis now,
                              const std::function<std::vector<std::string>(ValueMap&)>& decode) {
  if (carried.empty()) return;
  if (peer.authorized || !options_.keys) {
    const auto changed = decode(peer.inputs);
    for (const auto& name : carried) peer.reported.insert(name);
    for (const auto& name : changed) input_changed(peer, name, now);
    return;
  }
  if (peer.phase == Phase::authenticating) {
    decode(peer.held);
    peer.held_names.insert(carried.begin(), carried.end());
    ++peer.held_frames;
    return;
  }
  ++peer.ignored_frames;
  if (!std::exchange(peer.ignoring_said, true))
    log(LogLevel::warn,
        peer.cfg.name + " (" + serial_text(peer.cfg.serial) + "): ignoring its values: " +
            (peer.phase == Phase::auth_failed ? "authentication failed" : "not authenticated"));
}

void MiniserverSim::input_changed(Peer& peer, const std::string& name, Millis now) {
  const auto& v = peer.inputs[name];
  log(LogLevel::info, "input " + peer.cfg.name + " " + name + " = " + devices::to_plain(v));
  if (hooks_.event)
    hooks_.event(devices::ChannelChanged{peer.info(), name, v,
                                         peer.cfg.model->find(name)->spec.unit, now * 1000000});
}

void MiniserverSim::on_legacy(const LegacyPacket& p, Millis now) {
  Peer* peer = nullptr;
  for (auto& q : peers_)
    if (q->legacy && q->type4() == p.type && q->serial24() == p.serial) peer = q.get();
  if (p.fragment) {
    if (!peer || p.fragment_type != 0x19 || peer->phase != Phase::authenticating || !options_.keys)
      return;
    if (check_challenge_reply(options_.keys->master_device_id, peer->cfg.serial, peer->challenge,
                              p.payload)) {
      authorize(*peer, now);
    } else {
      log(LogLevel::warn, peer->cfg.name + ": challenge reply does not verify");
    }
    return;
  }
  if (p.cmd == 0x07) {
    if (!peer) {
      auto np = std::make_unique<Peer>();
      np->configured = false;
      np->legacy = true;
      np->type = p.type;
      np->cfg.serial = std::uint32_t{p.type} << 24 | p.serial;
      np->cfg.name = "parked-" + serial_text(np->cfg.serial);
      np->phase = Phase::parked;
      peer = np.get();
      peers_.push_back(std::move(np));
    }
    if (!peer->configured) {
      log(LogLevel::info, "unknown legacy extension " + serial_text(peer->cfg.serial) + ": park");
      send_legacy(false, peer, 0x37);
      return;
    }
    peer->hw_version = p.b0;
    if (peer->phase == Phase::authenticating) return;  // start repeated while we ask
    peer->firmware = p.val32;
    log(LogLevel::info, "got start packet from " + peer->cfg.name + " (" +
                            serial_text(peer->cfg.serial) + ", firmware " +
                            std::to_string(peer->firmware) + ")");
    peer->session++;
    peer->auth_tries = 0;
    new_session(*peer);
    if (peer->phase == Phase::ready) set_phase(*peer, Phase::waiting, now);
    if (options_.keys)
      begin_auth(*peer, now);
    else
      send_config(*peer, now);
    return;
  }
  if (!peer || !peer->configured) return;
  if (p.cmd == 0x09) {
    peer->hw_version = p.b0;
    send_legacy(false, peer, 0x0F, 0, 0, 0);
    return;
  }
  if (!peer->cfg.model || !carries(*peer->cfg.model, ChannelDirection::input, p.cmd)) return;
  const auto& m = *peer->cfg.model;
  const auto hw = peer->hw_version;
  ValueMap scratch;
  on_values(*peer, decode_legacy(m, ChannelDirection::input, p, scratch, hw), now,
            [&](ValueMap& into) { return decode_legacy(m, ChannelDirection::input, p, into, hw); });
}

// ---- outputs and queries ----------------------------------------------------------------------

SetResult MiniserverSim::set_output(std::string_view device, std::string_view channel,
                                    const devices::ChannelValue& value, Millis) {
  Peer* peer = by_name(device);
  if (!peer || !peer->configured || !peer->cfg.model) return SetResult::unknown_channel;
  const auto& m = *peer->cfg.model;
  const auto* ch = m.find(channel);
  if (!ch || !peer->outputs.count(ch->spec.name)) {
    return ch && ch->spec.direction == ChannelDirection::input ? SetResult::wrong_direction
                                                               : SetResult::unknown_channel;
  }
  auto v = coerce(ch->spec, value);
  if (!v) return SetResult::bad_value;
  apply(m, *ch, *v, peer->outputs);
  if (peer->phase != Phase::ready) return SetResult::ok;
  if (peer->legacy) {
    if (auto d = legacy_bytes_for(m, *ch, peer->outputs); d && hooks_.send)
      hooks_.send(legacy_frame_raw(true, peer->type4(), peer->serial24(), *d));
  } else if (auto pkt = nat_packet_for(m, *ch, peer->outputs)) {
    send_to(*peer, std::move(*pkt));
  }
  return SetResult::ok;
}

std::optional<devices::ChannelValue> MiniserverSim::value(std::string_view device,
                                                          std::string_view channel) const {
  const Peer* peer = by_name(device);
  if (!peer) return std::nullopt;
  if (auto it = peer->inputs.find(channel); it != peer->inputs.end()) {
    if (!peer->reported.count(channel)) return std::nullopt;
    return it->second;
  }
  if (auto it = peer->outputs.find(channel); it != peer->outputs.end()) return it->second;
  return std::nullopt;
}

std::uint64_t MiniserverSim::ignored_values(std::string_view device) const {
  const Peer* peer = by_name(device);
  return peer ? peer->ignored_frames : 0;
}

std::vector<std::pair<std::string, std::uint64_t>> MiniserverSim::ignored_values() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (const auto& p : peers_)
    if (p->ignored_frames + p->held_frames > 0)
      out.emplace_back(p->cfg.name, p->ignored_frames + p->held_frames);
  return out;
}

MiniserverSim::Phase MiniserverSim::phase(std::string_view device) const {
  const Peer* peer = by_name(device);
  return peer ? peer->phase : Phase::waiting;
}

bool MiniserverSim::all_ready() const {
  return not_ready().empty();
}

std::vector<std::string> MiniserverSim::not_ready() const {
  std::vector<std::string> out;
  for (const auto& p : peers_)
    if (p->configured && p->phase != Phase::ready) out.push_back(p->cfg.name);
  return out;
}

std::vector<std::uint32_t> MiniserverSim::parked() const {
  std::vector<std::uint32_t> out;
  for (const auto& p : peers_)
    if (!p->configured) out.push_back(p->cfg.serial);
  return out;
}

}  // namespace loxcan::emulation
