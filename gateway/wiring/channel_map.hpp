#pragma once
// Per-device channel overrides of the YAML map (devices[].channels): friendly name, unit, invert,
// scale/offset, publish, debounce. The device models and the inventory speak in model channel
// names and raw values; MQTT speaks in published names and transformed values. This is the one
// place that translates between the two, both ways.
//
//   published = invert ? !raw : raw                    (bool channels)
//   published = raw * scale + offset                   (number channels)
//   raw       = (published - offset) / scale           (commands back to the bus)
//
// Channels a model produces dynamically (DMX `dmx12`, 1-Wire `t3`, ...) or channels of devices
// whose model is unknown pass through unchanged.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/channel.hpp"
#include "devices/model.hpp"
#include "gateway/config/config.hpp"
#include "mqtt/model.hpp"

namespace loxcan::wiring {

struct MappedChannel {
  devices::ChannelSpec model_spec;   ///< as the model declares it
  devices::ChannelSpec public_spec;  ///< name, unit and range as published
  bool invert = false;
  double scale = 1, offset = 0;
  bool publish = true;
  std::uint32_t debounce_ms = 0;
};

class ChannelMap {
 public:
  ChannelMap() = default;
  /// `model` may be nullptr (unknown type); `config` may be nullptr (device not in the map).
  ChannelMap(const devices::Model* model, const config::DeviceConfig* config);

  const MappedChannel* by_model_name(std::string_view name) const;

  /// Model value -> published value (pass-through for unmapped channels).
  devices::ChannelValue to_public(const MappedChannel* ch, const devices::ChannelValue& v) const;
  /// Published value -> model value, for commands.
  devices::ChannelValue to_model(const MappedChannel* ch, const devices::ChannelValue& v) const;

  /// The channels as the MQTT bridge sees them (spec.name = model name, name = published name,
  /// unit and range as published). Writable: outputs of a monitored device (loxcan
  /// commands them like a Miniserver would), inputs of an emulated device (loxcan feeds them).
  std::vector<mqtt::BridgeChannel> bridge_channels(bool emulated) const;

  const std::vector<MappedChannel>& channels() const { return channels_; }

 private:
  std::vector<MappedChannel> channels_;
};

}  // namespace loxcan::wiring
