// parse_http_url: the strict URL parser for outside input (SSDP LOCATION, Cloud DNS Location,
// --base-url, proxy variables). Table-driven: accepted shapes with every field, rejected shapes
// with the reason.
#include "gateway/lan/url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace loxcan::lan {
namespace {

struct Good {
  const char* row;
  std::string url;
  bool https;
  std::string host;
  int port;
  bool explicit_port;
  std::string target;
};

class UrlGood : public testing::TestWithParam<Good> {};

TEST_P(UrlGood, Parses) {
  const Good& g = GetParam();
  auto u = parse_http_url(g.url);
  ASSERT_TRUE(u) << g.row << ": " << u.error();
  EXPECT_EQ(u->https, g.https) << g.row;
  EXPECT_EQ(u->host, g.host) << g.row;
  EXPECT_EQ(u->port, g.port) << g.row;
  EXPECT_EQ(u->explicit_port, g.explicit_port) << g.row;
  EXPECT_EQ(u->target, g.target) << g.row;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, UrlGood,
    testing::Values(
        Good{"ipv4_port_path", "http://10.0.0.2:8080/upnp.xml", false, "10.0.0.2", 8080, true,
             "/upnp.xml"},
        Good{"ipv4_no_path", "http://203.0.113.7", false, "203.0.113.7", 80, false, "/"},
        Good{"https_default", "https://203.0.113.7/", true, "203.0.113.7", 443, false, "/"},
        Good{"scheme_any_case", "HTTPS://Example.NET:4443/", true, "Example.NET", 4443, true, "/"},
        Good{"dashed_name", "https://203-0-113-7.504f11223344.dyndns.loxonecloud.com:4443/", true,
             "203-0-113-7.504f11223344.dyndns.loxonecloud.com", 4443, true, "/"},
        Good{"single_label", "http://localhost:1/x", false, "localhost", 1, true, "/x"},
        Good{"trailing_dot", "http://home.example.net./", false, "home.example.net.", 80, false,
             "/"},
        Good{"ipv6_port", "http://[2001:db8::7]:8080/a", false, "[2001:db8::7]", 8080, true, "/a"},
        Good{"ipv6_loopback", "https://[::1]", true, "[::1]", 443, false, "/"},
        Good{"ipv4_mapped_v6", "http://[::ffff:10.0.0.2]/", false, "[::ffff:10.0.0.2]", 80, false,
             "/"},
        Good{"port_max", "http://10.0.0.2:65535/", false, "10.0.0.2", 65535, true, "/"},
        Good{"port_leading_zero", "http://10.0.0.2:080/", false, "10.0.0.2", 80, true, "/"},
        Good{"query_without_path", "http://10.0.0.2?x=1", false, "10.0.0.2", 80, false, "/?x=1"},
        Good{"query_and_fragment", "http://10.0.0.2/p?a=b&c=%41#frag", false, "10.0.0.2", 80, false,
             "/p?a=b&c=%41"},
        Good{"fragment_only", "http://10.0.0.2#top", false, "10.0.0.2", 80, false, "/"},
        Good{"sub_delims", "http://h.example/a;b=c,d/(e)*+!$'~_-.:@", false, "h.example", 80, false,
             "/a;b=c,d/(e)*+!$'~_-.:@"}),
    [](const testing::TestParamInfo<Good>& i) { return std::string(i.param.row); });

struct Bad {
  const char* row;
  std::string url;
  std::string reason;  ///< part of the error
};

class UrlBad : public testing::TestWithParam<Bad> {};

TEST_P(UrlBad, IsRejectedWithReason) {
  const Bad& b = GetParam();
  auto u = parse_http_url(b.url);
  ASSERT_FALSE(u) << b.row << " parsed: host '" << u->host << "' port " << u->port;
  EXPECT_NE(u.error().find(b.reason), std::string::npos)
      << b.row << ": '" << u.error() << "' lacks '" << b.reason << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Rows, UrlBad,
    testing::Values(
        Bad{"empty", "", "empty"},
        Bad{"missing_scheme", "10.0.0.2:80/upnp.xml", "http:// or https:// missing"},
        Bad{"relative", "/other", "not an absolute URL"},
        Bad{"garbage", "::garbage::", "not an absolute URL"},
        Bad{"ftp", "ftp://203.0.113.7/", "neither http nor https"},
        Bad{"file", "file:///etc/passwd", "neither http nor https"},
        Bad{"empty_scheme", "://10.0.0.2/", "neither http nor https"},
        Bad{"no_host", "http://:80/", "no host"}, Bad{"no_host_at_all", "http://", "no host"},
        Bad{"userinfo", "http://user:pw@10.0.0.2/", "user name or password"},
        Bad{"userinfo_trick", "http://203.0.113.7@evil.example/", "user name or password"},
        Bad{"space_in_host", "http://203.0.113.7 :80/", "space"},
        Bad{"space_in_path", "http://10.0.0.2/a b", "space"},
        Bad{"tab", "http://10.0.0.2/\t", "control character"},
        Bad{"newline", "http://10.0.0.2/\r\nX-Injected: 1", "control character"},
        Bad{"nul", std::string("http://10.0.0.2/\0x", 18), "control character"},
        Bad{"del", "http://10.0.0.2/\x7f", "control character"},
        Bad{"non_ascii", "http://h\xc3\xa4us.example/", "non-ASCII"},
        Bad{"port_zero", "http://203.0.113.7:0/", "port 0 is out of range"},
        Bad{"port_too_big", "http://203.0.113.7:70000/", "port 70000 is out of range"},
        Bad{"port_65536", "http://203.0.113.7:65536/", "out of range"},
        Bad{"port_empty", "http://203.0.113.7:/", "port is not a number"},
        Bad{"port_letters", "http://203.0.113.7:8a/", "port is not a number"},
        Bad{"port_negative", "http://203.0.113.7:-1/", "port is not a number"},
        Bad{"port_six_digits", "http://203.0.113.7:000080/", "port is not a number"},
        Bad{"two_ports", "http://203.0.113.7:80:81/", "port is not a number"},
        Bad{"ipv4_three_parts", "http://1.2.3/", "no valid IPv4"},
        Bad{"ipv4_octal", "http://010.0.0.1/", "no valid IPv4"},
        Bad{"ipv4_overflow", "http://256.0.0.1/", "no valid IPv4"},
        Bad{"ipv4_hex", "http://0x7f.1/", "ends in a number"},
        Bad{"numeric_tld", "http://example.123/", "ends in a number"},
        Bad{"ipv6_unbracketed", "http://2001:db8::7/", "no valid IPv4"},
        Bad{"ipv6_unclosed", "http://[2001:db8::7/", "without ']'"},
        Bad{"ipv6_invalid", "http://[2001:db8::g]/", "invalid IPv6"},
        Bad{"ipv6_zone", "http://[fe80::1%25eth0]/", "invalid IPv6"},
        Bad{"ipv6_junk_after", "http://[::1]x/", "unexpected text after the host"},
        Bad{"label_empty", "http://a..b/", "empty or over-long label"},
        Bad{"label_long", "http://" + std::string(64, 'a') + ".example/", "over-long label"},
        Bad{"name_too_long", "http://" + std::string(250, 'a') + ".example/", "253 bytes"},
        Bad{"percent_in_host", "http://a%41.example/", "character '%' in host name"},
        Bad{"backslash", "http://10.0.0.2/a\\b", "character '\\' not allowed"},
        Bad{"quote", "http://10.0.0.2/\"", "character '\"' not allowed"},
        Bad{"angle", "http://10.0.0.2/<x>", "character '<' not allowed"},
        Bad{"bad_escape", "http://10.0.0.2/%4", "two hex digits"},
        Bad{"bad_escape_hex", "http://10.0.0.2/%zz", "two hex digits"},
        Bad{"over_2k", "http://10.0.0.2/" + std::string(2048, 'a'), "longer than 2048 bytes"}),
    [](const testing::TestParamInfo<Bad>& i) { return std::string(i.param.row); });

TEST(Url, ExactlyTwoKibIsAccepted) {
  const std::string head = "http://10.0.0.2/";
  const std::string url = head + std::string(kMaxUrlLength - head.size(), 'a');
  ASSERT_EQ(url.size(), kMaxUrlLength);
  auto u = parse_http_url(url);
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ(u->target.size(), kMaxUrlLength - head.size() + 1);
}

TEST(Url, BareHost) {
  EXPECT_EQ(bare_host("[::1]"), "::1");
  EXPECT_EQ(bare_host("10.0.0.2"), "10.0.0.2");
  EXPECT_EQ(bare_host("example.net"), "example.net");
}

}  // namespace
}  // namespace loxcan::lan
