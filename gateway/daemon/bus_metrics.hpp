#pragma once
// The bus metrics the daemon hands to the MQTT bridge (`<base>/bridge/stats/<name>`), in the
// order Gateway::metrics() reports them. One list, so `loxcan loxberry-subscriptions` names
// exactly what the daemon publishes (the sandbox test compares the two on a real broker).
#include <string>
#include <vector>

namespace loxcan::daemon {

inline std::vector<std::string> bus_metric_names() {
  return {"rxframes",  "txframes", "errorframes", "rxoverflow",
          "txdropped", "busload",  "devices",     "online"};
}

/// Bus load in percent, rounded to 0.01 % (the Miniserver needs no 17 digits).
double round_busload(double percent);

}  // namespace loxcan::daemon
