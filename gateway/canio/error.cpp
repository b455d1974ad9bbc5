#include "gateway/canio/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace loxcan::canio {

IoError io_error(std::string_view op, std::string_view iface, int code) {
  return IoError{std::string(op), std::string(iface), code == 0 ? EIO : code};
}

IoError io_error(std::string_view op, std::string_view iface) {
  return io_error(op, iface, errno);
}

const char* errno_name(int code) {
  // glibc's strerrorname_np exists since 2.32; Debian 12 has 2.36.
  const char* name = strerrorname_np(code);
  if (name) return name;
  static thread_local char buf[16];
  std::snprintf(buf, sizeof buf, "E%d", code);
  return buf;
}

std::string IoError::message() const {
  std::string out;
  if (!iface.empty()) out += iface + ": ";
  out += op + ": " + std::strerror(code) + " (" + errno_name(code) + ")";
  return out;
}

}  // namespace loxcan::canio
