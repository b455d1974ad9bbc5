#pragma once
// The bus inventory: every device seen on the bus, built from traffic alone (monitor mode), and the
// typed events (devices/events.hpp) that traffic means.
//
// Feed it the decoded messages of one Link bus in order (canproto::Decoder output: the frame's
// message, and the packet message when a fragmented packet completed). Time is passed in; nothing
// here reads a clock. Silence is detected by tick(now), which the caller drives (a timer, or the
// last frame's time when replaying a capture).
//
// What it tracks (LOXONE_CAN.md 3.3, 3.4, 4.1, 9.2, 10):
//   - NAT extensions by extension NAT, Tree devices by (Tree Extension NAT, device NAT). Mappings
//     come from NAT offers (0xFD) and Start/Version packets (0x02/0x03); the latest one wins, so a
//     Miniserver restart that hands out new NATs is followed. When an extension NAT changes hands,
//     the Tree devices mapped behind it are forgotten until they are offered again.
//   - serial, type, model, generation, firmware, hardware version, config CRC (Start / Alive),
//     branch (bit 6 of the device NAT, or the 0x40 flag of 0xFE/0xFC), parent Tree Extension.
//   - state: offline (NAT index requests; silence), parked (NAT with bit 7, Park 0x07 broadcast,
//     legacy 0x37 / 0x0C), online (Start with an active NAT; legacy Start or any frame after it).
//     A device that falls silent for `silence_timeout_ns` becomes offline; its next frame restores
//     the state its NAT implies.
//   - the last value of every channel (inputs from device frames, outputs from Miniserver commands
//     and device echoes).
// Events:
//   DeviceSeen          first frame that identifies a device (serial known)
//   DeviceStateChanged  offline/parked/online transitions
//   ChannelChanged      a device reported a value different from the last one (or the first one)
//   Command             the Miniserver commanded an output (every command, also repeated values)
//   BusEvent            tree_shortcut, miniserver_start, device_log, unknown_device (a value frame
//                       from a NAT no offer/Start mapped), unknown_message (a device whose model
//                       has no binding for the message; the raw frames are kept), malformed, ...
//
// Devices not in the YAML map get the generated name `<model>-<serial lowercase>`; set_name()
// gives a friendly one (before or after the device is first seen).

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "canproto/decoder.hpp"
#include "canproto/message.hpp"
#include "devices/codec.hpp"
#include "devices/events.hpp"
#include "devices/registry.hpp"

namespace loxcan::devices {

enum class BranchSide : std::uint8_t { none, left, right };
std::string_view to_string(BranchSide b);

struct DeviceRecord {
  DeviceInfo info;
  const Model* model = nullptr;  ///< nullptr: type not in the registry (or not yet known)
  Protocol protocol = Protocol::nat;
  bool type_known = false;
  DeviceState state = DeviceState::offline;
  DeviceState protocol_state = DeviceState::offline;  ///< what the protocol said, before silence
  std::uint8_t nat = 0;      ///< extension NAT, or device NAT for Tree devices; 0 = none
  std::uint32_t parent = 0;  ///< Tree devices: serial of the Tree Extension (0 = unknown)
  BranchSide branch = BranchSide::none;
  std::uint32_t config_crc = 0;
  std::optional<std::uint8_t> hw_version;
  std::int64_t first_seen_ns = 0;
  std::int64_t last_seen_ns = 0;
  ChannelStates channels;  ///< in the order they were first reported
  DecodeScratch scratch;
};

struct InventoryOptions {
  /// A device silent this long becomes offline. NAT devices answer the Miniserver's Alive every
  /// 10-15 min and legacy ones send Alive every 6-7 min, so the default leaves room for one miss.
  std::int64_t silence_timeout_ns = std::int64_t{20} * 60 * 1'000'000'000;
};

/// Where an output command must be sent, as canproto messages (Link bus).
struct CommandFrames {
  std::vector<canproto::Message> messages;
};

class Inventory {
 public:
  explicit Inventory(const Registry& registry, InventoryOptions options = {});

  /// Friendly name for a serial (the YAML map). Applies now and to later events.
  void set_name(std::uint32_t serial, std::string name);

  /// One decoder result: the frame's message, then the completed packet's message, if any.
  void feed(const canproto::Decoded& decoded, std::int64_t ts_ns, std::vector<Event>& out);
  /// One message (a frame's or a completed packet's).
  void feed(const canproto::Message& message, std::int64_t ts_ns, std::vector<Event>& out);

  /// Marks devices silent for longer than the timeout as offline.
  void tick(std::int64_t now_ns, std::vector<Event>& out);

  const std::vector<DeviceRecord>& devices() const { return records_; }
  const DeviceRecord* find(std::uint32_t serial) const;
  const DeviceRecord* find_by_name(std::string_view name) const;

  /// The message(s) that set output `channel` of device `serial` to `value`, addressed with the
  /// device's current NAT (or legacy id). Errors: CommandError, or unknown_channel when the
  /// device or its model is unknown, not_encodable when the device has no NAT yet.
  canproto::Result<CommandFrames, CommandError> command(std::uint32_t serial,
                                                        std::string_view channel,
                                                        const ChannelValue& value) const;

 private:
  DeviceRecord& ensure(std::uint32_t serial, Protocol protocol, std::int64_t ts,
                       std::vector<Event>& out);
  void set_type(DeviceRecord& r, std::uint16_t type);
  void set_state(DeviceRecord& r, DeviceState s, std::int64_t ts, std::vector<Event>& out);
  void touch(DeviceRecord& r, std::int64_t ts, std::vector<Event>& out);
  DeviceRecord* by_serial(std::uint32_t serial);

  void feed_nat(const canproto::NatMessage& m, std::int64_t ts, std::vector<Event>& out);
  void feed_nat_from_device(const canproto::NatMessage& m, std::int64_t ts,
                            std::vector<Event>& out);
  void feed_nat_to_device(const canproto::NatMessage& m, std::int64_t ts, std::vector<Event>& out);
  void feed_legacy(const canproto::LegacyMessage& m, std::int64_t ts, std::vector<Event>& out);
  void on_device_info(const canproto::NatMessage& m, const canproto::DeviceInfo& info,
                      std::int64_t ts, std::vector<Event>& out);
  void on_announce(const canproto::NatMessage& m, const canproto::DeviceAnnounce& a, bool request,
                   std::int64_t ts, std::vector<Event>& out);
  void on_offer(const canproto::NatMessage& m, const canproto::NatOffer& o, std::int64_t ts,
                std::vector<Event>& out);
  void on_park_all(std::int64_t ts, std::vector<Event>& out);
  void route_nat(const canproto::NatMessage& m, const canproto::NatMessage& original,
                 std::int64_t ts, std::vector<Event>& out);
  void nat_values(DeviceRecord& r, const canproto::NatMessage& m, bool from_device, std::int64_t ts,
                  std::vector<Event>& out);
  void legacy_values(DeviceRecord& r, const canproto::LegacyMessage& m, bool from_device,
                     std::int64_t ts, std::vector<Event>& out);
  /// Decodes `body` with the record's DecodePlan and applies the values; returns how many
  /// channels the body carried (0: the model does not map it).
  template <class Body, class Context>
  std::size_t plan_values(DeviceRecord& r, const Body& body, const Context& context,
                          bool from_device, std::int64_t ts, std::vector<Event>& out);
  /// Dynamic channels (legacy DMX, 1-Wire, RS232/485, Modbus), matched by name.
  void on_values(DeviceRecord& r, const std::vector<DecodedValue>& values, bool from_device,
                 std::int64_t ts, std::vector<Event>& out);
  void miniserver_start(const canproto::Message& m, const char* detail, std::int64_t ts,
                        std::vector<Event>& out);
  void unknown(const canproto::Message& m, std::string kind, std::string detail, std::int64_t ts,
               std::vector<Event>& out);

  void map_extension(std::uint8_t nat, std::uint32_t serial);
  void map_tree(std::uint8_t ext_nat, std::uint8_t dev_nat, std::uint32_t serial);
  /// Serial at a NAT address (extension if device_nat == 0, else Tree device), if mapped.
  std::optional<std::uint32_t> resolve(std::uint8_t nat, std::uint8_t device_nat) const;

  const Registry& registry_;
  InventoryOptions options_;
  std::vector<DeviceRecord> records_;
  std::map<std::uint32_t, std::size_t> index_;  ///< serial -> records_ index
  std::map<std::uint32_t, std::string> names_;  ///< friendly names
  std::array<std::optional<std::uint32_t>, 256> ext_by_nat_{};
  std::map<std::uint16_t, std::uint32_t> tree_by_nat_;  ///< ext NAT << 8 | device NAT -> serial
  std::optional<std::int64_t> last_start_event_ns_;
  std::vector<DecodedValue> scratch_values_;

  // Hot path (one frame -> its candidate channels, by index; no string compares or copies for
  // channels that did not change). Per record, parallel to records_: the model's plan and, per
  // model channel, its index in DeviceRecord::channels (-1: not reported yet).
  // `digital`: the last DigitalValue bitmask per D1 index the device reported, while its
  // channels hold exactly what that mask says (cleared by a Miniserver 0x80 command and by a
  // model change); lets a 0x80 frame skip the channels whose bits did not change.
  struct ChannelIndex {
    const Model* model = nullptr;
    const DecodePlan* plan = nullptr;
    std::vector<std::int32_t> slots;
    std::vector<std::pair<std::uint8_t, std::uint32_t>> digital;
  };
  struct StagedValue {
    std::uint16_t channel = 0;
    ChannelValue value;
  };
  ChannelIndex& channel_index(DeviceRecord& r);
  static std::uint32_t* last_mask(ChannelIndex& ix, const canproto::DigitalValue* digital,
                                  bool from_device);
  template <class Body, class Context>
  std::size_t stage_values(DeviceRecord& r, ChannelIndex& ix, const Body& body,
                           const Context& context, bool from_device);
  void commit_values(DeviceRecord& r, ChannelIndex& ix, std::size_t decoded, bool from_device,
                     std::int64_t ts, std::vector<Event>& out);
  static void emit_value(const DeviceRecord& r, const ChannelSpec& spec, ChannelValue&& value,
                         bool from_device, std::int64_t ts, std::vector<Event>& out);
  std::vector<ChannelIndex> channel_index_;
  std::map<const Model*, DecodePlan> plans_;
  std::vector<StagedValue> staged_;
};

}  // namespace loxcan::devices
