#pragma once
// Link control: what libsocketcan is made for (interface state, bit timing, restart-ms, error
// counters; setting bitrate/restart-ms and bringing the interface up), plus the one thing it
// cannot tell: whether the interface is a real CAN controller at all.
//
// libsocketcan prints to stderr and fails without errno on interfaces that have no CAN netlink
// data (vcan, vxcan), so every function here first asks rtnetlink for the link kind and only
// calls libsocketcan for kind "can". On anything else the controller fields stay unset and
// `controller` is false: callers say "no bitrate (virtual CAN)" once and go on.
//
// Errors: IoError with the libsocketcan/rtnetlink operation, the interface and errno (EIO when
// libsocketcan failed without setting one). ENODEV when the interface does not exist.
//
//   auto info = read_link_info("can0");
//   if (info && info->controller) use(info->bitrate, info->restart_ms, info->state);
//   configure_link("can0", 125000, 100);   // stop, set bitrate + restart-ms, start (needs root)

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/canio/error.hpp"
#include "gateway/canio/error_frame.hpp"

namespace loxcan::canio {

struct LinkInfo {
  std::string kind;         ///< rtnetlink IFLA_INFO_KIND: "can", "vcan", "vxcan", "" (none)
  bool up = false;          ///< IFF_UP
  bool controller = false;  ///< kind == "can": the fields below come from the controller
  ControllerState state = ControllerState::unknown;
  std::uint32_t bitrate = 0;       ///< bit/s, 0 when unknown
  std::uint32_t sample_point = 0;  ///< tenths of a percent (875 = 87.5 %), 0 when unknown
  std::uint32_t restart_ms = 0;    ///< 0: no automatic restart after bus-off
  bool has_berr = false;
  std::uint16_t tx_errors = 0, rx_errors = 0;  ///< TEC/REC
  // Interface counters (all kinds): what the driver/stack dropped before any socket saw it.
  std::uint64_t if_rx_dropped = 0, if_rx_over_errors = 0, if_rx_fifo_errors = 0;
  std::uint64_t if_tx_dropped = 0;
};

/// Reads everything above. Fails only when the interface is missing or rtnetlink fails; a
/// controller field libsocketcan cannot read is left at its default.
IoResult<LinkInfo> read_link_info(std::string_view iface);

/// rtnetlink IFLA_INFO_KIND of `iface` ("" when the link has none).
IoResult<std::string> link_kind(std::string_view iface);

/// Sets bitrate and restart-ms and brings the interface up: stop, set, start (CAP_NET_ADMIN).
/// When the interface already runs at `bitrate` with `restart_ms` and is up, nothing is changed.
/// Fails with EOPNOTSUPP on a non-controller (vcan).
IoResult<Ok> configure_link(std::string_view iface, std::uint32_t bitrate,
                            std::uint32_t restart_ms);

/// Restarts a controller in bus-off (can_do_restart; only valid when restart-ms is 0).
IoResult<Ok> restart_link(std::string_view iface);

/// Brings an interface up (can_do_start for controllers, SIOCSIFFLAGS otherwise).
IoResult<Ok> bring_up(std::string_view iface);

}  // namespace loxcan::canio
