#pragma once
// LoopReactor: the MQTT client's view (mqtt::Reactor) of the gateway's EventLoop.

#include "gateway/loop/event_loop.hpp"
#include "mqtt/reactor.hpp"

namespace loxcan::gateway {

class LoopReactor final : public mqtt::Reactor {
 public:
  explicit LoopReactor(EventLoop& loop) : loop_(loop) {}

  void watch(int fd, FdHandler handler) override {
    loop_.unwatch(fd);  // a stale entry for a number the kernel reused
    (void)loop_.watch(fd, EventLoop::kReadable, [h = std::move(handler)](std::uint32_t ev) {
      h((ev & (EventLoop::kReadable | EventLoop::kError | EventLoop::kHangup)) != 0,
        (ev & EventLoop::kWritable) != 0);
    });
  }
  void set_write_interest(int fd, bool on) override {
    (void)loop_.modify(fd, EventLoop::kReadable | (on ? EventLoop::kWritable : 0));
  }
  void unwatch(int fd) override { loop_.unwatch(fd); }
  TimerId after(std::chrono::milliseconds delay, std::function<void()> task) override {
    return loop_.add_timer(delay, std::move(task));
  }
  void cancel(TimerId id) override { loop_.cancel(id); }

 private:
  EventLoop& loop_;
};

}  // namespace loxcan::gateway
