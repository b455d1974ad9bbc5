#pragma once
// Home Assistant MQTT discovery (CONVENTIONS.md 2 and 4.8): single-component configs
//   <prefix>/<component>/loxcan_<serial>/<channel>/config      (retained, QoS 1)
// one HA device per Loxone device (identifiers ["loxcan_<serial>"], serial, model, firmware,
// via_device = the bridge), unique_id `loxcan_<serial>_<channel>`, availability = bridge state AND
// device availability (availability_mode "all"). The bridge itself is an HA device too, with
// a connectivity binary_sensor and diagnostic sensors for its statistics.
//
// Component per channel (component_for):
//   boolean  input -> binary_sensor (device_class motion/moisture/tamper/problem from Semantic)
//            output writable -> switch (light for Semantic::light), read-only -> binary_sensor
//   number   input -> sensor (device_class + unit + state_class measurement where known)
//            output writable: brightness -> light (brightness only, on_command_type brightness),
//            position -> valve (reports_position), else number; read-only -> sensor
//   bitmask  sensor (writable: number 0..2^bits-1)
//   rgbw     writable -> light (schema json, rgbw, brightness_scale 100); read-only -> sensor
//   text     sensor (writable: text)

#include <string>
#include <vector>

#include "mqtt/model.hpp"
#include "mqtt/topics.hpp"

namespace loxcan::mqtt {

struct DiscoveryContext {
  TopicScheme topics;
  std::string prefix = "homeassistant";
  std::string node_id = "loxberry";  ///< bridge device id suffix
  std::string version = "0";         ///< origin sw
};

/// "sensor", "binary_sensor", "switch", "light", "number", "valve", "text".
std::string component_for(const BridgeChannel& ch);

/// The config topic of one channel.
std::string discovery_topic(const DiscoveryContext& ctx, const std::string& component,
                            std::uint32_t serial, const std::string& channel);

/// Config messages (retained, QoS 1) for every published channel of a device. `segment` is the
/// device's topic segment; empty = device_segment(d.info).
std::vector<Publication> discovery_for_device(const DiscoveryContext& ctx, const BridgeDevice& d,
                                              const std::string& segment = {});

/// Config messages for the bridge device: connectivity + one diagnostic sensor per metric name.
std::vector<Publication> discovery_for_bridge(const DiscoveryContext& ctx,
                                              const std::vector<std::string>& metrics);

}  // namespace loxcan::mqtt
