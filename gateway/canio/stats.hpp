#pragma once
// Per-interface statistics of a CanPort, and how they are printed.
//
// Counters only grow (for the lifetime of the port, across reopens). "Overflow" counts frames the
// kernel dropped because our socket's receive queue was full (SO_RXQ_OVFL / SO_MEMINFO): together
// with rx_frames it accounts for every frame the interface delivered to us. hw_rx_overflow counts
// controller FIFO overruns reported by error frames (frames lost before the kernel saw them).
//
// Bus load: frame bits (nominal, without stuff bits: 47 + 8*len for 11-bit ids, 67 + 8*len for
// 29-bit ids, like `canbusload` without -e) over the bitrate, per load window (1 s by default),
// counting received and sent frames. Interfaces without a bitrate (vcan) use the role's nominal
// bitrate: 125000 for the Link bus, 50000 for a Tree branch.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "canproto/frame.hpp"
#include "gateway/canio/error_frame.hpp"

namespace loxcan::canio {

struct PortStats {
  std::uint64_t rx_frames = 0, rx_bytes = 0;  ///< data frames delivered (error frames excluded)
  std::uint64_t tx_frames = 0, tx_bytes = 0;  ///< frames the kernel accepted from us
  std::uint64_t rx_overflow = 0;              ///< dropped by the kernel: our receive queue was full
  std::uint64_t hw_rx_overflow = 0;           ///< controller RX FIFO overruns (error frames)
  std::uint64_t rx_error_frames = 0;
  std::array<std::uint64_t, kErrorClassCount>
      errors{};  ///< by ErrorClass (one frame may count in several)
  std::uint64_t bus_off = 0, error_passive = 0, error_warning = 0;  ///< transitions into the state
  std::uint64_t restarted = 0;         ///< "controller restarted" error frames
  std::uint64_t restart_requests = 0;  ///< restarts we asked for (can_do_restart)
  std::uint64_t tx_queued = 0;         ///< frames waiting in our TX queue now
  std::uint64_t tx_queue_peak = 0;
  std::uint64_t tx_dropped = 0;  ///< refused by send(): TX queue full (reported, never silent)
  std::uint64_t tx_failed = 0;   ///< the kernel rejected the frame itself (e.g. EINVAL): dropped
  std::uint64_t tx_retries = 0;  ///< ENOBUFS/EAGAIN: kept and sent later
  std::uint64_t own_echo = 0;    ///< own frames echoed back (recv_own on), not counted as rx
  std::uint64_t link_down = 0;   ///< interface went down or disappeared
  std::uint64_t reopens = 0;     ///< came back after link_down (rebound or reopened)
  std::uint64_t open_failures = 0;
  std::uint64_t bits = 0;   ///< nominal frame bits, rx + tx, since start
  double load_percent = 0;  ///< last complete load window
  double load_peak = 0;
};

/// Nominal bits on the wire for `f` without stuff bits (error frames: 0).
std::uint32_t frame_bits(const canproto::Frame& f);

/// A stable one-line, space-separated key=value rendering, e.g.
/// "can0 role=link state=up ctrl=error-active bitrate=125000 rx=10 rx_bytes=80 tx=0 ...".
/// `head` holds the leading fields (interface, role, state...), `stats` the counters.
std::string format_stats(std::string_view head, const PortStats& stats);

}  // namespace loxcan::canio
