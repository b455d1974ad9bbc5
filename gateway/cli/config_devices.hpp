#pragma once
// The MQTT bridge's view of the devices in a loxcan.yaml, for verbs that have no running daemon
// (loxberry-subscriptions, loxone-template): the same channel names, units, publish flags and
// writability the daemon publishes (wiring::ChannelMap). Implemented in cmd_loxberry.cpp.
#include <vector>

#include "gateway/config/config.hpp"
#include "mqtt/model.hpp"

namespace loxcan::cli {

std::vector<mqtt::BridgeDevice> bridge_devices(const config::Config& cfg);

}  // namespace loxcan::cli
