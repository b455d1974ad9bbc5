#pragma once
// Home Assistant MQTT discovery (CONVENTIONS.md 2 and 4.8, HA's "MQTT discovery" docs), two modes:
//
//  device mode (default, HA 2024.11+): one retained message per device
//    <prefix>/device/loxcan_<serial>/config
//    {"dev":{…},"o":{name,sw,url},"avty":[bridge state, device availability],"avty_mode":"all",
//     "cmps":{"<channel>":{"p":"<platform>", …}, "identify":{"p":"button", …}}}
//    and one for the bridge: <prefix>/device/loxcan_bridge_<node>/config (connectivity +
//    diagnostics). A component that disappears is sent once as {"p":"<platform>"} (HA removes that
//    entity), then left out.
//  entity mode (older HA): one retained message per entity
//    <prefix>/<component>/loxcan_<serial>/<channel>/config
//
// In both modes: one HA device per Loxone device (identifiers ["loxcan_<serial>"], serial, model,
// firmware, via_device = the bridge), unique_id `loxcan_<serial>_<channel>` (identical in both
// modes, so switching modes keeps HA's entity ids and history), default_entity_id
// `<platform>.<device>_<channel>`, entity names that never start with the device name, origin with
// name and sw_version (support_url only when set), availability = bridge state AND device
// availability. A `button` "Identify" exists only for devices whose protocol has an identify
// (BridgeDevice::identify).
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
  std::string version = "0";         ///< origin sw_version
  /// origin support_url; empty (the default): left out. The project has no public address yet,
  /// and an invented one would send Home Assistant users nowhere.
  std::string support_url{};
};

/// "sensor", "binary_sensor", "switch", "light", "number", "valve", "text".
std::string component_for(const BridgeChannel& ch);

/// The HA node id of a device (`loxcan_<serial>`) and of the bridge (`loxcan_bridge_<node>`).
std::string device_node_id(std::uint32_t serial);
std::string bridge_node_id(const DiscoveryContext& ctx);

// ---- entity mode ---------------------------------------------------------------------------

/// The entity-mode config topic of one channel.
std::string discovery_topic(const DiscoveryContext& ctx, const std::string& component,
                            std::uint32_t serial, const std::string& channel);

/// Entity-mode config messages (retained, QoS 1) for every published channel of a device (and its
/// identify button). `segment` is the device's topic segment; empty = device_segment(d.info).
std::vector<Publication> discovery_for_device(const DiscoveryContext& ctx, const BridgeDevice& d,
                                              const std::string& segment = {});

/// Entity-mode config messages for the bridge device: connectivity + one diagnostic sensor per
/// metric.
std::vector<Publication> discovery_for_bridge(const DiscoveryContext& ctx,
                                              const std::vector<std::string>& metrics);

// ---- device mode ---------------------------------------------------------------------------

/// `<prefix>/device/<node_id>/config`.
std::string device_discovery_topic(const DiscoveryContext& ctx, const std::string& node_id);

/// The device-mode message of a device. `removed` lists components (id -> platform) of an earlier
/// message that are gone: they are added as {"p":"<platform>"} so HA deletes those entities.
/// A device without any component (a model without a channel table, emulated) gets an empty
/// payload: HA refuses a device message without components.
Publication device_discovery(const DiscoveryContext& ctx, const BridgeDevice& d,
                             const std::string& segment = {},
                             const std::vector<std::pair<std::string, std::string>>& removed = {});

/// The device-mode message of the bridge device.
Publication bridge_device_discovery(const DiscoveryContext& ctx,
                                    const std::vector<std::string>& metrics);

/// Component id -> platform of a device-mode payload (empty when it is not one).
std::vector<std::pair<std::string, std::string>> device_components(const std::string& payload);

// ---- migration between the modes -----------------------------------------------------------

/// `{"migrate_discovery":true}`: HA unloads the item of that topic but keeps its entity registry
/// entries, so the other mode's config takes the entities over (ids, names, history).
inline constexpr const char* kMigratePayload = R"({"migrate_discovery":true})";

/// True for a config payload that HA would load (non-empty, not a migrate message).
bool is_live_config(const std::string& payload);

/// Subscription filter that matches every config of the *other* mode published for `node_id`:
/// in device mode the entity topics `<prefix>/+/<node_id>/+/config`, in entity mode the device
/// topic `<prefix>/device/<node_id>/config`.
std::string other_mode_filter(const DiscoveryContext& ctx, bool device_mode,
                              const std::string& node_id);

/// HA's entity naming rule: the entity name must not start with the device name. Strips a leading
/// device name (case-insensitive, followed by a space, '-' or '_'): ("Touch Kitchen",
/// "touch-kitchen-temp") -> "Temp"; returns `name` unchanged otherwise.
std::string entity_name(const std::string& device_name, const std::string& name);

}  // namespace loxcan::mqtt
