#pragma once
// The bus metrics the daemon hands to the MQTT bridge (`<base>/bridge/stats/<name>`), in the
// order the daemon reports them (Gateway::metrics()). One list, so `loxcan loxberry-subscriptions`
// names exactly what the daemon publishes (tests/loxberry/published_topics.sh compares the two on
// a real broker). Here, below both the CLI and the daemon, because both need it.
#include <cmath>
#include <string>
#include <vector>

namespace loxcan::mqtt {

/// The bus metrics, then the daemon's own resident memory (`rss`, kB).
inline std::vector<std::string> bus_metric_names() {
  return {"rxframes", "txframes", "errorframes", "rxoverflow", "txdropped",
          "busload",  "devices",  "online",      "rss"};
}

/// Bus load in percent, rounded to 0.01 % (the Miniserver needs no 17 digits).
inline double round_busload(double percent) {
  return std::round(percent * 100.0) / 100.0;
}

}  // namespace loxcan::mqtt
