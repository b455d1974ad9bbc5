#include "gateway/canio/link_control.hpp"

#include <libsocketcan.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "gateway/canio/raw_socket.hpp"

namespace loxcan::canio {
namespace {

// NLMSG_OK without the signed/unsigned comparison clang warns about inside the macro.
bool nlmsg_ok(const nlmsghdr* h, int left) {
  return left >= static_cast<int>(sizeof(nlmsghdr)) && h->nlmsg_len >= sizeof(nlmsghdr) &&
         h->nlmsg_len <= static_cast<unsigned>(left);
}

// libsocketcan does not always set errno; clear it first so a stale value is not reported.
template <class Fn>
IoResult<Ok> call_socketcan(const char* op, std::string_view iface, Fn&& fn) {
  errno = 0;
  if (fn() == 0) return Ok{};
  return Err{io_error(op, iface, errno)};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Walks the IFLA_LINKINFO nest of an RTM_NEWLINK answer for IFLA_INFO_KIND.
std::string kind_from(const nlmsghdr* h) {
  const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof *ifi));
  for (auto* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type != IFLA_LINKINFO) continue;
    int inner = static_cast<int>(RTA_PAYLOAD(a));
    for (auto* b = static_cast<rtattr*>(RTA_DATA(a)); RTA_OK(b, inner); b = RTA_NEXT(b, inner)) {
      if (b->rta_type == IFLA_INFO_KIND)
        return std::string(static_cast<const char*>(RTA_DATA(b)),
                           strnlen(static_cast<const char*>(RTA_DATA(b)), RTA_PAYLOAD(b)));
    }
  }
  return {};
}

}  // namespace

IoResult<std::string> link_kind(std::string_view iface) {
  const std::string name(iface);
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) return Err{io_error("if_nametoindex", iface)};
  Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (fd.get() < 0) return Err{io_error("socket(NETLINK_ROUTE)", iface)};
  struct {
    nlmsghdr h;
    ifinfomsg i;
  } req{};
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.i);
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = 1;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = static_cast<int>(index);
  if (::send(fd.get(), &req, req.h.nlmsg_len, 0) < 0) return Err{io_error("rtnetlink send", iface)};
  alignas(nlmsghdr) std::array<char, 16384> buf;
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  if (n < 0) return Err{io_error("rtnetlink recv", iface)};
  int left = static_cast<int>(n);
  for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); nlmsg_ok(h, left);
       h = NLMSG_NEXT(h, left)) {
    if (h->nlmsg_type == NLMSG_ERROR) {
      const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
      return Err{io_error("rtnetlink RTM_GETLINK", iface, -e->error)};
    }
    if (h->nlmsg_type == RTM_NEWLINK) return kind_from(h);
  }
  return Err{io_error("rtnetlink RTM_GETLINK (no answer)", iface, EIO)};
}

IoResult<LinkInfo> read_link_info(std::string_view iface) {
  auto kind = link_kind(iface);
  if (!kind) return Err{kind.error()};
  LinkInfo info;
  info.kind = *kind;
  info.up = interface_is_up(iface);
  info.controller = info.kind == "can";
  const std::string name(iface);
  rtnl_link_stats64 ls{};
  if (can_get_link_stats(name.c_str(), &ls) == 0) {
    info.if_rx_dropped = ls.rx_dropped;
    info.if_rx_over_errors = ls.rx_over_errors;
    info.if_rx_fifo_errors = ls.rx_fifo_errors;
    info.if_tx_dropped = ls.tx_dropped;
  }
  if (!info.controller) return info;
  int state = 0;
  if (can_get_state(name.c_str(), &state) == 0 && state >= 0 && state < CAN_STATE_MAX)
    info.state = static_cast<ControllerState>(state);  // same order as enum can_state
  can_bittiming bt{};
  if (can_get_bittiming(name.c_str(), &bt) == 0) {
    info.bitrate = bt.bitrate;
    info.sample_point = bt.sample_point;
  }
  can_get_restart_ms(name.c_str(), &info.restart_ms);
  can_berr_counter bc{};
  if (can_get_berr_counter(name.c_str(), &bc) == 0) {
    info.has_berr = true;
    info.tx_errors = bc.txerr;
    info.rx_errors = bc.rxerr;
  }
  return info;
}

IoResult<Ok> configure_link(std::string_view iface, std::uint32_t bitrate,
                            std::uint32_t restart_ms) {
  auto info = read_link_info(iface);
  if (!info) return Err{info.error()};
  if (!info->controller)
    return Err{io_error("set bitrate (not a CAN controller: " +
                            (info->kind.empty() ? std::string("no link kind") : info->kind) + ")",
                        iface, EOPNOTSUPP)};
  if (info->up && info->bitrate == bitrate && info->restart_ms == restart_ms) return Ok{};
  const std::string name(iface);
  // Bit timing can only change while the interface is down.
  if (info->up) {
    if (auto r = call_socketcan("can_do_stop", iface, [&] { return can_do_stop(name.c_str()); });
        !r)
      return r;
  }
  if (auto r = call_socketcan("can_set_bitrate", iface,
                              [&] { return can_set_bitrate(name.c_str(), bitrate); });
      !r)
    return r;
  if (auto r = call_socketcan("can_set_restart_ms", iface,
                              [&] { return can_set_restart_ms(name.c_str(), restart_ms); });
      !r)
    return r;
  return call_socketcan("can_do_start", iface, [&] { return can_do_start(name.c_str()); });
}

IoResult<Ok> restart_link(std::string_view iface) {
  const std::string name(iface);
  return call_socketcan("can_do_restart", iface, [&] { return can_do_restart(name.c_str()); });
}

IoResult<Ok> bring_up(std::string_view iface) {
  auto kind = link_kind(iface);
  if (!kind) return Err{kind.error()};
  const std::string name(iface);
  if (*kind == "can")
    return call_socketcan("can_do_start", iface, [&] { return can_do_start(name.c_str()); });
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Err{io_error("socket(AF_INET)", iface)};
  ifreq req{};
  std::memcpy(req.ifr_name, name.data(), std::min(name.size(), sizeof req.ifr_name - 1));
  if (ioctl(fd.get(), SIOCGIFFLAGS, &req) < 0) return Err{io_error("SIOCGIFFLAGS", iface)};
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  if (ioctl(fd.get(), SIOCSIFFLAGS, &req) < 0) return Err{io_error("SIOCSIFFLAGS", iface)};
  return Ok{};
}

}  // namespace loxcan::canio
