#pragma once
// An independent checker for Home Assistant MQTT discovery messages, written from
// CONVENTIONS.md section 2 (topic shape, component names, required keys per component, device
// and availability blocks, enumerations). Used by the unit and broker tests; it does not share
// code with mqtt/ha_discovery.cpp on purpose.

#include <string>
#include <vector>

namespace loxcan::mqtt::test {

/// Problems found in one config message (empty = valid). `prefix` is the discovery prefix.
std::vector<std::string> check_discovery(const std::string& topic, const std::string& payload,
                                         const std::string& prefix = "homeassistant");

}  // namespace loxcan::mqtt::test
