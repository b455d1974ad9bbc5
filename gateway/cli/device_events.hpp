#pragma once
// Typed device events of a candump log, for `loxcan devices --events` and `loxcan decode --events`
// (implemented in cmd_devices.cpp).

#include <string>

namespace loxcan::cli {

struct DeviceEventOptions {
  std::string input = "-";  ///< a candump log file, "-" = stdin
  bool json = false;        ///< JSON lines instead of text
  bool lenient = false;     ///< accept what canplayer accepts
  bool tree = false;        ///< every frame is from a Tree branch (default: the Link bus)
  std::string config;       ///< optional loxcan.yaml: friendly device names
  const char* verb = "loxcan decode";  ///< prefix of error messages
};

/// Prints every typed device event of the input (one per line) as it happens, then the silence
/// check at the last frame's time. Returns 0, EX_NOINPUT, EX_DATAERR (unparsable lines, which
/// are reported on stderr and skipped), EX_CONFIG or EX_IOERR.
int print_device_events(const DeviceEventOptions& options);

}  // namespace loxcan::cli
