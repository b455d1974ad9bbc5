#pragma once
// An independent checker for Home Assistant MQTT discovery messages, written from
// CONVENTIONS.md section 2 and Home Assistant's MQTT discovery documentation (2024.11+:
// device-based discovery; 2026.4: object_id gone, default_entity_id instead): topic shape,
// component names, abbreviations (expanded before checking, as HA does), required keys per
// component, device, origin and availability blocks, enumerations, entity naming. Used by the unit
// and broker tests; it does not share code with mqtt/ha_discovery.cpp on purpose.

#include <string>
#include <vector>

namespace loxcan::mqtt::test {

/// Problems found in one config message (empty = valid). `prefix` is the discovery prefix.
std::vector<std::string> check_discovery(const std::string& topic, const std::string& payload,
                                         const std::string& prefix = "homeassistant");

/// Problems of one device-based message `<prefix>/device/[<node_id>/]<object_id>/config`:
/// root `device`/`dev` and `origin`/`o` required (origin with a name), only HA's shared options at
/// the root, a non-empty `components`/`cmps` map whose every entry has a supported `platform`/`p`
/// and either nothing else (a removal) or a complete config (unique_id, component keys) checked
/// like a single-component message with the shared options merged in; unique ids distinct; no
/// entity name starting with the device name. An empty payload (removal) is valid.
std::vector<std::string> check_device_discovery(const std::string& topic,
                                                const std::string& payload,
                                                const std::string& prefix = "homeassistant");

}  // namespace loxcan::mqtt::test
