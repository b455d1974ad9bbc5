#include "gateway/canio/link_watch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace loxcan::canio {

LinkWatch::~LinkWatch() {
  close();
}

int LinkWatch::open() {
  if (fd_ >= 0) return 0;
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return errno;
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_LINK;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    return err;
  }
  fd_ = fd;
  return 0;
}

void LinkWatch::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool LinkWatch::drain() {
  bool changed = false;
  alignas(nlmsghdr) std::array<char, 8192> buf;
  while (fd_ >= 0) {
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == ENOBUFS) {  // the kernel dropped messages: one of them may have been ours
        changed = true;
        continue;
      }
      break;  // EAGAIN: all read
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len))
      changed |= h->nlmsg_type == RTM_NEWLINK;
  }
  return changed;
}

}  // namespace loxcan::canio
