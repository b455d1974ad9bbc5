#pragma once
// A simulated Miniserver (the master side of LOXONE_CAN.md 9.2 / 9.3 and 6), for `loxcan sim` and
// for unit tests that connect it to emulated devices over an in-memory bus.
//
// Pure like the devices: time passed in, frames out through Hooks::send, randomness injected.
//
// What it does:
//   start(now)  "extensions offline" twice 50 ms apart (legacy 0x0C to ID 0, NAT 0x07 to NAT 0xFF),
//               then legacy 0x00 identify to each configured legacy extension and NAT offers to
//               each configured NAT extension (NATs 1, 2, ... in configuration order), then 0xF4 /
//               legacy 0x0B identify-unknown. When a Tree Extension is online: offers to its
//               configured Tree devices (right 0x01.., left 0x41..), then 0xF4 through it (D0 =
//               0xFF).
//   0xFE        configured serial -> its NAT; unknown -> parked NAT (0x81.. / Tree: 0x81.. right,
//               0xC1.. left) with the park flag.
//   Start 0x02  online device: authentication when keys are set (Tree devices first 0x99 -> 0x98
//   for
//               the device ID, then 0x9C -> 0x9D; up to `auth_retries` attempts, 1 s apart, then
//               "authorization failed"), then configuration: 0x11 when the reported CRC differs
//               from the model's config (with `offline_timeout_s`), then Alive 0x08 with the
//               expected CRC; 0x04 back -> ready (DeviceStateChanged online) and current outputs
//               are sent.
//   legacy      0x07 from a configured extension -> challenge (fragment 0x18 -> 0x19) when keys are
//               set, then 0x0E blink position -> ready; unknown -> 0x37 park. Alive 0x09 -> 0x0F.
//   periodic    time sync 0x0C every `time_sync_ms`, Alive 0x08 to each ready NAT device every
//               `alive_ms` (3 s to answer, else offline), optional ping 0x05 every `ping_ms`,
//               legacy heartbeat 0x0D every 60 s.
//   values      input frames -> ChannelChanged events; set_output() -> value frames. Legacy 0x51
//               frequencies and 0x53 temperatures as `loxcan devices` decodes them (0x53 with the
//               hardware version of the extension's Start).
//   strict      with keys, values count only from a device that answered this session's challenge:
//               held while it is being authenticated (applied when it is), otherwise ignored and
//               counted (ignored_values()): after "authorization failed", before its Start. value()
//               knows only inputs a device reported and the sim accepted.
//   offers      one NAT offer per request: a request while an offer is scheduled (start-up, a Tree
//               Extension's devices) or within 250 ms of the last offer (it crossed ours) gets
//               none; requests before the start-up "offline" broadcasts are out get the scheduled
//               offer.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/emulation/device.hpp"

namespace loxcan::emulation {

/// One device in the simulated Miniserver's configuration.
struct SimDevice {
  const devices::Model* model = nullptr;
  std::uint32_t serial = 0;
  std::string name;
  std::string parent;  ///< Tree devices: the name of their Tree Extension
  bool left = false;   ///< Tree devices: left branch
};

struct SimOptions {
  const KeySet* keys = nullptr;  ///< nullptr: no authentication (a Miniserver older than 10.3)
  std::uint32_t offline_timeout_s = kDefaultOfflineTimeoutS;
  Millis time_sync_ms = 60000;
  Millis alive_ms = 600000;
  Millis ping_ms = 0;  ///< 0: no pings
  int auth_retries = 6;
  /// Local date packed as in 4.1.3 and ms since midnight; called for each time sync.
  std::function<std::pair<std::uint32_t, std::uint32_t>()> local_time;
};

/// Packs a date for 0x0C / legacy 0x2D (4.1.3).
std::uint32_t pack_date(int year, int month, int day);

class MiniserverSim {
 public:
  enum class Phase : std::uint8_t {
    waiting,
    parked,
    authenticating,
    configuring,
    ready,
    auth_failed,
    offline
  };

  MiniserverSim(std::vector<SimDevice> devices, SimOptions options, Hooks hooks);
  ~MiniserverSim();
  MiniserverSim(const MiniserverSim&) = delete;
  MiniserverSim& operator=(const MiniserverSim&) = delete;

  void start(Millis now);
  void on_frame(const canproto::Frame& f, Millis now);
  void tick(Millis now);
  Millis next_deadline() const;

  /// Sets an output of a configured device; sent at once when the device is ready, else after.
  SetResult set_output(std::string_view device, std::string_view channel,
                       const devices::ChannelValue& value, Millis now);
  /// Last input value reported by a device (or the value set on an output).
  std::optional<devices::ChannelValue> value(std::string_view device,
                                             std::string_view channel) const;
  /// The configured device by name or serial (8 hex digits); nullptr when unknown.
  const SimDevice* find(std::string_view device) const;

  Phase phase(std::string_view device) const;
  bool all_ready() const;
  /// Names of configured devices not ready yet.
  std::vector<std::string> not_ready() const;
  /// Serials of devices that were parked (not in the configuration).
  std::vector<std::uint32_t> parked() const;
  /// Value frames of a device ignored because it was not authenticated (0 for unknown devices).
  std::uint64_t ignored_values(std::string_view device) const;
  /// (name, count) for every device with ignored value frames.
  std::vector<std::pair<std::string, std::uint64_t>> ignored_values() const;
  /// NAT offers sent since construction.
  std::uint64_t offers_sent() const { return offers_sent_; }

 private:
  struct Peer;
  struct Action {
    Millis due;
    std::uint64_t seq;
    std::function<void(Millis)> run;
  };
  // Heap order of actions_: the earliest due first, equal times in the order they were scheduled.
  static bool runs_later(const Action& a, const Action& b) {
    return a.due != b.due ? a.due > b.due : a.seq > b.seq;
  }

  Peer* by_serial(std::uint32_t serial);
  Peer* by_name(std::string_view name);
  const Peer* by_name(std::string_view name) const;
  Peer* tree_by_nat(std::uint8_t nat);
  Peer* by_address(std::uint8_t nat, std::uint8_t dev);
  void at(Millis due, std::function<void(Millis)> fn);
  void send(const NatPacket& p);
  void send_to(const Peer& peer, NatPacket p);
  void send_legacy(bool broadcast, const Peer* peer, std::uint8_t cmd, std::uint8_t b0 = 0,
                   std::uint16_t v16 = 0, std::uint32_t v32 = 0);
  void offer(Peer& peer, Millis now);
  void schedule_offer(Peer& peer, Millis due);
  void answer_nat_request(Peer& peer, Millis now);
  void new_session(Peer& peer);
  void authorize(Peer& peer, Millis now);
  void on_values(Peer& peer, const std::vector<std::string>& carried, Millis now,
                 const std::function<std::vector<std::string>(ValueMap&)>& decode);
  void input_changed(Peer& peer, const std::string& name, Millis now);
  void offer_tree_devices(Peer& tree, Millis now);
  void on_nat(const NatPacket& p, Millis now);
  void on_nat_request(const NatPacket& p, Millis now);
  void on_start(const NatPacket& p, Millis now);
  void begin_auth(Peer& peer, Millis now);
  void on_auth_timeout(Peer& peer, std::uint64_t session, Millis now);
  void send_config(Peer& peer, Millis now);
  void set_phase(Peer& peer, Phase phase, Millis now);
  void make_ready(Peer& peer, Millis now);
  void send_outputs(Peer& peer);
  void on_legacy(const LegacyPacket& p, Millis now);
  void periodic_time_sync(Millis now);
  void periodic_alive(Millis now);
  void periodic_heartbeat(Millis now);
  void periodic_ping(Millis now);
  void log(LogLevel level, const std::string& text) const;
  std::uint32_t random() { return hooks_.random ? hooks_.random() : 0; }

  std::vector<std::unique_ptr<Peer>> peers_;
  SimOptions options_;
  Hooks hooks_;
  NatReceiver nat_rx_;
  LegacyReceiver legacy_rx_;
  // A binary min-heap (runs_later): a flood of frames can leave thousands of scheduled answers and
  // timeouts waiting (most find their session over and do nothing); a linear search per action
  // made tick() quadratic in them (fuzz_emulation_bus: 2 s for one 255-byte input).
  std::vector<Action> actions_;
  std::uint64_t seq_ = 0;
  Millis startup_offers_at_ = 0;
  std::uint64_t offers_sent_ = 0;
  std::uint8_t next_park_nat_ = 0x81;
  std::uint8_t next_park_right_ = 0x81;
  std::uint8_t next_park_left_ = 0xC1;
};

std::string_view to_string(MiniserverSim::Phase p);

}  // namespace loxcan::emulation
