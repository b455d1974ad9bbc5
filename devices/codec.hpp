#pragma once
// Message <-> channel values, driven by a Model's bindings (devices/model.hpp).
//
// decode_*(): the channel values a typed canproto body carries for one device.
//   - `from_device` = the device sent it (an input report, or the echo/report of an output);
//     otherwise the Miniserver sent it (an output command).
//   - Device frames fill input channels; they fill output channels only where no input channel of
//     the model shares the same command/index (a Valve reporting its position, a Relay Extension
//     echoing its relays) — the Touch's zone mask is never read as its buzzer.
//   - Miniserver frames fill output channels only.
//   - Partial updates (0x8A composite white with 0xFF = unchanged, one bit of a shared mask) start
//     from `current`, the device's last values.
//   - Special models (DMX, 1-Wire, RS232/485, Modbus) produce dynamic channel names:
//     `dmx<channel>`, `t<sensor>`, `ibutton`, `rx`, `tx`, `config`, `a<address>_r<register>`,
//     `error`.
//   Bodies a model has no binding for produce nothing (the caller reports them raw).
//
// encode_output(): the body that sets one output channel (MQTT `/set`, emulation). Outputs sharing
// a bit mask or a 4-value frame are filled from `current`. Numbers are range-checked against the
// ChannelSpec; analog outputs are sent with flags 0 (integers) or 5 (value x 1000, signed if < 0).
//
// Example: Touch, NAT 0x81 {index 0, flags 0x15, raw 22500} from the device
//   -> {"temperature", 22.5, "°C"}; Relay Extension, encode_output("q2", true, {q1 = true})
//   -> LegacyOutputs{bitmask 0x3}.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "canproto/message.hpp"
#include "canproto/result.hpp"
#include "devices/model.hpp"

namespace loxcan::devices {

/// The last value of one channel of one device.
struct ChannelState {
  std::string name;
  ChannelValue value;
  std::string unit;
  std::int64_t ts_ns = 0;
  bool commanded = false;  ///< last set by a Miniserver command, not yet confirmed by the device
};
using ChannelStates = std::vector<ChannelState>;

const ChannelValue* find_value(const ChannelStates& states, std::string_view channel);

struct DecodedValue {
  std::string channel;
  ChannelValue value;
  std::string unit;
};

/// Per-device scratch for values spread over several frames (RS232/485 send bytes, 0x71).
struct DecodeScratch {
  std::vector<std::uint8_t> tx;
  std::size_t tx_expected = 0;
};

void decode_nat(const Model& model, const canproto::NatBody& body, bool from_device,
                const ChannelStates& current, std::vector<DecodedValue>& out);

/// `hw_version`: from the extension's Start, if seen (selects the 0x53 temperature formula).
void decode_legacy(const Model& model, const canproto::LegacyBody& body, bool from_device,
                   std::optional<std::uint8_t> hw_version, DecodeScratch& scratch,
                   std::vector<DecodedValue>& out);

/// The hot-path form of decode_nat()/decode_legacy() (the inventory's per-frame path): a Model's
/// channels indexed by the kind of body that can set them, per direction, so one frame visits only
/// its candidate channels (a DI Extension's 0x80 visits i1..i20, not f1..f20) and values are named
/// by channel index instead of by string. Same rules and results as decode_nat()/decode_legacy():
/// for every body, {i in candidates(body) : decode(i, body) has a value} lists, in the same order,
/// exactly the channels those functions return.
///
/// Built once per Model; keeps a reference to it (the Model must outlive the plan). Models with
/// dynamic channels (legacy DMX, 1-Wire, RS232/485, Modbus: dynamic() is true) have no candidates;
/// use decode_legacy() for them.
///
/// Example: DI Extension, DigitalValue{0, 0x5} from the device -> candidates i1..i20, decode(0)
/// = true, decode(1) = false, decode(2) = true.
class DecodePlan {
 public:
  explicit DecodePlan(const Model& model);

  const Model& model() const { return model_; }
  bool dynamic() const;

  /// Indices into model().channels that `body` may set, in model order (for bodies with a D1
  /// index, only the channels bound to that index).
  std::span<const std::uint16_t> candidates(const canproto::NatBody& body, bool from_device) const;
  std::span<const std::uint16_t> candidates(const canproto::LegacyBody& body,
                                            bool from_device) const;

  /// The value channel `index` takes from `body`; nullopt when the body does not carry it (other
  /// index, NaN analog value). `current` completes partial updates (0x8A white with 0xFF).
  std::optional<ChannelValue> decode(std::uint16_t index, const canproto::NatBody& body,
                                     const ChannelStates& current) const;
  std::optional<ChannelValue> decode(std::uint16_t index, const canproto::LegacyBody& body,
                                     std::optional<std::uint8_t> hw_version) const;

  enum class Match : std::uint8_t {
    absent,     ///< the body does not carry the channel (decode() gives nullopt)
    same,       ///< it carries exactly `current`
    different,  ///< it carries another value (or another type)
  };
  /// decode(index, ...) compared with `current` without building a ChannelValue: the per-frame
  /// check for channels that did not change.
  Match match(std::uint16_t index, const canproto::NatBody& body, const ChannelStates& states,
              const ChannelValue& current) const;
  Match match(std::uint16_t index, const canproto::LegacyBody& body,
              std::optional<std::uint8_t> hw_version, const ChannelValue& current) const;

  /// The bits of a DigitalValue (0x80) bitmask that channel `index` reads; 0 when it reads no
  /// DigitalValue. A channel none of whose bits changed between two 0x80 frames with its D1 index
  /// has the same value in both.
  std::uint32_t digital_bits(std::uint16_t index) const { return digital_bits_[index]; }

 private:
  using List = std::vector<std::uint16_t>;
  const Model& model_;
  struct NatLists {
    List all;                    // every channel reading the kind (lights have no D1 index)
    std::vector<List> by_index;  // [Binding::index] for kinds with a D1 index (or CAN bus)
  };
  // [2 * body alternative + from_device]
  std::array<NatLists, 2 * std::variant_size_v<canproto::NatBody>> nat_;
  std::array<List, 2 * std::variant_size_v<canproto::LegacyBody>> legacy_;
  std::vector<std::uint32_t> digital_bits_;  // per channel
};

enum class CommandError : std::uint8_t {
  unknown_channel,  ///< the model has no channel of that name
  not_an_output,    ///< the channel is an input
  wrong_type,       ///< the value's type is not the channel's type
  out_of_range,     ///< a number outside [min, max], an RGBW part above 100
  not_encodable,    ///< the channel has no documented output frame
};
const char* to_string(CommandError e);

using OutputBody = std::variant<canproto::NatBody, canproto::LegacyBody>;

canproto::Result<OutputBody, CommandError> encode_output(const Model& model,
                                                         std::string_view channel,
                                                         const ChannelValue& value,
                                                         const ChannelStates& current);

/// Parses the plain text form (channel.hpp to_plain(): "1", "22.5", "100,50,0,0") as a value of
/// `type`; also accepts "true"/"false"/"on"/"off" for booleans. nullopt when it does not fit.
std::optional<ChannelValue> parse_plain(ValueType type, std::string_view text);

}  // namespace loxcan::devices
