#pragma once
// EventLoop: the single-threaded epoll loop every loxcan component runs on (the daemon, `loxcan
// sim`, emulated devices, the MQTT bridge, the CLI verbs).
//
// One thread calls run(); everything registered on the loop (fd watches, timers, signal handlers,
// posted tasks) runs on that thread, one callback at a time, so components never lock their own
// state. Only post() and stop() may be called from other threads (e.g. the discovery worker:
// it only posts).
//
// Building blocks, all owned by the loop and released by its destructor:
//   - fd watches      watch(fd, events, cb) / modify(fd, events) / unwatch(fd)   (epoll)
//   - posted tasks    post(task), thread-safe, FIFO; wakes the loop through an eventfd
//   - timers          add_timer(after, cb) -> id, add_periodic(period, cb) -> id, cancel(id)
//                     (one timerfd armed at the earliest deadline of a min-heap; a cancelled
//                     timer's heap entry is dropped lazily, and the heap is rebuilt once such
//                     entries outnumber the live timers, so its size stays O(live timers) however
//                     often a timer far in the future is cancelled and added again)
//   - signals         on_signal(SIGHUP, cb)   (signalfd; the signal is blocked for the thread)
//   - time            now(): CLOCK_MONOTONIC (std::chrono::steady_clock on Linux)
//
// Ordering guarantees (tests rely on them):
//   - posted tasks run in the order they were posted (per posting thread, and globally in the order
//     the queue mutex was taken); a task posted by a task runs in a later round, never recursively.
//   - timers fire in deadline order; timers with the same deadline fire in the order they were
//     added. A timer cancelled before it fires never runs, even if already due in this round.
//   - callbacks may freely watch/unwatch/modify any fd (including their own), add and cancel
//     timers, post, or stop the loop. An fd unwatched during a round receives no further events
//     from that round, even when the fd number is reused by a new watch in the same round.
//
// Errors: the constructor throws std::system_error when the kernel refuses epoll/eventfd/timerfd
// (start-up only). watch/modify/unwatch return a std::error_code (errno from epoll_ctl, e.g.
// EEXIST for an fd watched twice, ENOENT for an unknown fd, EBADF for a closed one) and never
// throw. Exceptions thrown by callbacks propagate out of run() (the loop stays usable).
//
// Example:
//   loxcan::gateway::EventLoop loop;
//   loop.on_signal(SIGINT, [&] { loop.stop(); });
//   loop.watch(sock, EventLoop::kReadable, [&](std::uint32_t ev) { read_all(sock); });
//   auto id = loop.add_periodic(std::chrono::seconds(1), [&] { dump_stats(); });
//   std::thread t([&] { loop.post([] { /* runs on the loop thread */ }); });
//   loop.run();  // until stop()
//   t.join();

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace loxcan::gateway {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;
  /// Receives the epoll event bits that fired (kReadable, kWritable, kError, kHangup).
  using FdCallback = std::function<void(std::uint32_t events)>;
  using Task = std::function<void()>;
  /// Never 0; ids are not reused during the loop's lifetime.
  using TimerId = std::uint64_t;

  static constexpr std::uint32_t kReadable = EPOLLIN;
  static constexpr std::uint32_t kWritable = EPOLLOUT;
  static constexpr std::uint32_t kError = EPOLLERR;   ///< always reported, need not be requested
  static constexpr std::uint32_t kHangup = EPOLLHUP;  ///< always reported, need not be requested

  /// Throws std::system_error if epoll_create1/eventfd/timerfd_create fail.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // --- fd watches (loop thread only) ------------------------------------------------------------
  /// Calls `cb(events)` whenever `fd` is ready for any of `events` (level-triggered). The loop
  /// does not own `fd`: unwatch it before closing it.
  [[nodiscard]] std::error_code watch(int fd, std::uint32_t events, FdCallback cb);
  /// Changes the events of a watched fd (e.g. add kWritable while a TX queue is non-empty).
  [[nodiscard]] std::error_code modify(int fd, std::uint32_t events);
  /// Stops watching `fd`. Safe from inside the fd's own callback.
  std::error_code unwatch(int fd);
  bool watching(int fd) const { return watches_.count(fd) != 0; }

  // --- tasks (any thread) ------------------------------------------------------------------------
  /// Queues `task` to run on the loop thread in a later round. Thread-safe, never blocks on the
  /// loop (only on a short mutex). Tasks still queued when the loop is destroyed are dropped.
  void post(Task task);

  // --- timers (loop thread only) -----------------------------------------------------------------
  /// Runs `cb` once, `after` from now (negative or zero: in the next round).
  TimerId add_timer(Duration after, Task cb);
  /// Runs `cb` every `period` (> 0) until cancelled; the first run is one period from now.
  /// Deadlines advance by whole periods, so a late round does not shift later ones; if the loop
  /// falls more than a period behind, the missed runs are skipped (not run in a burst).
  TimerId add_periodic(Duration period, Task cb);
  /// Cancels a timer; returns false if it already fired (one-shot) or was cancelled. Safe from
  /// inside any callback, including the timer's own.
  bool cancel(TimerId id);
  /// Entries in the timer heap, those of cancelled timers included: at most about twice the live
  /// timers plus a constant (for tests and diagnostics).
  std::size_t timer_heap_size() const { return timer_heap_.size(); }

  // --- signals (loop thread only; call before starting other threads) ----------------------------
  /// Runs `cb` on the loop thread each time `signo` arrives. Blocks `signo` for the calling
  /// thread (threads started afterwards inherit the mask; threads started before it may still
  /// receive it with its default action). A second call for the same signal replaces the callback.
  /// Throws std::system_error on an invalid signal number.
  void on_signal(int signo, Task cb);

  // --- running -----------------------------------------------------------------------------------
  /// CLOCK_MONOTONIC.
  static TimePoint now() { return Clock::now(); }
  /// Runs rounds until stop() is called, then clears the stop request (a later run() starts
  /// afresh). Returns at once if stop() was called before run().
  void run();
  /// One round: waits up to `max_wait` (negative: forever) for something to do, then runs what is
  /// ready. Returns false once stop() has been called (run_once never clears the request).
  bool run_once(std::chrono::milliseconds max_wait);
  /// Makes run() return after the current callback. Thread-safe. A later run() starts afresh.
  void stop();
  bool stopping() const { return stop_.load(); }

 private:
  struct Watch {
    FdCallback cb;
    std::uint32_t generation;
  };
  struct TimerEntry {
    TimePoint deadline;
    std::uint64_t seq;  // tie-breaker: insertion order
    TimerId id;
    bool operator>(const TimerEntry& o) const {
      return deadline != o.deadline ? deadline > o.deadline : seq > o.seq;
    }
  };
  struct Timer {
    Task cb;
    Duration period{};  // zero: one-shot
    TimePoint deadline;
  };

  void dispatch_fd(std::uint64_t data, std::uint32_t events);
  void run_tasks();
  void run_timers();
  void run_signals();
  void arm_timerfd();
  void schedule(TimerId id, TimePoint deadline);
  void compact_timer_heap();
  void wake();
  void close_all();

  int epoll_fd_ = -1;
  int event_fd_ = -1;
  int timer_fd_ = -1;
  int signal_fd_ = -1;
  std::atomic<bool> stop_{false};

  std::unordered_map<int, std::shared_ptr<Watch>> watches_;
  std::uint32_t next_generation_ = 1;

  std::mutex tasks_mutex_;
  std::vector<Task> tasks_;

  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timer_heap_;
  std::unordered_map<TimerId, Timer> timers_;
  TimerId next_timer_id_ = 1;
  std::uint64_t next_seq_ = 0;
  TimePoint armed_for_ = TimePoint::max();

  std::map<int, Task> signal_handlers_;
};

}  // namespace loxcan::gateway
