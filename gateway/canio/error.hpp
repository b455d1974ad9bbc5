#pragma once
// canio's error vocabulary: every failing POSIX or libsocketcan call becomes an IoError that
// carries the operation, the interface name and errno.
//
//   IoResult<RawSocket> s = RawSocket::open("can0", options);
//   if (!s) spdlog::error("{}", s.error().message());   // "can0: bind: No such device (ENODEV)"
//
// Hot paths (read/write of single frames) return plain errno values instead, because EAGAIN and
// ENOBUFS are ordinary there; IoError is for set-up, reopen and link control.

#include <string>
#include <string_view>

#include "canproto/result.hpp"

namespace loxcan::canio {

struct IoError {
  std::string op;     ///< what failed, e.g. "bind", "setsockopt(CAN_RAW_FILTER)", "can_do_restart"
  std::string iface;  ///< interface name; empty when not interface-specific
  int code = 0;       ///< errno (never 0: unknown causes are reported as EIO)

  /// "<iface>: <op>: <strerror> (<ENAME>)", e.g. "vcan0: bind: No such device (ENODEV)".
  std::string message() const;
};

template <class T>
using IoResult = canproto::Result<T, IoError>;
using canproto::Err;
using canproto::Ok;

/// IoError for `op` on `iface` with `code` (default: the current errno; 0 becomes EIO).
IoError io_error(std::string_view op, std::string_view iface, int code);
IoError io_error(std::string_view op, std::string_view iface);

/// Symbolic errno name ("ENODEV"), or "E<number>" for unknown values.
const char* errno_name(int code);

}  // namespace loxcan::canio
