#pragma once
// Channel values <-> the value frames of emulated devices and of the simulated Miniserver, driven
// by the device models' bindings (devices/model.hpp). Both sides use the same functions: the
// device encodes inputs and decodes outputs, the simulator does the opposite.
//
// Several channels can share one frame (the DI mask, Touch `zones` and its five zone booleans,
// the legacy 4 x 10-bit analog frame). A ValueMap holds the current value of every channel of one
// direction; apply() changes one channel and keeps its siblings in the same frame consistent,
// then packets_for() builds the frame(s) that carry the new state.
//
// Encoding choices (decoders always apply the flags, LOXONE_CAN.md 4.2.1): NAT analog values go
// out as value x 1000 with format flags 0x05 (unsigned, /1000) or 0x15 (signed, /1000).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/channel.hpp"
#include "devices/emulation/link.hpp"
#include "devices/model.hpp"

namespace loxcan::emulation {

using ValueMap = std::map<std::string, devices::ChannelValue, std::less<>>;

/// The channel's zero value (false, 0, 0 mask, RGBW 0).
devices::ChannelValue zero_value(const devices::ChannelSpec& spec);

/// Converts `v` to the channel's type (bool <-> number <-> mask where it makes sense) and checks
/// the range of numbers; nullopt when it does not fit.
std::optional<devices::ChannelValue> coerce(const devices::ChannelSpec& spec,
                                            const devices::ChannelValue& v);

/// Parses text as a value of the channel: "1"/"0"/"true"/"false"/"on"/"off" (bool), a decimal
/// number, a mask (decimal or 0x hex), RGBW as "r,g,b,w". nullopt when malformed or out of range.
std::optional<devices::ChannelValue> parse_value(const devices::ChannelSpec& spec,
                                                 std::string_view text);

/// Zero values for every channel of `model` in direction `dir` that has a bus binding.
ValueMap initial_values(const devices::Model& model, devices::ChannelDirection dir);

/// Sets `channel` to `value` (already coerced) and updates channels sharing its frame.
/// Returns the names of every channel whose value changed (including siblings).
std::vector<std::string> apply(const devices::Model& model, const devices::ModelChannel& channel,
                               const devices::ChannelValue& value, ValueMap& values);

/// NAT short packets carrying the current state of `channel`'s frame (0 or 1 packet; more for
/// nothing today). Addressing (nat/dev/direction) is left to the caller.
std::optional<NatPacket> nat_packet_for(const devices::Model& model,
                                        const devices::ModelChannel& channel,
                                        const ValueMap& values);

/// Every distinct NAT frame needed to report all channels of `dir` (one per frame group;
/// frequency inputs only while non-zero).
std::vector<NatPacket> nat_packets_for_all(const devices::Model& model,
                                           devices::ChannelDirection dir, const ValueMap& values);

/// Legacy frame bytes (D0..D7, D0 = command without bit 7) for `channel`'s frame.
std::optional<std::array<std::uint8_t, 8>> legacy_bytes_for(const devices::Model& model,
                                                            const devices::ModelChannel& channel,
                                                            const ValueMap& values);
std::vector<std::array<std::uint8_t, 8>> legacy_bytes_for_all(const devices::Model& model,
                                                              devices::ChannelDirection dir,
                                                              const ValueMap& values);

/// Decodes a received NAT value packet into (channel, value) pairs of direction `dir`, applied
/// to `values`; returns the channels that changed. Packets that carry nothing for the model are
/// ignored (empty result).
std::vector<std::string> decode_nat(const devices::Model& model, devices::ChannelDirection dir,
                                    const NatPacket& p, ValueMap& values);
std::vector<std::string> decode_legacy(const devices::Model& model, devices::ChannelDirection dir,
                                       const LegacyPacket& p, ValueMap& values);

/// Whether the model has a channel in `dir` bound to NAT command `cmd` / legacy command `cmd`.
bool carries(const devices::Model& model, devices::ChannelDirection dir, std::uint8_t cmd);

}  // namespace loxcan::emulation
