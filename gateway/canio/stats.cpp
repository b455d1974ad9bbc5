#include "gateway/canio/stats.hpp"

#include <cstdio>

namespace loxcan::canio {

std::uint32_t frame_bits(const canproto::Frame& f) {
  if (f.error) return 0;
  const std::uint32_t data = f.rtr ? 0 : 8u * f.len;
  // SOF, arbitration, control, CRC, delimiters, ACK, EOF and the 3-bit intermission.
  return (f.extended ? 67u : 47u) + data;
}

std::string format_stats(std::string_view head, const PortStats& s) {
  std::string out(head);
  auto add = [&](const char* key, std::uint64_t v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s=%llu", key, static_cast<unsigned long long>(v));
    out += buf;
  };
  add("rx", s.rx_frames);
  add("rx_bytes", s.rx_bytes);
  add("tx", s.tx_frames);
  add("tx_bytes", s.tx_bytes);
  add("overflow", s.rx_overflow);
  add("hw_overflow", s.hw_rx_overflow);
  add("tx_queued", s.tx_queued);
  add("tx_queue_peak", s.tx_queue_peak);
  add("tx_dropped", s.tx_dropped);
  add("tx_failed", s.tx_failed);
  add("tx_retries", s.tx_retries);
  add("err_frames", s.rx_error_frames);
  for (std::size_t i = 0; i < kErrorClassCount; ++i) {
    std::string key = std::string("err.") + to_string(static_cast<ErrorClass>(i));
    add(key.c_str(), s.errors[i]);
  }
  add("bus_off", s.bus_off);
  add("error_passive", s.error_passive);
  add("error_warning", s.error_warning);
  add("restarted", s.restarted);
  add("restart_requests", s.restart_requests);
  add("own_echo", s.own_echo);
  add("link_down", s.link_down);
  add("reopens", s.reopens);
  add("open_failures", s.open_failures);
  char buf[80];
  std::snprintf(buf, sizeof buf, " load=%.1f%% load_peak=%.1f%%", s.load_percent, s.load_peak);
  out += buf;
  return out;
}

}  // namespace loxcan::canio
