#include "gateway/canio/can_port.hpp"

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "canproto/candump.hpp"
#include "gateway/canio/log.hpp"

namespace loxcan::canio {
namespace {

using namespace std::chrono_literals;
using gateway::EventLoop;

// Frames read per readiness callback before yielding to other fds and timers (level-triggered
// epoll calls us again at once if more are queued).
constexpr int kMaxBatchesPerWakeup = 16;
constexpr auto kTxRetryMin = 1ms;
constexpr auto kTxRetryMax = 100ms;

std::chrono::milliseconds next_backoff(std::chrono::milliseconds current,
                                       std::chrono::milliseconds min,
                                       std::chrono::milliseconds max) {
  if (current.count() == 0) return min;
  return std::min(current * 2, max);
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::link: return "link";
    case Role::tree_left: return "tree-left";
    case Role::tree_right: return "tree-right";
  }
  return "?";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "link") return Role::link;
  if (text == "tree-left" || text == "left") return Role::tree_left;
  if (text == "tree-right" || text == "right") return Role::tree_right;
  return std::nullopt;
}

std::uint32_t nominal_bitrate(Role role) {
  return role == Role::link ? 125000 : 50000;
}

std::vector<can_filter> loxone_filters(Role role) {
  if (role == Role::link) return {{CAN_EFF_FLAG, CAN_EFF_FLAG | CAN_RTR_FLAG}};
  return {{CAN_EFF_FLAG | 0x11000000u, CAN_EFF_FLAG | CAN_RTR_FLAG | 0x1F000000u}};
}

const char* to_string(PortState state) {
  switch (state) {
    case PortState::stopped: return "stopped";
    case PortState::closed: return "closed";
    case PortState::down: return "down";
    case PortState::up: return "up";
  }
  return "?";
}

PortConfig PortConfig::for_role(std::string iface, Role role) {
  PortConfig c;
  c.iface = std::move(iface);
  c.role = role;
  c.socket.filters = loxone_filters(role);
  return c;
}

CanPort::CanPort(EventLoop& loop, PortConfig config) : loop_(loop), config_(std::move(config)) {
  load_bitrate_ = config_.effective_bitrate();
}

CanPort::~CanPort() {
  on_state_ = nullptr;  // the owner is being torn down: no callbacks from the destructor
  stop();
}

void CanPort::cancel_timer(EventLoop::TimerId& id) {
  if (id) loop_.cancel(id);
  id = 0;
}

void CanPort::set_state(PortState s) {
  if (s == state_) return;
  const bool was_lost = lost_;
  state_ = s;
  if (s == PortState::up || s == PortState::stopped) watch_links(false);
  if (s == PortState::up) {
    ever_up_ = true;
    if (was_lost) {
      lost_ = false;
      ++stats_.reopens;
      log().info("{}: interface is back, receiving again ({} frame(s) waiting to be sent)",
                 config_.iface, tx_queue_.size());
    }
  }
  if (on_state_) on_state_(s);
}

IoResult<Ok> CanPort::start() {
  if (state_ != PortState::stopped) return Ok{};
  state_ = PortState::closed;
  window_start_ = EventLoop::now();
  load_timer_ = loop_.add_periodic(config_.load_window, [this] { close_load_window(); });
  if (config_.configure_link) {
    const auto bitrate = config_.effective_bitrate();
    if (auto r = configure_link(config_.iface, bitrate, config_.restart_ms); !r) {
      if (r.error().code == EOPNOTSUPP)
        log().info("{}: {}; nothing to configure", config_.iface, r.error().message());
      else
        log().error("{}", r.error().message());
    } else {
      log().info("{}: bitrate {} bit/s, restart-ms {}, up", config_.iface, bitrate,
                 config_.restart_ms);
    }
  }
  refresh_link();
  auto r = open_socket();
  if (!r) {
    ++stats_.open_failures;
    log().warn("{} (retrying in the background)", r.error().message());
    schedule_reopen();
  }
  return r;
}

void CanPort::stop() {
  for (auto* id : {&reopen_timer_, &up_poll_timer_, &tx_retry_timer_, &recovery_timer_,
                   &load_timer_, &tx_space_timer_, &gone_timer_})
    cancel_timer(*id);
  close_socket();
  reopen_delay_ = tx_retry_delay_ = recovery_delay_ = 0ms;
  if (state_ != PortState::stopped) set_state(PortState::stopped);
}

void CanPort::refresh_link() {
  auto info = read_link_info(config_.iface);
  if (!info) return;  // missing interface: keep what we knew
  link_ = *info;
  link_known_ = true;
  if (link_.controller) {
    ctrl_state_ = link_.state;
    if (link_.bitrate) {
      load_bitrate_ = link_.bitrate;
      bitrate_nominal_ = false;
      if (link_.bitrate != nominal_bitrate(config_.role) && !said_bitrate_) {
        log().warn("{}: runs at {} bit/s, but a Loxone {} bus uses {} bit/s", config_.iface,
                   link_.bitrate, to_string(config_.role), nominal_bitrate(config_.role));
        said_bitrate_ = true;
      }
    }
  } else if (!said_virtual_) {
    log().info(
        "{}: {} interface without bit timing: bus load assumes the {} role's nominal {} "
        "bit/s",
        config_.iface, link_.kind.empty() ? "a" : link_.kind, to_string(config_.role),
        config_.effective_bitrate());
    said_virtual_ = true;
  }
  if (!link_.controller || !link_.bitrate) {
    load_bitrate_ = config_.effective_bitrate();
    bitrate_nominal_ = true;
  }
}

IoResult<Ok> CanPort::open_socket() {
  auto s = RawSocket::open(config_.iface, config_.socket);
  if (!s) return Err{s.error()};
  socket_.emplace(std::move(*s));
  last_drops_ = 0;
  want_writable_ = false;
  if (auto ec = loop_.watch(socket_->fd(), EventLoop::kReadable,
                            [this](std::uint32_t ev) { on_ready(ev); })) {
    socket_.reset();
    return Err{io_error("epoll_ctl(ADD)", config_.iface, ec.value())};
  }
  reopen_delay_ = 0ms;
  const int granted = socket_->rcvbuf();
  log().info("{}: open ({}, rcvbuf {} bytes{})", config_.iface, to_string(config_.role), granted,
             socket_->rcvbuf_forced() ? ", forced" : "");
  // The kernel reports twice the requested size; less means net.core.rmem_max capped us.
  if (config_.socket.rcvbuf > 0 && granted < 2 * config_.socket.rcvbuf && !said_rcvbuf_) {
    log().warn(
        "{}: receive buffer capped at {} bytes (asked {}): run with CAP_NET_ADMIN or raise "
        "net.core.rmem_max to avoid drops in bursts",
        config_.iface, granted / 2, config_.socket.rcvbuf);
    said_rcvbuf_ = true;
  }
  if (socket_->interface_up()) {
    set_state(PortState::up);
    flush();
  } else {
    log().warn("{}: interface is down; waiting for it to come up", config_.iface);
    if (!lost_) {
      lost_ = true;
      ++stats_.link_down;
    }
    set_state(PortState::down);
    schedule_up_poll();
  }
  return Ok{};
}

void CanPort::close_socket() {
  if (!socket_) return;
  note_drops_from_meminfo();
  (void)loop_.unwatch(socket_->fd());
  socket_.reset();
  want_writable_ = false;
}

void CanPort::schedule_reopen() {
  reopen_delay_ = next_backoff(reopen_delay_, config_.reopen_min, config_.reopen_max);
  cancel_timer(reopen_timer_);
  reopen_timer_ = loop_.add_timer(reopen_delay_, [this] {
    reopen_timer_ = 0;
    try_reopen();
  });
  watch_links(true);
}

void CanPort::try_reopen() {
  auto r = open_socket();
  if (r) {
    refresh_link();
    return;
  }
  ++stats_.open_failures;
  log().debug("{} (next try in {} ms)", r.error().message(), reopen_delay_.count());
  schedule_reopen();
}

void CanPort::schedule_up_poll() {
  reopen_delay_ = next_backoff(reopen_delay_, config_.reopen_min, config_.reopen_max);
  cancel_timer(up_poll_timer_);
  up_poll_timer_ = loop_.add_timer(reopen_delay_, [this] {
    up_poll_timer_ = 0;
    poll_up();
  });
  watch_links(true);
}

void CanPort::poll_up() {
  if (!socket_ || state_ != PortState::down) return;
  if (!socket_->interface_up()) {
    schedule_up_poll();
    return;
  }
  reopen_delay_ = 0ms;
  refresh_link();
  set_state(PortState::up);
  flush();
}

void CanPort::watch_links(bool on) {
  if (on == link_watch_.is_open()) return;
  if (!on) {
    (void)loop_.unwatch(link_watch_.fd());
    link_watch_.close();
    return;
  }
  int err = link_watch_.open();
  if (!err) {
    err = loop_
              .watch(link_watch_.fd(), EventLoop::kReadable,
                     [this](std::uint32_t) { on_link_event(); })
              .value();
    if (err) link_watch_.close();
  }
  if (err && !said_link_watch_) {
    log().info("{}: no rtnetlink link events ({}): retrying with backoff only", config_.iface,
               errno_name(err));
    said_link_watch_ = true;
  }
}

// An interface appeared or changed: perhaps ours. Try now instead of at the next backoff step.
void CanPort::on_link_event() {
  if (!link_watch_.drain()) return;
  if (reopen_timer_) {
    cancel_timer(reopen_timer_);
    try_reopen();
  } else if (up_poll_timer_) {
    cancel_timer(up_poll_timer_);
    poll_up();
  }
}

void CanPort::on_ready(std::uint32_t events) {
  if (events & EventLoop::kWritable) {
    set_writable_interest(false);
    flush();
    if (!socket_) return;
  }
  if (!(events & (EventLoop::kReadable | EventLoop::kError | EventLoop::kHangup))) return;
  std::array<RxFrame, RawSocket::kBatch> batch;
  bool gone = false;
  int gone_err = 0;
  // The per-wake-up bound keeps the loop fair; once the interface is gone the queue is all that
  // is left of it and the socket is closed next: read it to the end, or those frames would be
  // lost without being counted.
  for (int round = 0; (round < kMaxBatchesPerWakeup || gone) && socket_; ++round) {
    int err = 0;
    const int n = socket_->read(batch, err);
    if (n > 0) rx_time_read_ = false;  // rx_time(): read again, on first use
    // Every frame read is handled (and counted), even if a handler stopped the port on the way.
    for (int i = 0; i < n; ++i) handle_rx(batch[static_cast<std::size_t>(i)]);
    if (!socket_) return;  // a handler stopped the port
    // A short batch drained the queue: stop here instead of paying one more recvmmsg for its
    // EAGAIN (at a steady 1 frame per wake-up that halves the reads); epoll is level-triggered,
    // so frames arriving meanwhile wake the loop again.
    if (n > 0 && n < static_cast<int>(batch.size())) break;
    if (n > 0) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) break;
    if (err == ENETDOWN) {
      link_down(err);
      continue;  // frames queued before the error are still readable
    }
    // ENODEV and anything unexpected: read what is left, then reopen.
    if (gone) break;
    gone = true;
    gone_err = err;
  }
  if (gone) link_gone(gone_err);
}

// The interface is gone: what is queued in the socket is all that is left of it; read it
// (counted) before the socket is closed, as on_ready() does when a read finds it gone first.
// Sending stays off meanwhile (a handler's send would find it gone again).
void CanPort::read_to_the_end() {
  if (!socket_ || draining_) return;
  draining_ = true;
  std::array<RxFrame, RawSocket::kBatch> batch;
  for (int errors = 0; socket_ && errors < 2;) {
    int err = 0;
    const int n = socket_->read(batch, err);
    if (n > 0) rx_time_read_ = false;  // rx_time(): read again, on first use
    for (int i = 0; i < n; ++i) handle_rx(batch[static_cast<std::size_t>(i)]);
    if (n > 0) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) break;
    ++errors;  // the socket's pending error (ENODEV, ENETDOWN) comes once, the frames after it
  }
  draining_ = false;
}

void CanPort::handle_rx(RxFrame& rx) {
  if (rx.has_drops) note_drops(rx.drops);
  if (rx.frame.error) {
    handle_error_frame(rx.frame);
    return;
  }
  if (rx.own) {
    ++stats_.own_echo;
    if (on_own_frame_) on_own_frame_(rx.frame);
    return;
  }
  // Frames flow again: the interface is up. Not those still queued from before it went down
  // (read after the ENETDOWN): they would have the port report a return that did not happen.
  if (state_ == PortState::down && !draining_ && socket_ && socket_->interface_up()) {
    cancel_timer(up_poll_timer_);
    reopen_delay_ = 0ms;
    set_state(PortState::up);
    flush();
  }
  ++stats_.rx_frames;
  stats_.rx_bytes += rx.frame.len;
  const auto bits = frame_bits(rx.frame);
  stats_.bits += bits;
  window_bits_ += bits;
  if (on_frame_) on_frame_(rx.frame);
}

void CanPort::handle_error_frame(const canproto::Frame& f) {
  const ErrorInfo info = decode_error_frame(f);
  ++stats_.rx_error_frames;
  for (std::size_t i = 0; i < kErrorClassCount; ++i)
    if (info.has(static_cast<ErrorClass>(i))) ++stats_.errors[i];
  if (info.rx_overflow()) ++stats_.hw_rx_overflow;
  if (info.restarted()) ++stats_.restarted;
  log().debug("{}: error frame {}: {}", config_.iface, canproto::format_compact(f), describe(info));

  if (info.state != ControllerState::unknown && info.state != ctrl_state_) {
    const ControllerState before = ctrl_state_;
    ctrl_state_ = info.state;
    switch (info.state) {
      case ControllerState::bus_off:
        ++stats_.bus_off;
        log().warn("{}: bus-off ({} so far): {}", config_.iface, stats_.bus_off, describe(info));
        break;
      case ControllerState::error_passive:
        ++stats_.error_passive;
        log().warn("{}: error-passive: {}", config_.iface, describe(info));
        break;
      case ControllerState::error_warning:
        ++stats_.error_warning;
        log().info("{}: error-warning: {}", config_.iface, describe(info));
        break;
      default:
        log().info("{}: {} (was {})", config_.iface, to_string(info.state), to_string(before));
        break;
    }
  }
  if (info.bus_off()) {
    if (link_.controller) tx_paused_ = true;
    schedule_bus_off_recovery();
  } else if (info.restarted() || (tx_paused_ && info.state != ControllerState::unknown)) {
    tx_paused_ = false;
    cancel_timer(recovery_timer_);
    recovery_delay_ = 0ms;
    flush();
  }
  if (on_error_frame_) on_error_frame_(f, info);
}

void CanPort::schedule_bus_off_recovery() {
  if (!link_.controller) {
    if (!said_virtual_bus_off_) {
      log().info("{}: bus-off reported on a {} interface: no controller to restart", config_.iface,
                 link_known_ && !link_.kind.empty() ? link_.kind : "virtual");
      said_virtual_bus_off_ = true;
    }
    return;
  }
  if (recovery_timer_) return;
  if (link_.restart_ms > 0)
    log().info("{}: the kernel restarts the controller after {} ms", config_.iface,
               link_.restart_ms);
  else if (!config_.restart_on_bus_off)
    log().warn(
        "{}: restart-ms is 0 and automatic restart is off; restart it with "
        "`ip link set {} type can restart`",
        config_.iface, config_.iface);
  recovery_delay_ = next_backoff(recovery_delay_, config_.reopen_min, config_.reopen_max);
  recovery_timer_ = loop_.add_timer(recovery_delay_, [this] {
    recovery_timer_ = 0;
    refresh_link();
    if (ctrl_state_ != ControllerState::bus_off && ctrl_state_ != ControllerState::stopped) {
      log().info("{}: recovered from bus-off ({})", config_.iface, to_string(ctrl_state_));
      tx_paused_ = false;
      recovery_delay_ = 0ms;
      flush();
      return;
    }
    if (link_.restart_ms == 0 && config_.restart_on_bus_off) {
      if (auto r = restart_link(config_.iface); r) {
        ++stats_.restart_requests;
        log().info("{}: restart requested after bus-off", config_.iface);
      } else {
        log().error("{} (bus-off recovery)", r.error().message());
      }
    }
    schedule_bus_off_recovery();
  });
}

void CanPort::link_down(int err) {
  if (state_ == PortState::down) return;
  if (!lost_) {
    lost_ = true;
    ++stats_.link_down;
  }
  log().warn("{}: interface went down ({}); waiting for it to come back", config_.iface,
             errno_name(err));
  set_state(PortState::down);
  reopen_delay_ = 0ms;
  schedule_up_poll();
}

void CanPort::link_gone(int err) {
  if (!lost_) {
    lost_ = true;
    ++stats_.link_down;
  }
  log().warn("{}: interface lost ({}); reopening with backoff", config_.iface, errno_name(err));
  cancel_timer(up_poll_timer_);
  cancel_timer(gone_timer_);
  read_to_the_end();
  close_socket();
  set_state(PortState::closed);
  reopen_delay_ = 0ms;
  schedule_reopen();
}

SendStatus CanPort::send(const canproto::Frame& frame) {
  if (tx_queue_.size() >= config_.tx_queue_limit) {
    ++stats_.tx_dropped;
    if (window_tx_dropped_++ == 0)
      log().warn("{}: TX queue full ({} frames, port {}): refusing {}", config_.iface,
                 tx_queue_.size(), to_string(state_), canproto::format_compact(frame));
    return SendStatus::queue_full;
  }
  tx_queue_.push_back(frame);
  stats_.tx_queued = tx_queue_.size();
  stats_.tx_queue_peak = std::max<std::uint64_t>(stats_.tx_queue_peak, tx_queue_.size());
  flush();
  return SendStatus::queued;
}

void CanPort::flush() {
  if (!socket_ || state_ != PortState::up || tx_paused_ || want_writable_ || tx_retry_timer_ ||
      draining_ || gone_timer_)
    return;
  bool sent = false;
  while (!tx_queue_.empty()) {
    const canproto::Frame& f = tx_queue_.front();
    const int e = socket_->write(f);
    if (e == 0) {
      ++stats_.tx_frames;
      stats_.tx_bytes += f.len;
      const auto bits = frame_bits(f);
      stats_.bits += bits;
      window_bits_ += bits;
      tx_queue_.pop_front();
      tx_retry_delay_ = 0ms;
      sent = true;
      continue;
    }
    if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ENETDOWN || e == ENODEV ||
        e == ENXIO) {
      handle_write_error(e);
      break;
    }
    ++stats_.tx_failed;
    log().error("{}: cannot send {}: {} ({}); frame dropped", config_.iface,
                canproto::format_compact(f), std::strerror(e), errno_name(e));
    tx_queue_.pop_front();
  }
  stats_.tx_queued = tx_queue_.size();
  // Tell producers asynchronously, so a producer that refills the queue from the callback never
  // recurses into flush() or starves the loop.
  if (sent && on_tx_space_ && !tx_space_timer_ && tx_queue_.size() <= config_.tx_queue_limit / 2)
    tx_space_timer_ = loop_.add_timer(0ms, [this] {
      tx_space_timer_ = 0;
      if (on_tx_space_) on_tx_space_();
    });
}

void CanPort::handle_write_error(int err) {
  switch (err) {
    case EAGAIN:
      ++stats_.tx_retries;
      set_writable_interest(true);
      break;
    case ENOBUFS:
      ++stats_.tx_retries;
      tx_retry_delay_ = std::clamp(tx_retry_delay_ * 2, std::chrono::milliseconds(kTxRetryMin),
                                   std::chrono::milliseconds(kTxRetryMax));
      tx_retry_timer_ = loop_.add_timer(tx_retry_delay_, [this] {
        tx_retry_timer_ = 0;
        flush();
      });
      break;
    case ENETDOWN: link_down(err); break;
    default:
      // Gone (ENXIO/ENODEV): closed in the next round, after the frames the loop is handling
      // now (a send from a frame handler gets here mid-batch), so that none is dropped or read
      // out of order. Nothing is sent meanwhile.
      if (!gone_timer_)
        gone_timer_ = loop_.add_timer(0ms, [this, err] {
          gone_timer_ = 0;
          if (socket_) link_gone(err);
        });
      break;
  }
}

void CanPort::set_writable_interest(bool on) {
  if (!socket_ || want_writable_ == on) return;
  want_writable_ = on;
  (void)loop_.modify(socket_->fd(), EventLoop::kReadable | (on ? EventLoop::kWritable : 0u));
}

void CanPort::note_drops(std::uint32_t total) {
  // Frames carry the drop count as it was when they were queued, so a frame read after a fresh
  // SO_MEMINFO reading may report less: only forward steps count (modulo 2^32).
  const auto delta = static_cast<std::int32_t>(total - last_drops_);
  if (delta <= 0) return;
  last_drops_ = total;
  stats_.rx_overflow += static_cast<std::uint32_t>(delta);
  window_overflow_ += static_cast<std::uint32_t>(delta);
}

void CanPort::note_drops_from_meminfo() {
  if (!socket_) return;
  std::array<std::uint32_t, SK_MEMINFO_VARS> mem{};
  socklen_t len = sizeof mem;
  if (getsockopt(socket_->fd(), SOL_SOCKET, SO_MEMINFO, mem.data(), &len) == 0 &&
      len > SK_MEMINFO_DROPS * sizeof(std::uint32_t))
    note_drops(mem[SK_MEMINFO_DROPS]);
}

void CanPort::close_load_window() {
  const auto now = EventLoop::now();
  const double secs = std::chrono::duration<double>(now - window_start_).count();
  window_start_ = now;
  if (secs > 0 && load_bitrate_ > 0) {
    stats_.load_percent = 100.0 * static_cast<double>(window_bits_) / (load_bitrate_ * secs);
    stats_.load_peak = std::max(stats_.load_peak, stats_.load_percent);
  }
  window_bits_ = 0;
  note_drops_from_meminfo();
  if (window_overflow_)
    log().warn(
        "{}: the kernel dropped {} frame(s) in {:.1f} s: receive queue full (rcvbuf {} "
        "bytes)",
        config_.iface, window_overflow_, secs, socket_ ? socket_->rcvbuf() : 0);
  if (window_tx_dropped_ > 1)
    log().warn("{}: TX queue full: refused {} frame(s) in {:.1f} s", config_.iface,
               window_tx_dropped_, secs);
  window_overflow_ = 0;
  window_tx_dropped_ = 0;
}

const PortStats& CanPort::stats() {
  note_drops_from_meminfo();
  stats_.tx_queued = tx_queue_.size();
  return stats_;
}

std::string CanPort::stats_line() {
  refresh_link();
  std::string head = config_.iface + " role=" + to_string(config_.role) +
                     " state=" + to_string(state_) + " ctrl=" + to_string(ctrl_state_) +
                     " bitrate=" + std::to_string(load_bitrate_) +
                     (bitrate_nominal_ ? "(nominal)" : "");
  if (link_.has_berr)
    head += " tec=" + std::to_string(link_.tx_errors) + " rec=" + std::to_string(link_.rx_errors);
  if (link_known_)
    head += " if_rx_dropped=" + std::to_string(link_.if_rx_dropped) +
            " if_rx_over=" + std::to_string(link_.if_rx_over_errors + link_.if_rx_fifo_errors);
  return format_stats(head, stats());
}

}  // namespace loxcan::canio
