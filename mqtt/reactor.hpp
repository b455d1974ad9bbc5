#pragma once
// Reactor: what an MQTT client needs from its owner's event loop: readiness of one socket and
// one-shot timers, every callback on the owner's thread. The daemon adapts its EventLoop
// (gateway/loop/loop_reactor.hpp); mqtt/ itself stays free of any loop implementation.

#include <chrono>
#include <cstdint>
#include <functional>

namespace loxcan::mqtt {

class Reactor {
 public:
  /// readable also reports errors and hang-ups (reading then tells what happened).
  using FdHandler = std::function<void(bool readable, bool writable)>;
  using TimerId = std::uint64_t;  ///< never 0

  virtual ~Reactor() = default;
  /// Starts watching `fd` for readability (and writability while set_write_interest is on).
  virtual void watch(int fd, FdHandler handler) = 0;
  virtual void set_write_interest(int fd, bool on) = 0;
  /// Stops watching; safe for an fd that was closed already.
  virtual void unwatch(int fd) = 0;
  virtual TimerId after(std::chrono::milliseconds delay, std::function<void()> task) = 0;
  /// Cancels a timer that has not fired; ids of fired or cancelled timers are ignored.
  virtual void cancel(TimerId id) = 0;
};

}  // namespace loxcan::mqtt
