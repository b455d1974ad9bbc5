#include "gateway/canio/raw_socket.hpp"

#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

namespace loxcan::canio {
namespace {

// recvmmsg needs per-message buffers; kept in thread-local storage so RawSocket stays small and
// cheaply movable (everything runs on the loop thread anyway).
struct RxBuffers {
  static constexpr std::size_t kCmsgSpace =
      CMSG_SPACE(sizeof(timespec)) + CMSG_SPACE(sizeof(std::uint32_t)) + 64;
  std::array<canfd_frame, RawSocket::kBatch> frames;
  std::array<iovec, RawSocket::kBatch> iov;
  std::array<mmsghdr, RawSocket::kBatch> msgs;
  std::array<std::array<char, kCmsgSpace>, RawSocket::kBatch> cmsg;
};

RxBuffers& rx_buffers() {
  static thread_local auto buffers = std::make_unique<RxBuffers>();
  return *buffers;
}

IoResult<Ok> set_int(int fd, int level, int name, int value, const char* what,
                     std::string_view iface) {
  if (setsockopt(fd, level, name, &value, sizeof value) < 0) return Err{io_error(what, iface)};
  return Ok{};
}

void read_cmsgs(msghdr& hdr, RxFrame& rx) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c; c = CMSG_NXTHDR(&hdr, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SO_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      rx.frame.ts_ns = static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
    } else if (c->cmsg_type == SO_RXQ_OVFL) {
      std::memcpy(&rx.drops, CMSG_DATA(c), sizeof rx.drops);
      rx.has_drops = true;
    }
  }
}

}  // namespace

canproto::Frame from_kernel(const canfd_frame& k, bool is_fd) {
  canproto::Frame f;
  f.error = (k.can_id & CAN_ERR_FLAG) != 0;
  f.extended = !f.error && (k.can_id & CAN_EFF_FLAG);
  f.rtr = !f.error && !is_fd && (k.can_id & CAN_RTR_FLAG);
  f.id = f.error      ? (k.can_id & CAN_ERR_MASK)
         : f.extended ? (k.can_id & CAN_EFF_MASK)
                      : (k.can_id & CAN_SFF_MASK);
  f.fd = is_fd;
  const std::size_t max = is_fd ? canproto::kMaxFdData : canproto::kMaxClassicData;
  f.len = static_cast<std::uint8_t>(std::min<std::size_t>(k.len, max));
  if (is_fd) {
    // Only BRS and ESI mean something on the wire; FDF marks every FD frame (as candump does).
    f.fd_flags = static_cast<std::uint8_t>((k.flags & (CANFD_BRS | CANFD_ESI)) | CANFD_FDF);
  } else {
    // A Classical frame's len8_dlc lives in what canfd_frame calls __res1.
    can_frame cc;
    std::memcpy(&cc, &k, sizeof cc);
    if (f.len == 8 && cc.len8_dlc > 8 && cc.len8_dlc <= 15) f.len8_dlc = cc.len8_dlc;
  }
  if (!f.rtr) std::copy_n(k.data, f.len, f.data.begin());
  return f;
}

std::size_t to_kernel(const canproto::Frame& f, canfd_frame& k) {
  std::memset(&k, 0, sizeof k);
  if (f.len > (f.fd ? canproto::kMaxFdData : canproto::kMaxClassicData)) return 0;
  if (f.error) {
    k.can_id = CAN_ERR_FLAG | (f.id & CAN_ERR_MASK);
  } else if (f.extended) {
    k.can_id = CAN_EFF_FLAG | (f.id & CAN_EFF_MASK);
  } else {
    k.can_id = f.id & CAN_SFF_MASK;
  }
  if (f.rtr && !f.fd && !f.error) k.can_id |= CAN_RTR_FLAG;
  k.len = f.len;
  if (!f.rtr) std::copy_n(f.data.begin(), f.len, k.data);
  if (f.fd) {
    k.flags = f.fd_flags & (CANFD_BRS | CANFD_ESI);
    return CANFD_MTU;
  }
  if (f.len == 8 && f.len8_dlc > 8) {
    can_frame cc;
    std::memcpy(&cc, &k, sizeof cc);
    cc.len8_dlc = f.len8_dlc;
    std::memcpy(&k, &cc, sizeof cc);
  }
  return CAN_MTU;
}

IoResult<RawSocket> RawSocket::open(std::string_view iface, const SocketOptions& options) {
  if (iface.empty() || iface.size() > canproto::kMaxIfaceName)
    return Err{io_error("interface name (1..15 characters)", iface, EINVAL)};
  RawSocket s;
  s.iface_ = std::string(iface);
  s.iface_name_ = canproto::IfaceName(iface);
  s.fd_ = ::socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
  if (s.fd_ < 0) return Err{io_error("socket(PF_CAN, CAN_RAW)", iface)};

  if (!options.receive) {
    if (setsockopt(s.fd_, SOL_CAN_RAW, CAN_RAW_FILTER, nullptr, 0) < 0)
      return Err{io_error("setsockopt(CAN_RAW_FILTER, none)", iface)};
  } else if (!options.filters.empty()) {
    auto bytes = static_cast<socklen_t>(options.filters.size() * sizeof(can_filter));
    if (setsockopt(s.fd_, SOL_CAN_RAW, CAN_RAW_FILTER, options.filters.data(), bytes) < 0)
      return Err{io_error("setsockopt(CAN_RAW_FILTER)", iface)};
  }
  can_err_mask_t err_mask = options.error_frames ? CAN_ERR_MASK : 0;
  if (setsockopt(s.fd_, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &err_mask, sizeof err_mask) < 0)
    return Err{io_error("setsockopt(CAN_RAW_ERR_FILTER)", iface)};
  for (auto r : {set_int(s.fd_, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS, options.recv_own ? 1 : 0,
                         "setsockopt(CAN_RAW_RECV_OWN_MSGS)", iface),
                 set_int(s.fd_, SOL_SOCKET, SO_TIMESTAMPNS, 1, "setsockopt(SO_TIMESTAMPNS)", iface),
                 set_int(s.fd_, SOL_SOCKET, SO_RXQ_OVFL, 1, "setsockopt(SO_RXQ_OVFL)", iface)}) {
    if (!r) return Err{r.error()};
  }
  if (options.fd) {
    if (auto r = set_int(s.fd_, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, 1, "setsockopt(CAN_RAW_FD_FRAMES)",
                         iface);
        !r)
      return Err{r.error()};
  }
  if (options.rcvbuf > 0) {
    // FORCE ignores rmem_max but needs CAP_NET_ADMIN; without it, the capped request still helps.
    s.rcvbuf_forced_ =
        setsockopt(s.fd_, SOL_SOCKET, SO_RCVBUFFORCE, &options.rcvbuf, sizeof options.rcvbuf) == 0;
    if (!s.rcvbuf_forced_) {
      if (auto r =
              set_int(s.fd_, SOL_SOCKET, SO_RCVBUF, options.rcvbuf, "setsockopt(SO_RCVBUF)", iface);
          !r)
        return Err{r.error()};
    }
  }
  socklen_t len = sizeof s.rcvbuf_;
  if (getsockopt(s.fd_, SOL_SOCKET, SO_RCVBUF, &s.rcvbuf_, &len) < 0)
    return Err{io_error("getsockopt(SO_RCVBUF)", iface)};

  s.ifindex_ = static_cast<int>(if_nametoindex(s.iface_.c_str()));
  if (s.ifindex_ == 0) return Err{io_error("if_nametoindex", iface)};
  sockaddr_can addr{};
  addr.can_family = AF_CAN;
  addr.can_ifindex = s.ifindex_;
  if (bind(s.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return Err{io_error("bind", iface)};
  return s;
}

RawSocket::RawSocket(RawSocket&& o) noexcept
    : fd_(o.fd_),
      ifindex_(o.ifindex_),
      rcvbuf_(o.rcvbuf_),
      rcvbuf_forced_(o.rcvbuf_forced_),
      iface_(std::move(o.iface_)),
      iface_name_(o.iface_name_) {
  o.fd_ = -1;
}

RawSocket& RawSocket::operator=(RawSocket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    ifindex_ = o.ifindex_;
    rcvbuf_ = o.rcvbuf_;
    rcvbuf_forced_ = o.rcvbuf_forced_;
    iface_ = std::move(o.iface_);
    iface_name_ = o.iface_name_;
    o.fd_ = -1;
  }
  return *this;
}

RawSocket::~RawSocket() {
  close();
}

void RawSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int RawSocket::read(std::span<RxFrame> out, int& err) {
  auto& b = rx_buffers();
  const auto want = static_cast<unsigned>(std::min<std::size_t>(out.size(), kBatch));
  for (unsigned i = 0; i < want; ++i) {
    b.iov[i] = {&b.frames[i], sizeof(canfd_frame)};
    b.msgs[i] = {};
    b.msgs[i].msg_hdr.msg_iov = &b.iov[i];
    b.msgs[i].msg_hdr.msg_iovlen = 1;
    b.msgs[i].msg_hdr.msg_control = b.cmsg[i].data();
    b.msgs[i].msg_hdr.msg_controllen = b.cmsg[i].size();
  }
  int n = recvmmsg(fd_, b.msgs.data(), want, MSG_DONTWAIT, nullptr);
  if (n <= 0) {
    err = n < 0 ? errno : EAGAIN;
    return 0;
  }
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    auto& m = b.msgs[static_cast<std::size_t>(i)];
    const bool is_fd = m.msg_len == CANFD_MTU;
    if (!is_fd && m.msg_len != CAN_MTU) continue;  // not a CAN frame: ignore
    RxFrame& rx = out[static_cast<std::size_t>(kept++)];
    rx = RxFrame{};
    rx.frame = from_kernel(b.frames[static_cast<std::size_t>(i)], is_fd);
    rx.frame.iface = iface_name_;
    rx.own = m.msg_hdr.msg_flags & MSG_CONFIRM;
    rx.local = m.msg_hdr.msg_flags & MSG_DONTROUTE;
    read_cmsgs(m.msg_hdr, rx);
  }
  err = kept ? 0 : EAGAIN;
  return kept;
}

int RawSocket::write(const canproto::Frame& frame) {
  canfd_frame k;
  const std::size_t size = to_kernel(frame, k);
  if (size == 0) return EINVAL;
  ssize_t n = ::send(fd_, &k, size, MSG_DONTWAIT);
  if (n < 0) return errno;
  return static_cast<std::size_t>(n) == size ? 0 : EIO;
}

bool RawSocket::interface_up() const {
  return interface_is_up(iface_);
}

bool interface_is_up(std::string_view iface) {
  if (iface.empty() || iface.size() > canproto::kMaxIfaceName) return false;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fd = ::socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
  if (fd < 0) return false;
  ifreq req{};
  std::memcpy(req.ifr_name, iface.data(), iface.size());
  bool up = ioctl(fd, SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_UP);
  ::close(fd);
  return up;
}

}  // namespace loxcan::canio
