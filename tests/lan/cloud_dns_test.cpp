// Cloud DNS: the redirect interpreter (table-driven) and input validation before any I/O.
#include "gateway/lan/cloud_dns.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "gateway/lan/http.hpp"

namespace loxcan::lan {
namespace {

struct Good {
  const char* row;
  long status;
  std::string location;
  std::string host, address;
  int port;
  bool https;
};

class CloudDnsGood : public testing::TestWithParam<Good> {};

TEST_P(CloudDnsGood, Parses) {
  const Good& g = GetParam();
  auto r = parse_cloud_dns_reply("504f11223344", g.status, g.location);
  ASSERT_TRUE(r) << g.row << ": " << r.error().message;
  EXPECT_EQ(r->serial, "504F11223344") << g.row;
  EXPECT_EQ(r->host, g.host) << g.row;
  EXPECT_EQ(r->address, g.address) << g.row;
  EXPECT_EQ(r->port, g.port) << g.row;
  EXPECT_EQ(r->https, g.https) << g.row;
  EXPECT_EQ(r->location, g.location) << g.row;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CloudDnsGood,
    testing::Values(
        Good{"http_ip_port", 302, "http://203.0.113.7:8080/", "203.0.113.7", "203.0.113.7", 8080,
             false},
        Good{"http_default_port", 302, "http://203.0.113.7/", "203.0.113.7", "203.0.113.7", 80,
             false},
        Good{"https_default_port", 302, "https://203.0.113.7/", "203.0.113.7", "203.0.113.7", 443,
             true},
        Good{"https_dashed_name", 307,
             "https://203-0-113-7.504f11223344.dyndns.loxonecloud.com:4443/",
             "203-0-113-7.504f11223344.dyndns.loxonecloud.com", "203.0.113.7", 4443, true},
        Good{"plain_name", 301, "http://home.example.net:81/", "home.example.net", "", 81, false},
        Good{"path_and_query", 303, "http://198.51.100.1:80/some/path?x=1", "198.51.100.1",
             "198.51.100.1", 80, false},
        Good{"permanent_308", 308, "https://198.51.100.1:1443", "198.51.100.1", "198.51.100.1",
             1443, true}),
    [](const testing::TestParamInfo<Good>& i) { return std::string(i.param.row); });

struct Bad {
  const char* row;
  long status;
  std::string location;
  CloudDnsErrorKind kind;
  std::string part;
};

class CloudDnsBad : public testing::TestWithParam<Bad> {};

TEST_P(CloudDnsBad, GivesClearError) {
  const Bad& b = GetParam();
  auto r = parse_cloud_dns_reply("504F11223344", b.status, b.location);
  ASSERT_FALSE(r) << b.row << " parsed unexpectedly";
  EXPECT_EQ(r.error().kind, b.kind) << b.row << ": " << r.error().message;
  EXPECT_NE(r.error().message.find(b.part), std::string::npos)
      << b.row << ": '" << r.error().message << "' lacks '" << b.part << "'";
  EXPECT_NE(r.error().message.find("504F11223344"), std::string::npos) << b.row;
}

constexpr auto kBadReply = CloudDnsErrorKind::kBadReply;

INSTANTIATE_TEST_SUITE_P(
    Rows, CloudDnsBad,
    testing::Values(Bad{"not_found", 404, "", CloudDnsErrorKind::kUnknownSerial, "does not know"},
                    Bad{"gone", 410, "", CloudDnsErrorKind::kUnknownSerial, "HTTP 410"},
                    Bad{"ok_instead_of_redirect", 200, "", kBadReply, "expected a redirect"},
                    Bad{"server_error", 500, "", kBadReply, "got HTTP 500"},
                    Bad{"redirect_without_location", 302, "", kBadReply, "without a Location"},
                    Bad{"garbage_location", 302, "::garbage::", kBadReply,
                        "unusable Location '::garbage::'"},
                    Bad{"relative_location", 302, "/other", kBadReply, "unusable"},
                    Bad{"ftp_location", 302, "ftp://203.0.113.7/", kBadReply, "unusable"},
                    Bad{"no_host", 302, "http://:80/", kBadReply, "unusable"},
                    Bad{"spaces", 302, "http://203.0.113.7 :80/", kBadReply, "unusable"},
                    Bad{"control_bytes", 302,
                        std::string("http://a\x01"
                                    "b/"),
                        kBadReply, "'http://a?b/'"},
                    Bad{"port_zero", 302, "http://203.0.113.7:0/", kBadReply, "unusable"},
                    Bad{"port_too_big", 302, "http://203.0.113.7:70000/", kBadReply, "unusable"}),
    [](const testing::TestParamInfo<Bad>& i) { return std::string(i.param.row); });

TEST(CloudDnsResolve, InvalidSerialIsRejectedBeforeAnyNetworkAccess) {
  // The base URL would fail loudly (unsupported scheme) if it were ever contacted.
  for (const char* s :
       {"", "504F1122334", "504F112233445", "504F1122334G", "504F11223344/x", "../etc/passwd"}) {
    auto r = cloud_dns_resolve(s, "gopher://never.invalid", std::chrono::milliseconds(100));
    ASSERT_FALSE(r) << s;
    EXPECT_EQ(r.error().kind, CloudDnsErrorKind::kInvalidSerial) << s << ": " << r.error().message;
    EXPECT_NE(r.error().message.find("12 hex digits"), std::string::npos);
  }
}

TEST(CloudDnsResolve, ConnectionRefusedIsUnreachable) {
  // Port 1 on loopback: nothing listens there, the kernel refuses at once. Never via a proxy.
  setenv("no_proxy", "127.0.0.1", 1);
  setenv("NO_PROXY", "127.0.0.1", 1);
  auto r = cloud_dns_resolve("504F11223344", "http://127.0.0.1:1", std::chrono::milliseconds(2000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, CloudDnsErrorKind::kUnreachable) << r.error().message;
  EXPECT_NE(r.error().message.find("http://127.0.0.1:1/504F11223344"), std::string::npos)
      << r.error().message;
}

TEST(CloudDnsJson, AllKeys) {
  auto r = parse_cloud_dns_reply("504F11223344", 302, "http://home.example.net:81/");
  ASSERT_TRUE(r);
  EXPECT_EQ(cloud_dns_json(*r),
            R"({"serial":"504F11223344","host":"home.example.net","address":null,"port":81,)"
            R"("https":false,"url":"http://home.example.net:81/"})");
}

TEST(HttpUrl, Shapes) {
  auto u = parse_http_url("http://10.0.0.2:8080/upnp.xml");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "10.0.0.2");
  EXPECT_EQ(u->port, 8080);
  EXPECT_FALSE(u->https);
  EXPECT_FALSE(parse_http_url(""));
  EXPECT_FALSE(parse_http_url("10.0.0.2:80/upnp.xml"));
  EXPECT_FALSE(parse_http_url("file:///etc/passwd"));
}

}  // namespace
}  // namespace loxcan::lan
