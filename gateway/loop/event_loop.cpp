#include "gateway/loop/event_loop.hpp"

#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <ctime>

namespace loxcan::gateway {
namespace {

// epoll data: (generation << 32) | fd. Generation 0 marks the loop's own fds, so a user watch
// can be told apart from a stale event for a reused fd number.
std::uint64_t tag(std::uint32_t generation, int fd) {
  return (std::uint64_t{generation} << 32) | static_cast<std::uint32_t>(fd);
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::error_code last_error() {
  return {errno, std::generic_category()};
}

void add_internal(int epoll_fd, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag(0, fd);
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl(ADD internal fd)");
}

void drain_counter(int fd) {
  std::uint64_t value;
  while (::read(fd, &value, sizeof value) == sizeof value) {
  }
}

}  // namespace

EventLoop::EventLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  try {
    if (event_fd_ < 0) throw_errno("eventfd");
    if (timer_fd_ < 0) throw_errno("timerfd_create");
    add_internal(epoll_fd_, event_fd_);
    add_internal(epoll_fd_, timer_fd_);
  } catch (...) {
    close_all();  // a throwing constructor runs no destructor
    throw;
  }
}

EventLoop::~EventLoop() {
  close_all();
}

void EventLoop::close_all() {
  for (int fd : {signal_fd_, timer_fd_, event_fd_, epoll_fd_}) {
    if (fd >= 0) ::close(fd);
  }
  signal_fd_ = timer_fd_ = event_fd_ = epoll_fd_ = -1;
}

std::error_code EventLoop::watch(int fd, std::uint32_t events, FdCallback cb) {
  if (fd < 0) return {EBADF, std::generic_category()};
  if (watches_.count(fd)) return {EEXIST, std::generic_category()};
  std::uint32_t generation = next_generation_++;
  if (next_generation_ == 0) next_generation_ = 1;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag(generation, fd);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) return last_error();
  watches_[fd] = std::make_shared<Watch>(Watch{std::move(cb), generation});
  return {};
}

std::error_code EventLoop::modify(int fd, std::uint32_t events) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return {ENOENT, std::generic_category()};
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag(it->second->generation, fd);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) < 0) return last_error();
  return {};
}

std::error_code EventLoop::unwatch(int fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return {ENOENT, std::generic_category()};
  watches_.erase(it);
  // EBADF/ENOENT here mean the fd was closed before unwatch: the kernel already forgot it.
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr) < 0 && errno != EBADF && errno != ENOENT)
    return last_error();
  return {};
}

void EventLoop::post(Task task) {
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.push_back(std::move(task));
  }
  wake();
}

void EventLoop::wake() {
  std::uint64_t one = 1;
  // EAGAIN means the counter is saturated: the loop is woken anyway.
  [[maybe_unused]] auto n = ::write(event_fd_, &one, sizeof one);
}

EventLoop::TimerId EventLoop::add_timer(Duration after, Task cb) {
  TimerId id = next_timer_id_++;
  TimePoint deadline = now() + std::max(after, Duration::zero());
  timers_[id] = Timer{std::move(cb), Duration::zero(), deadline};
  schedule(id, deadline);
  return id;
}

EventLoop::TimerId EventLoop::add_periodic(Duration period, Task cb) {
  if (period <= Duration::zero()) period = std::chrono::milliseconds(1);
  TimerId id = next_timer_id_++;
  TimePoint deadline = now() + period;
  timers_[id] = Timer{std::move(cb), period, deadline};
  schedule(id, deadline);
  return id;
}

bool EventLoop::cancel(TimerId id) {
  // The heap entry stays behind and is skipped when it comes up (lazy deletion). A timer that is
  // cancelled and added again on every frame (the emulation's next deadline, minutes ahead) would
  // leave one entry per frame until those deadlines pass: 15 minutes of frames, tens of MB at a
  // saturated bus. Rebuild the heap once stale entries outnumber the live timers.
  if (timers_.erase(id) == 0) return false;
  constexpr std::size_t kStaleSlack = 64;
  if (timer_heap_.size() > 2 * timers_.size() + kStaleSlack) compact_timer_heap();
  return true;
}

// Keeps the entries of live timers (with their sequence numbers, so ties keep their order) and
// frees the rest, the heap's storage included. O(n log n) once per n cancellations.
void EventLoop::compact_timer_heap() {
  std::vector<TimerEntry> live;
  live.reserve(timers_.size());
  for (; !timer_heap_.empty(); timer_heap_.pop()) {
    const TimerEntry& e = timer_heap_.top();
    auto it = timers_.find(e.id);
    if (it != timers_.end() && it->second.deadline == e.deadline) live.push_back(e);
  }
  timer_heap_ = decltype(timer_heap_)(std::greater<>{}, std::move(live));
}

void EventLoop::schedule(TimerId id, TimePoint deadline) {
  timer_heap_.push(TimerEntry{deadline, next_seq_++, id});
  if (deadline < armed_for_) arm_timerfd();
}

void EventLoop::arm_timerfd() {
  // Drop cancelled entries from the top so the timerfd is not armed for nothing.
  while (!timer_heap_.empty()) {
    const auto& top = timer_heap_.top();
    auto it = timers_.find(top.id);
    if (it != timers_.end() && it->second.deadline == top.deadline) break;
    timer_heap_.pop();
  }
  itimerspec spec{};
  if (timer_heap_.empty()) {
    armed_for_ = TimePoint::max();
  } else {
    armed_for_ = timer_heap_.top().deadline;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(armed_for_.time_since_epoch());
    // steady_clock is CLOCK_MONOTONIC, so its epoch is the timerfd's; 0 would disarm, use 1 ns.
    long long total = std::max<long long>(ns.count(), 1);
    spec.it_value.tv_sec = total / 1000000000;
    spec.it_value.tv_nsec = total % 1000000000;
  }
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void EventLoop::run_timers() {
  drain_counter(timer_fd_);
  const TimePoint t = now();
  // Collect what is due first, so that timers added by callbacks wait for the next round.
  std::vector<TimerEntry> due;
  while (!timer_heap_.empty() && timer_heap_.top().deadline <= t) {
    due.push_back(timer_heap_.top());
    timer_heap_.pop();
  }
  for (const auto& entry : due) {
    auto it = timers_.find(entry.id);
    if (it == timers_.end() || it->second.deadline != entry.deadline) continue;  // cancelled
    Task cb;
    if (it->second.period > Duration::zero()) {
      Timer& timer = it->second;
      timer.deadline += timer.period;
      if (timer.deadline <= t) {  // fell behind: skip missed runs, keep the phase
        auto behind = (t - timer.deadline) / timer.period + 1;
        timer.deadline += behind * timer.period;
      }
      timer_heap_.push(TimerEntry{timer.deadline, next_seq_++, entry.id});
      cb = timer.cb;  // copy: the callback may cancel its own timer
    } else {
      cb = std::move(it->second.cb);
      timers_.erase(it);
    }
    cb();
  }
  armed_for_ = TimePoint::min();  // force re-arming
  arm_timerfd();
}

void EventLoop::on_signal(int signo, Task cb) {
  sigset_t mask;
  sigemptyset(&mask);
  for (const auto& [s, _] : signal_handlers_) sigaddset(&mask, s);
  if (sigaddset(&mask, signo) < 0) throw_errno("on_signal: invalid signal");
  if (pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) throw_errno("pthread_sigmask");
  int fd = signalfd(signal_fd_, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw_errno("signalfd");
  if (signal_fd_ < 0) {
    signal_fd_ = fd;
    add_internal(epoll_fd_, signal_fd_);
  }
  signal_handlers_[signo] = std::move(cb);
}

void EventLoop::run_signals() {
  signalfd_siginfo info;
  while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
    auto it = signal_handlers_.find(static_cast<int>(info.ssi_signo));
    if (it == signal_handlers_.end()) continue;
    Task cb = it->second;  // copy: the handler may replace itself
    cb();
  }
}

void EventLoop::run_tasks() {
  drain_counter(event_fd_);
  std::vector<Task> batch;
  {
    std::lock_guard lock(tasks_mutex_);
    batch.swap(tasks_);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    try {
      if (batch[i]) batch[i]();
    } catch (...) {
      // Keep the tasks after the throwing one, in order, ahead of anything posted since.
      std::lock_guard lock(tasks_mutex_);
      tasks_.insert(tasks_.begin(), std::make_move_iterator(batch.begin() + i + 1),
                    std::make_move_iterator(batch.end()));
      if (!tasks_.empty()) wake();
      throw;
    }
  }
}

void EventLoop::dispatch_fd(std::uint64_t data, std::uint32_t events) {
  const int fd = static_cast<int>(data & 0xFFFFFFFFu);
  const auto generation = static_cast<std::uint32_t>(data >> 32);
  if (generation == 0) {
    if (fd == event_fd_)
      run_tasks();
    else if (fd == timer_fd_)
      run_timers();
    else if (fd == signal_fd_)
      run_signals();
    return;
  }
  auto it = watches_.find(fd);
  if (it == watches_.end() || it->second->generation != generation) return;  // unwatched meanwhile
  auto watch = it->second;  // keeps the callback alive if it unwatches itself
  watch->cb(events);
}

bool EventLoop::run_once(std::chrono::milliseconds max_wait) {
  if (stop_.load()) return false;
  std::array<epoll_event, 64> events;
  int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                     max_wait.count() < 0 ? -1 : static_cast<int>(max_wait.count()));
  if (n < 0) {
    if (errno == EINTR) return !stop_.load();
    throw_errno("epoll_wait");
  }
  for (int i = 0; i < n && !stop_.load(); ++i) dispatch_fd(events[i].data.u64, events[i].events);
  return !stop_.load();
}

void EventLoop::run() {
  while (run_once(std::chrono::milliseconds(-1))) {
  }
  stop_.store(false);  // a later run() starts afresh
}

void EventLoop::stop() {
  stop_.store(true);
  wake();
}

}  // namespace loxcan::gateway
