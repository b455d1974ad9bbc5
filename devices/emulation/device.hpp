#pragma once
// Emulated Loxone devices: NAT extensions (DI, AI, AO, Tree Extension), Tree devices behind an
// emulated Tree Extension, and legacy extensions (Extension, Relay Extension).
// Life cycle of LOXONE_CAN.md 9.2 (NAT) and 6 (legacy); routing of 3.4; authentication of 7.
//
// Pure state machines: no sockets, no clock, no randomness of their own. The owner (EmulatedBus,
// below, and its runtime) passes time in (`Millis`, any monotonic origin), calls tick() at
// next_deadline(), and receives frames, events and log lines through Hooks.
//
// NAT life cycle, as implemented:
//   offline  -- NAT index requests 0xFE from NAT CRC8(serial)|0x80; delays: first 10..500 ms, then
//               1..2.5 s (3x), 5..10 s (until the 10th), then 10..30 s ([LL]); a Tree Extension
//               uses 1.0..1.5 s ([S-NAT]). Jitter from Hooks::random.
//   0xFD offer with our serial, in any state (the same NAT and flag again within 500 ms of the last
//               one is a duplicate: ignored): park flag -> parked; NAT 0x01..0x7E -> online; then
//               Start 0x02 (20 bytes: firmware, 0, config CRC, serial, reason, type, hw) with
//               reason 0x20 (power-on) the first time, 0x02 after; online and flag bit 1 clear ->
//               all inputs (a Tree Extension: two 0x18 CAN error replies).
//   parked / online -- answers 0x05 Ping (0x06), 0x08 Alive (0x04 when the CRC matches, else 0x08
//               reason 5 + own CRC), 0x01 Version request (0x03), 0xFB Search (0xFC after 0..100
//               ms), 0xF4 (parked only: 0xFE after 0..100 ms), 0x10 identify, 0x0C time sync, 0x11
//               config (accepted when size and version match the model; applies the offline timeout
//               and blink offset), 0x9C challenge (0x9D), 0x9D re-validation, 0x99 device ID (Tree:
//               0x98), 0x17/0x19 CAN diagnostics (Tree Extension), value commands on outputs, 0x07
//               park.
//   every Miniserver frame restarts the offline timer; at 10 % left an unsolicited Alive; at expiry
//               -> offline (NAT index requests again).
// Legacy life cycle: Start 0x07 every second after power-up until the Miniserver reacts; 0x00
//   identify -> 0x07; 0x0E blink position -> online + inputs; 0x0C/0x37 -> parked (waits for 0x00);
//   0x0B identify unknown -> 0x07 when not online; alive 0x09 every 360 s + (serial & 0x3F) s,
//   answer 0x0F expected within 3 s, else offline; 0x60/0x30 outputs (echoed); fragment 0x18
//   challenge -> fragment 0x19 reply.
//
// Errors are reported, never thrown, once constructed: an authentication request without keys logs
// (LogLevel::error) "<name>: the Miniserver requests authentication but <reason>", a challenge that
// does not decrypt logs that the key file does not match; both also emit a BusEvent "auth_failed".

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canproto/frame.hpp"
#include "devices/emulation/crypto.hpp"
#include "devices/emulation/link.hpp"
#include "devices/emulation/values.hpp"
#include "devices/events.hpp"
#include "devices/model.hpp"

namespace loxcan::emulation {

using Millis = std::int64_t;
inline constexpr Millis kNever = std::numeric_limits<Millis>::max();

/// 20.0.0.0: newer than any Miniserver firmware bundle, so no update is pushed (configurable).
inline constexpr std::uint32_t kDefaultFirmware = 20000000;
inline constexpr std::uint32_t kDefaultOfflineTimeoutS = 900;

enum class LogLevel : std::uint8_t { debug, info, warn, error };

struct Hooks {
  std::function<void(const canproto::Frame&)> send;
  std::function<std::uint32_t()> random;  ///< uniform 32-bit
  std::function<void(const devices::Event&)> event;
  std::function<void(LogLevel, const std::string&)> log;
};

/// How a device authenticates. `keys == nullptr`: it cannot; `missing` says why, for the error
/// ("no key file is configured (emulation.keys_file)", "auth is off for this device").
struct AuthSetup {
  const KeySet* keys = nullptr;
  std::string missing = "no key file is configured (emulation.keys_file)";
};

struct DeviceSetup {
  const devices::Model* model = nullptr;  ///< must outlive the device
  std::uint32_t serial = 0;
  std::string name;
  std::uint32_t firmware = kDefaultFirmware;
  std::uint8_t hardware = 1;
  AuthSetup auth;
  DeviceId
      device_id{};  ///< Tree devices: their persistent 12-byte ID (extensions use the master ID)
  bool left_branch = false;  ///< Tree devices
};

/// NAT offer flags (4.1.5).
inline constexpr std::uint8_t kOfferPark = 0x01;
inline constexpr std::uint8_t kOfferNoValues = 0x02;

/// Delay before NAT index request number `attempt` (0-based), for `random` uniform in 32 bits.
Millis nat_request_delay(int attempt, bool tree_extension, std::uint32_t random);

/// Expected config layout per model: (version, size). Unknown models: version 1, size 12.
struct ConfigLayout {
  std::uint8_t version = 1;
  std::uint8_t size = 12;
};
ConfigLayout config_layout(const devices::Model& model);

/// Builds a configuration (4.1.4) for `model` with the given offline timeout: header, zero body
/// with the model's defaults where documented, zero filler.
std::vector<std::uint8_t> make_config(const devices::Model& model, std::uint32_t offline_timeout_s,
                                      std::uint8_t blink_offset = 0);

enum class SetResult : std::uint8_t { ok, unknown_channel, wrong_direction, bad_value };
std::string_view to_string(SetResult r);

class Emulated {
 public:
  Emulated(DeviceSetup setup, Hooks& hooks);
  virtual ~Emulated() = default;
  Emulated(const Emulated&) = delete;
  Emulated& operator=(const Emulated&) = delete;

  virtual void tick(Millis now) = 0;
  virtual Millis next_deadline() const = 0;
  /// Power-up (first NAT request / legacy start is scheduled from `now`).
  virtual void start(Millis now) = 0;

  /// Sets an input channel; reported at once when online, else at the next start.
  SetResult set_input(std::string_view channel, const devices::ChannelValue& value, Millis now);
  /// Current value of a channel (input or output), if the channel is emulated.
  std::optional<devices::ChannelValue> value(std::string_view channel) const;

  const devices::DeviceInfo& info() const { return info_; }
  const devices::Model& model() const { return *setup_.model; }
  devices::DeviceState state() const { return state_; }
  const std::string& name() const { return info_.name; }
  bool identifying() const { return identifying_; }

 protected:
  virtual void report_inputs(const std::vector<std::string>& changed, Millis now) = 0;
  void set_state(devices::DeviceState s, Millis now);
  void log(LogLevel level, const std::string& text) const;
  void emit(devices::Event e) const;
  void outputs_changed(const std::vector<std::string>& names, Millis now);
  std::uint32_t random() const { return hooks_.random ? hooks_.random() : 0; }
  void auth_error(const std::string& why, Millis now) const;

  DeviceSetup setup_;
  Hooks& hooks_;
  devices::DeviceInfo info_;
  devices::DeviceState state_ = devices::DeviceState::offline;
  ValueMap inputs_;
  ValueMap outputs_;
  bool identifying_ = false;
  mutable bool auth_error_said_ = false;  ///< error once per session, then debug
};

class TreeExtension;

class NatDevice : public Emulated {
 public:
  NatDevice(DeviceSetup setup, Hooks& hooks, TreeExtension* parent = nullptr);

  void start(Millis now) override;
  void tick(Millis now) override;
  Millis next_deadline() const override;

  /// A Miniserver packet addressed to this device (ID NAT / branch NAT equals own or 0xFF).
  virtual void on_packet(const NatPacket& p, Millis now);
  /// Whether a packet with ID NAT `nat` (branch NAT for Tree devices) is for this device.
  bool addressed(std::uint8_t nat) const { return nat == 0xFF || nat == own_nat(); }

  std::uint8_t nat() const { return nat_; }
  /// NAT used on the bus now: the assigned one, or CRC8(serial)|0x80 when offline.
  std::uint8_t own_nat() const;
  std::uint32_t config_crc() const { return config_crc_; }
  std::uint32_t offline_timeout_s() const { return offline_timeout_s_; }
  bool left_branch() const { return setup_.left_branch; }
  bool authenticated() const { return authenticated_; }
  int nat_requests_sent() const { return nat_requests_; }

 protected:
  void report_inputs(const std::vector<std::string>& changed, Millis now) override;
  /// Sends a packet from this device (fills in the addressing).
  virtual void send(NatPacket p);
  virtual void after_start(Millis now);
  virtual void on_specific(const NatPacket& p, Millis now);
  void send_start(std::uint8_t cmd, std::uint8_t reason);
  void go_offline(Millis now);
  void accept_offer(const NatPacket& p, Millis now);
  void on_config(const NatPacket& p, Millis now);
  void on_challenge(const NatPacket& p, Millis now);
  void on_server_reply(const NatPacket& p, Millis now);
  void on_device_id_request(const NatPacket& p, Millis now);
  void on_value(const NatPacket& p, Millis now);
  void on_webservice(const NatPacket& p, Millis now);
  const DeviceId& auth_device_id() const;
  bool is_tree_device() const { return parent_ != nullptr; }

  TreeExtension* parent_;
  std::uint8_t nat_ = 0;
  bool started_once_ = false;
  int nat_requests_ = 0;
  int request_attempt_ = 0;
  Millis next_request_ = kNever;
  Millis last_rx_ = 0;
  bool alive_sent_ = false;
  std::vector<std::uint8_t> config_;
  std::uint32_t config_crc_ = 0;
  std::uint32_t offline_timeout_s_ = kDefaultOfflineTimeoutS;
  std::optional<std::uint32_t> server_random_;
  bool authenticated_ = false;
  Millis started_at_ = 0;
  std::optional<Millis> last_offer_;  ///< when the last accepted offer arrived
  // Jittered replies (0xFC search, 0xFE identify-unknown): due time and command.
  struct Delayed {
    Millis due;
    std::uint8_t cmd;
  };
  std::vector<Delayed> delayed_;
  /// Sends the delayed replies due at `now` (an identify-unknown answer only while parked).
  void send_due_replies(Millis now);
};

class TreeExtension : public NatDevice {
 public:
  TreeExtension(DeviceSetup setup, Hooks& hooks);

  /// Adds an emulated Tree device on its branch (setup.left_branch). The Tree Extension owns it.
  NatDevice& add_device(DeviceSetup setup);
  const std::vector<std::unique_ptr<NatDevice>>& devices() const { return devices_; }

  /// A Link packet from the Miniserver addressed to this extension's NAT or broadcast:
  /// handled itself and/or forwarded to the branches (3.4).
  void on_link_packet(const NatPacket& p, Millis now);
  /// A packet a Tree device sent on its branch: re-emitted on the Link bus (3.4).
  void forward_up(const NatDevice& from, NatPacket p);

  void start(Millis now) override;
  void tick(Millis now) override;
  Millis next_deadline() const override;

 protected:
  void after_start(Millis now) override;
  void on_specific(const NatPacket& p, Millis now) override;

 private:
  std::vector<std::unique_ptr<NatDevice>> devices_;
};

class LegacyExtension : public Emulated {
 public:
  LegacyExtension(DeviceSetup setup, Hooks& hooks, Millis alive_interval_ms = -1);

  void start(Millis now) override;
  void tick(Millis now) override;
  Millis next_deadline() const override;
  /// A legacy packet for this extension (its ID, broadcast, or its type multicast).
  void on_packet(const LegacyPacket& p, Millis now);
  bool addressed(const LegacyPacket& p) const;
  std::uint8_t legacy_type() const { return static_cast<std::uint8_t>(setup_.model->type & 0xF); }
  std::uint32_t serial24() const { return setup_.serial & 0xFFFFFF; }

 protected:
  void report_inputs(const std::vector<std::string>& changed, Millis now) override;

 private:
  void send_cmd(std::uint8_t cmd, std::uint8_t b0, std::uint16_t v16, std::uint32_t v32);
  void send_start();
  void on_challenge(const LegacyPacket& p, Millis now);

  Millis alive_interval_ms_;
  Millis next_start_ = kNever;
  Millis next_alive_ = kNever;
  Millis alive_deadline_ = kNever;
};

/// All emulated devices on one CAN interface: routes received frames to them, collects deadlines.
class EmulatedBus {
 public:
  explicit EmulatedBus(Hooks hooks) : hooks_(std::move(hooks)) {}

  NatDevice& add_nat_extension(DeviceSetup setup);
  TreeExtension& add_tree_extension(DeviceSetup setup);
  LegacyExtension& add_legacy_extension(DeviceSetup setup, Millis alive_interval_ms = -1);

  void start(Millis now);
  void on_frame(const canproto::Frame& f, Millis now);
  void tick(Millis now);
  Millis next_deadline() const;

  /// Every emulated device (Tree devices included), in the order added.
  std::vector<Emulated*> all() const;
  /// By name or by serial (8 hex digits); nullptr when absent.
  Emulated* find(std::string_view name_or_serial) const;
  Hooks& hooks() { return hooks_; }

 private:
  Hooks hooks_;
  NatReceiver nat_rx_;
  LegacyReceiver legacy_rx_;
  std::vector<std::unique_ptr<NatDevice>> nat_;
  std::vector<std::unique_ptr<LegacyExtension>> legacy_;
};

}  // namespace loxcan::emulation
