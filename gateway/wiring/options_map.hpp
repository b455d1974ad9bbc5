#pragma once
// Config sections -> the option structs of the libraries that consume them.

#include "gateway/config/config.hpp"
#include "gateway/wiring/logging.hpp"
#include "mqtt/options.hpp"

namespace loxcan::wiring {

/// The `mqtt:` section as MqttOptions (the bridge validates it again).
mqtt::MqttOptions mqtt_options(const config::MqttConfig& c);

/// True when both sections produce the same broker session and topics (no reconnect needed).
bool same_mqtt(const config::MqttConfig& a, const config::MqttConfig& b);

/// The `logging:` section; `verbosity` (-v count) raises every logger to debug (1) or trace (2+).
LogLevels log_levels(const config::LoggingConfig& c, int verbosity);

}  // namespace loxcan::wiring
