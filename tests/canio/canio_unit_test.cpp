// canio pieces that need no CAN interface: error-frame decoding, kernel frame conversion, frame
// bits, statistics text, CLI helpers. Table-driven where it fits.
#include <gtest/gtest.h>
#include <linux/can.h>
#include <linux/can/error.h>

#include <string>

#include "gateway/canio/can_port.hpp"
#include "gateway/canio/error.hpp"
#include "gateway/canio/error_frame.hpp"
#include "gateway/canio/raw_socket.hpp"
#include "gateway/canio/stats.hpp"
#include "gateway/cli/cli_ports.hpp"

namespace loxcan::canio {
namespace {

using cli::parse_count;
using cli::parse_iface_spec;
using cli::parse_seconds;

canproto::Frame error_frame(std::uint32_t classes, std::array<std::uint8_t, 8> data) {
  canproto::Frame f;
  f.error = true;
  f.extended = false;
  f.id = classes;
  f.len = 8;
  for (std::size_t i = 0; i < 8; ++i) f.data[i] = data[i];
  return f;
}

struct ErrorRow {
  const char* name;
  std::uint32_t classes;
  std::array<std::uint8_t, 8> data;
  ControllerState state;
  const char* text;
};

class ErrorFrameTable : public ::testing::TestWithParam<ErrorRow> {};

TEST_P(ErrorFrameTable, Decodes) {
  const auto& row = GetParam();
  ErrorInfo info = decode_error_frame(error_frame(row.classes, row.data));
  EXPECT_EQ(info.state, row.state) << row.name;
  EXPECT_EQ(describe(info), row.text) << row.name;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ErrorFrameTable,
    ::testing::Values(
        ErrorRow{"bus_off", CAN_ERR_BUSOFF, {}, ControllerState::bus_off, "bus-off"},
        ErrorRow{"restarted", CAN_ERR_RESTARTED, {}, ControllerState::error_active, "restarted"},
        ErrorRow{"rx_passive",
                 CAN_ERR_CRTL,
                 {0, CAN_ERR_CRTL_RX_PASSIVE},
                 ControllerState::error_passive,
                 "controller(rx-error-passive)"},
        ErrorRow{"tx_warning",
                 CAN_ERR_CRTL,
                 {0, CAN_ERR_CRTL_TX_WARNING},
                 ControllerState::error_warning,
                 "controller(tx-error-warning)"},
        ErrorRow{"back_to_active",
                 CAN_ERR_CRTL,
                 {0, CAN_ERR_CRTL_ACTIVE},
                 ControllerState::error_active,
                 "controller(back-to-error-active)"},
        ErrorRow{"rx_overflow",
                 CAN_ERR_CRTL,
                 {0, CAN_ERR_CRTL_RX_OVERFLOW},
                 ControllerState::unknown,
                 "controller(rx-overflow)"},
        ErrorRow{"passive_beats_warning",
                 CAN_ERR_CRTL,
                 {0, CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_PASSIVE},
                 ControllerState::error_passive,
                 "controller(rx-error-warning,tx-error-passive)"},
        ErrorRow{"protocol_no_ack",
                 CAN_ERR_PROT | CAN_ERR_ACK,
                 {0, 0, CAN_ERR_PROT_FORM, CAN_ERR_PROT_LOC_ACK},
                 ControllerState::unknown,
                 "protocol(form,location=0x19) no-ack"},
        ErrorRow{"counters",
                 CAN_ERR_CRTL | CAN_ERR_CNT,
                 {0, CAN_ERR_CRTL_TX_PASSIVE, 0, 0, 0, 0, 128, 5},
                 ControllerState::error_passive,
                 "controller(tx-error-passive) counters(tx=128,rx=5)"},
        ErrorRow{"bus_off_wins_over_restart",
                 CAN_ERR_BUSOFF | CAN_ERR_RESTARTED,
                 {},
                 ControllerState::bus_off,
                 "bus-off restarted"},
        ErrorRow{"unknown_bits",
                 CAN_ERR_ACK | 0x8000000,
                 {},
                 ControllerState::unknown,
                 "no-ack unknown(0x8000000)"},
        ErrorRow{"empty", 0, {}, ControllerState::unknown, ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ErrorFrame, NonErrorFrameDecodesEmpty) {
  auto info = decode_error_frame(canproto::Frame::make(CAN_ERR_BUSOFF, {}));
  EXPECT_EQ(info.classes, 0u);
  EXPECT_FALSE(info.bus_off());
}

TEST(ErrorFrame, ShortFrameReadsMissingBytesAsZero) {
  canproto::Frame f;
  f.error = true;
  f.id = CAN_ERR_CRTL;
  f.len = 2;
  f.data[1] = CAN_ERR_CRTL_RX_OVERFLOW;
  auto info = decode_error_frame(f);
  EXPECT_TRUE(info.rx_overflow());
  EXPECT_EQ(info.tx_errors, 0);
}

TEST(KernelFrame, RoundTripsEveryShape) {
  std::vector<canproto::Frame> frames;
  frames.push_back(canproto::Frame::make(0x10606005, {1, 2, 3, 4, 5, 6, 7, 8}));
  canproto::Frame sff;
  sff.extended = false;
  sff.id = 0x5A1;
  sff.len = 3;
  sff.data[0] = 0xAA;
  frames.push_back(sff);
  canproto::Frame rtr = sff;
  rtr.rtr = true;
  rtr.len = 4;
  rtr.data = {};
  frames.push_back(rtr);
  canproto::Frame dlc = canproto::Frame::make(0x1F334455, {1, 2, 3, 4, 5, 6, 7, 8});
  dlc.len8_dlc = 11;
  frames.push_back(dlc);
  frames.push_back(error_frame(CAN_ERR_BUSOFF | CAN_ERR_CNT, {0, 0, 0, 0, 0, 0, 200, 1}));
  canproto::Frame fd;
  fd.fd = true;
  fd.fd_flags = 0x5;
  fd.id = 0x123;
  fd.extended = false;
  fd.len = 12;
  fd.data[11] = 0x42;
  frames.push_back(fd);
  for (const auto& f : frames) {
    canfd_frame k;
    const std::size_t n = to_kernel(f, k);
    ASSERT_EQ(n, f.fd ? CANFD_MTU : CAN_MTU);
    auto back = from_kernel(k, f.fd);
    EXPECT_TRUE(canproto::same_content(f, back)) << "id " << std::hex << f.id;
  }
}

TEST(KernelFrame, FlagsLandInTheKernelId) {
  canfd_frame k;
  to_kernel(canproto::Frame::make(0x10606005, {}), k);
  EXPECT_EQ(k.can_id, CAN_EFF_FLAG | 0x10606005u);
  to_kernel(error_frame(CAN_ERR_BUSOFF, {}), k);
  EXPECT_EQ(k.can_id, CAN_ERR_FLAG | CAN_ERR_BUSOFF);
  canproto::Frame too_long;
  too_long.len = 9;
  EXPECT_EQ(to_kernel(too_long, k), 0u);
}

TEST(Stats, FrameBitsWithoutStuffing) {
  EXPECT_EQ(frame_bits(canproto::Frame::make(0x10606005, {})), 67u + 64u);
  canproto::Frame sff;
  sff.extended = false;
  sff.len = 0;
  EXPECT_EQ(frame_bits(sff), 47u);
  EXPECT_EQ(frame_bits(error_frame(CAN_ERR_BUSOFF, {})), 0u);
}

TEST(Stats, LineHasStableKeys) {
  PortStats s;
  s.rx_frames = 7;
  s.rx_overflow = 3;
  s.errors[static_cast<std::size_t>(ErrorClass::bus_off)] = 2;
  s.load_percent = 12.345;
  const std::string line = format_stats("vcan0 role=link", s);
  EXPECT_EQ(line.rfind("vcan0 role=link rx=7 ", 0), 0u) << line;
  EXPECT_NE(line.find(" overflow=3 "), std::string::npos) << line;
  EXPECT_NE(line.find(" err.bus-off=2 "), std::string::npos) << line;
  EXPECT_NE(line.find(" load=12.3% "), std::string::npos) << line;
}

TEST(Roles, NamesBitratesAndFilters) {
  EXPECT_EQ(parse_role("link"), Role::link);
  EXPECT_EQ(parse_role("tree-left"), Role::tree_left);
  EXPECT_EQ(parse_role("right"), Role::tree_right);
  EXPECT_FALSE(parse_role("tree"));
  EXPECT_EQ(nominal_bitrate(Role::link), 125000u);
  EXPECT_EQ(nominal_bitrate(Role::tree_right), 50000u);
  auto match = [](const std::vector<can_filter>& fs, canid_t id) {
    for (const auto& f : fs)
      if ((id & f.can_mask) == (f.can_id & f.can_mask)) return true;
    return false;
  };
  const auto link = loxone_filters(Role::link);
  EXPECT_TRUE(match(link, CAN_EFF_FLAG | 0x10606005));
  EXPECT_TRUE(match(link, CAN_EFF_FLAG | 0x0BFF0A01));
  EXPECT_FALSE(match(link, 0x123));                                     // 11-bit
  EXPECT_FALSE(match(link, CAN_EFF_FLAG | CAN_RTR_FLAG | 0x10606005));  // RTR
  const auto tree = loxone_filters(Role::tree_left);
  EXPECT_TRUE(match(tree, CAN_EFF_FLAG | 0x11041081));
  EXPECT_FALSE(match(tree, CAN_EFF_FLAG | 0x10001081));
}

TEST(Cli, IfaceSpecs) {
  auto a = parse_iface_spec("can0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "can0");
  EXPECT_EQ(a->role, Role::link);
  auto b = parse_iface_spec("vcan1:tree-left");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->name, "vcan1");
  EXPECT_EQ(b->role, Role::tree_left);
  EXPECT_FALSE(parse_iface_spec(""));
  EXPECT_FALSE(parse_iface_spec(":link"));
  EXPECT_FALSE(parse_iface_spec("can0:bogus"));
  EXPECT_FALSE(parse_iface_spec("a_name_longer_than15"));
}

TEST(Cli, Numbers) {
  double d;
  EXPECT_TRUE(parse_seconds("1.5", d));
  EXPECT_DOUBLE_EQ(d, 1.5);
  EXPECT_FALSE(parse_seconds("-1", d));
  EXPECT_FALSE(parse_seconds("1s", d));
  EXPECT_FALSE(parse_seconds("nan", d));
  EXPECT_FALSE(parse_seconds("", d));
  std::uint64_t n;
  EXPECT_TRUE(parse_count("20000", n));
  EXPECT_EQ(n, 20000u);
  EXPECT_FALSE(parse_count("12a", n));
  EXPECT_FALSE(parse_count("-3", n));
}

TEST(Errors, MessageNamesInterfaceOperationAndErrno) {
  EXPECT_EQ(io_error("bind", "vcan0", ENODEV).message(), "vcan0: bind: No such device (ENODEV)");
  EXPECT_EQ(io_error("x", "", 0).code, EIO);
  EXPECT_STREQ(errno_name(ENOBUFS), "ENOBUFS");
}

TEST(RawSocketOpen, RejectsBadNamesBeforeTouchingTheKernel) {
  auto r = RawSocket::open("", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EINVAL);
  auto r2 = RawSocket::open("sixteen_chars_xx", {});
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, EINVAL);
}

}  // namespace
}  // namespace loxcan::canio
