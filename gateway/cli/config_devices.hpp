#pragma once
// The MQTT bridge's view of the devices in a loxcan.yaml, for verbs that have no running daemon
// (loxberry-subscriptions, loxone-template): the same channel names, units, publish flags and
// writability the daemon publishes (wiring::ChannelMap). Implemented in cmd_loxberry.cpp.
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"
#include "mqtt/model.hpp"

namespace loxcan::cli {

std::vector<mqtt::BridgeDevice> bridge_devices(const config::Config& cfg);

/// Loads the map at `path` against `registry` (which must outlive the result: its devices point
/// into it); on error prints the loader's file:line:column messages to stderr and returns nullopt
/// (the verb then exits EX_CONFIG).
std::optional<config::Config> load_config_or_report(const std::string& path,
                                                    const devices::Registry& registry);

}  // namespace loxcan::cli
