#pragma once
// Decoding of SocketCAN error frames (CAN_ERR_FLAG, <linux/can/error.h>) into what a user of a
// Loxone bus needs to know: which error classes fired, what the controller state became, the
// error counters, and whether the controller lost frames (hardware RX overflow).
//
// Accepted input: any canproto::Frame with `error` set (class bits in `id`, details in data[0..7]
// as the kernel fills them). Frames with fewer than 8 bytes are read as if the missing bytes were
// 0, as cansend-injected test frames often are. A non-error frame decodes to an empty ErrorInfo.
//
// Example (what `cansend vcan0 20000040#0000000000000000` injects):
//   decode_error_frame(f).bus_off() == true, state == ControllerState::bus_off,
//   describe(info) == "bus-off"
//   20000004#0010000000000000 -> controller, rx-passive: state error_passive,
//   describe == "controller(rx-error-passive)"

#include <cstdint>
#include <string>

#include "canproto/frame.hpp"

namespace loxcan::canio {

/// CAN controller states as in <linux/can/netlink.h> plus `unknown` (not reported, e.g. vcan).
enum class ControllerState : std::uint8_t {
  error_active,
  error_warning,
  error_passive,
  bus_off,
  stopped,
  sleeping,
  unknown,
};
/// "error-active", "error-warning", "error-passive", "bus-off", "stopped", "sleeping", "unknown".
const char* to_string(ControllerState state);

/// Error classes, one per CAN_ERR_* bit of the id (bit index = enum value).
enum class ErrorClass : std::uint8_t {
  tx_timeout,        // 0x001
  lost_arbitration,  // 0x002
  controller,        // 0x004
  protocol,          // 0x008
  transceiver,       // 0x010
  no_ack,            // 0x020
  bus_off,           // 0x040
  bus_error,         // 0x080
  restarted,         // 0x100
  counters,          // 0x200
};
inline constexpr std::size_t kErrorClassCount = 10;
/// "tx-timeout", "lost-arbitration", "controller", "protocol", "transceiver", "no-ack",
/// "bus-off", "bus-error", "restarted", "counters".
const char* to_string(ErrorClass c);

struct ErrorInfo {
  std::uint32_t classes = 0;        ///< CAN_ERR_* bits (canproto::err::k*)
  std::uint8_t controller = 0;      ///< data[1]: CAN_ERR_CRTL_* bits
  std::uint8_t protocol_type = 0;   ///< data[2]: CAN_ERR_PROT_* bits
  std::uint8_t protocol_where = 0;  ///< data[3]: CAN_ERR_PROT_LOC_*
  std::uint8_t transceiver = 0;     ///< data[4]: CAN_ERR_TRX_*
  std::uint8_t tx_errors = 0;       ///< data[6], valid when has(ErrorClass::counters)
  std::uint8_t rx_errors = 0;       ///< data[7], valid when has(ErrorClass::counters)
  /// The state this frame implies (bus-off, passive, warning, active after "back to active" or
  /// "restarted"); unknown when the frame says nothing about the state.
  ControllerState state = ControllerState::unknown;

  bool has(ErrorClass c) const { return classes & (1u << static_cast<unsigned>(c)); }
  bool bus_off() const { return has(ErrorClass::bus_off); }
  bool restarted() const { return has(ErrorClass::restarted); }
  /// The controller's receive FIFO overflowed: frames were lost in hardware.
  bool rx_overflow() const;
  bool tx_overflow() const;
};

ErrorInfo decode_error_frame(const canproto::Frame& frame);

/// One line for logs, classes in bit order with details in parentheses, e.g.
/// "bus-off", "controller(rx-overflow,tx-error-warning)", "protocol(form,location=0x0a) no-ack",
/// "counters(tx=128,rx=0)", "unknown(0x8000000)" for class bits this code does not know. Empty
/// string for a frame without class bits.
std::string describe(const ErrorInfo& info);

}  // namespace loxcan::canio
