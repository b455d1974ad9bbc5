// Table-driven tests of the LoxLIVE (UDP 7071) reply parser: one row per case, named.
#include "gateway/lan/loxlive.hpp"

#include <gtest/gtest.h>

#include <string>

namespace loxcan::lan {
namespace {

const std::string kReal =
    "LoxLIVE: Loxone Miniserver 192.168.178.32:80 504F11223344 10.2.3.26 Prog:2019-04-24 21:08:03 "
    "Type:0 HwId:A0000 IPv6:,0c112233:10020217/O";

struct Good {
  const char* row;
  std::string in;
  std::string name, address;
  int port;
  std::string serial, firmware, prog;
  int type;  // -1: absent
  std::string hw_id, ipv6;
};

class LoxLiveGood : public testing::TestWithParam<Good> {};

TEST_P(LoxLiveGood, Parses) {
  const Good& g = GetParam();
  auto r = parse_loxlive(g.in);
  ASSERT_TRUE(r) << g.row << ": " << r.error().message;
  EXPECT_EQ(r->name, g.name) << g.row;
  EXPECT_EQ(r->address, g.address) << g.row;
  EXPECT_EQ(r->port, g.port) << g.row;
  EXPECT_EQ(r->serial, g.serial) << g.row;
  EXPECT_EQ(r->firmware, g.firmware) << g.row;
  EXPECT_EQ(r->config_date, g.prog) << g.row;
  EXPECT_EQ(r->type.value_or(-1), g.type) << g.row;
  EXPECT_EQ(r->hw_id, g.hw_id) << g.row;
  EXPECT_EQ(r->ipv6_raw, g.ipv6) << g.row;
  EXPECT_TRUE(r->via_udp) << g.row;
  EXPECT_FALSE(r->via_ssdp) << g.row;
}

const std::string kMs = "504F11223344";
const std::string kDate = "2019-04-24 21:08:03";

INSTANTIATE_TEST_SUITE_P(
    Rows, LoxLiveGood,
    testing::Values(
        Good{"real", kReal, "Loxone Miniserver", "192.168.178.32", 80, kMs, "10.2.3.26", kDate, 0,
             "A0000", ",0c112233:10020217/O"},
        Good{
            "gen2_long_ipv6",
            "LoxLIVE: Keller 192.168.5.1:80 504F94112134 12.0.2.24 Prog:2021-06-01 23:40:59 Type:2 "
            "HwId:A0002 IPv6:,00000000:0/X,13106567:11021110/O,0cd87947:11010825/O",
            "Keller", "192.168.5.1", 80, "504F94112134", "12.0.2.24", "2021-06-01 23:40:59", 2,
            "A0002", ",00000000:0/X,13106567:11021110/O,0cd87947:11010825/O"},
        Good{"trailing_nul_crlf", kReal + std::string("\r\n\0\0", 4), "Loxone Miniserver",
             "192.168.178.32", 80, kMs, "10.2.3.26", kDate, 0, "A0000", ",0c112233:10020217/O"},
        Good{"name_with_digits_and_dots",
             "LoxLIVE: Haus 2.0 Nr. 17.3 10.0.0.7:8080 504F11223344 11.1.2.3 Type:1",
             "Haus 2.0 Nr. 17.3", "10.0.0.7", 8080, kMs, "11.1.2.3", "", 1, "", ""},
        Good{"name_with_address_lookalike",
             "LoxLIVE: Gateway 10.1.1.1:80 backup 192.168.1.9:80 504F11223344 12.0.1.1",
             "Gateway 10.1.1.1:80 backup", "192.168.1.9", 80, kMs, "12.0.1.1", "", -1, "", ""},
        Good{"name_with_invalid_ip", "LoxLIVE: Villa 300.1.1.1:80 10.0.0.2:80 504F11223344",
             "Villa 300.1.1.1:80", "10.0.0.2", 80, kMs, "", "", -1, "", ""},
        Good{"utf8_name",
             "LoxLIVE: Haus S\xC3\xBC"
             "d 10.0.0.2:80 504F11223344 12.0.1.1",
             "Haus S\xC3\xBC"
             "d",
             "10.0.0.2", 80, kMs, "12.0.1.1", "", -1, "", ""},
        Good{"empty_name", "LoxLIVE:  10.0.0.2:80 504F11223344", "", "10.0.0.2", 80, kMs, "", "",
             -1, "", ""},
        Good{"no_space_after_prefix", "LoxLIVE:MS 10.0.0.2:80 504F11223344", "MS", "10.0.0.2", 80,
             kMs, "", "", -1, "", ""},
        Good{"lowercase_serial", "LoxLIVE: MS 10.0.0.2:80 504f0aabbccd", "MS", "10.0.0.2", 80,
             "504F0AABBCCD", "", "", -1, "", ""},
        Good{"fields_reordered_and_unknown",
             "LoxLIVE: MS 10.0.0.2:80 504F11223344 13.0.0.1 HwId:B0001 Future:xyz Type:3 "
             "Prog:2024-01-02 03:04:05",
             "MS", "10.0.0.2", 80, kMs, "13.0.0.1", "2024-01-02 03:04:05", 3, "B0001", ""},
        Good{"no_firmware_but_prog",
             "LoxLIVE: MS 10.0.0.2:80 504F11223344 Prog:2024-01-02 03:04:05", "MS", "10.0.0.2", 80,
             kMs, "", "2024-01-02 03:04:05", -1, "", ""},
        Good{"ipv6_garbage_kept_raw", "LoxLIVE: MS 10.0.0.2:80 504F11223344 1.2 IPv6: x:y Type:9 ",
             "MS", "10.0.0.2", 80, kMs, "1.2", "", -1, "", "x:y Type:9"},
        Good{"port_max", "LoxLIVE: MS 255.255.255.255:65535 504F11223344", "MS", "255.255.255.255",
             65535, kMs, "", "", -1, "", ""},
        Good{"type_255", "LoxLIVE: MS 10.0.0.2:80 504F11223344 Type:255", "MS", "10.0.0.2", 80, kMs,
             "", "", 255, "", ""}),
    [](const testing::TestParamInfo<Good>& i) { return std::string(i.param.row); });

struct Bad {
  const char* row;
  std::string in;
  LoxLiveError code;
  std::string message_part;
};

class LoxLiveBad : public testing::TestWithParam<Bad> {};

TEST_P(LoxLiveBad, GivesClearError) {
  const Bad& b = GetParam();
  auto r = parse_loxlive(b.in);
  ASSERT_FALSE(r) << b.row << " parsed unexpectedly";
  EXPECT_EQ(r.error().code, b.code) << b.row << ": " << r.error().message;
  EXPECT_NE(r.error().message.find(b.message_part), std::string::npos)
      << b.row << ": '" << r.error().message << "' lacks '" << b.message_part << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Rows, LoxLiveBad,
    testing::Values(
        Bad{"empty", "", LoxLiveError::kEmpty, "empty"},
        Bad{"only_padding", std::string("\0\r\n  ", 5), LoxLiveError::kEmpty, "empty"},
        Bad{"probe_echo", std::string("\0", 1), LoxLiveError::kEmpty, "empty"},
        Bad{"other_protocol", "HTTP/1.1 200 OK", LoxLiveError::kNotLoxLive, "LoxLIVE"},
        Bad{"wrong_case_prefix", "loxlive: MS 10.0.0.2:80 504F11223344", LoxLiveError::kNotLoxLive,
            "prefix"},
        Bad{"truncated_in_name", "LoxLIVE: Loxone Mini", LoxLiveError::kNoAddress, "IPv4:port"},
        Bad{"truncated_in_address", "LoxLIVE: MS 192.168.17", LoxLiveError::kNoAddress,
            "IPv4:port"},
        Bad{"truncated_before_serial", "LoxLIVE: MS 192.168.178.32:80", LoxLiveError::kNoAddress,
            "serial"},
        Bad{"truncated_serial", "LoxLIVE: MS 192.168.178.32:80 504F1122", LoxLiveError::kNoAddress,
            "IPv4:port"},
        Bad{"no_ipv4", "LoxLIVE: Loxone Miniserver 504F11223344 10.2.3.26",
            LoxLiveError::kNoAddress, "IPv4:port"},
        Bad{"ip_without_port", "LoxLIVE: MS 10.0.0.2 504F11223344", LoxLiveError::kNoAddress,
            "IPv4"},
        Bad{"port_zero", "LoxLIVE: MS 10.0.0.2:0 504F11223344", LoxLiveError::kNoAddress, "IPv4"},
        Bad{"port_too_big", "LoxLIVE: MS 10.0.0.2:65536 504F11223344", LoxLiveError::kNoAddress,
            "IPv4"},
        Bad{"octet_too_big", "LoxLIVE: MS 10.0.0.256:80 504F11223344", LoxLiveError::kNoAddress,
            "IPv4"},
        Bad{"ip_with_five_parts", "LoxLIVE: MS 10.0.0.2.1:80 504F11223344",
            LoxLiveError::kNoAddress, "IPv4"},
        Bad{"serial_not_hex", "LoxLIVE: MS 10.0.0.2:80 504F1122334G", LoxLiveError::kNoAddress,
            "serial"},
        Bad{"serial_too_long", "LoxLIVE: MS 10.0.0.2:80 504F112233445", LoxLiveError::kNoAddress,
            "serial"},
        Bad{"bad_prog", "LoxLIVE: MS 10.0.0.2:80 504F11223344 1.2 Prog:2019-04-24",
            LoxLiveError::kBadProg, "Prog:"},
        Bad{"prog_letters", "LoxLIVE: MS 10.0.0.2:80 504F11223344 Prog:20x9-04-24 21:08:03",
            LoxLiveError::kBadProg, "offset 37"},
        Bad{"bad_type", "LoxLIVE: MS 10.0.0.2:80 504F11223344 Type:x1", LoxLiveError::kBadType,
            "'x1'"},
        Bad{"type_too_big", "LoxLIVE: MS 10.0.0.2:80 504F11223344 Type:256", LoxLiveError::kBadType,
            "0..255"},
        Bad{"empty_hwid", "LoxLIVE: MS 10.0.0.2:80 504F11223344 HwId:", LoxLiveError::kBadHwId,
            "HwId"},
        Bad{"hwid_symbols", "LoxLIVE: MS 10.0.0.2:80 504F11223344 HwId:A$00",
            LoxLiveError::kBadHwId, "HwId"},
        Bad{"binary_in_name", std::string("LoxLIVE: M\x01S 10.0.0.2:80 504F11223344"),
            LoxLiveError::kControlByte, "0x01 at offset 10"},
        Bad{"nul_inside", std::string("LoxLIVE: MS\0 10.0.0.2:80 504F11223344", 37),
            LoxLiveError::kControlByte, "0x00"},
        Bad{"del_byte", "LoxLIVE: MS 10.0.0.2:80 504F11223344 \x7F", LoxLiveError::kControlByte,
            "0x7F"},
        Bad{"huge", "LoxLIVE: " + std::string(5000, 'A') + " 10.0.0.2:80 504F11223344",
            LoxLiveError::kTooLong, "exceeds the limit of 2048"}),
    [](const testing::TestParamInfo<Bad>& i) { return std::string(i.param.row); });

TEST(LoxLive, LongestAcceptedName) {
  const std::string name(kMaxLoxLiveReply - 40, 'n');
  auto r = parse_loxlive("LoxLIVE: " + name + " 10.0.0.2:80 504F11223344");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->name, name);
}

TEST(LoxLive, EveryPrefixOfARealReplyIsParsedOrRejected) {
  // Truncation at every byte: never a crash; once the serial is complete it parses.
  for (std::size_t n = 0; n <= kReal.size(); ++n) {
    auto r = parse_loxlive(std::string_view(kReal).substr(0, n));
    const bool has_serial = n >= kReal.find("504F11223344") + 12;
    if (r) {
      EXPECT_TRUE(has_serial) << "prefix " << n;
      EXPECT_EQ(r->serial, "504F11223344");
    }
  }
}

TEST(Ipv4, Shapes) {
  EXPECT_TRUE(is_ipv4("0.0.0.0"));
  EXPECT_TRUE(is_ipv4("192.168.178.32"));
  EXPECT_FALSE(is_ipv4("192.168.178"));
  EXPECT_FALSE(is_ipv4("192.168.178.32."));
  EXPECT_FALSE(is_ipv4("1.2.3.4.5"));
  EXPECT_FALSE(is_ipv4("1.2.3.0004"));
  EXPECT_FALSE(is_ipv4("1..3.4"));
  EXPECT_FALSE(is_ipv4("-1.2.3.4"));
  EXPECT_FALSE(is_ipv4(""));
}

}  // namespace
}  // namespace loxcan::lan
