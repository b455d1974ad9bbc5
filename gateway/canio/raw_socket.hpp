#pragma once
// RawSocket: one non-blocking AF_CAN/CAN_RAW socket bound to one interface, set up the way a
// gateway on a busy, flaky bus needs it. Owns the fd (move-only, closed by the destructor).
//
// What open() configures (each failure is an IoError naming the option and the interface):
//   - SOCK_NONBLOCK | SOCK_CLOEXEC; bound to `iface` (ENODEV when it does not exist)
//   - CAN_RAW_FILTER from SocketOptions::filters (empty: receive every frame; `receive` false:
//     no data frames at all)
//   - CAN_RAW_ERR_FILTER = CAN_ERR_MASK when error_frames (error frames arrive as frames with
//     Frame::error set; decode them with error_frame.hpp)
//   - CAN_RAW_RECV_OWN_MSGS as asked (off by default: our own frames never come back; when on,
//     they come back flagged RxFrame::own and are not counted as received)
//   - CAN_RAW_FD_FRAMES when fd (lets CAN FD frames through; Loxone never uses them)
//   - SO_TIMESTAMPNS (kernel receive time, ns since the Unix epoch, into Frame::ts_ns)
//   - SO_RXQ_OVFL (the kernel's count of frames dropped because this socket's queue was full)
//   - receive buffer: SO_RCVBUFFORCE (needs CAP_NET_ADMIN) falling back to SO_RCVBUF, which the
//     kernel caps at net.core.rmem_max; rcvbuf() tells what was granted.
//
// Reading is batched (recvmmsg, up to kBatch frames per call). Example:
//   auto s = RawSocket::open("vcan0", {});            // IoResult<RawSocket>
//   std::array<RxFrame, RawSocket::kBatch> rx;
//   int n = s->read(rx, err);                         // >0 frames, 0 + err==EAGAIN: empty
//   int e = s->write(canproto::Frame::make(0x10606005, {}));  // 0 or errno (EAGAIN, ENOBUFS...)

#include <linux/can.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "canproto/frame.hpp"
#include "gateway/canio/error.hpp"

namespace loxcan::canio {

struct SocketOptions {
  std::vector<can_filter> filters;  ///< kernel filters (OR-ed); empty = all frames
  bool receive = true;              ///< false: no data frames at all (send-only; errors still come)
  bool error_frames = true;
  bool recv_own = false;
  bool fd = false;
  int rcvbuf = 1 << 20;  ///< requested receive buffer in bytes; 0 keeps the kernel default
};

/// One received frame with what the kernel told about it.
struct RxFrame {
  canproto::Frame frame;    ///< ts_ns set from SO_TIMESTAMPNS (0 if the kernel gave none)
  std::uint32_t drops = 0;  ///< SO_RXQ_OVFL: cumulative drops of this socket so far
  bool has_drops = false;   ///< drops is valid
  bool own = false;         ///< MSG_CONFIRM: our own frame echoed back (recv_own on)
  bool local = false;       ///< MSG_DONTROUTE: sent by a socket on this host
};

class RawSocket {
 public:
  static constexpr int kBatch = 32;

  static IoResult<RawSocket> open(std::string_view iface, const SocketOptions& options);

  RawSocket(RawSocket&& other) noexcept;
  RawSocket& operator=(RawSocket&& other) noexcept;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  ~RawSocket();

  int fd() const { return fd_; }
  const std::string& iface() const { return iface_; }
  int ifindex() const { return ifindex_; }
  /// Receive buffer the kernel granted (as getsockopt reports it: twice the usable payload).
  int rcvbuf() const { return rcvbuf_; }
  bool rcvbuf_forced() const { return rcvbuf_forced_; }

  /// Reads up to out.size() (at most kBatch) frames. Returns the number read (> 0); on 0, `err`
  /// holds errno: EAGAIN (nothing queued), ENETDOWN (interface went down), ENODEV (interface
  /// removed: the socket is unbound for good), or another errno. Frames of an unexpected size are
  /// skipped. Interface names in the frames are set to iface().
  int read(std::span<RxFrame> out, int& err);

  /// Sends one frame. Returns 0, or errno: EAGAIN (socket buffer full: wait for writable),
  /// ENOBUFS (driver queue full: retry later), ENETDOWN/ENODEV (interface down/gone), EINVAL
  /// (frame not sendable here, e.g. FD on a non-FD socket or interface).
  int write(const canproto::Frame& frame);

  /// Interface flags say IFF_UP (ENODEV etc. read as not up).
  bool interface_up() const;

 private:
  RawSocket() = default;
  void close();

  int fd_ = -1;
  int ifindex_ = 0;
  int rcvbuf_ = 0;
  bool rcvbuf_forced_ = false;
  std::string iface_;
  canproto::IfaceName iface_name_;
};

/// Kernel frame <-> canproto::Frame. to_kernel returns the number of bytes to write (CAN_MTU or
/// CANFD_MTU), or 0 when the frame cannot be represented (len above 8 / 64).
canproto::Frame from_kernel(const canfd_frame& k, bool is_fd);
std::size_t to_kernel(const canproto::Frame& f, canfd_frame& k);

/// Interface is known to the kernel and IFF_UP. Uses a throw-away datagram socket.
bool interface_is_up(std::string_view iface);

}  // namespace loxcan::canio
