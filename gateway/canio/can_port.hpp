#pragma once
// CanPort: one CAN interface (the Link bus, or one Tree branch) driven by the EventLoop, built to
// survive a real bus: frames are never lost silently, and nothing needs a process restart.
//
// What it does, all on the loop thread:
//   - opens a RawSocket (filters for the role's Loxone id range, error frames, kernel timestamps,
//     overflow counter, large receive buffer) and reads it in batches when readable;
//   - decodes error frames, counts them by class, tracks the controller state (error-active,
//     -warning, -passive, bus-off) and logs every state change on logger "can";
//   - bus-off: counted; when the controller has restart-ms 0 and `restart_on_bus_off` is set,
//     restarts it through libsocketcan (with backoff until it leaves bus-off); otherwise waits for
//     the kernel's automatic restart. Sending pauses while a real controller is bus-off;
//   - interface down (`ip link set can0 down`): the socket stays bound and the port polls (with
//     backoff) until the interface is up again; interface gone (`ip link del`, a USB adapter
//     unplugged): the socket is closed and reopened with backoff until the interface is back.
//     While it waits, rtnetlink link events (LinkWatch) trigger the next try at once, so the
//     port is up again within milliseconds of the interface's return, whatever the backoff;
//     Frames already queued in the socket are read before it is closed (also when a send finds
//     the interface gone first), and frames queued before it went down do not count as a sign
//     that it is up again;
//   - sending goes through a bounded FIFO: EAGAIN waits for writability, ENOBUFS is retried with
//     backoff, a down/gone interface keeps the frames until it is back. When the queue is full,
//     send() refuses the frame, counts it (tx_dropped) and logs it: never silent;
//   - statistics per port (stats.hpp), including bus load from frame bits over the bitrate (the
//     role's nominal bitrate on interfaces without one, e.g. vcan, said once in the log).
//
// Errors: start() returns the first IoError (e.g. ENODEV for a missing interface) but the port
// keeps retrying in the background either way; callers decide whether that is fatal. Runtime
// errors are logged and counted, never thrown.
//
// Example:
//   EventLoop loop;
//   CanPort link(loop, PortConfig::for_role("can0", Role::link));
//   link.set_frame_handler([](const canproto::Frame& f) { decode(f); });
//   if (auto r = link.start(); !r) spdlog::warn("{}", r.error().message());  // keeps retrying
//   link.send(canproto::Frame::make(0x10606005, {}));
//   loop.run();

#include <linux/can.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canproto/frame.hpp"
#include "gateway/canio/error.hpp"
#include "gateway/canio/error_frame.hpp"
#include "gateway/canio/link_control.hpp"
#include "gateway/canio/link_watch.hpp"
#include "gateway/canio/raw_socket.hpp"
#include "gateway/canio/stats.hpp"
#include "gateway/loop/event_loop.hpp"

namespace loxcan::canio {

/// Which bus an interface is on; decides the nominal bitrate and the default id filter.
enum class Role : std::uint8_t { link, tree_left, tree_right };
/// "link", "tree-left", "tree-right".
const char* to_string(Role role);
/// Accepts "link", "tree-left", "tree-right" (and "left"/"right"); nullopt otherwise.
std::optional<Role> parse_role(std::string_view text);
/// 125000 for link, 50000 for a Tree branch.
std::uint32_t nominal_bitrate(Role role);
/// Kernel filters for the role's Loxone frames: every 29-bit data frame on the Link bus (legacy
/// and NAT ids together cover the whole 29-bit space); 0x11xxxxxx 29-bit data frames on a Tree
/// branch. Error frames are enabled separately.
std::vector<can_filter> loxone_filters(Role role);

enum class PortState : std::uint8_t {
  stopped,  ///< not started, or stop() called
  closed,   ///< no socket: the interface is missing or could not be opened; retrying
  down,     ///< bound, but the interface is administratively down; polling until up
  up,       ///< bound and up
};
const char* to_string(PortState state);

struct PortConfig {
  std::string iface;
  Role role = Role::link;
  SocketOptions socket;  ///< filters default to loxone_filters(role) via for_role()
  /// Set bitrate and restart-ms and bring the interface up at start (needs CAP_NET_ADMIN).
  bool configure_link = false;
  std::uint32_t bitrate = 0;  ///< 0: nominal_bitrate(role)
  std::uint32_t restart_ms = 100;
  /// Restart a bus-off controller ourselves when its restart-ms is 0.
  bool restart_on_bus_off = true;
  std::size_t tx_queue_limit = 1024;
  std::chrono::milliseconds reopen_min{100}, reopen_max{5000};
  std::chrono::milliseconds load_window{1000};

  /// A config with the role's Loxone filters and defaults for everything else.
  static PortConfig for_role(std::string iface, Role role);
  std::uint32_t effective_bitrate() const { return bitrate ? bitrate : nominal_bitrate(role); }
};

enum class SendStatus : std::uint8_t {
  queued,      ///< accepted (sent at once or queued for later)
  queue_full,  ///< refused: the TX queue is at tx_queue_limit (counted in tx_dropped)
};

class CanPort {
 public:
  using FrameHandler = std::function<void(const canproto::Frame&)>;
  using ErrorFrameHandler = std::function<void(const canproto::Frame&, const ErrorInfo&)>;
  using StateHandler = std::function<void(PortState)>;
  using TxSpaceHandler = std::function<void()>;

  CanPort(gateway::EventLoop& loop, PortConfig config);
  ~CanPort();
  CanPort(const CanPort&) = delete;
  CanPort& operator=(const CanPort&) = delete;

  /// Data frames (error frames and own echoes excluded), with kernel timestamp and iface set.
  void set_frame_handler(FrameHandler h) { on_frame_ = std::move(h); }
  void set_error_frame_handler(ErrorFrameHandler h) { on_error_frame_ = std::move(h); }
  /// Our own frames as the bus carried them (needs socket.recv_own): in true bus order, with the
  /// kernel's timestamp. Counted in own_echo, never in rx.
  void set_own_frame_handler(FrameHandler h) { on_own_frame_ = std::move(h); }
  void set_state_handler(StateHandler h) { on_state_ = std::move(h); }
  /// Called after frames left the TX queue while it is at most half full (for producers that
  /// pace themselves, like replay).
  void set_tx_space_handler(TxSpaceHandler h) { on_tx_space_ = std::move(h); }

  /// Configures the link (if asked) and opens the socket. Returns the first error; the port keeps
  /// retrying in the background regardless, until stop().
  IoResult<Ok> start();
  /// Closes the socket and cancels every timer. Queued TX frames stay queued for a later start().
  void stop();

  SendStatus send(const canproto::Frame& frame);

  const std::string& iface() const { return config_.iface; }
  const PortConfig& config() const { return config_; }
  PortState state() const { return state_; }
  ControllerState controller_state() const { return ctrl_state_; }
  /// Bitrate used for the bus load: the controller's, else the role's nominal one.
  std::uint32_t load_bitrate() const { return load_bitrate_; }
  bool bitrate_is_nominal() const { return bitrate_nominal_; }
  /// Current statistics (also collects socket drops the kernel has not reported with a frame yet).
  const PortStats& stats();
  /// "<iface> role=<role> state=<state> ctrl=<ctrl> bitrate=<n>[(nominal)] rx=... load=...%".
  std::string stats_line();
  std::size_t tx_queue_size() const { return tx_queue_.size(); }
  /// When the frame now being handled was read (CLOCK_MONOTONIC): the clock is read at most once
  /// per receive batch (one recvmmsg), on the first call in that batch, so that a handler needing
  /// "now" does not pay a clock read per frame (a system call in User-Mode Linux), and a port
  /// whose handlers never ask pays none. Inside the frame handlers: a time after the batch was
  /// read and before the handler ran; outside them: the last batch's.
  gateway::EventLoop::TimePoint rx_time() {
    if (!rx_time_read_) {
      rx_time_ = gateway::EventLoop::now();
      rx_time_read_ = true;
    }
    return rx_time_;
  }

 private:
  void set_state(PortState s);
  IoResult<Ok> open_socket();
  void close_socket();
  void refresh_link();
  void schedule_reopen();
  void schedule_up_poll();
  void try_reopen();
  void poll_up();
  void watch_links(bool on);
  void on_link_event();
  void on_ready(std::uint32_t events);
  void handle_rx(RxFrame& rx);
  void handle_error_frame(const canproto::Frame& f);
  void handle_read_error(int err);
  void link_down(int err);
  void link_gone(int err);
  void read_to_the_end();
  void link_back();
  void flush();
  void handle_write_error(int err);
  void schedule_bus_off_recovery();
  void set_writable_interest(bool on);
  void note_drops(std::uint32_t total);
  void note_drops_from_meminfo();
  void close_load_window();
  void cancel_timer(gateway::EventLoop::TimerId& id);

  gateway::EventLoop& loop_;
  PortConfig config_;
  std::optional<RawSocket> socket_;
  PortState state_ = PortState::stopped;
  ControllerState ctrl_state_ = ControllerState::unknown;
  LinkInfo link_;
  bool link_known_ = false;
  std::uint32_t load_bitrate_ = 0;
  bool bitrate_nominal_ = true;
  bool lost_ = false;      // link went down/away and has not come back yet
  bool draining_ = false;  // read_to_the_end() runs: no sending
  bool ever_up_ = false;
  // Say these once per port, not on every reopen.
  bool said_virtual_ = false, said_bitrate_ = false, said_rcvbuf_ = false,
       said_virtual_bus_off_ = false;

  FrameHandler on_frame_;
  FrameHandler on_own_frame_;
  ErrorFrameHandler on_error_frame_;
  StateHandler on_state_;
  TxSpaceHandler on_tx_space_;

  gateway::EventLoop::TimePoint rx_time_{};
  bool rx_time_read_ = false;  // rx_time_ is the current batch's
  std::deque<canproto::Frame> tx_queue_;
  bool want_writable_ = false;
  bool tx_paused_ = false;               // a real controller is bus-off
  std::uint64_t window_tx_dropped_ = 0;  // refused sends in this load window (logged once)

  PortStats stats_;
  std::uint32_t last_drops_ = 0;  // SO_RXQ_OVFL total of the current socket
  std::uint64_t window_bits_ = 0;
  std::uint64_t window_overflow_ = 0;
  gateway::EventLoop::TimePoint window_start_{};

  gateway::EventLoop::TimerId reopen_timer_ = 0, up_poll_timer_ = 0, tx_retry_timer_ = 0,
                              recovery_timer_ = 0, load_timer_ = 0, tx_space_timer_ = 0,
                              gone_timer_ = 0;  // a send found the interface gone
  std::chrono::milliseconds reopen_delay_{0}, tx_retry_delay_{0}, recovery_delay_{0};
  // While the port waits for its interface: link events cut the backoff short.
  LinkWatch link_watch_;
  bool said_link_watch_ = false;
};

}  // namespace loxcan::canio
