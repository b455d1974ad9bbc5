// Table-driven tests of the SSDP parser and the M-SEARCH we send.
#include "gateway/lan/ssdp.hpp"

#include <gtest/gtest.h>

#include <string>

namespace loxcan::lan {
namespace {

const std::string kMiniserverResponse =
    "HTTP/1.1 200 OK\r\n"
    "CACHE-CONTROL:max-age=3600\r\n"
    "ST:upnp:rootdevice\r\n"
    "USN:uuid:aabbccdd-eeff-0011-2233-445566778899::upnp:rootdevice\r\n"
    "EXT:\r\n"
    "SERVER:Loxone Miniserver Loxone Miniserver UPnP/1.0\r\n"
    "LOCATION:http://192.168.178.32:80/upnp.xml\r\n"
    "\r\n";

struct Row {
  const char* row;
  std::string in;
  bool ok;
  SsdpKind kind;
  int status;
  std::string location, server, target;
  bool loxone;
  std::string error_part;
};

class Ssdp : public testing::TestWithParam<Row> {};

TEST_P(Ssdp, Row) {
  const Row& w = GetParam();
  auto r = parse_ssdp(w.in);
  ASSERT_EQ(bool(r), w.ok) << w.row << ": " << (r ? std::string("parsed") : r.error().message);
  if (!r) {
    EXPECT_NE(r.error().message.find(w.error_part), std::string::npos)
        << w.row << ": '" << r.error().message << "' lacks '" << w.error_part << "'";
    return;
  }
  EXPECT_EQ(r->kind, w.kind) << w.row;
  EXPECT_EQ(r->status, w.status) << w.row;
  EXPECT_EQ(r->location, w.location) << w.row;
  EXPECT_EQ(r->server, w.server) << w.row;
  EXPECT_EQ(r->target, w.target) << w.row;
  EXPECT_EQ(r->is_loxone_miniserver(), w.loxone) << w.row;
}

const std::string kLoc = "http://192.168.178.32:80/upnp.xml";
const std::string kSrv = "Loxone Miniserver Loxone Miniserver UPnP/1.0";
constexpr auto R = SsdpKind::kResponse;
constexpr auto N = SsdpKind::kNotify;

INSTANTIATE_TEST_SUITE_P(
    Rows, Ssdp,
    testing::Values(
        Row{"miniserver_response", kMiniserverResponse, true, R, 200, kLoc, kSrv, "upnp:rootdevice",
            true, ""},
        Row{"bare_lf_and_spaces",
            "HTTP/1.1 200 OK\nLocation:  http://10.0.0.2:80/upnp.xml \nserver: Loxone Miniserver X "
            "UPnP/1.0\n",
            true, R, 200, "http://10.0.0.2:80/upnp.xml", "Loxone Miniserver X UPnP/1.0", "", true,
            ""},
        Row{"notify_alive",
            "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: "
            "ssdp:alive\r\n"
            "SERVER: " +
                kSrv + "\r\nLOCATION: " + kLoc + "\r\n\r\n",
            true, N, 0, kLoc, kSrv, "upnp:rootdevice", true, ""},
        Row{"notify_byebye",
            "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:byebye\r\nSERVER: " + kSrv +
                "\r\nLOCATION: " + kLoc + "\r\n\r\n",
            true, N, 0, kLoc, kSrv, "upnp:rootdevice", false, ""},
        Row{"other_device",
            "HTTP/1.1 200 OK\r\nSERVER: Linux/5.10 UPnP/1.0 Sonos/70.3\r\nLOCATION: "
            "http://10.0.0.9:1400/xml/device_description.xml\r\n\r\n",
            true, R, 200, "http://10.0.0.9:1400/xml/device_description.xml",
            "Linux/5.10 UPnP/1.0 Sonos/70.3", "", false, ""},
        Row{"loxone_without_location", "HTTP/1.1 200 OK\r\nSERVER: " + kSrv + "\r\n\r\n", true, R,
            200, "", kSrv, "", false, ""},
        Row{"first_header_wins",
            "HTTP/1.1 200 OK\r\nLOCATION: " + kLoc +
                "\r\nLOCATION: http://evil/\r\nSERVER: " + kSrv + "\r\n",
            true, R, 200, kLoc, kSrv, "", true, ""},
        Row{"error_status",
            "HTTP/1.1 500 Internal\r\nSERVER: " + kSrv + "\r\nLOCATION: " + kLoc + "\r\n", true, R,
            500, kLoc, kSrv, "", false, ""},
        Row{"search_from_someone",
            "M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\nMAN: \"ssdp:discover\"\r\n\r\n", true,
            SsdpKind::kSearch, 0, "", "", "ssdp:all", false, ""},
        Row{"body_ignored", kMiniserverResponse + std::string("\x01\x02 binary body"), true, R, 200,
            kLoc, kSrv, "upnp:rootdevice", true, ""},
        Row{"truncated_mid_header", kMiniserverResponse.substr(0, 120), true, R, 200, "",
            kSrv.substr(0, 0), "upnp:rootdevice", false, ""},
        Row{"empty", "", false, R, 0, "", "", "", false, "empty"},
        Row{"garbage_start", "GET / HTTP/1.1\r\n\r\n", false, R, 0, "", "", "", false,
            "start line"},
        Row{"binary", std::string("\x00\x01\x02\x03", 4), false, R, 0, "", "", "", false,
            "control byte"},
        Row{"loxlive_on_ssdp_port", "LoxLIVE: MS 10.0.0.2:80 504F11223344", false, R, 0, "", "", "",
            false, "start line"},
        Row{"status_not_digits", "HTTP/1.1 2x0 OK\r\n", false, R, 0, "", "", "", false,
            "start line"},
        Row{"header_without_colon", "HTTP/1.1 200 OK\r\nLOCATION http://x/\r\n", false, R, 0, "",
            "", "", false, "without 'NAME:' at offset 17"},
        Row{"header_colon_only", "HTTP/1.1 200 OK\r\n: value\r\n", false, R, 0, "", "", "", false,
            "without 'NAME:'"},
        Row{"nul_in_header", std::string("HTTP/1.1 200 OK\r\nSERVER: a\0b\r\n", 30), false, R, 0,
            "", "", "", false, "control byte"},
        Row{"huge", "HTTP/1.1 200 OK\r\nX: " + std::string(9000, 'a') + "\r\n", false, R, 0, "", "",
            "", false, "exceeds the limit of 8192"}),
    [](const testing::TestParamInfo<Row>& i) { return std::string(i.param.row); });

TEST(SsdpServerName, Shapes) {
  EXPECT_EQ(ssdp_server_name("Loxone Miniserver Loxone Miniserver UPnP/1.0"), "Loxone Miniserver");
  EXPECT_EQ(ssdp_server_name("Loxone Miniserver Haus 2.0 UPnP/1.0"), "Haus 2.0");
  EXPECT_EQ(ssdp_server_name("Loxone Miniserver Keller"), "Keller");
  EXPECT_EQ(ssdp_server_name("Linux UPnP/1.0 Sonos"), "");
}

TEST(SsdpMsearch, IsAValidSearchForRootDevices) {
  const std::string m = ssdp_msearch(9);
  auto r = parse_ssdp(m);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->kind, SsdpKind::kSearch);
  EXPECT_EQ(r->target, "upnp:rootdevice");
  EXPECT_NE(m.find("MX: 5\r\n"), std::string::npos) << "MX is clamped to 1..5";
  EXPECT_NE(m.find("MAN: \"ssdp:discover\"\r\n"), std::string::npos);
  EXPECT_NE(m.find("HOST: 239.255.255.250:1900\r\n"), std::string::npos);
  EXPECT_TRUE(m.ends_with("\r\n\r\n"));
  EXPECT_NE(ssdp_msearch(0).find("MX: 1\r\n"), std::string::npos);
}

}  // namespace
}  // namespace loxcan::lan
