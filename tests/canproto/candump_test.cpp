// can-utils text formats: table-driven rows from CANDUMP_FORMAT.md sections 1-3.
#include "canproto/candump.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace loxcan::canproto {
namespace {

struct GoodRow {
  const char* text;
  std::uint32_t id;
  bool extended, rtr, error, fd;
  std::uint8_t fd_flags, len, len8_dlc;
  const char* hex;        // expected payload
  const char* canonical;  // what format_compact writes back
};

// Section 1 examples (lib.h / cansend.c), plus a typical Loxone frame.
const GoodRow kGood[] = {
    {"123#", 0x123, false, false, false, false, 0, 0, 0, "", "123#"},
    {"123#DEADBEEF", 0x123, false, false, false, false, 0, 4, 0, "DEADBEEF", "123#DEADBEEF"},
    {"5A1#11.2233.44556677.88", 0x5A1, false, false, false, false, 0, 8, 0, "1122334455667788",
     "5A1#1122334455667788"},
    {"1F334455#1122334455667788_B", 0x1F334455, true, false, false, false, 0, 8, 11,
     "1122334455667788", "1F334455#1122334455667788_B"},
    {"123#R", 0x123, false, true, false, false, 0, 0, 0, "", "123#R"},
    {"00000123#R3", 0x123, true, true, false, false, 0, 3, 0, "", "00000123#R3"},
    {"333#R8_E", 0x333, false, true, false, false, 0, 8, 14, "", "333#R8_E"},
    {"32345678#112233", 0x12345678, false, false, true, false, 0, 3, 0, "112233",
     "32345678#112233"},
    {"123##1", 0x123, false, false, false, true, 5, 0, 0, "", "123##5"},
    {"213##311223344", 0x213, false, false, false, true, 7, 4, 0, "11223344", "213##711223344"},
    {"10A1B2C3#0102030405060708", 0x10A1B2C3, true, false, false, false, 0, 8, 0,
     "0102030405060708", "10A1B2C3#0102030405060708"},
    {"10606005#0000000000000000", 0x10606005, true, false, false, false, 0, 8, 0,
     "0000000000000000", "10606005#0000000000000000"},
    {"10a1b2c3#deadbeef", 0x10A1B2C3, true, false, false, false, 0, 4, 0, "DEADBEEF",
     "10A1B2C3#DEADBEEF"},
    {"123##4"
     "00112233445566778899AABB",
     0x123, false, false, false, true, 4, 12, 0, "00112233445566778899AABB",
     "123##400112233445566778899AABB"},
};

std::string hex_of(const Frame& f) {
  static const char* h = "0123456789ABCDEF";
  std::string s;
  for (auto b : f.payload()) {
    s += h[b >> 4];
    s += h[b & 15];
  }
  return s;
}

TEST(Candump, GoodCompactRows) {
  for (const auto& row : kGood) {
    SCOPED_TRACE(row.text);
    auto r = parse_compact(row.text);
    ASSERT_TRUE(r.ok()) << format_error(r.error(), "row");
    EXPECT_EQ(r->id, row.id);
    EXPECT_EQ(r->extended, row.extended);
    EXPECT_EQ(r->rtr, row.rtr);
    EXPECT_EQ(r->error, row.error);
    EXPECT_EQ(r->fd, row.fd);
    EXPECT_EQ(r->fd_flags, row.fd_flags);
    EXPECT_EQ(r->len, row.len);
    EXPECT_EQ(r->len8_dlc, row.len8_dlc);
    if (!row.rtr) {
      EXPECT_EQ(hex_of(*r), row.hex);
    }
    EXPECT_EQ(format_compact(*r), row.canonical);
    // The canonical form reads back to the same frame.
    auto again = parse_compact(format_compact(*r));
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(same_content(*again, *r));
  }
}

struct BadRow {
  const char* text;
  std::uint32_t column;
  CandumpErrc code;
};

// Section 3 negative cases plus every strictness rule of candump.hpp.
const BadRow kBad[] = {
    {"12#00", 1, CandumpErrc::bad_id_length},
    {"1234#00", 1, CandumpErrc::bad_id_length},
    {"123#1", 5, CandumpErrc::odd_data_digits},
    {"123##", 6, CandumpErrc::bad_fd_flags},
    {"123#R9", 6, CandumpErrc::bad_rtr_length},
    {"123#112233445566778899", 21, CandumpErrc::too_much_data},
    {"12", 1, CandumpErrc::too_short},
    {"", 1, CandumpErrc::too_short},
    {"45123#81:00:12345678#11223344.556677", 1, CandumpErrc::can_xl_unsupported},
    {"G23#00", 1, CandumpErrc::bad_id_digit},
    {"1000000G#00", 8, CandumpErrc::bad_id_digit},
    {"800#00", 1, CandumpErrc::id_out_of_range},
    {"40000000#00", 1, CandumpErrc::id_out_of_range},
    {"123#0G", 6, CandumpErrc::bad_data_digit},
    {"123#G0", 5, CandumpErrc::bad_data_digit},
    {"123#11.", 7, CandumpErrc::bad_separator},
    {"123#11..22", 7, CandumpErrc::bad_separator},
    {"123#1122_B", 9, CandumpErrc::bad_raw_dlc},
    {"123#1122334455667788_8", 21, CandumpErrc::bad_raw_dlc},
    {"123#1122334455667788_", 21, CandumpErrc::bad_raw_dlc},
    {"123#R3_E", 7, CandumpErrc::trailing_garbage},
    {"32345678#R", 10, CandumpErrc::rtr_on_error_frame},
    {"32345678##1", 10, CandumpErrc::fd_on_error_frame},
    {"123##1112233445566778899", 25, CandumpErrc::bad_fd_length},
    {"123#00 ", 7, CandumpErrc::bad_data_digit},
    {"123#R1x", 7, CandumpErrc::trailing_garbage},
};

TEST(Candump, BadCompactRowsNameTheColumn) {
  for (const auto& row : kBad) {
    SCOPED_TRACE(row.text);
    auto r = parse_compact(row.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, row.code) << r.error().reason();
    EXPECT_EQ(r.error().column, row.column);
    EXPECT_EQ(r.error().line, 0u);
  }
}

TEST(Candump, LenientAcceptsWhatCanUtilsAccepts) {
  ParseOptions lenient{.lenient = true};
  auto r = parse_compact("123#112233445566778899", lenient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->len, 8);
  r = parse_compact("800#00", lenient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, 0u);
  r = parse_compact("123#R9", lenient);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->rtr);
  EXPECT_EQ(r->len, 0);
  r = parse_compact("123#1122334455667788_8", lenient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->len8_dlc, 0);
  r = parse_compact("123##1112233445566778899", lenient);  // 9 bytes -> 12
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->len, 12);
  EXPECT_EQ(r->data[9], 0);
  // Still rejected in lenient mode.
  EXPECT_FALSE(parse_compact("123#1", lenient).ok());
  EXPECT_FALSE(parse_compact("123##", lenient).ok());
  EXPECT_FALSE(parse_compact("12#00", lenient).ok());
}

TEST(Candump, LogLineRoundTrip) {
  const char* line = "(1718000000.123456) can0 10606005#0000000000000000";
  auto r = parse_log_line(line);
  ASSERT_TRUE(r.ok()) << format_error(r.error(), "line");
  EXPECT_EQ(r->ts_ns, 1718000000123456000LL);
  EXPECT_EQ(r->iface.view(), "can0");
  EXPECT_EQ(r->id, 0x10606005u);
  EXPECT_EQ(format_log_line(*r), line);
  EXPECT_EQ(format_log_line(*r, {.nanoseconds = true}),
            "(1718000000.123456000) can0 10606005#0000000000000000");
  EXPECT_EQ(format_log_line(*r, {.iface_width = 6, .direction = 'T'}),
            "(1718000000.123456)   can0 10606005#0000000000000000 T");
}

TEST(Candump, LogLineVariants) {
  auto r = parse_log_line("(1718000000.123456789)   vcan10\t123#00 R\r");
  ASSERT_TRUE(r.ok()) << format_error(r.error(), "line");
  EXPECT_EQ(r->ts_ns, 1718000000123456789LL);
  EXPECT_EQ(r->iface.view(), "vcan10");
  r = parse_log_line("(000.000000) can0 123#00 T");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ts_ns, 0);
}

TEST(Candump, BadLogLines) {
  const BadRow rows[] = {
      {"(1718000000.12345) can0 123#00", 13, CandumpErrc::bad_fraction_width},
      {"1718000000.123456 can0 123#00", 1, CandumpErrc::not_a_log_line},
      {"(1718000000.123456 can0 123#00", 19, CandumpErrc::bad_timestamp},
      {"(1718000000) can0 123#00", 12, CandumpErrc::bad_timestamp},
      {"(.123456) can0 123#00", 2, CandumpErrc::bad_timestamp},
      {"(1718000000.123456)", 20, CandumpErrc::missing_iface},
      {"(1718000000.123456) can0", 25, CandumpErrc::missing_frame},
      {"(1718000000.123456) a_very_long_interface 123#00", 21, CandumpErrc::iface_too_long},
      {"(1718000000.123456) can0 123#0", 30, CandumpErrc::odd_data_digits},
      {"(1718000000.123456) can0 123#00 X", 33, CandumpErrc::bad_direction},
      {"(1718000000.123456) can0 123#00 R extra", 35, CandumpErrc::trailing_garbage},
      {"(99999999999.123456) can0 123#00", 2, CandumpErrc::timestamp_overflow},
      {"(1718000000.1234567890) can0 123#00", 13, CandumpErrc::bad_fraction_width},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.text);
    auto r = parse_log_line(row.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, row.code) << r.error().reason();
    EXPECT_EQ(r.error().column, row.column);
  }
  ParseOptions lenient{.lenient = true};
  auto r = parse_log_line("(1718000000.12345) can0 123#00 whatever", lenient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ts_ns, 1718000000123450000LL);
}

TEST(Candump, ReaderSkipsCommentsAndNamesLines) {
  std::istringstream in(
      "# a comment\n"
      "(1718000000.000001) can0 10606005#0000000000000000\n"
      "\n"
      "DROPCOUNT: dropped 1 CAN frame(s) on 'can0' socket (total drops 1)\n"
      "(1718000000.000002) can0 123#1\n"
      "10006006#0000000000000000\r\n"
      "(1718000000.000003) can0 10006006#00");
  LogReader reader(in);
  Frame f;
  ParseError e;
  ASSERT_EQ(reader.next(f, e), LogReader::Status::frame);
  EXPECT_EQ(reader.line_number(), 2u);
  EXPECT_EQ(f.id, 0x10606005u);
  ASSERT_EQ(reader.next(f, e), LogReader::Status::error);
  EXPECT_EQ(e, (ParseError{5, 30, CandumpErrc::odd_data_digits}));
  EXPECT_EQ(format_error(e, "x.log"), "x.log:5:30: odd number of hex digits in data");
  ASSERT_EQ(reader.next(f, e), LogReader::Status::frame);
  EXPECT_EQ(f.id, 0x10006006u);
  EXPECT_EQ(f.ts_ns, 0);
  ASSERT_EQ(reader.next(f, e), LogReader::Status::frame);
  EXPECT_EQ(f.len, 1);
  EXPECT_EQ(reader.line_number(), 7u);
  EXPECT_EQ(reader.next(f, e), LogReader::Status::end);
  EXPECT_EQ(reader.comment_lines(), 3u);
}

TEST(Candump, ReaderRejectsOverlongLinesAndContinues) {
  std::string text = "(1.000000) can0 123#00\n" + std::string(LogReader::kMaxLine * 3, 'x') +
                     "\n(2.000000) can0 124#00\n";
  std::istringstream in(text);
  LogReader reader(in);
  Frame f;
  ParseError e;
  ASSERT_EQ(reader.next(f, e), LogReader::Status::frame);
  ASSERT_EQ(reader.next(f, e), LogReader::Status::error);
  EXPECT_EQ(e.code, CandumpErrc::line_too_long);
  EXPECT_EQ(e.line, 2u);
  ASSERT_EQ(reader.next(f, e), LogReader::Status::frame);
  EXPECT_EQ(f.id, 0x124u);
  EXPECT_EQ(reader.line_number(), 3u);
  EXPECT_EQ(reader.next(f, e), LogReader::Status::end);
}

TEST(Candump, ReaderHandlesManyLinesAcrossBufferRefills) {
  std::string text;
  for (int k = 0; k < 5000; ++k) text += "(1718000000.000001) can0 10606005#0000000000000000\n";
  std::istringstream in(text);
  LogReader reader(in);
  Frame f;
  ParseError e;
  int n = 0;
  while (reader.next(f, e) == LogReader::Status::frame) ++n;
  EXPECT_EQ(n, 5000);
}

}  // namespace
}  // namespace loxcan::canproto
