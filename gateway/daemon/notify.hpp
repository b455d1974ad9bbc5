#pragma once
// systemd readiness protocol (sd_notify) for loxcan-gateway. Without NOTIFY_SOCKET every call is a
// cheap no-op, so the daemon calls these unconditionally. Tests point NOTIFY_SOCKET at a datagram
// socket of their own and read the messages.

#include <chrono>
#include <optional>
#include <string>

namespace loxcan::daemon {

class Notifier {
 public:
  /// Reads NOTIFY_SOCKET and WATCHDOG_USEC once.
  Notifier();

  /// READY=1 plus STATUS=; call only once the CAN sockets are open and MQTT connecting has started.
  void ready(const std::string& status);
  /// STATUS=<line>; repeated identical lines are not sent again.
  void status(const std::string& line);
  void reloading();
  void stopping(const std::string& status);
  /// WATCHDOG=1; the loop calls it every watchdog_interval().
  void watchdog();
  /// Half of WatchdogSec when the service manager expects pings, else nothing.
  std::optional<std::chrono::milliseconds> watchdog_interval() const { return watchdog_interval_; }

 private:
  void send(const std::string& message);
  bool enabled_ = false;
  std::optional<std::chrono::milliseconds> watchdog_interval_;
  std::string last_status_;
};

}  // namespace loxcan::daemon
