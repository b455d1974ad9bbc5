#pragma once
// LinkWatch: tells when any network interface appears, changes or goes up (rtnetlink RTM_NEWLINK
// on the RTMGRP_LINK multicast group), so that a CanPort waiting for its interface reopens at
// once instead of at its next backoff step (up to reopen_max, 5 s by default, later).
//
// Owns one non-blocking NETLINK_ROUTE socket. open() returns the errno on failure (the caller
// then falls back to its backoff alone); drain() reads every pending message and says whether
// one of them was a link event. Messages are not parsed further: any link event is only a hint
// to try again now, which is cheap and always safe.
//
// Example:
//   LinkWatch w;
//   if (w.open() == 0) loop.watch(w.fd(), EventLoop::kReadable, [&](auto) { if (w.drain()) retry();
//   });

namespace loxcan::canio {

class LinkWatch {
 public:
  LinkWatch() = default;
  ~LinkWatch();
  LinkWatch(const LinkWatch&) = delete;
  LinkWatch& operator=(const LinkWatch&) = delete;

  /// 0, or the errno of socket()/bind().
  int open();
  void close();
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  /// Reads everything queued; true when a link was added or changed (RTM_NEWLINK), or when the
  /// kernel dropped messages (ENOBUFS: something may have changed).
  bool drain();

 private:
  int fd_ = -1;
};

}  // namespace loxcan::canio
