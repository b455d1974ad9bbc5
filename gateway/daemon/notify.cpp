#include "gateway/daemon/notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace loxcan::daemon {

Notifier::Notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::milliseconds(usec / 2000);
  }
}

void Notifier::send(const std::string& message) {
  if (enabled_) sd_notify(0, message.c_str());
}

void Notifier::ready(const std::string& status) {
  last_status_ = status;
  send("READY=1\nSTATUS=" + status);
}

void Notifier::status(const std::string& line) {
  if (line == last_status_) return;
  last_status_ = line;
  send("STATUS=" + line);
}

void Notifier::reloading() {
  send("RELOADING=1");
}

void Notifier::stopping(const std::string& status) {
  send("STOPPING=1\nSTATUS=" + status);
}

void Notifier::watchdog() {
  send("WATCHDOG=1");
}

}  // namespace loxcan::daemon
