#include "gateway/canio/error_frame.hpp"

#include <linux/can.h>
#include <linux/can/error.h>

#include <cstdio>

namespace loxcan::canio {
namespace {

static_assert(CAN_ERR_TX_TIMEOUT == canproto::err::kTxTimeout);
static_assert(CAN_ERR_BUSOFF == canproto::err::kBusOff);
static_assert(CAN_ERR_RESTARTED == canproto::err::kRestarted);
static_assert(CAN_ERR_CNT == canproto::err::kCounters);

struct BitName {
  std::uint8_t bit;
  const char* name;
};

constexpr BitName kControllerBits[] = {
    {CAN_ERR_CRTL_RX_OVERFLOW, "rx-overflow"},     {CAN_ERR_CRTL_TX_OVERFLOW, "tx-overflow"},
    {CAN_ERR_CRTL_RX_WARNING, "rx-error-warning"}, {CAN_ERR_CRTL_TX_WARNING, "tx-error-warning"},
    {CAN_ERR_CRTL_RX_PASSIVE, "rx-error-passive"}, {CAN_ERR_CRTL_TX_PASSIVE, "tx-error-passive"},
    {CAN_ERR_CRTL_ACTIVE, "back-to-error-active"},
};
constexpr BitName kProtocolBits[] = {
    {CAN_ERR_PROT_BIT, "bit"},       {CAN_ERR_PROT_FORM, "form"},
    {CAN_ERR_PROT_STUFF, "stuff"},   {CAN_ERR_PROT_BIT0, "bit0"},
    {CAN_ERR_PROT_BIT1, "bit1"},     {CAN_ERR_PROT_OVERLOAD, "overload"},
    {CAN_ERR_PROT_ACTIVE, "active"}, {CAN_ERR_PROT_TX, "tx"},
};

void append_bits(std::string& out, std::uint8_t value, const BitName* table, std::size_t n) {
  bool first = true;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(value & table[i].bit)) continue;
    if (!first) out += ',';
    out += table[i].name;
    first = false;
  }
}

ControllerState state_from(const ErrorInfo& info) {
  if (info.bus_off()) return ControllerState::bus_off;
  if (info.restarted()) return ControllerState::error_active;
  if (info.has(ErrorClass::controller)) {
    const auto c = info.controller;
    if (c & (CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_PASSIVE))
      return ControllerState::error_passive;
    if (c & (CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_WARNING))
      return ControllerState::error_warning;
    if (c & CAN_ERR_CRTL_ACTIVE) return ControllerState::error_active;
  }
  return ControllerState::unknown;
}

}  // namespace

const char* to_string(ControllerState state) {
  switch (state) {
    case ControllerState::error_active: return "error-active";
    case ControllerState::error_warning: return "error-warning";
    case ControllerState::error_passive: return "error-passive";
    case ControllerState::bus_off: return "bus-off";
    case ControllerState::stopped: return "stopped";
    case ControllerState::sleeping: return "sleeping";
    case ControllerState::unknown: break;
  }
  return "unknown";
}

const char* to_string(ErrorClass c) {
  constexpr const char* kNames[kErrorClassCount] = {
      "tx-timeout", "lost-arbitration", "controller", "protocol",  "transceiver",
      "no-ack",     "bus-off",          "bus-error",  "restarted", "counters"};
  auto i = static_cast<std::size_t>(c);
  return i < kErrorClassCount ? kNames[i] : "?";
}

bool ErrorInfo::rx_overflow() const {
  return has(ErrorClass::controller) && (controller & CAN_ERR_CRTL_RX_OVERFLOW);
}
bool ErrorInfo::tx_overflow() const {
  return has(ErrorClass::controller) && (controller & CAN_ERR_CRTL_TX_OVERFLOW);
}

ErrorInfo decode_error_frame(const canproto::Frame& frame) {
  ErrorInfo info;
  if (!frame.error) return info;
  // Bytes beyond len are zero in a canproto::Frame, so short injected frames read as zeros.
  info.classes = frame.id & CAN_ERR_MASK;
  info.controller = frame.data[1];
  info.protocol_type = frame.data[2];
  info.protocol_where = frame.data[3];
  info.transceiver = frame.data[4];
  info.tx_errors = frame.data[6];
  info.rx_errors = frame.data[7];
  info.state = state_from(info);
  return info;
}

std::string describe(const ErrorInfo& info) {
  std::string out;
  for (std::size_t i = 0; i < kErrorClassCount; ++i) {
    auto c = static_cast<ErrorClass>(i);
    if (!info.has(c)) continue;
    if (!out.empty()) out += ' ';
    out += to_string(c);
    char buf[48];
    switch (c) {
      case ErrorClass::controller:
        if (!info.controller) break;
        out += '(';
        append_bits(out, info.controller, kControllerBits, std::size(kControllerBits));
        out += ')';
        break;
      case ErrorClass::protocol:
        out += '(';
        append_bits(out, info.protocol_type, kProtocolBits, std::size(kProtocolBits));
        std::snprintf(buf, sizeof buf, "%slocation=0x%02x)", info.protocol_type ? "," : "",
                      info.protocol_where);
        out += buf;
        break;
      case ErrorClass::transceiver:
        std::snprintf(buf, sizeof buf, "(0x%02x)", info.transceiver);
        out += buf;
        break;
      case ErrorClass::counters:
        std::snprintf(buf, sizeof buf, "(tx=%u,rx=%u)", info.tx_errors, info.rx_errors);
        out += buf;
        break;
      default: break;
    }
  }
  // Bits newer kernels may define: named by value rather than dropped from the log.
  if (const std::uint32_t unknown = info.classes & ~((1u << kErrorClassCount) - 1)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%sunknown(0x%x)", out.empty() ? "" : " ", unknown);
    out += buf;
  }
  return out;
}

}  // namespace loxcan::canio
